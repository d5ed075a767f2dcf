"""Identities (server, id) -> user, for sites with several CAS servers or a stable id attribute;
a single-server site that uses neither keeps no rows here."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_cas_ng", "0006_sessionticket_server_url"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CASIdentity",
            fields=[
                (
                    "id",
                    models.AutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("server_url", models.CharField(blank=True, max_length=255)),
                ("uid", models.CharField(max_length=255)),
                ("name", models.CharField(blank=True, max_length=255)),
                ("linked_by_name", models.BooleanField(default=False)),
                ("created", models.DateTimeField(auto_now_add=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="cas_identities",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "CAS identity",
                "verbose_name_plural": "CAS identities",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("server_url", "uid"), name="cas_ng_identity_unique"
                    )
                ],
            },
        ),
    ]
