"""The FLOOR of a CAS login: a bare view doing only what a CAS login cannot avoid.

One keep-alive request to the CAS server with a pooled ``requests.Session``, parse the answer,
one user lookup (``get_or_create``), ``django.contrib.auth.login``, one mapping insert, redirect.
No settings indirection, no signals of our own, no redirect-safety checks, no messages: any
implementation that does the same job costs at least this much.

``floor_guard_login`` is the same view plus a replay guard, the one write a site that refuses
replayed tickets cannot skip: a keyed digest of the ticket inserted (``ON CONFLICT DO
NOTHING``) before the CAS server is asked, a replay refused.
"""

import hashlib
import hmac
from datetime import timedelta
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib.auth import get_user_model, login
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


def floor_guard_login(request):
    ticket = request.GET["ticket"]
    key = hmac.new(settings.SECRET_KEY.encode(), ticket.encode(), hashlib.sha256).hexdigest()
    expires = connection.ops.adapt_datetimefield_value(timezone.now() + timedelta(days=1))
    with connection.cursor() as cursor:
        cursor.execute(_GUARD_SQL, [key, expires])
        if cursor.rowcount != 1:
            return HttpResponseForbidden("replayed")
    return floor_login(request)


def floor_login(request):
    ticket = request.GET["ticket"]
    service = f"http://{request.get_host()}{request.path}?" + urlencode({"next": "/"})
    answer = _http.get(
        settings.CAS_SERVER_URL + "p3/serviceValidate",
        params={"ticket": ticket, "service": service},
        timeout=5,
    )
    root = etree.fromstring(answer.content)
    username = root.findtext(f"{CAS_NS}authenticationSuccess/{CAS_NS}user")
    if not username:
        return HttpResponseForbidden("refused")
    user, _ = get_user_model()._default_manager.get_or_create(username=username)
    login(request, user, backend="django_cas_ng.backends.CASBackend")
    SessionTicket.objects.create(session_key=request.session.session_key, ticket=ticket)
    return HttpResponseRedirect("/")
