"""``make demo`` installs the package alone, without the test, dev or docs extras: the demo, and
the part of the test suite it reuses to start a CAS server, import nothing else."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: The package, its dependencies (pyproject.toml) and the two local packages the demo runs from.
ALLOWED = {"django_cas_ng", "django", "cas", "requests", "lxml", "demo", "tests"}


def imported_roots(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports, at any depth (relative ones aside)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


def demo_sources() -> list[Path]:
    return [*sorted((REPO / "demo").rglob("*.py")), REPO / "tests" / "casserver" / "__init__.py"]


def test_the_demo_imports_only_the_package_and_its_dependencies() -> None:
    outside = {
        f"{path.relative_to(REPO)}: {root}"
        for path in demo_sources()
        for root in imported_roots(path) - ALLOWED - set(sys.stdlib_module_names)
    }
    assert outside == set()


def test_make_demo_installs_the_package_without_extras() -> None:
    makefile = (REPO / "Makefile").read_text()
    recipe = re.search(r"^\$\(DEMO_STAMP\):.*\n((?:\t.*\n)+)", makefile, flags=re.M)
    assert recipe
    installs = [line for line in recipe.group(1).splitlines() if "pip install" in line]
    assert installs[-1].split()[-1] == "."
    assert re.search(r"^demo: \$\(DEMO_STAMP\)$", makefile, flags=re.M)
