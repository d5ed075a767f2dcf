"""The package's modules import each other without a cycle, counting imports inside functions."""

from __future__ import annotations

import ast
import re
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
    assert not graph[f"{PACKAGE}.models"] & {f"{PACKAGE}._internal.sessions", f"{PACKAGE}.proxy"}


def test_the_session_engine_helpers_sit_below_the_models() -> None:
    graph = import_graph()
    assert graph[f"{PACKAGE}._internal.session_store"] == set()


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
    ground = {f"{PACKAGE}.conf", f"{PACKAGE}.exceptions"}
    assert graph[f"{PACKAGE}._internal.tenancy"] - GROUPS <= ground
    assert graph[f"{PACKAGE}._internal.observe"] - GROUPS <= ground | {
        f"{PACKAGE}.signals",
        f"{PACKAGE}._internal.tenancy",
    }
    assert graph[f"{PACKAGE}._internal.urls"] - GROUPS <= ground | {
        f"{PACKAGE}._internal.tenancy",
        f"{PACKAGE}._internal.observe",
    }
    assert graph[f"{PACKAGE}.exceptions"] == set()


#: What ``_internal`` may import from the public side (docs/architecture.rst, "Import layers").
INTERNAL_MAY_IMPORT = {f"{PACKAGE}.{name}" for name in ("conf", "exceptions", "signals", "models")}
#: The three exceptions, each for the reason the architecture page gives.
INTERNAL_EXCEPTIONS = {
    f"{PACKAGE}._internal.pgt": {f"{PACKAGE}.client"},
    f"{PACKAGE}._internal.responses": {f"{PACKAGE}.client"},
    f"{PACKAGE}._internal.presented": {f"{PACKAGE}.client", f"{PACKAGE}.backends"},
}
#: Packages with an empty ``__init__``: they group modules and import nothing.
GROUPS = {
    PACKAGE,
    f"{PACKAGE}._internal",
    f"{PACKAGE}.contrib",
    f"{PACKAGE}.management",
    f"{PACKAGE}.management.commands",
}
DOCS = Path(__file__).resolve().parent.parent / "docs"


def is_internal(module: str) -> bool:
    return module.startswith(f"{PACKAGE}._internal.")


def test_internal_imports_only_the_public_ground() -> None:
    graph = import_graph()
    offenders = {
        module: sorted(public)
        for module, targets in graph.items()
        if is_internal(module)
        and (
            public := {t for t in targets if not is_internal(t) and t not in GROUPS}
            - INTERNAL_MAY_IMPORT
            - INTERNAL_EXCEPTIONS.get(module, set())
        )
    }
    assert offenders == {}


def documented_layers() -> list[list[str]]:
    """The modules of each layer of docs/architecture.rst's "Import layers" list, in order."""
    page = (DOCS / "architecture.rst").read_text()
    section = page.split("Import layers\n-------------", 1)[1].split("\nThe boundary:", 1)[0]
    layers = re.split(r"\n\d+\. ", section)[1:]
    return [
        [f"{PACKAGE}.{name}" for name in re.findall(r"``([\w.]+)``", layer)] for layer in layers
    ]


def test_the_layer_list_names_every_module_once() -> None:
    listed = [module for layer in documented_layers() for module in layer]
    assert sorted(listed) == sorted(set(import_graph()) - GROUPS)


def test_every_import_goes_down_the_layer_list() -> None:
    order = [module for layer in documented_layers() for module in layer]
    position = {module: index for index, module in enumerate(order)}
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in import_graph().items()
        if module in position
        for target in targets - GROUPS
        if position[target] >= position[module]
    )
    assert upward == []


def module_level_imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``name`` imports when it is loaded (not inside functions)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            target = resolve(node, name, path.name == "__init__.py")
            found.update({target, *(f"{target}.{alias.name}" for alias in node.names)})
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {module for module in found if module in known and module != name}


def test_loading_the_models_loads_no_http_stack() -> None:
    found = modules()
    reached, todo = set(), [f"{PACKAGE}.models"]
    while todo:
        module = todo.pop()
        for target in module_level_imports(module, found[module], set(found)) - reached:
            reached.add(target)
            todo.append(target)
    assert not reached & {
        f"{PACKAGE}.client",
        f"{PACKAGE}._internal.http",
        f"{PACKAGE}._internal.pgt",
    }
    for module in reached | {f"{PACKAGE}.models"}:
        assert "import requests" not in found[module].read_text(), module


def test_every_public_module_declares_all() -> None:
    missing = [
        name
        for name, path in modules().items()
        if name not in GROUPS
        and not is_internal(name)
        and ".management." not in name
        and "__all__" not in path.read_text()
    ]
    assert missing == []
