"""URLs of the proxy end-to-end test apps.

App A (the proxy) uses ``accounts/`` and ``a/call/``: it signs the user in, obtains a proxy
ticket for a back-end service and calls it. App B (the back end) uses ``b/``: the same endpoint
protected by the decorator and by the DRF class.
"""

from __future__ import annotations

import requests
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django_cas_ng import views
from django_cas_ng.contrib.drf import CASProxyTicketAuthentication
from django_cas_ng.decorators import login_required, proxy_ticket_required
from django_cas_ng.models import ProxyError, ProxyGrantingTicket


@login_required
def call_back_end(request: HttpRequest) -> HttpResponse:
    """Obtain a proxy ticket for ``service`` and GET ``url`` with it (header or query)."""
    service = request.GET["service"]
    try:
        ticket = ProxyGrantingTicket.retrieve_pt(request, service)
    except ProxyError as error:
        return JsonResponse({"proxy_error": [str(arg) for arg in error.args]}, status=502)
    http = requests.Session()
    http.trust_env = False
    if request.GET.get("via") == "query":
        answer = http.get(request.GET["url"], params={"ticket": ticket}, timeout=10)
    else:
        answer = http.get(
            request.GET["url"], headers={"Authorization": f"CAS {ticket}"}, timeout=10
        )
    return JsonResponse(
        {
            "ticket": ticket,
            "status": answer.status_code,
            "www_authenticate": answer.headers.get("WWW-Authenticate"),
            "body": answer.json(),
        }
    )


def _whoami(request: HttpRequest, accepted: object) -> dict[str, object]:
    return {
        "user": request.user.get_username(),
        "proxies": list(getattr(accepted, "proxies", ())),
        "service": getattr(accepted, "service", None),
    }


@proxy_ticket_required
def whoami(request: HttpRequest) -> HttpResponse:
    return JsonResponse(_whoami(request, request.cas_auth))  # type: ignore[attr-defined]


class DRFWhoAmI(APIView):
    authentication_classes = [CASProxyTicketAuthentication]
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]

    def get(self, request: Request) -> Response:
        return Response(_whoami(request, request.auth))


urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="cas_ng_login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="cas_ng_logout"),
    path("accounts/callback/", views.CallbackView.as_view(), name="cas_ng_proxy_callback"),
    path("a/call/", call_back_end),
    path("b/api/whoami/", whoami),
    path("b/api/strict/", whoami),
    path("b/api/unlisted/", whoami),
    path("b/drf/whoami/", DRFWhoAmI.as_view()),
]
