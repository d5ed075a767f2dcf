"""CAS endpoints under /cas/, plus cas_server's static files so the demo's pages are styled."""

from pathlib import Path

import cas_server
from django.urls import include, path, re_path
from django.views.static import serve

urlpatterns = [
    path("cas/", include("cas_server.urls", namespace="cas_server")),
    re_path(
        r"^static/(?P<path>.*)$",
        serve,
        {"document_root": Path(cas_server.__file__).resolve().parent / "static"},
    ),
]
