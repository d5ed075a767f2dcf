"""URLconf of the benchmark site: the CAS views, the floor login view, a plain view and a page
for signed-in users."""

from django.http import HttpResponse, HttpResponseForbidden
from django.urls import path

import django_cas_ng.views


def plain_view(request):
    """A non-admin view, for the middleware benchmark."""
    return HttpResponse("ok")


def signed_in_page(request):
    """A page for a signed-in user, for the middleware benchmark under a real server."""
    if not request.user.is_authenticated:
        return HttpResponseForbidden("not signed in")
    return HttpResponse(f"ok {request.user.get_username()}")


def _floor(request):
    from bench_floor import floor_login

    return floor_login(request)


def _floor_guard(request):
    from bench_floor import floor_guard_login

    return floor_guard_login(request)


def _floor_contract(request):
    from bench_floor import floor_contract_login

    return floor_contract_login(request)


urlpatterns = [
    path("accounts/login/", django_cas_ng.views.LoginView.as_view(), name="cas_ng_login"),
    path("accounts/logout/", django_cas_ng.views.LogoutView.as_view(), name="cas_ng_logout"),
    path(
        "accounts/callback/",
        django_cas_ng.views.CallbackView.as_view(),
        name="cas_ng_proxy_callback",
    ),
    path("floor/login/", _floor, name="floor_login"),
    path("floor-guard/login/", _floor_guard, name="floor_guard_login"),
    path("floor-contract/login/", _floor_contract, name="floor_contract_login"),
    path("plain/", plain_view, name="plain"),
    path("page/", signed_in_page, name="signed_in_page"),
]
