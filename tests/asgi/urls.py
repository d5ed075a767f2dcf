"""URLs of the uvicorn test site: the CAS views, sync and async protected pages, a proxy caller
and a proxy-ticket protected API it calls on this same server."""

from __future__ import annotations

import requests
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from django_cas_ng import views
from django_cas_ng.decorators import login_required, proxy_ticket_required
from django_cas_ng.models import ProxyError, ProxyGrantingTicket


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("home")


@login_required
def private(request: HttpRequest) -> HttpResponse:
    return HttpResponse("private")


@login_required
async def async_private(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    return HttpResponse(f"async private {user.get_username()}")


def whoami(request: HttpRequest) -> HttpResponse:
    """Who is signed in, and the groups the async signal receiver gave them."""
    user = request.user
    groups = sorted(user.groups.values_list("name", flat=True)) if user.is_authenticated else []
    return JsonResponse({"user": user.get_username(), "groups": groups})


@login_required
def call_api(request: HttpRequest) -> HttpResponse:
    """Obtain a proxy ticket for this site's API and call it with the ticket, as a proxy does."""
    service = request.build_absolute_uri("/api/whoami/")
    try:
        ticket = ProxyGrantingTicket.retrieve_pt(request, service)
    except ProxyError as error:
        return JsonResponse({"proxy_error": [str(arg) for arg in error.args]}, status=502)
    http = requests.Session()
    http.trust_env = False
    answer = http.get(service, headers={"Authorization": f"CAS {ticket}"}, timeout=10)
    return JsonResponse(
        {"ticket_prefix": ticket[:3], "status": answer.status_code, "body": answer.json()}
    )


@proxy_ticket_required
def api_whoami(request: HttpRequest) -> HttpResponse:
    accepted = request.cas_auth  # type: ignore[attr-defined]
    return JsonResponse({"user": request.user.get_username(), "proxies": list(accepted.proxies)})


urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="cas_ng_login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="cas_ng_logout"),
    path("accounts/callback/", views.CallbackView.as_view(), name="cas_ng_proxy_callback"),
    path("", home, name="home"),
    path("private/", private, name="private"),
    path("async-private/", async_private, name="async_private"),
    path("whoami/", whoami, name="whoami"),
    path("proxy/call-api/", call_api, name="call_api"),
    path("api/whoami/", api_whoami, name="api_whoami"),
]
