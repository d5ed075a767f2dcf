"""Index Single Logout's lookup and make the session mapping one row per session."""

import hashlib

from django.db import migrations, models
from django.db.models import Max

BATCH = 2000


def dedupe_and_backfill(apps, schema_editor):
    """Keep the newest mapping of each session, then fill the ticket digest of every row."""
    SessionTicket = apps.get_model("django_cas_ng", "SessionTicket")
    db = schema_editor.connection.alias
    duplicated = (
        SessionTicket.objects.using(db)
        .values("session_key")
        .annotate(newest=Max("id"), n=models.Count("id"))
        .filter(n__gt=1)
    )
    for row in duplicated.iterator():
        SessionTicket.objects.using(db).filter(session_key=row["session_key"]).exclude(
            id=row["newest"]
        ).delete()
    last_id = 0
    while True:
        batch = list(SessionTicket.objects.using(db).filter(id__gt=last_id).order_by("id")[:BATCH])
        if not batch:
            break
        for row in batch:
            row.ticket_digest = hashlib.sha256(row.ticket.encode("utf-8")).hexdigest()
        SessionTicket.objects.using(db).bulk_update(batch, ["ticket_digest"])
        last_id = batch[-1].id


class Migration(migrations.Migration):
    dependencies = [("django_cas_ng", "0003_auto_20210813_1226")]

    operations = [
        migrations.AddField(
            model_name="sessionticket",
            name="ticket_digest",
            field=models.CharField(db_index=True, default="", editable=False, max_length=64),
        ),
        migrations.RunPython(dedupe_and_backfill, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="sessionticket",
            name="session_key",
            field=models.CharField(max_length=736, unique=True),
        ),
        migrations.AlterField(
            model_name="proxygrantingticket",
            name="pgtiou",
            field=models.CharField(blank=True, db_index=True, max_length=255, null=True),
        ),
    ]
