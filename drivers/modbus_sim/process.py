"""Run a simulator as a subprocess (`evkiosk sim meter|charger`) and drive it over stdin."""

from __future__ import annotations

import json
import subprocess
import sys
from types import TracebackType
from typing import Any

from kiosk.children import child_environment, spawn


class SimProcess:
    """`SimProcess("meter", "--with-charger", "phoenix-ev-eth")`; ports in `.ready`."""

    def __init__(self, kind: str, *args: str, listen: str = "tcp://127.0.0.1:0") -> None:
        argv = [sys.executable, "-m", "kiosk.cli.main", "sim", kind, "--listen", listen, *args]
        self._proc: subprocess.Popen[str] = spawn(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            env=child_environment(),
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            err = self._proc.stderr.read() if self._proc.stderr else ""
            self._proc.wait(timeout=5)
            raise RuntimeError(f"simulator did not start: {err.strip()}")
        self.ready: dict[str, Any] = json.loads(line)

    def command(self, line: str) -> str:
        """Send one command line (see drivers.modbus_sim.commands); returns the answer line."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(line.rstrip("\n") + "\n")
        self._proc.stdin.flush()
        return self._proc.stdout.readline().rstrip("\n")

    def close(self) -> int:
        if self._proc.poll() is None:
            self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()
        return self._proc.returncode

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
