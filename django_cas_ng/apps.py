"""App configuration: registers the system checks and the log redaction."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from ._internal.observe import install_redaction

__all__ = [
    "DjangoCasNgConfig",
]


class DjangoCasNgConfig(AppConfig):
    name = "django_cas_ng"
    verbose_name = _("CAS authentication")
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import checks, session_age  # noqa: F401  (registers the checks)
        from ._internal import access, identities  # noqa: F401  (connects its handlers)
        from .signals import cas_user_authenticated

        user_logged_in.connect(access.apply_session_limit, dispatch_uid="django_cas_ng.access")
        cas_user_authenticated.connect(
            session_age.record_sign_in, dispatch_uid="django_cas_ng.session_age"
        )

        install_redaction()
