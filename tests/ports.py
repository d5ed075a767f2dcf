"""Ports on 127.0.0.1 for the servers tests start, safe from the kernel's own choices.

A port taken with ``bind(("127.0.0.1", 0))`` comes from the ephemeral range, the same range the
kernel hands to every outgoing connection. Between choosing such a port and a child server
binding it, any HTTP client on the machine (the test's, a CAS server's) may take it as its
source port, and the server then fails with "Address already in use". So ports here come from
below (or above) the ephemeral range, and this process never hands out one port twice.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

__all__ = ["closed_port", "free_port"]

_LOOPBACK = "127.0.0.1"
_LOWEST = 10000
_handed_out: set[int] = set()
_choice = random.Random()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def _candidates() -> range:
    low, high = _ephemeral_range()
    if low - _LOWEST >= 2000:
        return range(_LOWEST, low)
    return range(high + 1, 65536)


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind
        try:
            probe.bind((_LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port nothing listens on, outside the ephemeral range, not handed out before."""
    candidates = _candidates()
    for _ in range(200):
        port = _choice.choice(candidates)
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free port on {_LOOPBACK} in {candidates}")


def closed_port() -> int:
    """A port where nothing listens, for tests that need a refused connection."""
    return free_port()
