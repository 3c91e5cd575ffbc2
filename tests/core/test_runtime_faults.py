"""The runtime under money pressure and broken parts: the cost cap, a journal that cannot be
written, devices that stop answering."""

from __future__ import annotations

from pathlib import Path

from doubles.rig import Rig, energy_tariff, tariff_cost

from kiosk.session.model import Policy
from kiosk.snapshot import BackToStart, ChooseConnector, ConfirmPrice, PayByCard, Phase, StopReason


def pay_and_plug(rig: Rig) -> str:
    rig.advance(2)
    rig.plants["1"].set(plugged=True)
    rig.advance(1)
    rig.send(ChooseConnector("1"))
    focus = rig.snap.focus
    assert focus is not None
    sid = focus.session_id
    rig.send(ConfirmPrice(sid))
    rig.send(PayByCard(sid))
    return sid


def test_cost_cap_stops_an_expensive_session_before_the_hold_is_used_up(tmp_path: Path) -> None:
    # 5.95 EUR/kWh gross at 22 kW against a 5.00 EUR hold: about 2 cents per meter poll.
    rig = Rig(tmp_path, tariff=energy_tariff("5.00"), hold_minor=500, power_w=22000.0).start()
    sid = pay_and_plug(rig)
    costs = []
    for _ in range(600):
        rig.advance(1)
        focus = rig.snap.focus
        if focus is None or focus.phase is not Phase.CHARGING:
            break
        assert focus.live is not None
        costs.append(focus.live.cost.minor)
    rig.advance(5)
    focus = rig.snap.focus
    assert focus is not None and focus.phase is Phase.RECEIPT
    assert focus.stop_reason is StopReason.COST_CAP
    cap = Policy().cap_minor(500)
    assert max(costs) < cap <= costs[-1] + 10  # it ran right up to the cap, not further
    (receipt_no,) = rig.journal.query("SELECT receipt_no FROM authorisations")[0]
    hold = rig.terminal.holds()[str(receipt_no)]
    (tariff,) = rig.journal.query("SELECT tariff_json FROM sessions")[0]
    assert hold["booked"] == tariff_cost(tariff, rig.journal.readings(sid))
    assert cap <= hold["booked"] < 500  # stopped before the hold, with the meter-lag margin
    assert rig.plants["1"].get()["enabled"] is False
    rig.stop()


def test_journal_that_cannot_be_written_stops_charging_and_says_so(tmp_path: Path) -> None:
    rig = Rig(tmp_path).start()
    sid = pay_and_plug(rig)
    rig.advance(10)
    assert rig.snap.phase is Phase.CHARGING
    pages = rig.journal.query("PRAGMA page_count")[0][0]
    rig.journal.query(f"PRAGMA max_page_count = {pages}")  # the disk is full from now on
    for _ in range(600):  # readings fill the last free page within minutes
        rig.advance(2)
        if rig.rt.fault is not None:
            break
    assert rig.rt.fault is not None and "disk full" in rig.rt.fault
    assert rig.snap.notice is not None and "Out of order" in rig.snap.notice
    assert rig.plants["1"].get()["enabled"] is False  # no energy without a record
    rig.journal.query("PRAGMA max_page_count = 1000000")  # space again: still no new session
    rig.send(BackToStart(sid))
    rig.send(ChooseConnector("1"))
    focus = rig.snap.focus
    assert focus is None or focus.session_id == sid
    assert rig.journal.query("SELECT count(*) FROM sessions") == [(1,)]
    rig.stop()
    # Everything written before the disk filled up is intact; recovery finishes the session.
    again = Rig(tmp_path, clock=rig.clock).start()
    again.advance(30, step=5)
    assert again.journal.query("SELECT state_json FROM sessions WHERE session_id = ?", (sid,))
    assert again.journal.open_sessions() == []
    (receipt_no,) = again.journal.query("SELECT receipt_no FROM authorisations")[0]
    hold = again.terminal.holds()[str(receipt_no)]
    (tariff,) = again.journal.query("SELECT tariff_json FROM sessions")[0]
    assert hold["booked"] == tariff_cost(tariff, again.journal.readings(sid))
    again.stop()


def test_meter_that_stops_answering_ends_the_session_billed_to_the_last_reading(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path).start()
    sid = pay_and_plug(rig)
    rig.advance(30, step=5)
    rig.plants["1"].set(meter_fault=True)
    rig.advance(10)
    focus = rig.snap.focus
    assert focus is not None and focus.phase is Phase.RECEIPT
    assert focus.stop_reason is StopReason.METER_FAULT
    (receipt_no,) = rig.journal.query("SELECT receipt_no FROM authorisations")[0]
    hold = rig.terminal.holds()[str(receipt_no)]
    (tariff,) = rig.journal.query("SELECT tariff_json FROM sessions")[0]
    assert hold["booked"] == tariff_cost(tariff, rig.journal.readings(sid)) > 0
    rig.stop()


def test_controller_that_goes_silent_marks_the_connector_unavailable(tmp_path: Path) -> None:
    rig = Rig(tmp_path).start()
    rig.advance(2)
    rig.plants["1"].set(controller_fault="no answer")
    rig.advance(2)
    tile = rig.snap.connectors[0]
    assert tile.status.value == "unavailable" and tile.status_reason
    rig.send(ChooseConnector("1"))
    assert rig.snap.focus is None  # nobody can start a session here
    rig.stop()
