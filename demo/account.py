"""The one account the demo's CAS server knows, and the attributes it releases for it."""

USERNAME = "demo"
PASSWORD = "demo-password"

#: ``affiliation`` becomes Django groups (``CAS_MAP_AFFILIATIONS``); ``staff`` also makes the
#: account staff and superuser (``CAS_STAFF_AFFILIATION``/``CAS_ADMIN_AFFILIATION``) so the
#: admin can be browsed.
ATTRIBUTES: dict[str, str | list[str]] = {
    "email": "demo@example.org",
    "first_name": "Dana",
    "last_name": "Demo",
    "affiliation": ["member", "staff"],
}

#: How the CAS server's login page names the site asking for the sign-in.
SERVICE_NAME = "the django_cas_ng demo site"
