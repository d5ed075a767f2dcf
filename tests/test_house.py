"""Rules of the house that keep the package easy to read: short functions, a module map that
names every module."""

from __future__ import annotations

import ast
from pathlib import Path

import django_cas_ng

ROOT = Path(django_cas_ng.__file__).parent
DOCS = Path(__file__).resolve().parent.parent / "docs"
#: A function longer than this does more than one thing: split it into named steps.
MAX_FUNCTION_LINES = 40


def package_files() -> list[Path]:
    return sorted(
        path for path in ROOT.rglob("*.py") if "migrations" not in path.relative_to(ROOT).parts
    )


def long_functions(source: str, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int]]:
    """(name, lines) of every function or method in ``source`` longer than ``limit`` lines,
    counted from its ``def`` (decorators excluded) to its last line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > limit:
                found.append((node.name, lines))
    return found


def test_no_function_of_the_package_is_over_forty_lines() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{name} ({lines} lines)"
        for path in package_files()
        for name, lines in long_functions(path.read_text())
    ]
    assert offenders == []


def test_the_length_rule_sees_methods_and_async_functions() -> None:
    body = "\n".join(f"        x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    source = f"class A:\n    async def long(self):\n{body}\n\ndef short():\n    return 1\n"
    assert long_functions(source) == [("long", MAX_FUNCTION_LINES + 1)]


def test_the_architecture_page_lists_every_module() -> None:
    page = (DOCS / "architecture.rst").read_text()
    missing = [
        str(path.relative_to(ROOT))
        for path in package_files()
        if path.name != "__init__.py" and f"``{path.relative_to(ROOT).as_posix()}``" not in page
    ]
    assert missing == []
