"""A ``requests.Session`` playing the browser between our live app and the harness CAS server."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import requests

from tests.casserver import CASServer

HTTP_TIMEOUT = 15.0
CAS_COOKIES = ("cas_sessionid", "cas_csrftoken")


def query_of(url: str) -> dict[str, list[str]]:
    """The parsed query string of ``url``."""
    return parse_qs(urlsplit(url).query)


@dataclass
class SignIn:
    """What one sign-in through CAS produced, step by step."""

    cas_login_url: str
    service: str
    ticket_url: str
    landing: requests.Response

    @property
    def ticket(self) -> str:
        return query_of(self.ticket_url)["ticket"][0]


@dataclass
class Browser:
    """One user agent: a cookie jar shared by our app (``live``) and the CAS server."""

    live: str
    cas: CASServer
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.live = self.live.rstrip("/")
        # Never route 127.0.0.1/localhost through a proxy from the environment.
        self.session.trust_env = False
        # As a current browser following the site's own links (the logout view signs out on
        # a GET only when Fetch Metadata says so).
        self.session.headers["Sec-Fetch-Site"] = "same-origin"

    def get(self, path_or_url: str, **kwargs: object) -> requests.Response:
        """GET on our app (a path) or any absolute URL; redirects are not followed."""
        url = path_or_url if "://" in path_or_url else self.live + path_or_url
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return self.session.get(url, **kwargs)  # type: ignore[arg-type]

    def start_login(self, next_page: str | None = "/private/") -> requests.Response:
        """GET our login view, which must send the browser to the CAS login page."""
        params = {"next": next_page} if next_page is not None else None
        response = self.get("/accounts/login/", params=params)
        assert response.status_code == 302, response.text
        assert response.headers["Location"].startswith(self.cas.url + "login?")
        return response

    def obtain_ticket_url(
        self,
        username: str = "alice",
        password: str | None = None,
        next_page: str | None = "/private/",
    ) -> tuple[str, str, str]:
        """Go to CAS through our app, sign in there; return (CAS login URL, service, ticket URL).

        The ticket URL (service + ``ticket=``) is not visited yet.
        """
        cas_login_url = self.start_login(next_page).headers["Location"]
        service = query_of(cas_login_url)["service"][0]
        answer = self.cas.login(self.session, service, username, password or f"{username}-password")
        assert answer.status_code == 302, f"CAS did not sign {username} in: {answer.text[:500]}"
        ticket_url = answer.headers["Location"]
        assert ticket_url.startswith(service), (ticket_url, service)
        return cas_login_url, service, ticket_url

    def sign_in(
        self,
        username: str = "alice",
        password: str | None = None,
        next_page: str | None = "/private/",
    ) -> SignIn:
        """The whole round trip; ``landing`` is our app's answer to the ticket URL."""
        cas_login_url, service, ticket_url = self.obtain_ticket_url(username, password, next_page)
        landing = self.get(ticket_url)
        return SignIn(cas_login_url, service, ticket_url, landing)

    def cas_cookies(self) -> dict[str, str]:
        """The CAS server's cookies of this browser (its SSO session)."""
        return {c.name: c.value or "" for c in self.session.cookies if c.name in CAS_COOKIES}

    @property
    def session_key(self) -> str | None:
        """Our app's session cookie."""
        for cookie in self.session.cookies:
            if cookie.name == "sessionid":
                return cookie.value
        return None

    def is_signed_in(self) -> bool:
        """GET /private/: 200 'private' when signed in, a redirect to our login view otherwise."""
        response = self.get("/private/")
        if response.status_code == 200:
            assert response.text == "private"
            return True
        assert response.status_code == 302, response.text
        assert urlsplit(response.headers["Location"]).path == "/accounts/login/"
        return False

    def has_cas_sso_session(self) -> bool:
        """True when CAS would sign this browser in again without asking for a password."""
        answer = self.cas.login(self.session, self.live + "/", "nobody", "wrong-password")
        return answer.status_code == 302 and "ticket=" in answer.headers.get("Location", "")
