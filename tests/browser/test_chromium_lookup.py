"""Finding the browser: the reason given when the browser tests cannot run (no browser needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.chromium import find_chromium


def test_chromium_path_names_the_binary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("playwright.sync_api")
    binary = tmp_path / "chromium"
    binary.write_text("")
    monkeypatch.setenv("CHROMIUM_PATH", str(binary))

    assert find_chromium() == (str(binary), "")


def test_a_missing_chromium_path_is_the_reason_to_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("CHROMIUM_PATH", "/nonexistent/chromium")

    assert find_chromium() == (None, "CHROMIUM_PATH=/nonexistent/chromium does not exist")


def test_no_chromium_on_path_is_the_reason_to_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("playwright.sync_api")
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")

    executable, reason = find_chromium()

    assert executable is None and "no chromium binary on PATH" in reason
