"""The demo's pages, django_cas_ng's three views, and the admin (which CASMiddleware guards)."""

from django.contrib import admin
from django.urls import path

from django_cas_ng import views as cas_views

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("protected/", views.protected, name="protected"),
    path("events/clear/", views.clear_events, name="clear_events"),
    path("accounts/login/", cas_views.LoginView.as_view(), name="cas_ng_login"),
    path("accounts/logout/", views.SignOutView.as_view(), name="cas_ng_logout"),
    path("accounts/callback/", cas_views.CallbackView.as_view(), name="cas_ng_proxy_callback"),
    path("admin/", admin.site.urls),
]
