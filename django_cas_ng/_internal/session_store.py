"""The configured session engine, asked about itself: its store class, whether it keeps
sessions in database rows, and which session keys are still live.

It knows nothing of this package's models, so the models may use it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.cache import SessionStore as CacheStore
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.contrib.sessions.backends.signed_cookies import SessionStore as SignedCookieStore
from django.core.cache import BaseCache
from django.db import router
from django.utils import timezone

if TYPE_CHECKING:
    from django.contrib.sessions.base_session import AbstractBaseSession

__all__ = ["database_session_model", "in_cookies", "live_keys", "session_store_class"]


def session_store_class() -> type[SessionBase]:
    """The ``SessionStore`` of ``SESSION_ENGINE``, looked up at call time."""
    return import_module(settings.SESSION_ENGINE).SessionStore


def in_cookies(store_class: type[SessionBase]) -> bool:
    """True when ``store_class`` keeps sessions in the browser's cookie (``signed_cookies`` and
    its subclasses): the server holds nothing it could delete."""
    return issubclass(store_class, SignedCookieStore)


def database_session_model(
    store_class: type[SessionBase], *, sole_store: bool = False
) -> type[AbstractBaseSession] | None:
    """The session model when ``store_class`` keeps sessions in the database (``db``,
    ``cached_db`` and their subclasses); with ``sole_store``, only when no cache holds them too."""
    if not issubclass(store_class, DBStore):
        return None
    if sole_store and issubclass(store_class, CachedDBStore):
        return None
    return store_class.get_model_class()


def live_keys(keys: list[str]) -> set[str]:
    """Those of ``keys`` whose session exists and has not expired.

    Database sessions are checked with one query per batch in the database the session model
    is routed to, which need not be the one holding the mappings.
    """
    store_class = session_store_class()
    db_model = database_session_model(store_class)
    if db_model is not None:
        return set(
            db_model.objects.using(router.db_for_read(db_model))
            .filter(session_key__in=keys, expire_date__gt=timezone.now())
            .values_list("session_key", flat=True)
        )
    if issubclass(store_class, CacheStore):
        if not keys:
            return set()
        # Each session's own cache key, in the engine's own cache: a site's subclass may name
        # another cache or key than SESSION_CACHE_ALIAS and the default prefix.
        stores = [store_class(key) for key in keys]
        cache: BaseCache = stores[0]._cache  # type: ignore[attr-defined]
        by_cache_key = {store.cache_key: key for key, store in zip(keys, stores, strict=True)}
        return {by_cache_key[found] for found in cache.get_many(list(by_cache_key))}
    store = store_class()
    return {key for key in keys if store.exists(key)}
