"""Power cut (SIGKILL) after every journal commit of a QR session, against the real backend:
after the restart nothing is open, nothing is queued, every paid link is captured once for its
session or released, no session is stored twice, and the backend reconciles clean."""

from __future__ import annotations

import json
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.drill_station import SIMULATED_STATION_MODULES
from tests.e2e.rig import BackendProcess, now_utc
from tests.killdrill import Zygote

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # each step restarts the kiosk

SCRIPT = Path(__file__).parent / "qr_station.py"


@pytest.fixture(scope="module")
def kiosks() -> Iterator[Zygote]:
    """Kiosk processes forked from one that imported the kiosk once (tests/killdrill.py)."""
    with Zygote(SCRIPT, preload=SIMULATED_STATION_MODULES) as zygote:
        yield zygote


def station(
    kiosks: Zygote, workdir: Path, backend: BackendProcess, mode: str, kill: int
) -> subprocess.CompletedProcess[str]:
    """One kiosk process on `workdir`: a fresh process for every run."""
    return kiosks.run(workdir, backend.url, backend.token, mode, kill)


def test_power_cut_at_every_step_of_a_qr_session(
    kiosks: Zygote, backend: BackendProcess, tmp_path: Path
) -> None:
    clean = station(kiosks, tmp_path / "clean", backend, "run", 0)
    assert clean.returncode == 0, clean.stderr[-2000:]
    total = json.loads(clean.stdout)["commits"]
    assert total >= 10  # the drill must reach deep into the session
    killed = recovered = not_reached = 0
    for n in range(1, total + 1):
        workdir = tmp_path / f"kill-{n}"
        cut = station(kiosks, workdir, backend, "run", n)
        if cut.returncode == 0 and json.loads(cut.stdout)["commits"] < n:
            not_reached += 1  # this run ended before its n-th commit (the last one is timing's)
            continue
        assert cut.returncode == -signal.SIGKILL, (n, cut.stdout, cut.stderr[-2000:])
        killed += 1
        after = station(kiosks, workdir, backend, "recover", 0)
        assert after.returncode == 0, (n, after.stderr[-2000:])
        state = json.loads(after.stdout)
        statuses = backend.link_statuses()
        assert "authorized" not in statuses and "pending" not in statuses, (n, statuses)
        assert state["open"] == 0 and state["queued"] == 0 and state["parked"] == 0, (n, state)
        recovered += 1
    assert not_reached <= 1, not_reached  # every point but at most the very last was cut
    statuses = backend.link_statuses()
    assert "authorized" not in statuses and "pending" not in statuses  # no hold left behind
    ids = [s["session_id"] for s in backend.sessions()]
    assert len(ids) == len(set(ids))  # no session stored twice
    report = backend.reconciliation(now_utc())
    assert report["clean"] is True, [r["discrepancies"] for r in report["days"]]
    print(
        f"\ndrill power-cut-qr: commits={total} kills={killed} recovered={recovered}"
        f" not_reached={not_reached}"
        f" links={dict(Counter(statuses))} sessions_stored={len(ids)} duplicates=0"
        " open_after=0 reconciliation=clean"
    )
