"""Helpers for the signing-meter end-to-end tests: a headless kiosk whose connector has an
EM580 signing simulator, a card or QR session up to Stop, and where the record ended up."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from drivers.modbus_sim.signing import SimulatedSigningMeter
from drivers.station import BackendAccess, assemble_station
from kiosk.config import load_config
from kiosk.journal.codec import loads
from kiosk.outbox.backoff import Backoff
from kiosk.runtime.clock import FakeClock
from kiosk.session.model import Session
from kiosk.session.names import Phase
from kiosk.snapshot import (
    ChooseConnector,
    ConfirmPrice,
    PayByCard,
    PayByQr,
    StopCharging,
)
from tests.e2e.rig import STATION_ID, STATION_TOML, BackendProcess, Kiosk, now_utc, tariff

EVSE = "DE*EVK*E0001*1"
SIGNING_METER = f'model = "em580"\nsigning = "em580"\nevse_id = "{EVSE}"'


@contextmanager
def signed_kiosk(
    workdir: Path,
    backend: BackendAccess,
    clock: FakeClock | None = None,
    hold: int = 5000,
    prices: dict[str, Any] | None = None,
) -> Iterator[Kiosk]:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "tariff.json").write_text(json.dumps(prices or tariff()))
    toml = STATION_TOML.format(hold=hold, station=STATION_ID, timeout=60.0)
    toml = toml.replace('model = "sdm630"', SIGNING_METER)
    (workdir / "station.toml").write_text(toml)
    config = load_config(workdir / "station.toml")
    clock = clock or FakeClock(now_utc())
    station = assemble_station(
        config,
        simulate=True,
        state_dir=workdir / "state",
        clock=clock,
        backend=backend,
        outbox_backoff=Backoff(timedelta(seconds=5), timedelta(minutes=30)),
    )
    k = Kiosk(station, clock)
    station.start()
    k.idle()
    try:
        yield k
    finally:
        station.stop()


def meter(k: Kiosk) -> SimulatedSigningMeter:
    sim = k.station.sims["1"].meter
    assert isinstance(sim, SimulatedSigningMeter)
    return sim


def pay_link(k: Kiosk) -> None:
    focus = k.snap.focus
    assert focus is not None and focus.payment_link is not None
    form = {"card_number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123"}
    httpx.post(focus.payment_link.url, data=form, timeout=30)
    for _ in range(30):  # the long-poll answers as soon as the backend knows
        k.advance(1)
        if k.snap.focus is not None and k.snap.focus.phase is Phase.CHARGING:
            return


def charge_to_stop(k: Kiosk, seconds: int = 600, *, qr: bool = False) -> str:
    k.station.sims["1"].plug_in(soc=0.3)
    k.advance(2)
    k.send(ChooseConnector("1"))
    sid = k.focus_id()
    k.send(ConfirmPrice(sid))
    if qr:
        k.send(PayByQr(sid))
        k.advance(1)
        pay_link(k)
    else:
        k.send(PayByCard(sid))
    k.advance(seconds, step=10)
    assert k.snap.focus is not None and k.snap.focus.phase is Phase.CHARGING
    k.send(StopCharging(sid))
    return sid


def delivered(k: Kiosk) -> None:
    """The kiosk's time passes until its outbox is empty. The backend captures a QR hold in
    real time (and slowly on a loaded machine): until it has, a repeat is answered 503."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        k.advance(5)
        if k.snap.reporting is not None and k.snap.reporting.outbox_queued == 0:
            return
        time.sleep(0.2)  # real time for the backend's capture; the kiosk's clock is fake
    raise AssertionError(f"the report was not delivered: {k.snap.reporting}")


def session_state(k: Kiosk, sid: str) -> Session:
    (row,) = k.station.runtime.journal.query(
        "SELECT state_json FROM sessions WHERE session_id = ?", (sid,)
    )
    return loads(Session, row[0])


def backend_records(backend: BackendProcess, sid: str) -> list[sqlite3.Row]:
    with sqlite3.connect(backend.db.removeprefix("sqlite:///")) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(
            "SELECT o.* FROM ocmf_records o JOIN sessions s ON s.pk = o.session_pk "
            "WHERE s.session_id = ?",
            (sid,),
        ).fetchall()


def independently_verified(text: str, public_key: str) -> None:
    """pyocmf, a verifier that is not the kiosk's, in its strict mode."""
    from pyocmf import OCMF

    checked = OCMF.from_string(text, strict=True)
    assert checked.verify_signature(public_key)
    assert checked.check_eichrecht(errors_only=True) == []


def ocmf_rows(k: Kiosk, sid: str) -> list[tuple[Any, ...]]:
    return k.station.runtime.journal.query(
        "SELECT record, public_key, signed, energy_wh, flags_json, closed_at FROM ocmf_records "
        "WHERE session_id = ?",
        (sid,),
    )
