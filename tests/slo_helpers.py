"""Builders for Single Logout requests as CAS servers send them."""

from __future__ import annotations

import base64
import zlib


def logout_request(*tickets: str) -> str:
    """A SAML 2.0 LogoutRequest naming ``tickets`` as SessionIndex values."""
    indexes = "".join(f"<samlp:SessionIndex>{t}</samlp:SessionIndex>" for t in tickets)
    return (
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="LR-1" Version="2.0" '
        'IssueInstant="2026-01-01T00:00:00Z"><saml:NameID>@NOT_USED@</saml:NameID>'
        f"{indexes}</samlp:LogoutRequest>"
    )


def front_channel(xml: str) -> str:
    """``base64(raw deflate(xml))``, as Apereo CAS sends a front-channel logout."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    packed = compressor.compress(xml.encode()) + compressor.flush()
    return base64.b64encode(packed).decode()
