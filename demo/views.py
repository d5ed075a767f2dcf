"""The home page (who is signed in, what CAS released, what the receivers saw), a protected page."""

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from django_cas_ng import views as cas_views
from django_cas_ng.decorators import login_required

from . import account
from .models import SignalEvent

EVENTS_SHOWN = 25


def display(value: Any) -> str:
    """An attribute value for a table cell: lists joined with commas."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return str(value)


def _context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    attributes = request.session.get("attributes") or {}
    home_url = request.build_absolute_uri(reverse("home"))
    return {
        "account": account,
        "attributes": [(name, display(value)) for name, value in sorted(attributes.items())],
        "groups": list(user.groups.values_list("name", flat=True)) if user.is_authenticated else [],
        "events": SignalEvent.objects.all()[:EVENTS_SHOWN],
        "event_count": SignalEvent.objects.count(),
        "cas_server_url": settings.CAS_SERVER_URL,
        "cas_logout_url": f"{settings.CAS_SERVER_URL}logout?{urlencode({'service': home_url})}",
    }


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "demo/home.html", _context(request))


@login_required
def protected(request: HttpRequest) -> HttpResponse:
    return render(request, "demo/protected.html", _context(request))


class SignOutView(cas_views.LogoutView):
    """django_cas_ng's LogoutView, and a line on the next page saying the sign-out happened."""

    def get(self, request: HttpRequest) -> HttpResponse:
        response = super().get(request)
        if response.status_code == 302:  # not the page asking to confirm a cross-site sign-out
            # Kept in a cookie by the messages framework: the session has just ended.
            messages.info(request, "You signed out, here and at the CAS server.")
        return response


@require_POST
def clear_events(request: HttpRequest) -> HttpResponse:
    SignalEvent.objects.all().delete()
    return HttpResponseRedirect(reverse("home"))
