"""The kiosk's backend client (drivers.backend_client) against a real HTTP server on 127.0.0.1
that answers badly on purpose, and the app's kiosk mode."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from drivers.backend_client import HttpBackend
from kiosk.devices import BackendError, LinkStatus

ANSWERS: dict[str, tuple[int, bytes]] = {}
SEEN: list[tuple[str, str, dict[str, str], bytes]] = []


class Handler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        SEEN.append((self.command, self.path, dict(self.headers), body))
        status, payload = ANSWERS.get(self.path.split("?")[0], (404, b'{"detail":"no"}'))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    ANSWERS.clear()
    SEEN.clear()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


LINK = {
    "id": "pl_1",
    "url": "http://127.0.0.1/pay/pl_1",
    "status": "pending",
    "expires_at": "2026-03-14T10:15:00+00:00",
    "amount": 5000,
    "currency": "EUR",
}


def test_create_sends_the_frozen_tariff_text_unchanged_and_the_key(server: str) -> None:
    ANSWERS["/api/v1/payment-links"] = (201, json.dumps(LINK).encode())
    backend = HttpBackend(server, "secret-key", time_zone="Europe/Berlin")
    tariff_text = '{"currency":"EUR","elements":[{"price_components":[{"price":0.59}]}]}'
    link = backend.create_payment_link("1", 5000, "EUR", {"tariff_json": tariff_text}, "key-1")
    assert link.id == "pl_1" and link.status is LinkStatus.PENDING and link.amount_minor == 5000
    method, path, headers, body = SEEN[-1]
    assert (method, path) == ("POST", "/api/v1/payment-links")
    assert headers["Authorization"] == "Bearer secret-key"
    assert headers["Idempotency-Key"] == "key-1"
    assert b'"price": 0.59' in body  # exactly as frozen, never through a float
    assert json.loads(body)["amount"] == 5000
    backend.close()


def test_long_poll_asks_for_a_change_from_the_status_last_seen(server: str) -> None:
    ANSWERS["/api/v1/payment-links/pl_1"] = (200, json.dumps(LINK).encode())
    backend = HttpBackend(server, "k")
    backend.wait_payment_link("pl_1", 1.5)
    assert SEEN[-1][1] == "/api/v1/payment-links/pl_1?wait=1.5&status=pending"
    ANSWERS["/api/v1/payment-links/pl_1"] = (
        200,
        json.dumps({**LINK, "status": "authorized"}).encode(),
    )
    assert backend.wait_payment_link("pl_1", 1).status is LinkStatus.AUTHORIZED
    backend.wait_payment_link("pl_1", 1)
    assert SEEN[-1][1].endswith("status=authorized")
    backend.close()


@pytest.mark.parametrize(
    ("status", "payload", "message"),
    [
        (422, b'{"detail":"amount too large"}', r"HTTP 422.*amount too large"),
        (503, b"{}", r"HTTP 503"),
        (201, b"<html>", r"not JSON"),
        (201, b'{"id": "x"}', r"no field"),
        (201, json.dumps({**LINK, "status": "weird"}).encode(), r"bad field"),
    ],
)
def test_bad_answers_become_backend_errors_that_say_why(
    server: str, status: int, payload: bytes, message: str
) -> None:
    ANSWERS["/api/v1/payment-links"] = (status, payload)
    backend = HttpBackend(server, "k")
    with pytest.raises(BackendError, match=message):
        backend.create_payment_link("1", 5000, "EUR", {"tariff_json": "{}"}, "key")
    backend.close()


def test_an_unreachable_backend_is_a_backend_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    backend = HttpBackend(f"http://127.0.0.1:{port}", "k", timeout_s=2)
    with pytest.raises(BackendError, match="POST /payment-links"):
        backend.cancel_payment_link("pl_1").status  # noqa: B018
    backend.close()


@pytest.mark.gui
def test_kiosk_mode_is_full_screen_frameless_without_a_cursor(qtbot: object) -> None:
    from uirig import RecordingStation

    from ui import app as kiosk_app
    from ui.qt import QApplication, Qt
    from ui.settings import UiSettings

    settings = UiSettings(kiosk=True, hide_cursor=True)
    parts = kiosk_app.build(RecordingStation(), settings=settings)
    qtbot.addWidget(parts.window)  # type: ignore[attr-defined]
    try:
        kiosk_app.show(parts, settings, None)
        assert parts.window.windowFlags() & Qt.WindowType.FramelessWindowHint
        assert parts.window.windowState() & Qt.WindowState.WindowFullScreen
        cursor = QApplication.overrideCursor()
        assert cursor is not None and cursor.shape() == Qt.CursorShape.BlankCursor
    finally:
        while QApplication.overrideCursor() is not None:
            QApplication.restoreOverrideCursor()
        parts.bridge.close()


@pytest.mark.gui
def test_the_first_frame_is_announced_once_after_the_idle_screen_is_painted(
    qtbot: object,
) -> None:
    from uirig import RecordingStation

    from ui import app as kiosk_app
    from ui.preview import station
    from ui.qt import QApplication, QEvent, QObject
    from ui.settings import UiSettings

    runtime = RecordingStation()  # publishes only when the test says
    parts = kiosk_app.build(runtime, settings=UiSettings())
    qtbot.addWidget(parts.window)  # type: ignore[attr-defined]
    happened: list[str] = []

    class Paints(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and parts.window.snapshot is not None:
                happened.append("painted")
            return False

    paints = Paints()
    kiosk_app.when_first_frame(parts, lambda: happened.append("first frame"))
    try:
        kiosk_app.show(parts, UiSettings(), (800, 480))
        qtbot.waitExposed(parts.window)  # type: ignore[attr-defined]
        for _ in range(3):  # the empty window's own paint is done
            QApplication.processEvents()
        parts.window.installEventFilter(paints)
        (publish,) = runtime.listeners
        parts.bridge.snapshot.connect(lambda _: happened.append("shown"))
        publish(station())  # type: ignore[operator]
        qtbot.waitUntil(lambda: "first frame" in happened)  # type: ignore[attr-defined]
        assert "painted" in happened
        assert happened.index("painted") < happened.index("first frame")
        assert parts.window.current_page == "idle"
        publish(station())  # type: ignore[operator]
        parts.window.repaint()
        for _ in range(3):
            QApplication.processEvents()
        assert happened.count("first frame") == 1  # once
    finally:
        parts.window.removeEventFilter(paints)
        parts.bridge.close()
