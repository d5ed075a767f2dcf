"""The FLOOR of a CAS login: a bare view doing only what a CAS login cannot avoid.

One keep-alive request to the CAS server with a pooled ``requests.Session``, parse the answer,
one user lookup (``get_or_create``), ``django.contrib.auth.login``, one mapping insert, redirect.
No settings indirection, no signals of our own, no redirect-safety checks, no messages: any
implementation that does the same job costs at least this much.

``floor_guard_login`` is the same view plus a replay guard, the one write a site that refuses
replayed tickets cannot skip: a keyed digest of the ticket inserted (``ON CONFLICT DO
NOTHING``) before the CAS server is asked, a replay refused.

``floor_contract_login`` is the floor with guard doing what 5.1 does at every login and a
drop-in successor keeps: the user comes from ``authenticate()`` over
``AUTHENTICATION_BACKENDS`` (``FloorBackend``), and the ``CAS_LOGIN_MSG`` message is added.
"""

import hashlib
import hmac
from datetime import timedelta
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login
from django.contrib.auth.backends import BaseBackend
from django.db import connection
from django.http import HttpResponseForbidden, HttpResponseRedirect
from django.utils import timezone
from lxml import etree

from django_cas_ng.models import SessionTicket

CAS_NS = "{http://www.yale.edu/tp/cas}"
_http = requests.Session()


_GUARD_SQL = (
    'INSERT INTO "django_cas_ng_usedticket" ("digest", "expires") VALUES (%s, %s) '
    "ON CONFLICT DO NOTHING"
)


def _claimed(ticket):
    """The replay guard: True when this ticket's digest was not stored before."""
    key = hmac.new(settings.SECRET_KEY.encode(), ticket.encode(), hashlib.sha256).hexdigest()
    expires = connection.ops.adapt_datetimefield_value(timezone.now() + timedelta(days=1))
    with connection.cursor() as cursor:
        cursor.execute(_GUARD_SQL, [key, expires])
        return cursor.rowcount == 1


def _cas_user(ticket, service):
    """The user the CAS answer names (created if new), or None."""
    answer = _http.get(
        settings.CAS_SERVER_URL + "p3/serviceValidate",
        params={"ticket": ticket, "service": service},
        timeout=5,
    )
    root = etree.fromstring(answer.content)
    username = root.findtext(f"{CAS_NS}authenticationSuccess/{CAS_NS}user")
    if not username:
        return None
    return get_user_model()._default_manager.get_or_create(username=username)[0]


def _service(request):
    return f"http://{request.get_host()}{request.path}?" + urlencode({"next": "/"})


def floor_guard_login(request):
    if not _claimed(request.GET["ticket"]):
        return HttpResponseForbidden("replayed")
    return floor_login(request)


def floor_login(request):
    ticket = request.GET["ticket"]
    user = _cas_user(ticket, _service(request))
    if user is None:
        return HttpResponseForbidden("refused")
    login(request, user, backend="django_cas_ng.backends.CASBackend")
    SessionTicket.objects.create(session_key=request.session.session_key, ticket=ticket)
    return HttpResponseRedirect("/")


class FloorBackend(BaseBackend):
    """The floor's validation and user lookup as an authentication backend, so that
    ``floor_contract_login`` reaches it through ``django.contrib.auth.authenticate``."""

    def authenticate(self, request, floor_ticket=None, service=None):
        return _cas_user(floor_ticket, service)


def floor_contract_login(request):
    """The floor with guard, plus the two things 5.1's contract makes every drop-in successor
    do: the user comes from ``authenticate()`` over ``AUTHENTICATION_BACKENDS``, and the
    ``CAS_LOGIN_MSG`` message is added."""
    ticket = request.GET["ticket"]
    if not _claimed(ticket):
        return HttpResponseForbidden("replayed")
    user = authenticate(request, floor_ticket=ticket, service=_service(request))
    if user is None:
        return HttpResponseForbidden("refused")
    login(request, user)
    SessionTicket.objects.create(session_key=request.session.session_key, ticket=ticket)
    messages.success(request, f"Login succeeded. Welcome, {user.get_username()}.")
    return HttpResponseRedirect("/")
