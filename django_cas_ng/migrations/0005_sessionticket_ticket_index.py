"""Single Logout looks tickets up through an index on the ticket itself (its first 255
characters), so rows written by any path are found; the digest column kept beside it goes."""

from django.db import migrations, models
from django.db.models import F, Func


class Migration(migrations.Migration):
    dependencies = [("django_cas_ng", "0004_sessionticket_lookup_indexes")]

    operations = [
        migrations.RemoveField(model_name="sessionticket", name="ticket_digest"),
        migrations.AddIndex(
            model_name="sessionticket",
            index=models.Index(
                Func(F("ticket"), template="SUBSTR(%(expressions)s, 1, 255)"),
                name="cas_ng_ticket_prefix_idx",
            ),
        ),
    ]
