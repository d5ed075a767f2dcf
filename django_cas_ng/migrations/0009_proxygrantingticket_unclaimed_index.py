"""An index for the PGT callback's sweep of unclaimed rows past their use (session_key NULL,
old date): without it every callback scanned the table."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("django_cas_ng", "0008_usedticket")]

    operations = [
        migrations.AddIndex(
            model_name="proxygrantingticket",
            index=models.Index(fields=["session_key", "date"], name="cas_ng_pgt_unclaimed_idx"),
        ),
    ]
