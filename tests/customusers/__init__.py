"""Custom user models for tests that switch ``AUTH_USER_MODEL`` in a child process
(tests/test_identities_round3.py)."""
