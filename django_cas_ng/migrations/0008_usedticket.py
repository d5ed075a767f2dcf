"""Tickets this site accepted, by keyed digest, so a replayed ticket is refused before CAS."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("django_cas_ng", "0007_casidentity")]

    operations = [
        migrations.CreateModel(
            name="UsedTicket",
            fields=[
                ("digest", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("expires", models.DateTimeField(db_index=True)),
            ],
        ),
    ]
