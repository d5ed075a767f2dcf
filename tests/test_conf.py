"""The settings registry (conf.py): one entry per setting drives accessors, checks and docs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import override_settings

from django_cas_ng import conf
from django_cas_ng.checks import check_settings
from django_cas_ng.conf import DEFAULTS, REGISTRY, CASSettings, Setting, cas_settings

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_RST = ROOT / "docs" / "settings.rst"


def documented_settings() -> set[str]:
    """Every name declared with ``.. setting:: CAS_X`` in docs/settings.rst."""
    return set(re.findall(r"^\.\. setting:: (CAS_\w+)\s*$", SETTINGS_RST.read_text(), re.M))


def test_every_registered_setting_is_documented_in_settings_rst() -> None:
    assert set(REGISTRY) - documented_settings() == set()


def test_settings_rst_documents_no_setting_that_is_gone() -> None:
    assert documented_settings() - set(REGISTRY) == set()


def test_every_setting_has_a_one_line_doc() -> None:
    assert [name for name, s in REGISTRY.items() if not s.doc or "\n" in s.doc] == []


def test_every_setting_is_an_attribute_named_after_it() -> None:
    for name, setting in REGISTRY.items():
        assert vars(CASSettings)[name.removeprefix("CAS_").lower()] is setting


def test_a_setting_declared_under_another_attribute_name_is_refused() -> None:
    # Python < 3.12 wraps an error raised by __set_name__ in a RuntimeError.
    with pytest.raises((TypeError, RuntimeError)) as excinfo:
        type("Broken", (), {"renew_tickets": Setting("CAS_RENEW", False, "Renew.", bool)})
    error = excinfo.value.__cause__ or excinfo.value
    assert isinstance(error, TypeError)
    assert "CAS_RENEW" in str(error)
    assert REGISTRY["CAS_RENEW"] is vars(CASSettings)["renew"]


def test_defaults_lists_every_registered_setting() -> None:
    assert list(DEFAULTS) == list(REGISTRY)
    assert DEFAULTS["CAS_VERSION"] == "2"


def test_an_unset_setting_reads_its_default(settings) -> None:
    del settings.CAS_SLO_MAX_BYTES
    assert cas_settings.slo_max_bytes == 64 * 1024


def test_override_settings_is_seen_on_the_next_read() -> None:
    assert cas_settings.renew is False
    with override_settings(CAS_RENEW=True):
        assert cas_settings.renew is True
    assert cas_settings.renew is False


def test_pytest_django_settings_fixture_is_seen_on_the_next_read(settings) -> None:
    assert cas_settings.version == "3"
    settings.CAS_VERSION = 2
    assert cas_settings.version == "2"
    del settings.CAS_VERSION
    assert cas_settings.version == "2"
    settings.CAS_VERSION = "CAS_2_SAML_1_0"
    assert cas_settings.version == "CAS_2_SAML_1_0"


def test_a_changed_setting_is_seen_by_the_checks_too(settings) -> None:
    assert check_settings() == []
    settings.CAS_TIMEOUT = 0
    assert [m.id for m in check_settings()] == ["django_cas_ng.E009"]


def test_conf_get_returns_the_raw_value(settings) -> None:
    settings.CAS_TIMEOUT = 7
    assert conf.get("CAS_TIMEOUT") == 7
    assert cas_settings.timeout == (7.0, 7.0)


def test_a_coerced_value_read_before_a_change_is_not_kept(settings) -> None:
    settings.CAS_TIMEOUT = 7
    assert cas_settings.timeout == (7.0, 7.0)
    settings.CAS_TIMEOUT = (2, 9)
    assert cas_settings.timeout == (2.0, 9.0)


def test_accessors_coerce_the_raw_value(settings) -> None:
    settings.CAS_CLIENT_CERT = ["/etc/ssl/client.crt", "/etc/ssl/client.key"]
    settings.CAS_EXTRA_LOGIN_PARAMS = None
    settings.CAS_SLO_FRONT_CHANNEL = 0
    assert cas_settings.client_cert == ("/etc/ssl/client.crt", "/etc/ssl/client.key")
    assert cas_settings.extra_login_params == {}
    assert cas_settings.slo_front_channel is False


def test_lazy_messages_are_translated_at_each_read() -> None:
    from django.utils import translation

    with translation.override("fr"):
        french = cas_settings.login_msg
    with translation.override("en"):
        english = cas_settings.login_msg
    assert english == "Login succeeded. Welcome, %s."
    assert french is not None and french != english


def test_cas_settings_is_read_only() -> None:
    with pytest.raises(AttributeError, match="CAS_RENEW"):
        cas_settings.renew = True  # type: ignore[assignment]


def test_values_are_read_once_until_a_setting_changes(monkeypatch: Any) -> None:
    cas_settings.ignore_referer  # noqa: B018 - fill the cache
    reads: list[str] = []
    real_getattr = getattr

    def counting_getattr(obj: Any, name: str, *default: Any) -> Any:
        if obj is django_settings:
            reads.append(name)
        return real_getattr(obj, name, *default)

    monkeypatch.setattr(conf, "getattr", counting_getattr, raising=False)
    for _ in range(3):
        cas_settings.ignore_referer  # noqa: B018
    assert reads == []
    with override_settings(CAS_IGNORE_REFERER=True):
        assert cas_settings.ignore_referer is True
    assert reads == ["CAS_IGNORE_REFERER"]


def test_importing_conf_and_checks_does_not_read_django_settings() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = (
        "import django_cas_ng.conf, django_cas_ng.checks\n"
        "from django.conf import settings\n"
        "assert not settings.configured\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60)


def test_a_tenants_value_wins_over_the_project_value_read_before(settings) -> None:
    from django_cas_ng.conf import RequestSettings

    settings.CAS_RENEW = False
    assert cas_settings.renew is False
    assert RequestSettings({"CAS_RENEW": True}).renew is True
    assert cas_settings.renew is False
