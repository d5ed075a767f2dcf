"""A URLconf of ``async def`` views behind the package's decorators, for the test client and
for a real ASGI server (``tests.asgi_app``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from django_cas_ng import views
from django_cas_ng.decorators import login_required, permission_required, user_passes_test


@login_required
async def async_private(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    return HttpResponse(f"async private {user.get_username()}")


@permission_required("auth.add_user")
async def async_staff(request: HttpRequest) -> HttpResponse:
    return HttpResponse("async staff")


async def _is_alice(user: object) -> bool:
    return getattr(user, "username", None) == "alice"


@user_passes_test(_is_alice)
async def async_alice_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("async alice")


@user_passes_test(_is_alice)
def sync_alice_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("sync alice")


urlpatterns = [
    path("async-private/", async_private),
    path("async-staff/", async_staff),
    path("async-alice/", async_alice_only),
    path("sync-alice/", sync_alice_only),
    path("accounts/login/", views.LoginView.as_view(), name="cas_ng_login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="cas_ng_logout"),
]
