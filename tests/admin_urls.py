"""The test URLs plus the admin, for tests/test_admin.py."""

from django.contrib import admin
from django.urls import path

from tests.urls import urlpatterns as base_urlpatterns

urlpatterns = [*base_urlpatterns, path("admin/", admin.site.urls)]
