"""A session engine on a custom session model (``AbstractBaseSession``), as Django's
documentation shows one: ``SESSION_ENGINE = "tests.account_sessions"``. The model lives in an
isolated registry, so the suite expects no migration of it; a test creates its table."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.test.utils import isolate_apps

with isolate_apps("django_cas_ng"):

    class AccountSession(AbstractBaseSession):
        """A session row that also names its user's account."""

        account_id = models.IntegerField(null=True, db_index=True)

        class Meta:
            app_label = "django_cas_ng"
            db_table = "tests_account_session"


class SessionStore(DBStore):
    """Django's database engine on :class:`AccountSession`."""

    @classmethod
    def get_model_class(cls) -> type[AbstractBaseSession]:
        return AccountSession

    def create_model_instance(self, data: dict[str, Any]) -> AbstractBaseSession:
        instance = super().create_model_instance(data)
        user_id = data.get("_auth_user_id")
        instance.account_id = int(user_id) if user_id else None  # type: ignore[attr-defined]
        return instance
