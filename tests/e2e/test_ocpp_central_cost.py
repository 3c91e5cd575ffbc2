"""OCPP 2.0.1 central cost (I02/I03, I01 text) against the independent CSMS in strict mode: the
CSMS's running totalCost and its text (TransactionEvent answers, CostUpdated, SetDisplayMessage
for the transaction) are shown on the charging screen as the operator's figure; the cost the
driver pays, and books, stays the station's own."""

from __future__ import annotations

import time
from pathlib import Path

from drivers.station import BackendAccess
from kiosk.session.names import Phase
from kiosk.snapshot import Amount, ChooseConnector, ConfirmPrice, PayByCard, StopCharging
from tests.e2e.ocpp_rig import ocpp_kiosk
from tests.e2e.rig import Kiosk
from tests.ocpp.peer import Csms, require_peer

TEXT = "Operator tariff: 0.39 EUR/kWh"
DISPLAY = "Tariff: 0.39 EUR/kWh, no parking fee"
SCRIPT = [
    ("@wait", {"action": "TransactionEvent", "count": 2}),
    ("CostUpdated", {"totalCost": 4.56, "transactionId": "$transactionId"}),
    (
        "SetDisplayMessage",
        {
            "message": {
                "id": 1,
                "priority": "InFront",
                "message": {"format": "UTF8", "content": DISPLAY},
                "transactionId": "$transactionId",
            }
        },
    ),
    (
        "SetDisplayMessage",
        {
            "message": {
                "id": 2,
                "priority": "InFront",
                "message": {"format": "UTF8", "content": "x"},
            }
        },
    ),
]


def _until(k: Kiosk, done: object, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the station never showed it"
        k.idle()
        time.sleep(0.02)


def test_the_operators_running_cost_and_text_are_shown_as_theirs(
    backend: object, access: BackendAccess, workdir: Path, tmp_path: Path
) -> None:
    require_peer()
    answer = {"totalCost": 1.23, "updatedPersonalMessage": {"format": "UTF8", "content": TEXT}}
    csms = Csms(
        tmp_path / "csms.jsonl", protocols=("ocpp2.0.1",), after_boot=SCRIPT, tx_answer=answer
    ).start()
    try:
        with ocpp_kiosk(workdir, access, csms.url, hold=5000, versions=("2.0.1",)) as (k, link):
            csms.wait_for(lambda: link.accepted)
            k.station.sims["1"].plug_in(soc=0.3)
            k.advance(2)
            k.send(ChooseConnector("1"))
            sid = k.focus_id()
            k.send(ConfirmPrice(sid))
            k.send(PayByCard(sid))
            k.advance(20, step=10)  # Started and charging: the CSMS's script runs

            def shown() -> tuple[Amount | None, str | None]:
                focus = k.snap.focus
                figure = None if focus is None else focus.operator
                return (None, None) if figure is None else (figure.total, figure.text)

            csms.wait_for(lambda: len(csms.results()) == 3)
            _until(k, lambda: shown() == (Amount(456, "EUR"), DISPLAY))
            focus = k.snap.focus
            assert focus is not None and focus.phase is Phase.CHARGING and focus.live is not None
            own = focus.live.cost
            k.advance(60, step=10)  # a periodic event: its answer's figure and text again
            _until(k, lambda: shown() == (Amount(123, "EUR"), TEXT))
            k.send(StopCharging(sid))
            k.advance(5)
            focus = k.snap.focus
            assert focus is not None and focus.receipt is not None
            booked = focus.receipt.total
            link_view = k.snap.csms
            assert link_view is not None and link_view.version == "2.0.1"
    finally:
        csms.stop()
    assert csms.errors() == [], "the CSMS refused a message in strict mode"
    results = [r["result"] for r in csms.results()]
    assert results[1] == {"status": "Accepted"}  # for the running transaction
    assert results[2] == {"status": "Rejected"}  # station-wide messages are not shown
    assert own.minor != 456 and booked.minor != 123  # the driver pays the station's cost
