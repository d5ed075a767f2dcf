"""Sphinx configuration for the django_cas_ng documentation."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The signals page documents tests/test_signals.py with autodoc, which imports the
# package and needs configured Django settings before anything touches a model.
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
try:
    import django

    django.setup()
except ImportError:
    # Django or tests/settings.py missing: build the prose anyway; only the
    # automodule on the signals page will have nothing to import.
    pass


def _project_metadata() -> tuple[str, str]:
    """Distribution name and version from pyproject.toml, with safe fallbacks."""
    name, version = "django-cas-ng", "6.0.0"
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        return name, version
    try:
        with open(ROOT / "pyproject.toml", "rb") as fh:
            project = tomllib.load(fh).get("project", {})
    except OSError:
        return name, version
    return project.get("name", name), project.get("version", version)


DIST_NAME, release = _project_metadata()
version = ".".join(release.split(".")[:2])
# The release without its .devN suffix: what a site will pin once it is published.
public_release = release.split(".dev")[0]

project = "django_cas_ng"
author = "The django_cas_ng developers"
copyright = "the django_cas_ng developers"

extensions = [
    "sphinx.ext.autodoc",
]

# No intersphinx: the docs must build without network access.
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "literal"

autodoc_member_order = "bysource"

# Strict about our own cross-references (:setting:, :check:, :ref:, :doc:) so a
# misspelt setting name fails the build; Python references are left loose because
# autodoc of the test module mentions types this documentation does not describe.
nitpicky = True
nitpick_ignore_regex = [(r"py:.*", r".*")]

rst_prolog = f"""
.. |dist| replace:: ``{DIST_NAME}``
.. |pin| replace:: ``{DIST_NAME}=={public_release}``
.. |req| replace:: ``"{DIST_NAME}>={version}"``
"""

html_theme = "furo"
html_title = f"django_cas_ng {release}"
html_static_path: list[str] = []


def _tests_only(app, what, name, obj, skip, options):  # type: ignore[no-untyped-def]
    """A test module documented as living reference shows its tests, not its helpers."""
    module = getattr(obj, "__module__", None) or ""
    if module.startswith("tests.") and not name.startswith("test_"):
        return True
    return None


def setup(app):  # type: ignore[no-untyped-def]
    app.connect("autodoc-skip-member", _tests_only)
    # ``.. setting:: CAS_X`` / :setting:`CAS_X` and ``.. check:: django_cas_ng.E001`` /
    # :check:`django_cas_ng.E001`, in the style of Django's own documentation.
    app.add_crossref_type("setting", "setting", indextemplate="pair: %s; setting")
    app.add_crossref_type("check", "check", indextemplate="pair: %s; system check")
