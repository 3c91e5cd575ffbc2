"""A kiosk process for the card-refund crash drill: `zvt_refund_kill_station.py DIR TERMINAL MODE
[KILL_AT]`, on the station of `zvt_kill_station.py` (real ZVT to a terminal simulator in its
own process; pymodbus meter and controller). TERMINAL is the simulator's address: tcp://… or
the slave of its pty (serial framing).

MODE "book" charges one card session and books it (06 24); its id goes to DIR/session.txt.
MODE "refund" starts on that state and refunds AMOUNT of the session from the terminal's owner
thread, as the service menu does. While the refund runs, every journal commit and every ZVT
message the kiosk sends ("send", "sent") or receives ("received") is a numbered point; with
KILL_AT = n the process SIGKILLs itself at point n. MODE "recover" starts on the same state
(recovery runs) and waits until the terminal's owner has run the start-up jobs. Prints JSON:
the number of points seen and the journal's commit count.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from drivers.station import assemble_station
from drivers.zvt.codec.apdu import Apdu
from drivers.zvt.config import ZvtConfig
from kiosk.config import load_config
from kiosk.runtime import card_refund
from kiosk.runtime.clock import FakeClock
from kiosk.session.names import Phase
from tests.e2e.drill_station import close_all, nothing_open
from tests.e2e.rig import Kiosk, tariff
from tests.e2e.zvt_kill_station import START, STATION_TOML, run

AMOUNT = 10  # minor units: less than the drill session books (18)


def _settled(k: Kiosk) -> bool:
    return nothing_open(k) and not k.station.runtime.orphan_sweep_pending


def main() -> int:
    state, terminal, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    kill_at = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] else 0
    state.mkdir(parents=True, exist_ok=True)
    (state / "tariff.json").write_text(json.dumps(tariff("0.50")))
    (state / "station.toml").write_text(STATION_TOML.format(terminal=terminal))
    clock_file = state / "clock.txt"
    clock = FakeClock(
        datetime.fromisoformat(clock_file.read_text()) if clock_file.exists() else START
    )

    def zvt(config: ZvtConfig) -> ZvtConfig:
        return replace(config, settle_mode="book_total")

    station = assemble_station(
        load_config(state / "station.toml"), simulate=False, state_dir=state, clock=clock, zvt=zvt
    )
    journal = station.runtime.journal
    refunding = threading.Event()
    points = [0]

    def point() -> None:
        if refunding.is_set():
            points[0] += 1
            if points[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    def on_message(when: str, _apdu: Apdu) -> None:
        point()

    journal.after_commit = point
    assert station.terminal is not None
    station.terminal.message_hook = on_message  # type: ignore[attr-defined]
    k = Kiosk(station, clock)
    station.start()
    k.idle()
    out: dict[str, object] = {}
    try:
        k.advance(2)
        if mode == "book":
            run(k, "book", state)
        elif mode == "refund":
            sid = (state / "session.txt").read_text()
            done = threading.Event()

            def job() -> None:
                refunding.set()
                try:
                    result = card_refund.run_card_refund(
                        journal,
                        station.terminal,
                        sid,
                        AMOUNT,  # type: ignore[arg-type]
                    )
                    station.runtime.reporting.report_card_refunds()
                    out["outcome"] = result.outcome.value
                except Exception as exc:  # shown in the drill's failure
                    out["error"] = repr(exc)
                finally:
                    refunding.clear()
                    done.set()

            station.runtime.call(job, "terminal")
            assert done.wait(120), "the refund did not end"
        else:
            # Until nothing is open and the terminal has answered a sweep: a terminal still busy
            # with the dead run's exchange (serial) leaves the refund open until the sweep's retry.
            close_all(
                k,
                rounds=60,
                leave=(Phase.RECEIPT, Phase.FAILED),
                stop_charging=False,
                done=_settled,
            )
            done = threading.Event()
            station.runtime.call(done.set, "terminal")  # after recovery's sweep and reports
            assert done.wait(120), "the terminal's owner did not run its start-up jobs"
        clock_file.write_text(clock.now().isoformat())
        out.update(points=points[0], commits=journal.commits)
    finally:
        station.stop()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
