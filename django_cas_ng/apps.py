"""App configuration: registers the system checks and the log redaction."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from .log import install_redaction


class DjangoCasNgConfig(AppConfig):
    name = "django_cas_ng"
    verbose_name = _("CAS authentication")
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)

        install_redaction()
