"""Per-tenant settings (issue 18.7): every setting a ``CAS_CONFIG_RESOLVER`` may set is read
through the request's configuration, never project-wide."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from django.test import RequestFactory

from django_cas_ng import conf
from django_cas_ng._internal import observe
from django_cas_ng._internal import urls as origin
from django_cas_ng._internal.tenancy import TENANT_SETTINGS
from django_cas_ng.backends import CASBackend
from django_cas_ng.signals import cas_ticket_validated

pytestmark = pytest.mark.django_db

PACKAGE = Path(conf.__file__).parent
TENANT_ATTRIBUTES = {name.removeprefix("CAS_").lower() for name in TENANT_SETTINGS}
#: Where a project-wide read of a tenant setting is the point: the declarations, the resolver
#: itself, the system checks and the doctor (both run without a request); never inside a
#: function that has a request, which reads ``request_config(request)``.
PROJECT_WIDE = {"conf.py", "tenancy.py", "checks.py", "doctor.py"}


def tenant_setting_read(node: ast.AST) -> str | None:
    """The tenant setting ``node`` reads project-wide (``cas_settings.version``,
    ``get("CAS_VERSION")``, ``conf.get(...)``, ``REGISTRY[...]``), else None."""
    if isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "cas_settings":
        return node.attr if node.attr in TENANT_ATTRIBUTES else None
    key: ast.AST | None = None
    if isinstance(node, ast.Call) and node.args:
        function = node.func
        if getattr(function, "id", None) == "get" or (
            isinstance(function, ast.Attribute)
            and function.attr == "get"
            and getattr(function.value, "id", None) == "conf"
        ):
            key = node.args[0]
    elif isinstance(node, ast.Subscript) and getattr(node.value, "id", None) == "REGISTRY":
        key = node.slice
    if isinstance(key, ast.Constant) and key.value in TENANT_SETTINGS:
        return str(key.value)
    return None


def takes_request(node: ast.AST) -> bool:
    """True for a function with a ``request`` parameter: it reads through ``request_config``."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    arguments = node.args
    parameters = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    return any(parameter.arg == "request" for parameter in parameters)


def lines_of(node: ast.AST) -> range:
    return range(node.lineno, (node.end_lineno or node.lineno) + 1)


def project_wide_reads(path: Path) -> list[str]:
    """``file:line name`` of each project-wide read of a tenant setting in ``path``; in the
    modules of ``PROJECT_WIDE``, only those inside a function that has a request."""
    tree = ast.parse(path.read_text())
    checked_lines: set[int] | None = set() if path.name in PROJECT_WIDE else None
    for node in ast.walk(tree):
        if checked_lines is not None and takes_request(node):
            checked_lines.update(lines_of(node))
    return [
        f"{path.name}:{node.lineno} {name}"
        for node in ast.walk(tree)
        if (name := tenant_setting_read(node))
        and (checked_lines is None or node.lineno in checked_lines)
    ]


def test_no_module_reads_a_tenant_setting_project_wide() -> None:
    reads = [
        read
        for path in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in path.parts
        for read in project_wide_reads(path)
    ]
    assert reads == []


def test_the_scan_sees_a_project_wide_read(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text(
        "def f():\n"
        "    return cas_settings.version, get('CAS_RENEW'), conf.get('CAS_VERSION'),"
        " REGISTRY['CAS_ROOT_PROXIED_AS'], cas_settings.create_user, request.get('x')\n"
    )
    assert len(project_wide_reads(module)) == 4


def test_the_scan_sees_a_project_wide_read_beside_a_request_in_the_resolver(
    tmp_path: Path,
) -> None:
    module = tmp_path / "tenancy.py"
    module.write_text(
        "def project():\n"
        "    return cas_settings.server_url\n"
        "def for_request(request):\n"
        "    return cas_settings.server_url, cas_settings.create_user\n"
    )
    assert project_wide_reads(module) == ["tenancy.py:4 server_url"]


@pytest.fixture
def tenant(settings) -> Any:
    """Project: CAS 3, no public origin; tenant saml.example: SAML 1.1 behind a proxy."""
    settings.ALLOWED_HOSTS = ["saml.example", "testserver"]
    settings.CAS_VERSION = "3"
    settings.CAS_CONFIG_RESOLVER = lambda request: (
        {"CAS_VERSION": "CAS_2_SAML_1_0", "CAS_ROOT_PROXIED_AS": "https://public.example.org"}
        if request.get_host() == "saml.example"
        else {}
    )
    return RequestFactory().get("/api/x/", HTTP_HOST="saml.example")


def test_the_saml_user_name_rule_follows_the_tenants_version(tenant, settings) -> None:
    settings.CAS_USERNAME_ATTRIBUTE = "uid"

    mapped = CASBackend().user_from_answer(tenant, "alice", {"uid": "bob"})

    assert mapped.username == "alice"


def test_the_validation_signal_names_the_tenants_version(tenant) -> None:
    seen: list[str] = []

    def receiver(sender: Any, version: str, **kwargs: Any) -> None:
        seen.append(version)

    cas_ticket_validated.connect(receiver)
    try:
        with observe.measure_validation("test", "https://public.example.org/", tenant):
            pass
    finally:
        cas_ticket_validated.disconnect(receiver)

    assert seen == ["CAS_2_SAML_1_0"]


def test_the_canonical_service_knows_the_tenants_public_host(tenant) -> None:
    assert origin.canonical_service("https://public.example.org/api/x/", tenant) == "/api/x/"
