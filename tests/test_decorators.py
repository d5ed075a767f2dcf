"""login_required, permission_required, user_passes_test: 403 for signed-in users who fail,
a redirect to the login page for anonymous ones (never a login loop under single sign-on)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Permission
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from django_cas_ng.decorators import login_required, permission_required, user_passes_test

pytestmark = pytest.mark.django_db

User = get_user_model()


def view(request: HttpRequest) -> HttpResponse:
    """The view being protected."""
    return HttpResponse("ok")


@pytest.fixture
def alice() -> Any:
    return User.objects.create(username="alice")


@pytest.fixture
def anonymous(rf: RequestFactory) -> HttpRequest:
    request = rf.get("/reports/?year=2024&q=a b")
    request.user = AnonymousUser()
    return request


@pytest.fixture
def signed_in(rf: RequestFactory, alice: Any) -> HttpRequest:
    request = rf.get("/reports/")
    request.user = alice
    return request


def grant(user: Any, codename: str) -> Any:
    user.user_permissions.add(Permission.objects.get(codename=codename))
    return User.objects.get(pk=user.pk)  # fresh instance: permissions are cached per object


# --- through the test project's URLs (tests/urls.py) -----------------------------------------


def test_login_required_redirects_anonymous_users_to_login_with_next(client: Client) -> None:
    response = client.get("/private/")
    assert (response.status_code, response.url) == (302, "/accounts/login/?next=/private/")


def test_login_required_lets_signed_in_users_through(client: Client, alice) -> None:
    client.force_login(alice)
    assert client.get("/private/").status_code == 200


def test_permission_required_redirects_anonymous_users_to_login(client: Client) -> None:
    response = client.get("/staff/")
    assert (response.status_code, response.url) == (302, "/accounts/login/?next=/staff/")


def test_permission_required_gives_403_to_signed_in_users_without_it(client: Client, alice) -> None:
    client.force_login(alice)
    assert client.get("/staff/").status_code == 403


def test_permission_required_lets_users_with_it_through(client: Client, alice) -> None:
    client.force_login(grant(alice, "add_user"))
    assert client.get("/staff/").status_code == 200


# --- the decorators' options -----------------------------------------------------------------


def test_next_carries_the_full_path_with_its_query(anonymous) -> None:
    response = login_required(view)(anonymous)
    assert urlsplit(response.url).path == "/accounts/login/"
    assert parse_qs(urlsplit(response.url).query) == {"next": ["/reports/?year=2024&q=a%20b"]}


def test_login_url_overrides_the_login_page(anonymous) -> None:
    response = login_required(login_url="/sso/")(view)(anonymous)
    assert response.url.startswith("/sso/?next=")


def test_login_url_may_be_a_url_name(anonymous) -> None:
    response = login_required(login_url="cas_ng_login")(view)(anonymous)
    assert response.url.startswith("/accounts/login/?next=")


def test_login_url_with_a_query_gets_next_appended(anonymous) -> None:
    response = login_required(login_url="/sso/?gateway=true")(view)(anonymous)
    assert response.url.startswith("/sso/?gateway=true&next=")


def test_redirect_field_name_renames_next(anonymous) -> None:
    response = login_required(redirect_field_name="goto")(view)(anonymous)
    assert response.url.startswith("/accounts/login/?goto=")


def test_user_passes_test_runs_the_view_when_the_test_passes(signed_in) -> None:
    assert user_passes_test(lambda user: True)(view)(signed_in).content == b"ok"


def test_user_passes_test_raises_403_for_signed_in_users_who_fail(signed_in) -> None:
    with pytest.raises(PermissionDenied):
        user_passes_test(lambda user: False)(view)(signed_in)


def test_user_passes_test_redirects_anonymous_users_who_fail(anonymous) -> None:
    response = user_passes_test(lambda user: False, login_url="/sso/")(view)(anonymous)
    assert response.status_code == 302
    assert response.url.startswith("/sso/?next=")


def test_user_passes_test_receives_the_user(signed_in, alice) -> None:
    seen: list[Any] = []
    user_passes_test(lambda user: seen.append(user) or True)(view)(signed_in)
    assert seen == [alice]


def test_permission_required_with_several_permissions_requires_all(rf, alice) -> None:
    request = rf.get("/")
    request.user = grant(alice, "add_user")
    with pytest.raises(PermissionDenied):
        permission_required(["auth.add_user", "auth.delete_user"])(view)(request)
    request.user = grant(alice, "delete_user")
    assert (
        permission_required(["auth.add_user", "auth.delete_user"])(view)(request).status_code == 200
    )


def test_permission_required_with_raise_exception_gives_403_to_anonymous_users(anonymous) -> None:
    with pytest.raises(PermissionDenied):
        permission_required("auth.add_user", raise_exception=True)(view)(anonymous)


def test_decorated_views_keep_their_name_and_docstring() -> None:
    decorated = login_required(view)
    assert (decorated.__name__, decorated.__doc__) == ("view", "The view being protected.")
