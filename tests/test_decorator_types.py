"""The decorator factories keep the decorated view's type, checked by mypy --strict."""

from __future__ import annotations

from pathlib import Path

import pytest

SNIPPET = Path(__file__).parent / "typecheck" / "decorated_views.py"


def test_decorators_keep_the_decorated_views_type() -> None:
    api = pytest.importorskip("mypy.api")
    stdout, stderr, status = api.run(["--strict", str(SNIPPET)])
    assert status == 0, stdout + stderr
