"""The headless runtime with real threads, a real journal file and file-backed devices."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from doubles.rig import Rig, tariff_cost

from kiosk.devices import LinkStatus
from kiosk.runtime import publish
from kiosk.snapshot import (
    BackToStart,
    Cancel,
    ChooseConnector,
    ConfirmPrice,
    ConnectorStatus,
    MoneyOutcome,
    PayByCard,
    PayByQr,
    Phase,
    StationSnapshot,
    StopCharging,
)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path).start()
    yield r
    r.stop()


def pay_by_card(rig: Rig) -> str:
    rig.send(ChooseConnector("1"))
    focus = rig.snap.focus
    assert focus is not None and focus.phase is Phase.PRICE_SHOWN
    sid = focus.session_id
    rig.send(ConfirmPrice(sid))
    rig.send(PayByCard(sid))
    return sid


def test_card_session_books_the_tariff_cost_of_the_journaled_readings(rig: Rig) -> None:
    rig.advance(2)
    assert rig.snap.connectors[0].status is ConnectorStatus.AVAILABLE
    sid = pay_by_card(rig)
    assert rig.snap.phase is Phase.WAITING_FOR_PLUG
    rig.plants["1"].set(plugged=True)
    rig.advance(3)
    assert rig.snap.phase is Phase.CHARGING
    rig.advance(120, step=5)
    live = rig.snap.focus.live if rig.snap.focus else None
    assert live is not None and live.energy_wh > 0 and live.cost.minor > 0
    rig.send(StopCharging(sid))
    rig.advance(3)
    focus = rig.snap.focus
    assert focus is not None and focus.phase is Phase.RECEIPT, focus
    receipt = focus.receipt
    assert receipt is not None and receipt.money is MoneyOutcome.CHARGED
    assert receipt.masked_pan == "541333******1234"
    assert receipt.net.minor + sum(v.vat.minor for v in receipt.vat_lines) == receipt.total.minor

    hold = rig.terminal.holds()[str(receipt.receipt_no)]
    assert hold["status"] == "booked" and hold["ops"] == ["preauth", f"settle:{hold['booked']}"]
    readings = rig.journal.readings(sid)
    assert (
        hold["booked"]
        == receipt.total.minor
        == tariff_cost(rig.journal.query("SELECT tariff_json FROM sessions")[0][0], readings)
    )
    assert len(rig.journal.outbox_pending()) == 1
    assert rig.plants["1"].get()["enabled"] is False
    rig.send(BackToStart(sid))
    assert rig.snap.phase is Phase.IDLE


def test_qr_session_reports_the_final_amount_for_capture(rig: Rig) -> None:
    rig.advance(2)
    rig.plants["1"].set(plugged=True)
    rig.advance(1)
    assert rig.snap.connectors[0].status is ConnectorStatus.OCCUPIED
    rig.send(ChooseConnector("1"))
    sid = rig.snap.focus.session_id if rig.snap.focus else ""
    rig.send(ConfirmPrice(sid))
    rig.send(PayByQr(sid))
    focus = rig.snap.focus
    assert focus is not None and focus.payment_link is not None
    assert focus.phase is Phase.PAYING_QR
    rig.backend.pay("L1")
    rig.advance(3)
    assert rig.snap.phase is Phase.CHARGING
    rig.advance(60, step=5)
    rig.send(StopCharging(sid))
    rig.advance(3)
    focus = rig.snap.focus
    assert focus is not None and focus.phase is Phase.RECEIPT
    assert focus.receipt is not None and focus.receipt.money is MoneyOutcome.CHARGE_PENDING
    (record,) = rig.journal.outbox_pending()
    assert record.idempotency_key == f"session:{sid}"
    assert f'"final_minor":{focus.receipt.total.minor}' in record.payload_json
    assert rig.terminal.holds() == {}


def test_declined_card_shows_the_reason_and_takes_nothing(rig: Rig) -> None:
    from kiosk.devices import PaymentOutcome

    rig.terminal.script(PaymentOutcome.DECLINED)
    rig.advance(2)
    pay_by_card(rig)
    focus = rig.snap.focus
    assert focus is not None and focus.phase is Phase.FAILED
    assert focus.failure is not None and focus.failure.money is MoneyOutcome.NONE_TAKEN
    assert "declined" in focus.failure.message
    assert rig.journal.outbox_pending() == []


def test_unplug_while_charging_stops_and_settles(rig: Rig) -> None:
    rig.advance(2)
    rig.plants["1"].set(plugged=True)
    rig.advance(1)
    pay_by_card(rig)
    rig.advance(30, step=5)
    rig.plants["1"].set(plugged=False)
    rig.advance(5)
    focus = rig.snap.focus
    assert focus is not None and focus.phase is Phase.RECEIPT
    assert focus.stop_reason is not None and focus.stop_reason.value == "vehicle"


def test_link_expiry_and_backend_states(rig: Rig) -> None:
    rig.advance(2)
    rig.send(ChooseConnector("1"))
    sid = rig.snap.focus.session_id if rig.snap.focus else ""
    rig.send(ConfirmPrice(sid))
    rig.send(PayByQr(sid))
    rig.backend.pay("L1", LinkStatus.EXPIRED)
    rig.advance(2)
    focus = rig.snap.focus
    assert focus is not None and focus.failure is not None
    assert focus.failure.reason.value == "link_expired"


def test_snapshots_are_immutable_and_numbered(rig: Rig) -> None:
    rig.advance(3)
    seqs = [s.seq for s in rig.snapshots]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    with pytest.raises(AttributeError):
        rig.snap.phase = Phase.CHARGING  # type: ignore[misc]


def test_doubles_implement_the_device_protocols(rig: Rig) -> None:
    from kiosk.devices import Backend, CardTerminal, ChargeController, EnergyMeter

    devices = rig.rt.devices
    assert isinstance(devices.terminal, CardTerminal)
    assert isinstance(devices.backend, Backend)
    assert all(isinstance(m, EnergyMeter) for m in devices.meters.values())
    assert all(isinstance(c, ChargeController) for c in devices.controllers.values())


def test_cancel_while_the_terminal_waits_for_a_card_aborts_it(rig: Rig) -> None:
    rig.advance(2)
    rig.send(ChooseConnector("1"))
    focus = rig.snap.focus
    assert focus is not None
    sid = focus.session_id
    rig.send(ConfirmPrice(sid))
    rig.terminal.fault("wait_for_abort")
    rig.rt.send(PayByCard(sid))  # the terminal now blocks until it is aborted
    rig.rt.send(Cancel(sid))
    rig.idle()
    focus = rig.snap.focus
    assert focus is not None and focus.phase is Phase.FAILED
    assert focus.failure is not None and focus.failure.reason.value == "cancelled_by_driver"
    assert rig.terminal.holds() == {}


def test_an_idle_stations_meter_polls_build_no_snapshot(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig.advance(3)  # the devices answer: tiles available
    built: list[object] = []
    real = publish.build_snapshot

    def counted(**kwargs: object) -> StationSnapshot:
        built.append(kwargs)
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(publish, "build_snapshot", counted)
    first = rig.rt.station.live_of("1").reading
    rig.advance(10)  # 10 s of 1 Hz polls: each reading kept, none shown
    reading = rig.rt.station.live_of("1").reading
    assert first is not None and reading is not None
    assert reading.measured_at > first.measured_at  # a session starting now reads this
    assert built == []
    rig.plants["1"].set(plugged=True)  # a change a screen shows is built and published
    rig.advance(2)
    assert built
    assert rig.snap.connectors[0].status is ConnectorStatus.OCCUPIED


def test_an_idle_station_publishes_only_what_changes(rig: Rig) -> None:
    rig.advance(3)  # the devices answer: tiles available
    assert rig.snap.connectors[0].status is ConnectorStatus.AVAILABLE
    published = len(rig.snapshots)
    rig.advance(30)  # 30 s of 1 Hz meter and controller polls that change nothing shown
    assert len(rig.snapshots) == published
    rig.plants["1"].set(plugged=True)  # a change a screen shows is published
    rig.advance(2)
    assert len(rig.snapshots) > published
    assert rig.snap.connectors[0].status is ConnectorStatus.OCCUPIED
