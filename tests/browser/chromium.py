"""Debian's headless Chromium, driven by Playwright from a thread of its own.

Playwright's sync API keeps an asyncio loop running in the thread that uses it, and Django
refuses database access from such a thread; so every Playwright call is made in one worker
thread, and tests (and the live server) keep the main thread to themselves.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

#: Without the background-networking flags Chromium keeps calling Google services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ACTION_TIMEOUT_MS = 15_000
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def find_chromium() -> tuple[str | None, str]:
    """The Chromium binary to drive, or None and why the browser tests cannot run here."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return None, "Playwright for Python is not installed (pip install playwright)"
    wanted = os.environ.get("CHROMIUM_PATH")
    if wanted:
        if Path(wanted).is_file():
            return wanted, ""
        return None, f"CHROMIUM_PATH={wanted} does not exist"
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found, ""
    return None, "no chromium binary on PATH (Debian: apt-get install chromium)"


class Chromium:
    """One headless Chromium; each visitor gets a context of its own (cookies, connections)."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
        self._playwright: Any = None
        self._browser: Any = None
        self._context: Any = None
        self._page: Any = None

    def call(self, action: Callable[[Any], T]) -> T:
        """Run ``action(page)`` in the browser's thread and return its (plain) result."""
        return self._worker.submit(lambda: action(self._page)).result()

    def start(self) -> None:
        """Launch Chromium (Playwright gives it a fresh temporary ``--user-data-dir``)."""
        self._worker.submit(self._start).result()

    def _start(self) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=self.executable, headless=True, args=CHROMIUM_ARGS
        )

    def new_visitor(self) -> None:
        """A new browser context and page: no cookies, no open connections."""

        def _new() -> None:
            self._context = self._browser.new_context()
            self._context.set_default_timeout(ACTION_TIMEOUT_MS)
            # The network is closed: anything but this machine (e.g. the CAS server's CDN
            # assets) is refused at once instead of stalling the page load.
            self._context.route("**/*", _local_only)
            self._page = self._context.new_page()

        self._worker.submit(_new).result()

    def end_visit(self) -> None:
        """Close the visitor's context, and with it its keep-alive connections to our servers."""

        def _end() -> None:
            if self._context is not None:
                self._context.close()
            self._context = self._page = None

        self._worker.submit(_end).result()

    def stop(self) -> None:
        def _stop() -> None:
            if self._browser is not None:
                self._browser.close()
            if self._playwright is not None:
                self._playwright.stop()

        try:
            self._worker.submit(_stop).result()
        finally:
            self._worker.shutdown()

    # --- What the tests do, in a user's words -------------------------------------------

    def open(self, url: str) -> str:
        """Go to ``url``, follow its redirects; return where the browser ended up."""
        return self.call(lambda page: (page.goto(url), page.url)[1])

    def follow_link(self, text: str) -> str:
        """Click the link (or button) with this text and wait for the next page."""

        def click(page: Any) -> str:
            with page.expect_navigation():
                page.get_by_role("link", name=text, exact=True).first.click()
            return str(page.url)

        return self.call(click)

    def sign_in_at_cas(self, username: str, password: str) -> str:
        """Fill the CAS login form, submit it, wait until CAS sent us back; return the URL."""

        def submit(page: Any) -> str:
            cas = urlsplit(page.url).netloc
            page.fill("#login_form input[name=username]", username)
            page.fill("#login_form input[name=password]", password)
            page.click("#login_form [type=submit]")
            page.wait_for_url(lambda url: urlsplit(url).netloc != cas)
            page.wait_for_load_state()
            return str(page.url)

        return self.call(submit)

    @property
    def url(self) -> str:
        return self.call(lambda page: str(page.url))

    def text(self) -> str:
        """The visible text of the page."""
        return self.call(lambda page: str(page.inner_text("body")))

    def shows_cas_login_form(self) -> bool:
        return self.call(lambda page: page.locator("#login_form input[name=password]").count() > 0)

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.call(lambda page: page.screenshot(path=str(path), full_page=True))


def _local_only(route: Any) -> None:
    if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
        route.continue_()
    else:
        route.abort("addressunreachable")
