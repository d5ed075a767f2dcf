"""The CAS server that issued a session's ticket, for sites with several CAS servers: logout
and proxy tickets go to it, and a Single Logout only ends the sessions of its sender."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("django_cas_ng", "0005_sessionticket_ticket_index")]

    operations = [
        migrations.AddField(
            model_name="sessionticket",
            name="server_url",
            field=models.CharField(blank=True, max_length=1024, null=True),
        ),
    ]
