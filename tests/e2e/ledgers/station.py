"""The kiosk of a money drill, as its own process: `python -m tests.e2e.ledgers.station JOB`.

JOB is a JSON file: the scenario, the work directory, the backend (url, token), the terminal
host's control port and the terminal's id and address, the mode ("run": act the scenario out,
then let the driver finish; "recover": start on the same state, recovery runs, then finish) and
the kill point (["commit", n] or ["zvt", n], or null). The car (meter counter, state of charge,
plug) and the kiosk's clock are written to the work directory whenever time moves and right
before a kill, so a restarted kiosk finds them as a real station would.
Prints the points it passed as JSON: {"commits": n, "zvt": [labels], "settled": bool}.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from drivers.station import BackendAccess
from kiosk.runtime.clock import FakeClock
from tests.e2e.ledgers.drive import act, drain
from tests.e2e.ledgers.killpoints import KillSwitch
from tests.e2e.ledgers.scenario import Scenario
from tests.e2e.ledgers.screen import ScreenLog
from tests.e2e.ledgers.terminal_host import TerminalClient
from tests.e2e.rig import Kiosk, kiosk

# The kiosk's T4 (80 00 → completion, restarted by every 04 FF and 04 0F): 180 s by default,
# shortened here because a serial link that drops after a result leaves the driver waiting it
# out, and the outcome is the same at any T4 longer than the terminal's own waits (the longest:
# 30 s for a card that never comes).
T4_S = 45.0
T4_WAIT_S = T4_S + 120.0


class CarFile:
    """The car and the meter beside the kiosk: they keep their state when the kiosk dies."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def save(self, k: Kiosk) -> None:
        model = k.station.sims["1"].model
        with model.lock:
            state = {
                "import_wh": model.import_wh,
                "soc": model.soc,
                "plugged": model.plugged,
                "ev_max_power_w": model.ev_max_power_w,
                "error": model.error_state,
                "clock": k.clock.now().isoformat(),
            }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.path)

    def load(self) -> dict[str, Any] | None:
        return json.loads(self.path.read_text()) if self.path.exists() else None

    def restore(self, k: Kiosk, state: dict[str, Any]) -> None:
        model = k.station.sims["1"].model
        with model.lock:
            model.import_wh = float(state["import_wh"])
            model.ev_max_power_w = float(state["ev_max_power_w"])
            model.error_state = state["error"]
        if state["plugged"]:
            model.plug_in(state["soc"])


def main(job_path: str) -> int:
    job = json.loads(Path(job_path).read_text())
    scenario = Scenario.from_json(job["scenario"])
    workdir = Path(job["workdir"])
    car = CarFile(workdir / "car.json")
    saved = car.load()
    start = datetime.fromisoformat(saved["clock"]) if saved else scenario.start_at
    clock = FakeClock(start)
    terminal_client = TerminalClient(job["terminal_port"])

    def terminal(op: str, **args: object) -> object:
        return terminal_client.call(job["terminal_id"], op, **args)

    kill = tuple(job["kill"]) if job["kill"] else None
    holder: list[Kiosk] = []

    def before_death() -> None:
        if holder:
            car.save(holder[0])

    switch = KillSwitch(kill, before_death)  # type: ignore[arg-type]
    screen = ScreenLog(workdir / "screen.jsonl")

    def prepare(k: Kiosk) -> None:
        holder.append(k)
        if saved is not None:
            car.restore(k, saved)
        switch.install(k.station.runtime.journal, k.station.terminal)
        k.station.runtime.subscribe(screen.on_snapshot)
        original = k.advance

        def advance(seconds: float, step: float = 1.0) -> None:
            original(seconds, step)
            car.save(k)

        k.advance = advance  # type: ignore[method-assign]

        def idle() -> None:
            # A serial link that drops after a result leaves the driver waiting out T4 for the
            # completion: the runtime is busy, not stuck.
            assert k.station.runtime.wait_idle(T4_WAIT_S), "the runtime did not settle"

        k.idle = idle  # type: ignore[method-assign]

    def zvt(config: Any) -> Any:
        timeouts = dataclasses.replace(config.timeouts, t4=T4_S)
        return dataclasses.replace(config, port=job["terminal_address"], timeouts=timeouts)

    access = BackendAccess(job["backend_url"], job["backend_token"])
    with kiosk(
        workdir / "kiosk",
        access,
        hold=scenario.hold_minor,
        tariff_obj=scenario.tariff,
        clock=clock,
        before_start=prepare,
        zvt=zvt,
    ) as k:
        k.advance(2)
        if job["mode"] == "run":
            act(k, scenario, screen, terminal)
        settled = drain(k, screen)
        car.save(k)
    print(json.dumps({**dataclasses.asdict(switch.points), "settled": settled}))
    return 0


def run_job(job_path: str, out: str, err: str) -> None:
    """The entry of a process forked by the drill's launcher: stdout and stderr go to files."""
    import faulthandler
    import os

    for fd, name in ((1, out), (2, err)):
        target = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    faulthandler.enable(sys.stderr)  # a crash in C code leaves its Python stack, not silence
    code = main(job_path)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
