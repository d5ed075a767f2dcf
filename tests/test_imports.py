"""The package's modules import each other without a cycle, counting imports inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import django_cas_ng

PACKAGE = "django_cas_ng"
ROOT = Path(django_cas_ng.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in ROOT.rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    }


def resolve(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The absolute module an ``ImportFrom`` names, relative levels resolved."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every package module ``name`` imports, at module level or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = resolve(node, name, path.name == "__init__.py")
            found.add(target)
            # ``from . import x`` and ``from .pkg import mod`` import modules too.
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {module for module in found if module in known and module != name}


def import_graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_the_package_has_no_import_cycle() -> None:
    assert find_cycle(import_graph()) is None


def test_the_models_import_neither_sessions_nor_proxy() -> None:
    graph = import_graph()
    assert not graph[f"{PACKAGE}.models"] & {f"{PACKAGE}.sessions", f"{PACKAGE}.proxy"}


def test_the_session_engine_helpers_sit_below_the_models() -> None:
    graph = import_graph()
    assert graph[f"{PACKAGE}.session_store"] == set()


def test_the_walk_sees_relative_and_function_level_imports(tmp_path) -> None:
    first = tmp_path / "first.py"
    first.write_text("def f():\n    from . import second\n")
    second = tmp_path / "second.py"
    second.write_text("from .first import f\n")
    known = {f"{PACKAGE}.first", f"{PACKAGE}.second"}
    graph = {
        f"{PACKAGE}.first": imports_of(f"{PACKAGE}.first", first, known),
        f"{PACKAGE}.second": imports_of(f"{PACKAGE}.second", second, known),
    }
    assert find_cycle(graph) == [f"{PACKAGE}.first", f"{PACKAGE}.second", f"{PACKAGE}.first"]


def test_the_walk_sees_an_import_inside_a_method(tmp_path) -> None:
    first = tmp_path / "first.py"
    first.write_text("class A:\n    @classmethod\n    def f(cls):\n        import pkg.second\n")
    second = tmp_path / "second.py"
    second.write_text("from . import first\n")
    known = {"pkg.first", "pkg.second"}
    graph = {
        "pkg.first": imports_of("pkg.first", first, known),
        "pkg.second": imports_of("pkg.second", second, known),
    }
    assert find_cycle(graph) == ["pkg.first", "pkg.second", "pkg.first"]


def test_site_origin_helpers_sit_at_the_bottom_of_the_graph() -> None:
    graph = import_graph()
    leaves = {f"{PACKAGE}.conf", f"{PACKAGE}.exceptions", f"{PACKAGE}.log"}
    assert graph[f"{PACKAGE}.tenancy"] <= leaves
    assert graph[f"{PACKAGE}.origin"] <= leaves | {f"{PACKAGE}.tenancy"}
    assert graph[f"{PACKAGE}.exceptions"] == set()
    assert graph[f"{PACKAGE}.log"] == set()
    assert f"{PACKAGE}.client" not in graph[f"{PACKAGE}.redirects"]
