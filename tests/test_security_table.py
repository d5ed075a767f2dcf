"""docs/security.rst's "what we defend against" table names tests that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"``(tests/[\w/]+\.py)::([\w:]+)``")


def defined_tests(module: Path) -> set[str]:
    """``name`` and ``Class::name`` of every test function in ``module``."""
    names: set[str] = set()
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.update(
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
            )
    return names


def table() -> str:
    text = (ROOT / "docs" / "security.rst").read_text()
    start = text.index("What we defend against")
    return text[start : text.index("What each setting guards", start)]


def test_every_test_the_security_table_names_exists() -> None:
    references = REFERENCE.findall(table())
    assert len(references) >= 26
    missing = [
        f"{module}::{name}"
        for module, name in references
        if name not in defined_tests(ROOT / module)
    ]
    assert missing == []


def test_the_security_table_covers_every_item_of_the_second_round() -> None:
    rows = set(re.findall(r"^   \* - 10\.(\d+) ", table(), flags=re.MULTILINE))
    assert rows == {str(n) for n in range(1, 17)}


def test_the_security_table_covers_every_attack_of_the_third_round() -> None:
    rows = set(re.findall(r"^   \* - 18\.(\d+) ", table(), flags=re.MULTILINE))
    assert {"1", "2", "4", "5", "6", "7", "8"} <= rows
