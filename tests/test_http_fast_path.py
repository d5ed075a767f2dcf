"""The package's pooled session sends a plain call (every call to CAS) straight to its adapter,
skipping requests' cookie and redirect machinery; what goes over the wire is what requests
would send, and any call needing that machinery takes requests' own path."""

from __future__ import annotations

import functools
from typing import Any

import pytest
import requests
import responses

from django_cas_ng._internal.http import _new_session
from django_cas_ng.exceptions import CASUnavailable

CAS = "https://cas.example.org/cas/"
VALIDATE = CAS + "p3/serviceValidate"


def requests_path(session: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
    """The same call through requests' own ``Session.request``."""
    return requests.Session.request(session, method, url, **kwargs)


def sent(method: str, url: str, via_requests: bool = False, **kwargs: Any) -> Any:
    """The request one call puts on the wire, by our path or by requests'."""
    session = _new_session()
    with responses.RequestsMock() as mock:
        mock.add(method, url.split("?")[0], body="" if method == "HEAD" else "ok")
        if via_requests:
            requests_path(session, method, url, **kwargs)
        else:
            session.request(method, url, **kwargs)
        return mock.calls[0].request


CALLS = [
    pytest.param("GET", VALIDATE, {"params": {"ticket": "ST-1-a", "service": "https://s/?a=1&b=é"}}, id="params"),
    pytest.param("GET", VALIDATE + "?format=JSON", {"params": [("ticket", "ST-2")]}, id="query-and-params"),
    pytest.param("GET", CAS + "validate?ticket=ST-3&service=http%3A%2F%2Fs%2F", {}, id="built-url"),
    pytest.param("GET", "https://cäs.example.org/cas/validate", {"params": {"ticket": "ST-4"}}, id="idna-host"),
    pytest.param(
        "POST",
        CAS + "samlValidate?TARGET=https%3A%2F%2Fs%2F",
        {"data": "<SOAP-ENV:Envelope/>", "headers": {"soapaction": "x", "Content-Type": "text/xml"}},
        id="saml-post",
    ),
    pytest.param("POST", CAS + "v1/tickets", {"data": {"username": "u", "password": "p"}}, id="form-post"),
    pytest.param("HEAD", CAS + "login", {}, id="head"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "url", "kwargs"), CALLS)
def test_a_plain_call_sends_what_requests_would_send(method: str, url: str, kwargs: Any) -> None:
    ours = sent(method, url, **kwargs)
    theirs = sent(method, url, via_requests=True, **kwargs)
    assert (ours.method, ours.url, ours.body) == (theirs.method, theirs.url, theirs.body)
    assert dict(ours.headers) == dict(theirs.headers)


@responses.activate
def test_a_plain_call_skips_the_session_layer(monkeypatch) -> None:
    def unused(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("requests' Session.send was used")

    # Session.send alone dispatches response hooks: it is not used if this is never called
    # (a wrapped Session.send would be a tracer's, which must see the call).
    monkeypatch.setattr(requests.sessions, "dispatch_hook", unused)
    responses.add("GET", VALIDATE, body="yes")
    assert _new_session().get(VALIDATE, params={"ticket": "ST-1"}).text == "yes"


@responses.activate
def test_the_answer_carries_its_elapsed_time_and_request() -> None:
    responses.add("GET", VALIDATE, body="yes")
    response = _new_session().get(VALIDATE)
    assert response.elapsed.total_seconds() > 0
    assert response.request.url == VALIDATE


@responses.activate
def test_a_redirect_from_cas_is_still_refused() -> None:
    responses.add("GET", VALIDATE, status=302, headers={"Location": "https://evil.example/"})
    with pytest.raises(CASUnavailable, match="redirect"):
        _new_session().get(VALIDATE)


@responses.activate
def test_cookies_a_cas_server_sets_are_kept_and_sent_back() -> None:
    responses.add("GET", VALIDATE, body="yes", headers={"Set-Cookie": "node=cas2; Path=/"})
    session = _new_session()
    session.get(VALIDATE)
    session.get(VALIDATE)
    assert "Cookie" not in responses.calls[0].request.headers
    assert responses.calls[1].request.headers["Cookie"] == "node=cas2"


@responses.activate
def test_credentials_in_the_url_are_sent() -> None:
    url = VALIDATE.replace("https://", "https://app:s3cret@")
    responses.add("GET", url, body="yes")
    _new_session().get(url)
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")


@responses.activate
def test_credentials_in_the_url_never_reach_an_error_message() -> None:
    url = VALIDATE.replace("https://", "https://app:s3cret@")
    responses.add("GET", url, status=502)
    with pytest.raises(CASUnavailable) as refused:
        _new_session().get(url)
    assert "s3cret" not in str(refused.value)
    assert "cas.example.org" in str(refused.value)


@responses.activate
def test_netrc_credentials_for_the_cas_host_are_sent(monkeypatch, tmp_path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine cas.example.org login app password s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    responses.add("GET", VALIDATE, body="yes")
    _new_session().get(VALIDATE)
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")


@responses.activate
def test_a_session_with_its_own_auth_sends_it() -> None:
    responses.add("GET", VALIDATE, body="yes")
    session = _new_session()
    session.auth = ("app", "s3cret")
    session.get(VALIDATE)
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")


@responses.activate
def test_response_hooks_of_the_session_still_run() -> None:
    responses.add("GET", VALIDATE, body="yes")
    seen: list[int] = []
    session = _new_session()
    session.hooks["response"].append(lambda response, **kwargs: seen.append(response.status_code))
    session.get(VALIDATE)
    assert seen == [200]


def test_a_url_without_a_scheme_fails_as_requests_fails() -> None:
    with pytest.raises(requests.exceptions.MissingSchema):
        _new_session().get("cas.example.org/cas/validate")


def test_a_scheme_without_an_adapter_fails_as_requests_fails() -> None:
    with pytest.raises(requests.exceptions.InvalidSchema):
        _new_session().get("ftp://cas.example.org/cas/validate")


@responses.activate
def test_a_call_with_its_own_cookies_sends_them() -> None:
    responses.add("GET", VALIDATE, body="yes")
    _new_session().get(VALIDATE, cookies={"node": "cas1"})
    assert responses.calls[0].request.headers["Cookie"] == "node=cas1"


def test_a_tracer_wrapping_session_send_still_sees_every_call(monkeypatch) -> None:
    # What OpenTelemetry's and Datadog's requests instrumentations do: wrap Session.send and
    # add the trace context to the request; the CAS call must carry it too.
    original = requests.Session.send
    traced: list[str] = []

    @functools.wraps(original)
    def traced_send(self: requests.Session, request: Any, **kwargs: Any) -> Any:
        request.headers["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        traced.append(request.url)
        return original(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", traced_send)
    with responses.RequestsMock() as mock:
        mock.add("GET", VALIDATE, body="yes")
        _new_session().get(VALIDATE, params={"ticket": "ST-1"})
        assert mock.calls[0].request.headers["traceparent"].startswith("00-0af7")
    assert traced == [VALIDATE + "?ticket=ST-1"]


class _ObjectProxyWrapper:
    """A wrapper in the manner of wrapt's FunctionWrapper: a callable object, no function."""

    def __init__(self, wrapped: Any, seen: list[str]) -> None:
        self.__wrapped__ = wrapped
        self.seen = seen

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        return self if instance is None else functools.partial(self, instance)

    def __call__(self, instance: Any, method: str, url: str, **kwargs: Any) -> Any:
        self.seen.append(method)
        return self.__wrapped__(instance, method, url, **kwargs)


def test_a_wrapper_around_session_request_still_sees_every_call(monkeypatch) -> None:
    seen: list[str] = []
    monkeypatch.setattr(
        requests.Session, "request", _ObjectProxyWrapper(requests.Session.request, seen)
    )
    with responses.RequestsMock() as mock:
        mock.add("GET", VALIDATE, body="yes")
        _new_session().get(VALIDATE)
    assert seen == ["GET"]


def test_a_malformed_host_fails_as_requests_fails() -> None:
    with pytest.raises(requests.exceptions.InvalidURL):
        _new_session().get("https://[::1/cas/validate")


def test_a_saml_post_as_python_cas_sends_it_takes_the_plain_path(monkeypatch) -> None:
    def unused(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("requests' Session.send was used")

    # Session.send alone dispatches response hooks: it is not used if this is never called.
    monkeypatch.setattr(requests.sessions, "dispatch_hook", unused)
    with responses.RequestsMock() as mock:
        mock.add("POST", CAS + "samlValidate", body="<ok/>")
        session = _new_session()
        # python-cas's fetch_saml_validation: Session.post adds json=None.
        session.post(CAS + "samlValidate", "<SOAP-ENV:Envelope/>", params={"TARGET": "https://s/"})
        assert mock.calls[0].request.body == "<SOAP-ENV:Envelope/>"


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"cookies": {"node": "cas1"}}, id="cookies"),
        pytest.param({"auth": ("app", "s3cret")}, id="auth"),
        pytest.param({"json": {"ticket": "ST-1"}}, id="json"),
        pytest.param({"files": {"f": ("a.txt", b"x")}}, id="files"),
        pytest.param({"hooks": {"response": [lambda response, **kw: None]}}, id="hooks"),
    ],
)
def test_a_call_needing_the_session_layer_goes_through_session_send(
    monkeypatch, kwargs: dict[str, Any]
) -> None:
    dispatched: list[str] = []
    dispatch_hook = requests.sessions.dispatch_hook

    def counted(key: str, *args: Any, **kw: Any) -> Any:
        dispatched.append(key)
        return dispatch_hook(key, *args, **kw)

    monkeypatch.setattr(requests.sessions, "dispatch_hook", counted)
    with responses.RequestsMock() as mock:
        mock.add("POST", VALIDATE, body="yes")
        _new_session().post(VALIDATE, **kwargs)
    assert dispatched == ["response"]


@responses.activate
def test_a_host_with_another_adapter_gets_that_adapter() -> None:
    seen: list[str] = []

    class Other(requests.adapters.HTTPAdapter):
        def send(self, request: Any, **kwargs: Any) -> Any:
            seen.append(request.url)
            return super().send(request, **kwargs)

    responses.add("GET", "https://other.example.org/status", body="up")
    session = _new_session()
    session.mount("https://other.example.org/", Other())
    assert session.get("https://other.example.org/status").text == "up"
    assert seen == ["https://other.example.org/status"]
