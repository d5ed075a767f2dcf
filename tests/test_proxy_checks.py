"""System check E012: the shape of ``CAS_PROXY_CHAINS``."""

from __future__ import annotations

import re

import pytest
from django.core.checks import run_checks

from django_cas_ng.checks import check_proxy_chains

APP_A = "https://app-a.example.org/accounts/callback/"


def ids(settings, value) -> list[str]:
    settings.CAS_PROXY_CHAINS = value
    return [message.id for message in check_proxy_chains()]


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"*": [[APP_A]]},
        {"https://api.example.org/": [[APP_A], [r"^https://[a-z]+\.example\.org/.*"]]},
        {"https://api.example.org/": ([APP_A, re.compile(r"https://b\.example/.*")],)},
        {"https://api.example.org/": []},
    ],
)
def test_valid_shapes_pass(settings, value) -> None:
    assert ids(settings, value) == []


@pytest.mark.parametrize(
    "value",
    [
        {"api.example.org": [[APP_A]]},  # key is not a URL
        {"*": APP_A},  # not a list of chains
        {"*": [APP_A]},  # a chain given as a bare string
        {"*": [[]]},  # an empty chain
        {"*": [[42]]},  # a pattern of the wrong type
        {"*": [["^https://(unclosed"]]},  # a broken regex
        {"*": [["app-a.example.org/callback"]]},  # neither a URL nor a '^' regex
    ],
)
def test_malformed_shapes_are_e012(settings, value) -> None:
    assert ids(settings, value) == ["django_cas_ng.E012"]


def test_wrong_type_is_left_to_e009(settings) -> None:
    assert ids(settings, [[APP_A]]) == []


def test_check_is_registered(settings) -> None:
    settings.CAS_PROXY_CHAINS = {"*": [APP_A]}
    assert "django_cas_ng.E012" in [message.id for message in run_checks()]
