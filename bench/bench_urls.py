"""URLconf of the benchmark site: the CAS views, the floor login view and a plain view."""

from django.http import HttpResponse
from django.urls import path

import django_cas_ng.views


def plain_view(request):
    """A non-admin view, for the middleware benchmark."""
    return HttpResponse("ok")


def _floor(request):
    from bench_floor import floor_login

    return floor_login(request)


urlpatterns = [
    path("accounts/login/", django_cas_ng.views.LoginView.as_view(), name="cas_ng_login"),
    path("accounts/logout/", django_cas_ng.views.LogoutView.as_view(), name="cas_ng_logout"),
    path(
        "accounts/callback/",
        django_cas_ng.views.CallbackView.as_view(),
        name="cas_ng_proxy_callback",
    ),
    path("floor/login/", _floor, name="floor_login"),
    path("plain/", plain_view, name="plain"),
]
