"""The event log in the admin, read-only (the demo account is a superuser through CAS)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import SignalEvent


@admin.register(SignalEvent)
class SignalEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["at", "signal", "sender", "user", "created", "short_ticket"]
    list_filter = ["signal", "sender"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
