"""The attributes mama-cas releases: the ones config.json gives the user."""

from django.conf import settings


def from_config(user, service):
    return dict(settings.CONFIG["attributes"].get(user.get_username(), {}))
