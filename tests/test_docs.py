"""The documentation agrees with the code and with itself: every system check documented in
order, no page citing a check that does not exist, one set of URLs in every snippet."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from django.urls import reverse

from django_cas_ng import checks

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
PAGES = sorted([*DOCS.glob("*.rst"), REPO / "README.rst"])
#: Ids no check emits any more; only checks.rst (which says so) and the changelog name them.
RETIRED = {"W004"}
#: Where a retired id may still be named.
HISTORY = {"checks.rst", "changelog.rst"}
CHECK_ID = re.compile(r"django_cas_ng\.([EW]\d{3})")
#: ``path("route", view, name="name")`` in a code snippet, over one line or several.
PATH_CALL = re.compile(r"path\(\s*\"([^\"]*)\",[^()]*(?:\([^()]*\)[^()]*)*?name=\"([^\"]+)\"")
#: An inline mention of one of the package's pages without its trailing slash.
UNSLASHED = re.compile(r"/accounts/(?:login|logout|callback|stepup)(?![/\w])")


def emitted_ids() -> list[str]:
    """Every id checks.py emits, errors first, each kind by number."""
    source = inspect.getsource(checks)
    found = {f"E{int(n):03d}" for n in re.findall(r"_error\(\s*(\d+)", source)}
    found |= {f"W{int(n):03d}" for n in re.findall(r"_warning\(\s*(\d+)", source)}
    return sorted(found, key=lambda check_id: (check_id[0], int(check_id[1:])))


def documented_ids() -> list[str]:
    """The ids of checks.rst's sections, in page order."""
    page = (DOCS / "checks.rst").read_text()
    return re.findall(r"^\.\. check:: django_cas_ng\.(\w+)$", page, flags=re.M)


def tabled_ids() -> list[str]:
    """The ids of checks.rst's summary table, in row order."""
    page = (DOCS / "checks.rst").read_text()
    return re.findall(
        r"^:check:`django_cas_ng\.(\w+)` +(?:error|warning|retired) ", page, flags=re.M
    )


def in_order(ids: list[str]) -> list[str]:
    return sorted(ids, key=lambda check_id: (check_id[0], int(check_id[1:])))


def test_every_check_is_documented_in_checks_rst_in_id_order() -> None:
    documented = documented_ids()
    assert documented == in_order(documented)
    assert [i for i in documented if i not in RETIRED] == emitted_ids()


def test_the_summary_table_lists_every_check_in_id_order() -> None:
    assert tabled_ids() == documented_ids()


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_a_page_cites_only_checks_that_exist(page: Path) -> None:
    known = set(emitted_ids()) | (RETIRED if page.name in HISTORY else set())
    cited = set(CHECK_ID.findall(page.read_text()))
    assert cited - known == set()


def url_snippets() -> list[tuple[str, str, str]]:
    """(page, route, name) of every ``path(...)`` naming one of the package's views."""
    found = []
    for page in [*PAGES, REPO / "demo" / "urls.py"]:
        for route, name in PATH_CALL.findall(page.read_text()):
            if name.startswith("cas_ng_"):
                found.append((page.name, route, name))
    return found


def test_the_url_snippets_are_found() -> None:
    pages = {page for page, _, _ in url_snippets()}
    assert {"README.rst", "install.rst", "urls.py"} <= pages


@pytest.mark.parametrize(("page", "route", "name"), url_snippets())
def test_every_url_snippet_routes_a_view_where_the_others_do(
    page: str, route: str, name: str
) -> None:
    assert "/" + route == reverse(name)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_a_page_names_the_package_urls_with_their_trailing_slash(page: Path) -> None:
    assert UNSLASHED.findall(page.read_text()) == []
