"""A real browser for the sign-in flows: fixtures, skip-or-fail policy, screenshots on failure."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.chromium import Chromium, find_chromium

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real headless Chromium (Playwright)")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    """The one headless Chromium of the session; skipped with the reason if none can run.

    Under CI a missing browser fails instead: CI installs it, so its absence is a bug.
    """
    executable, reason = find_chromium()
    if executable is None:
        message = f"browser tests need Chromium and Playwright: {reason}"
        if _in_ci():
            pytest.fail(f"{message} (CI=true, so this is an error, not a skip)", pytrace=False)
        pytest.skip(message)
    browser = Chromium(executable)
    browser.start()
    yield browser
    browser.stop()


@pytest.fixture
def browser(chromium: Chromium) -> Iterator[Chromium]:
    """The session's Chromium as a new visitor (no cookies), gone again after the test."""
    chromium.new_visitor()
    yield chromium
    chromium.end_visit()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed:
        browser = getattr(item, "funcargs", {}).get("browser")
        if isinstance(browser, Chromium):
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)[-150:]
            path = ARTIFACTS / f"{name}.png"
            try:
                browser.screenshot(path)
            except Exception as error:  # the failure itself matters more than its picture
                report.sections.append(("screenshot", f"could not save: {error!r}"))
            else:
                report.sections.append(("screenshot", f"{path} (at {browser.url})"))
    return report
