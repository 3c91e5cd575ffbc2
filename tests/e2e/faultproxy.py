"""A fault-injecting HTTP(S) front for the real backend, on 127.0.0.1.

Each request takes the next fault from a script (or the standing mode when the script is
empty) and then answers like a broken network or server would: the connection dropped, 500,
a reply that never comes in time, a 2xx whose JSON is cut off after the backend stored the
record. "ok" forwards to the backend unchanged. Counts what it saw.
"""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
import time
from collections import Counter
from pathlib import Path

import httpx


class FaultProxy:
    def __init__(self, upstream: str, *, cert: tuple[Path, Path] | None = None) -> None:
        self.upstream = upstream
        self.mode = "ok"
        self.script: list[str] = []
        self.seen: Counter[str] = Counter()
        self.forwarded_reports = 0
        self.hang_s = 2.0
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                proxy.handle(self, None)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                proxy.handle(self, self.rfile.read(length))

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _next(self, report: bool) -> str:
        """The script is for reports (POSTs other than payment links); the mode for all."""
        with self._lock:
            fault = self.script.pop(0) if self.script and report else self.mode
            self.seen[fault] += 1
            return fault

    def _forward(self, h: http.server.BaseHTTPRequestHandler, body: bytes | None) -> httpx.Response:
        headers = {
            k: v for k, v in h.headers.items() if k.lower() not in ("host", "content-length")
        }
        response = httpx.request(
            h.command, self.upstream + h.path, headers=headers, content=body, timeout=60
        )
        if h.command == "POST" and "/payment-links" not in h.path:
            with self._lock:
                self.forwarded_reports += 1
        return response

    def handle(self, h: http.server.BaseHTTPRequestHandler, body: bytes | None) -> None:
        fault = self._next(h.command == "POST" and "/payment-links" not in h.path)
        if fault == "down":  # as if nothing listened: the connection just ends
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault == "500":
            self._answer(h, 500, b'{"detail":"internal error"}')
            return
        if fault == "timeout":
            time.sleep(self.hang_s)
            h.close_connection = True
            return
        response = self._forward(h, body)
        content = response.content
        if fault == "truncate":
            content = content[: max(1, len(content) // 2)]
        self._answer(h, response.status_code, content, response.headers.get("content-type"))

    @staticmethod
    def _answer(
        h: http.server.BaseHTTPRequestHandler,
        status: int,
        content: bytes,
        content_type: str | None = "application/json",
    ) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type or "application/json")
        h.send_header("Content-Length", str(len(content)))
        h.end_headers()
        h.wfile.write(content)
