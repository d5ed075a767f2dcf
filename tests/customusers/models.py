"""User models sites write: by e-mail without permissions or groups, and one whose primary key
is a UUID not named ``id``, whose usernames are case-insensitive and at most 30 characters."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


class EmailUserManager(BaseUserManager["EmailUser"]):
    def create_user(self, email: str, password: str | None = None, **fields: Any) -> EmailUser:
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class EmailUser(AbstractBaseUser):
    """Signs in by e-mail; ``is_staff`` but no ``is_superuser`` and no ``groups``."""

    email = models.EmailField(unique=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)

    USERNAME_FIELD = "email"
    objects: ClassVar[EmailUserManager] = EmailUserManager()


class CaseInsensitiveUserManager(UserManager["KeyedUser"]):
    def get_by_natural_key(self, username: str | None) -> KeyedUser:
        return self.get(username__iexact=username)


class KeyedUser(AbstractUser):
    """A UUID primary key named ``uuid``, short usernames matched without regard to case."""

    uuid = models.UUIDField(primary_key=True)
    username = models.CharField(max_length=30, unique=True)

    objects: ClassVar[CaseInsensitiveUserManager] = CaseInsensitiveUserManager()  # type: ignore[assignment]
