"""The package's pooled session works out what the environment adds to a call to CAS (proxies,
CA bundle) once per origin, and exactly as requests would, again whenever the environment
changes."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from django_cas_ng._internal.http import _new_session

URL = "https://cas.example.org/cas/p3/serviceValidate?ticket=ST-1-x&service=s"
OTHER = "https://other.example.org/cas/p3/serviceValidate?ticket=ST-2-y&service=s"


@pytest.fixture
def clean_environment(monkeypatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE"):
        for variant in (name, name.lower()):
            monkeypatch.delenv(variant, raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


def what_requests_merges(url: str, **options: Any) -> dict[str, Any]:
    proxies = options.pop("proxies", {})
    return requests.Session().merge_environment_settings(
        url, proxies, options.get("stream"), options.get("verify"), options.get("cert")
    )


def merged(session: requests.Session, url: str, **options: Any) -> dict[str, Any]:
    proxies = options.pop("proxies", {})
    return session.merge_environment_settings(
        url, proxies, options.get("stream"), options.get("verify"), options.get("cert")
    )


@pytest.mark.usefixtures("clean_environment")
def test_the_environment_is_read_once_per_origin(monkeypatch) -> None:
    session = _new_session()
    reads = []
    original = requests.Session.merge_environment_settings

    def counted(self: requests.Session, *args: Any) -> Any:
        reads.append(args[0])
        return original(self, *args)

    monkeypatch.setattr(requests.Session, "merge_environment_settings", counted)
    for _ in range(3):
        merged(session, URL, verify=True)
    merged(session, OTHER, verify=True)
    assert reads == [URL, OTHER]


@pytest.mark.usefixtures("clean_environment")
def test_proxies_of_the_environment_apply_as_requests_applies_them(monkeypatch) -> None:
    session = _new_session()
    assert merged(session, URL, verify=True) == what_requests_merges(URL, verify=True)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.org:3128")
    assert merged(session, URL, verify=True)["proxies"] == {
        "https": "http://proxy.example.org:3128"
    }
    assert merged(session, URL, verify=True) == what_requests_merges(URL, verify=True)
    monkeypatch.setenv("NO_PROXY", "cas.example.org")
    assert merged(session, URL, verify=True)["proxies"] == {}
    assert merged(session, OTHER, verify=True) == what_requests_merges(OTHER, verify=True)


@pytest.mark.usefixtures("clean_environment")
def test_a_ca_bundle_set_in_the_environment_applies_at_once(monkeypatch) -> None:
    session = _new_session()
    assert merged(session, URL, verify=True)["verify"] is True
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/site-bundle.pem")
    assert merged(session, URL, verify=True)["verify"] == "/etc/ssl/site-bundle.pem"
    assert merged(session, URL, verify=False)["verify"] is False


@pytest.mark.usefixtures("clean_environment")
def test_the_callers_proxies_receive_the_environments_as_requests_gives_them(monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.org:3128")
    session = _new_session()
    for _ in range(2):
        given: dict[str, str] = {"http": "http://mine.example.org:8080"}
        expected = dict(given)
        result = merged(session, URL, proxies=given, verify=True)
        assert result == what_requests_merges(URL, proxies=expected, verify=True)
        assert given == expected


@pytest.mark.usefixtures("clean_environment")
def test_a_result_changed_by_its_caller_does_not_change_the_next(monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.org:3128")
    session = _new_session()
    merged(session, URL, verify=True)["proxies"]["https"] = "http://changed.example.org"
    assert merged(session, URL, verify=True)["proxies"] == {
        "https": "http://proxy.example.org:3128"
    }


@pytest.mark.usefixtures("clean_environment")
def test_the_sessions_own_options_take_part(monkeypatch) -> None:
    session = _new_session()
    merged(session, URL, verify=True)
    session.proxies = {"https": "http://session-proxy.example.org:3128"}
    session.verify = False
    assert merged(session, URL) == {
        "proxies": {"https": "http://session-proxy.example.org:3128"},
        "stream": False,
        "verify": False,
        "cert": None,
    }


@pytest.mark.usefixtures("clean_environment")
def test_without_trust_in_the_environment_nothing_is_read(monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.org:3128")
    session = _new_session()
    session.trust_env = False
    assert merged(session, URL, verify=True)["proxies"] == {}
