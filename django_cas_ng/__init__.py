"""Django CAS client: sign users in through a CAS server (CAS 1.0, 2.0, 3.0 and SAML 1.1)."""

__version__ = "6.0.0.dev0"
