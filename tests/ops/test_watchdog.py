"""sd_notify against a real unix datagram socket, as systemd listens on $NOTIFY_SOCKET."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.watchdog import Notifier


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    yield sock, str(path)
    sock.close()


def _received(sock: socket.socket) -> list[str]:
    return sock.recv(4096).decode().split("\n")


def test_ready_status_watchdog_stopping(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = Notifier({"NOTIFY_SOCKET": path})
    assert notifier.enabled
    assert notifier.ready("2 connectors\nidle")
    assert _received(sock) == ["READY=1", "STATUS=2 connectors idle"]
    assert notifier.watchdog()
    assert _received(sock) == ["WATCHDOG=1"]
    assert notifier.status("charging on 1")
    assert _received(sock) == ["STATUS=charging on 1"]
    assert notifier.stopping()
    assert _received(sock) == ["STOPPING=1"]


def test_no_status_or_ready_follows_stopping(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    notifier = Notifier({"NOTIFY_SOCKET": path})
    assert notifier.stopping()
    assert not notifier.status("connectors: 1 available")  # a snapshot published while stopping
    assert not notifier.ready()  # a start that finished after the stop began
    assert _received(sock) == ["STOPPING=1"]
    sock.setblocking(False)
    with pytest.raises(BlockingIOError):
        sock.recv(4096)


def test_abstract_socket_name() -> None:
    name = f"evkiosk-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.settimeout(5)
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).ready()
        assert _received(sock) == ["READY=1"]


def test_no_socket_is_a_quiet_no_op(tmp_path: Path) -> None:
    notifier = Notifier({})
    assert not notifier.enabled
    assert not notifier.ready() and not notifier.watchdog() and not notifier.keepalive()
    gone = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    assert not gone.ready()  # logged, never raised


def test_keepalive_pings_at_half_the_watchdog_interval(
    listener: tuple[socket.socket, str],
) -> None:
    sock, path = listener
    now = [100.0]
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "20000000", "WATCHDOG_PID": str(os.getpid())}
    notifier = Notifier(env, clock=lambda: now[0])
    assert notifier.watchdog_interval_s == 20
    assert notifier.keepalive()  # first call pings
    now[0] += 9.9
    assert not notifier.keepalive()
    now[0] += 0.1
    assert notifier.keepalive()
    assert _received(sock) == ["WATCHDOG=1"] and _received(sock) == ["WATCHDOG=1"]


def test_watchdog_meant_for_another_process_is_ignored(
    listener: tuple[socket.socket, str],
) -> None:
    _, path = listener
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1"}
    assert Notifier(env).watchdog_interval_s is None
