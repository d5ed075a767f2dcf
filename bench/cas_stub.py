"""A CAS 3 stub for the login benchmarks: answers every ticket with authenticationSuccess.

Run as a separate process (``python cas_stub.py``) so it does not share the Django worker's
GIL. Standard library only, so any venv's python can run it. HTTP/1.1 with keep-alive; each
answer is written with one ``sendall`` and TCP_NODELAY so no Nagle/delayed-ACK stall hides in
the measurement.

The username is the part of the ticket after its last '-' (``ST-L42-benchuser7`` ->
``benchuser7``). ``--delay SECONDS`` makes every validation answer wait that long first (a
slow CAS server; the server is threaded, so waits overlap). Control protocol on stdin/stdout,
one line each:

- on start it prints ``READY <port>``;
- ``stats`` -> a JSON line ``{"connections": n, "requests": m}`` (accepted TCP connections and
  validation requests since start or the last ``reset``);
- ``reset`` -> ``ok``; ``quit`` (or EOF) stops the server.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

_lock = threading.Lock()
_counts = {"connections": 0, "requests": 0}
_delay = 0.0

SUCCESS = (
    '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">\n'
    "  <cas:authenticationSuccess>\n"
    "    <cas:user>{user}</cas:user>\n"
    "    <cas:attributes>\n"
    "      <cas:email>{user}@example.org</cas:email>\n"
    "      <cas:displayName>Bench {user}</cas:displayName>\n"
    "    </cas:attributes>\n"
    "  </cas:authenticationSuccess>\n"
    "</cas:serviceResponse>\n"
)
FAILURE = (
    '<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">\n'
    '  <cas:authenticationFailure code="INVALID_TICKET">no ticket</cas:authenticationFailure>\n'
    "</cas:serviceResponse>\n"
)


def _bump(name: str) -> None:
    with _lock:
        _counts[name] += 1


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        _bump("requests")
        if _delay:
            time.sleep(_delay)
        query = parse_qs(urlsplit(self.path).query)
        ticket = (query.get("ticket") or [""])[0]
        if ticket:
            body = SUCCESS.format(user=escape(ticket.rsplit("-", 1)[-1])).encode()
        else:
            body = FAILURE.encode()
        head = (
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/xml; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Connection: keep-alive\r\n\r\n"
        ).encode()
        self.wfile.write(head + body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def process_request(self, request: object, client_address: object) -> None:
        _bump("connections")
        super().process_request(request, client_address)  # type: ignore[arg-type]


def main() -> None:
    global _delay
    parser = argparse.ArgumentParser(description="CAS 3 stub for the benchmarks")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    _delay = parser.parse_args().delay
    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2})
    thread.daemon = True
    thread.start()
    print(f"READY {server.server_address[1]}", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "stats":
            with _lock:
                print(json.dumps(_counts), flush=True)
        elif command == "reset":
            with _lock:
                _counts["connections"] = 0
                _counts["requests"] = 0
            print("ok", flush=True)
        elif command == "quit":
            break
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main()
