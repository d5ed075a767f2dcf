"""Real HTTP servers on 127.0.0.1 for transport tests that ``responses`` cannot fake."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit


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


@contextmanager
def cas_server(answers: dict[str, bytes]) -> Iterator[str]:
    """A CAS server answering GETs by path (``/cas/<endpoint>``); yields its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = answers.get(urlsplit(self.path).path.removeprefix("/cas/"), b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cas/"
    finally:
        server.shutdown()
        server.server_close()
