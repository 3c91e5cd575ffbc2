"""Run scenarios against a real backend and terminal processes, kill the kiosk process at
chosen points, restart it, and compare the four ledgers after each run."""

from __future__ import annotations

import json
import multiprocessing
import random
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.ledgers.compare import Disagreement, compare
from tests.e2e.ledgers.ledgers import read_all
from tests.e2e.ledgers.scenario import Scenario, generate
from tests.e2e.ledgers.terminal_host import TerminalClient, TerminalHost
from tests.e2e.rig import EVKIOSK, BackendProcess, free_port

KillPoint = tuple[str, int]  # ("commit", n) or ("zvt", n)
RUN_TIMEOUT_S = 600
STATION = "tests.e2e.ledgers.station"


def _launcher() -> Any:
    """Kiosk processes are forked from a server that imported the kiosk once: each is a real
    process (SIGKILL ends it, its threads and sockets), without a second of imports per run."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([STATION])
    return context


def _start_backend(backend: BackendProcess, deadline_s: float = 180.0) -> BackendProcess:
    """`BackendProcess.start`, with patience for a loaded machine, and a new port when another
    process took the free one between choosing and binding it."""
    for _ in range(3):
        with backend.log_path.open("ab") as log:
            backend.proc = subprocess.Popen(
                [*EVKIOSK, "serve", "--db", backend.db, "--listen", f"127.0.0.1:{backend.port}"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + deadline_s
        # One client for all the polls: each httpx.get() builds a TLS context (~70 ms CPU).
        with httpx.Client(timeout=2) as poll:
            while time.monotonic() < deadline:
                if backend.proc.poll() is not None:
                    break
                try:
                    if poll.get(f"{backend.url}/healthz").status_code == 200:
                        return backend
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
        backend.stop()
        if "address already in use" not in backend.log_path.read_text():
            break
        backend.port = free_port()
        backend.url = f"http://127.0.0.1:{backend.port}"
    raise RuntimeError(f"backend did not start: {backend.log_path.read_text()[-2000:]}")


@dataclass
class RunResult:
    seed: int
    kill: KillPoint | None
    killed: bool
    label: str = ""  # the zvt boundary's name, for a zvt kill
    disagreements: list[Disagreement] = field(default_factory=list)


@dataclass
class ScenarioResult:
    seed: int
    points: dict[str, Any]
    runs: list[RunResult] = field(default_factory=list)


class Drill:
    def __init__(self, root: Path, keep: bool = False) -> None:
        self.root = root
        self.keep = keep  # keep every run's directory (else only those that disagree)
        root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(root / "backend", ignore_errors=True)  # a fresh database per drill
        self.backend = _start_backend(BackendProcess(root / "backend"))
        self.terminals = TerminalHost()
        self._launcher = _launcher()
        self._local = threading.local()  # a terminal-host connection per worker thread
        self._clients: list[TerminalClient] = []

    @property
    def _client(self) -> TerminalClient:
        client: TerminalClient | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = TerminalClient(self.terminals.port)
            self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self.terminals.stop()
        self.backend.stop()

    def _station(self, job: dict[str, Any], workdir: Path) -> subprocess.CompletedProcess[str]:
        from tests.e2e.ledgers import station

        mode = job["mode"]
        path, out, err = (workdir / f"{name}-{mode}" for name in ("job", "out", "err"))
        path.write_text(json.dumps(job))
        process = self._launcher.Process(
            target=station.run_job, args=(str(path), str(out), str(err))
        )
        process.start()
        process.join(RUN_TIMEOUT_S)
        code = process.exitcode
        if code is None:
            process.kill()
            process.join()
            code = -999
            err.write_text((err.read_text() if err.exists() else "") + "\nkiosk hung (timeout)")
        process.close()
        text = [f.read_text() if f.exists() else "" for f in (out, err)]
        return subprocess.CompletedProcess([STATION, str(path)], code, *text)

    def run(
        self, scenario: Scenario, kill: KillPoint | None, name: str
    ) -> tuple[RunResult, dict[str, Any]]:
        workdir = self.root / name
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        terminal = self._client.request(
            "new", transport=scenario.transport, state=str(workdir / "terminal.json")
        )
        job = {
            "scenario": scenario.to_json(),
            "workdir": str(workdir),
            "backend_url": self.backend.url,
            "backend_token": self.backend.token,
            "terminal_port": self.terminals.port,
            "terminal_id": terminal["id"],
            "terminal_address": terminal["address"],
            "mode": "run",
            "kill": list(kill) if kill else None,
        }
        result = RunResult(scenario.seed, kill, killed=False)
        points: dict[str, Any] = {}
        try:
            done = self._station(job, workdir)
            if kill is not None and done.returncode == -signal.SIGKILL:
                result.killed = True
                done = self._station({**job, "mode": "recover", "kill": None}, workdir)
            if done.returncode != 0:
                tail = done.stderr.strip().splitlines()[-3:] or ["no output"]
                detail = f"exit {done.returncode}: " + " | ".join(tail)
                result.disagreements.append(Disagreement("kiosk_error", detail))
            else:
                points = json.loads(done.stdout.strip().splitlines()[-1])
                if not points.get("settled"):
                    result.disagreements.append(
                        Disagreement("not_settled", "sessions open or reports queued at the end")
                    )
            ledger = self._client.call(terminal["id"], "ledger")
            (workdir / "terminal-ledger.json").write_text(json.dumps(ledger, indent=1))
            try:
                led = read_all(workdir, ledger, Path(self.backend.db.removeprefix("sqlite:///")))
            except (sqlite3.Error, OSError) as exc:  # the kiosk died before its journal existed
                result.disagreements.append(Disagreement("ledger_unreadable", str(exc)))
            else:
                result.disagreements += compare(led, scenario.tariff)
        finally:
            self._client.request("stop", id=terminal["id"])
        if not result.disagreements and not self.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        return result, points

    def scenario(
        self, seed: int, kills: int | str, only: KillPoint | None = None
    ) -> ScenarioResult:
        """A clean run, then runs killed at `kills` points ("all", or that many drawn by the
        seed; `only` replays one)."""
        scenario = generate(seed)
        clean, points = self.run(scenario, None, f"{seed}/clean")
        out = ScenarioResult(seed, points, [clean])
        zvt = list(points.get("zvt", []))
        every: list[KillPoint] = [
            ("commit", n) for n in range(1, int(points.get("commits", 0)) + 1)
        ]
        every += [("zvt", n) for n in range(1, len(zvt) + 1)]
        if only is not None:
            chosen = [only]
        elif kills == "all":
            chosen = every
        else:
            chosen = sorted(random.Random(seed).sample(every, min(int(kills), len(every))))
        for point in chosen:
            result, _ = self.run(scenario, point, f"{seed}/{point[0]}-{point[1]}")
            if point[0] == "zvt" and point[1] <= len(zvt):
                result.label = zvt[point[1] - 1]
            elif point[0] == "commit":
                result.label = points.get("unacked_commits", {}).get(str(point[1]), "")
            out.runs.append(result)
        if all(not r.disagreements for r in out.runs) and not self.keep:
            shutil.rmtree(self.root / str(seed), ignore_errors=True)
        return out
