"""Real HTTP servers on 127.0.0.1 for transport tests that ``responses`` cannot fake."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def trickling_server(head: bytes, trickled: bytes, interval: float) -> Iterator[str]:
    """A server that answers ``head`` at once, then ``trickled`` a byte every ``interval`` s."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(head)
                for byte in trickled:
                    if stop.wait(interval):
                        break
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/cas/"
    finally:
        stop.set()
        thread.join(5)
        listener.close()
