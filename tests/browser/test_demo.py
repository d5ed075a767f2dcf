"""The ``make demo`` site in headless Chromium: sign in, sign out, Single Logout from CAS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from demo import account
from demo.__main__ import DemoSite
from tests.browser.chromium import Chromium
from tests.casserver import CASServer
from tests.ports import free_port

pytestmark = pytest.mark.browser


class Demo:
    """Where the demo site and its CAS server listen."""

    def __init__(self, site: str, cas: str) -> None:
        self.site, self.cas = site, cas


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo started as ``python -m demo`` starts it, on free ports, with a throwaway DB."""
    database: Path = tmp_path_factory.mktemp("demo") / "db.sqlite3"
    cas = CASServer(
        users={account.USERNAME: account.PASSWORD},
        attributes={account.USERNAME: account.ATTRIBUTES},
        service_name=account.SERVICE_NAME,
    )
    cas.start()
    site = DemoSite(free_port(), cas.url, extra_env={"DEMO_DATABASE": str(database)})
    site.echo = False
    try:
        site.start()
        site.wait_until_ready()
        yield Demo(site.url, cas.url)
    finally:
        site.stop()
        cas.stop()


def sign_in(browser: Chromium, demo: Demo) -> None:
    browser.open(demo.site)
    assert "You are not signed in" in browser.text()
    assert browser.follow_link("Sign in with CAS").startswith(demo.cas + "login?service=")
    assert "harness" not in browser.text()
    assert account.SERVICE_NAME in browser.text()
    assert browser.sign_in_at_cas(account.USERNAME, account.PASSWORD) == demo.site
    assert f"Signed in as {account.USERNAME}" in browser.text()


def test_the_demo_signs_in_through_cas_and_shows_the_released_attributes(
    browser: Chromium, demo: Demo
) -> None:
    sign_in(browser, demo)

    page = browser.text()
    assert account.ATTRIBUTES["email"] in page
    assert "cas_user_authenticated" in page

    assert browser.open(demo.site + "protected/") == demo.site + "protected/"
    assert "Protected page" in browser.text()


def test_signing_out_of_the_demo_ends_the_cas_session_too(browser: Chromium, demo: Demo) -> None:
    sign_in(browser, demo)

    browser.follow_link("Sign out")

    assert browser.url == demo.site
    assert "You are not signed in" in browser.text()
    assert "You signed out" in browser.text()
    assert browser.open(demo.site + "protected/").startswith(demo.cas + "login")
    assert browser.shows_cas_login_form()


def test_signing_out_at_cas_only_ends_the_demo_session_by_single_logout(
    browser: Chromium, demo: Demo
) -> None:
    sign_in(browser, demo)

    browser.follow_link("Sign out at the CAS server only")
    browser.open(demo.site)

    assert "You are not signed in" in browser.text()
    cells = browser.call(
        lambda page: page.locator("table.events tbody tr").first.locator("td").all_inner_texts()
    )
    assert cells[1:4] == ["cas_user_logout", "slo", account.USERNAME]
    assert browser.open(demo.site + "protected/").startswith(demo.cas + "login")
    assert browser.shows_cas_login_form()


def test_the_admin_lists_the_cas_session_of_the_signed_in_user(
    browser: Chromium, demo: Demo
) -> None:
    sign_in(browser, demo)

    browser.open(demo.site + "admin/django_cas_ng/sessionticket/")

    row = browser.call(
        lambda page: page.locator("#result_list tbody tr").first.locator("td").all_inner_texts()
    )
    assert row[1] == account.USERNAME  # row[0] is the action checkbox
    assert row[2].startswith("ST-") and row[2].endswith("…")
    assert (
        browser.call(
            lambda page: (
                page.locator("#result_list tbody tr").first.locator("img").get_attribute("alt")
            )
        )
        == "True"
    )
