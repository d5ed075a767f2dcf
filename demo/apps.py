"""App configuration: connects the signal receivers of ``demo.signals``."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    verbose_name = "django_cas_ng demo"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (the @receiver decorators connect on import)
