"""Release tests build and install the package (about a minute): only on request."""

from __future__ import annotations

import os

import pytest

REASON = "builds the wheel and installs it into a fresh virtualenv: run `make test-release`"


def _requested(config: pytest.Config) -> bool:
    """True when the run selects release tests by marker or asks for them in the environment."""
    return "release" in (config.getoption("markexpr") or "").replace("not release", "") or bool(
        os.environ.get("DJANGO_CAS_NG_RELEASE_TESTS")
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _requested(config):
        return
    skip = pytest.mark.skip(reason=REASON)
    for item in items:
        if item.get_closest_marker("release"):
            item.add_marker(skip)
