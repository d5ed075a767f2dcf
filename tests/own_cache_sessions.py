"""A session engine of a site's own: Django's cache engine on a cache of its choosing (not
``SESSION_CACHE_ALIAS``) under its own key prefix. ``SESSION_ENGINE = "tests.own_cache_sessions"``."""

from __future__ import annotations

from django.contrib.sessions.backends.cache import SessionStore as CacheStore
from django.core.cache import caches


class SessionStore(CacheStore):
    """Sessions in the ``"sessions"`` cache, keyed ``site-session:<key>``."""

    cache_key_prefix = "site-session:"

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._cache = caches["sessions"]
