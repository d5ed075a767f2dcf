"""The test helper that picks ports for child servers: never one the kernel hands out itself."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from tests.ports import _ephemeral_range, free_port

TESTS = Path(__file__).resolve().parent


def test_a_free_port_lies_outside_the_ephemeral_range() -> None:
    low, high = _ephemeral_range()

    assert all(not low <= free_port() <= high for _ in range(50))


def test_a_port_is_never_handed_out_twice() -> None:
    ports = [free_port() for _ in range(200)]

    assert len(set(ports)) == len(ports)


def test_a_free_port_can_be_listened_on() -> None:
    with socket.create_server(("127.0.0.1", free_port())) as server:
        assert server.getsockname()[1] > 0


def test_no_test_picks_a_port_from_the_ephemeral_range_for_a_child() -> None:
    """A port bound to 0 then released may become some client's source port before use."""
    pattern = re.compile(r"bind\(\(\"127\.0\.0\.1\", 0\)\)\s*\n\s*(?:return|port)")
    offenders = [
        path.relative_to(TESTS).as_posix()
        for path in TESTS.rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]

    assert offenders == []
