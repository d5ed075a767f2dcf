"""An ``async def`` receiver of ``cas_user_authenticated`` (Django 5.0+ runs those too)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from django.contrib.auth.models import Group

#: Name of the group the receiver puts every signed-in user in; /whoami/ shows it.
GROUP_PREFIX = "async-receiver"


async def mark_async_sign_in(sender: Any, user: Any, **kwargs: Any) -> None:
    """Add the user to a group named for where the coroutine ran, through the async ORM."""
    asyncio.get_running_loop()  # raises unless this runs as a coroutine on an event loop
    where = "main-thread" if threading.current_thread() is threading.main_thread() else "other"
    group, _ = await Group.objects.aget_or_create(name=f"{GROUP_PREFIX}:{where}")
    await user.groups.aadd(group)
