"""App of the uvicorn test site: connects its async signal receiver."""

from django.apps import AppConfig


class ASGISiteConfig(AppConfig):
    name = "tests.asgi"
    label = "asgi_site"

    def ready(self) -> None:
        from django_cas_ng.signals import cas_user_authenticated

        from .receivers import mark_async_sign_in

        cas_user_authenticated.connect(mark_async_sign_in, dispatch_uid="asgi-site-async")
