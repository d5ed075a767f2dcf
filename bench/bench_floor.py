"""The FLOOR of a CAS login: a bare view doing only what a CAS login cannot avoid.

One keep-alive request to the CAS server with a pooled ``requests.Session``, parse the answer,
one user lookup (``get_or_create``), ``django.contrib.auth.login``, one mapping insert, redirect.
No settings indirection, no signals of our own, no redirect-safety checks, no messages: any
implementation that does the same job costs at least this much.
"""

from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.http import HttpResponseForbidden, HttpResponseRedirect
from lxml import etree

from django_cas_ng.models import SessionTicket

CAS_NS = "{http://www.yale.edu/tp/cas}"
_http = requests.Session()


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
