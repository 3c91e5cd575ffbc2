"""One process that hosts simulated ZVT terminals, a fresh one per drill run.

Each terminal is a `TerminalSimulator` (real ZVT over TCP or a pty) with its own state file, so
it outlives a killed kiosk as a real terminal does; hosting them in one process saves a Python
start per run. Requests are JSON lines on a 127.0.0.1 socket:
``{"op": "new", "transport": "tcp", "state": PATH}`` -> ``{"id": N, "address": ...}``,
``{"op": "call", "id": N, "request": {...}}`` (the simulator's own control operations, see
drivers.zvt_sim.control), ``{"op": "stop", "id": N}``.
"""

from __future__ import annotations

import json
import socket
import socketserver
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from drivers.zvt_sim import Delays, TerminalSimulator
from drivers.zvt_sim.control import handle


class _Terminals:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sims: dict[int, TerminalSimulator] = {}
        self.next_id = 1

    def serve(self, request: dict[str, Any]) -> object:
        op = request["op"]
        if op == "new":
            state = Path(request["state"])
            if request.get("transport") == "pty":
                sim = TerminalSimulator.start_pty(state_file=state, delays=Delays.zero())
            else:
                sim = TerminalSimulator.start_tcp(state_file=state, delays=Delays.zero())
            with self.lock:
                ident, self.next_id = self.next_id, self.next_id + 1
                self.sims[ident] = sim
            return {"id": ident, "address": sim.address}
        with self.lock:
            sim = self.sims[int(request["id"])]
        if op == "call":
            return handle(sim, request["request"])
        if op == "stop":
            with self.lock:
                self.sims.pop(int(request["id"]), None)
            sim.stop()
            return None
        raise ValueError(f"op {op!r}: unknown")


def main() -> int:
    terminals = _Terminals()

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            for line in self.rfile:
                try:
                    reply = {"ok": True, "result": terminals.serve(json.loads(line))}
                except (ValueError, KeyError, TypeError, OSError) as exc:
                    reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                self.wfile.write((json.dumps(reply) + "\n").encode())
                self.wfile.flush()

    socketserver.ThreadingTCPServer.daemon_threads = True
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler) as server:
        print(f"control {server.server_address[1]}", flush=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        sys.stdin.read()  # runs until the parent closes our stdin (or dies)
        server.shutdown()
    return 0


class TerminalClient:
    """A connection to the host: make terminals, script them, read their ledgers."""

    def __init__(self, port: int) -> None:
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self._stream = self._sock.makefile("rw", encoding="utf-8")

    def request(self, op: str, **args: object) -> Any:
        self._stream.write(json.dumps({"op": op, **args}) + "\n")
        self._stream.flush()
        reply = json.loads(self._stream.readline())
        if not reply["ok"]:
            raise RuntimeError(reply["error"])
        return reply["result"]

    def call(self, ident: int, op: str, **args: object) -> Any:
        return self.request("call", id=ident, request={"op": op, **args})

    def close(self) -> None:
        self._stream.close()
        self._sock.close()


class TerminalHost:
    """The host as a child process of the drill."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.ledgers.terminal_host"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[3],
        )
        assert self.process.stdout is not None
        key, _, port = self.process.stdout.readline().strip().partition(" ")
        if key != "control":
            self.process.kill()
            raise RuntimeError("terminal host did not start")
        self.port = int(port)
        self.client = TerminalClient(self.port)

    def stop(self) -> None:
        self.client.close()
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


if __name__ == "__main__":
    raise SystemExit(main())
