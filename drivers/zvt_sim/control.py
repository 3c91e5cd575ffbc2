"""Drive a simulator in another process: a JSON-lines control socket and its client.

Each request is one line ``{"op": ..., ...}``; each answer one line ``{"ok": true, "result": ...}``
or ``{"ok": false, "error": "..."}``. Only 127.0.0.1 is ever bound.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from drivers.zvt_sim.script import Behaviour, Card, Fault
from drivers.zvt_sim.server import TerminalSimulator
from kiosk.children import child_environment, spawn


def _card(request: dict[str, Any]) -> Card:
    fields = {f.name for f in dataclasses.fields(Card)} - {"behaviour"}
    extra = {k: v for k, v in request.items() if k in fields}
    return Card(Behaviour(request.get("behaviour", "approve")), **extra)


def handle(sim: TerminalSimulator, request: dict[str, Any]) -> object:
    op = request.get("op")
    if op == "script":
        sim.script(_card(request))
        return None
    if op == "inject":
        sim.inject(Fault(request["fault"]), int(request.get("count", 1)))
        return None
    if op == "set_delays":
        changes = {k: float(v) for k, v in request.items() if k != "op"}
        sim.set_delays(dataclasses.replace(sim.state.delays, **changes))
        return None
    if op == "ledger":
        return sim.ledger()
    if op == "pending_faults":
        return sim.pending_faults()
    if op == "commands_seen":
        return list(sim.state.commands_seen)
    if op == "set_terminal_status":
        sim.set_terminal_status(int(request["status"]))
        return None
    if op == "set_hostile":
        pan = request.get("pan")
        sim.set_hostile(str(pan) if pan else None)
        return None
    raise ValueError(f"op {op!r}: unknown")


class ControlServer:
    def __init__(self, sim: TerminalSimulator, port: int = 0) -> None:
        self.sim = sim
        self._server = socket.create_server(("127.0.0.1", port))
        self._server.settimeout(0.1)
        self.address = f"tcp://127.0.0.1:{self._server.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="zvt-sim-control", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn, conn.makefile("rw", encoding="utf-8") as stream:
                for line in stream:
                    try:
                        reply = {"ok": True, "result": handle(self.sim, json.loads(line))}
                    except (ValueError, KeyError, TypeError) as exc:
                        reply = {"ok": False, "error": str(exc)}
                    stream.write(json.dumps(reply) + "\n")
                    stream.flush()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._server.close()


class SimulatorProcess:
    """The simulator as a child process (``evkiosk sim terminal``), scripted over its socket."""

    def __init__(self, process: subprocess.Popen[str], address: str, control: str) -> None:
        self.process = process
        self.address = address
        host, port = control.removeprefix("tcp://").rsplit(":", 1)
        self._sock = socket.create_connection((host, int(port)), timeout=5)
        self._stream = self._sock.makefile("rw", encoding="utf-8")

    @classmethod
    def start(
        cls, kind: str = "tcp", state_file: Path | None = None, *extra_args: str
    ) -> SimulatorProcess:
        listen = ["--pty"] if kind == "pty" else ["--listen", "tcp://127.0.0.1:0"]
        argv = [
            sys.executable,
            "-m",
            "kiosk.cli.main",
            "sim",
            "terminal",
            *listen,
            "--control",
            "tcp://127.0.0.1:0",
            *extra_args,
        ]
        if state_file is not None:
            argv += ["--state", str(state_file)]
        process: subprocess.Popen[str] = spawn(
            argv, stdout=subprocess.PIPE, text=True, env=child_environment()
        )
        found: dict[str, str] = {}
        deadline = time.monotonic() + 20
        assert process.stdout is not None
        while len(found) < 2 and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            key, _, value = line.strip().partition(" ")
            if key in ("listening", "control"):
                found[key] = value
        if len(found) < 2:
            process.kill()
            raise RuntimeError(f"simulator did not start (exit {process.wait()})")
        return cls(process, found["listening"], found["control"])

    def call(self, op: str, **args: object) -> Any:
        self._stream.write(json.dumps({"op": op, **args}) + "\n")
        self._stream.flush()
        reply = json.loads(self._stream.readline())
        if not reply["ok"]:
            raise ValueError(reply["error"])
        return reply["result"]

    def script(self, behaviour: str = "approve", **card: object) -> None:
        self.call("script", behaviour=behaviour, **card)

    def inject(self, fault: str, count: int = 1) -> None:
        self.call("inject", fault=fault, count=count)

    def set_delays(self, **delays: float) -> None:
        self.call("set_delays", **delays)

    def ledger(self) -> dict[str, Any]:
        return dict(self.call("ledger"))

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._stream.close()
            self._sock.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> SimulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
