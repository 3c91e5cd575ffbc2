"""The CSMS queue in the journal: written with the step or not at all, seqNo continuous per
transaction, amounts as the exact decimals they are, kept across a reopen until answered."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from kiosk.journal.csms_feed import CsmsCall, CsmsFeed, wire_json
from kiosk.journal.schema import MIGRATIONS
from kiosk.journal.store import Journal
from kiosk.session.commands import Command
from kiosk.session.events import Event, Tick
from kiosk.session.model import Policy, Station

AT = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
STATION = Station(policy=Policy(), connectors=())


class FixedFeed(CsmsFeed):
    """Queues the given calls for any step."""

    def __init__(self, calls: list[CsmsCall]) -> None:
        object.__setattr__(self, "fixed", calls)

    def calls(
        self,
        event: Event,
        before: Station,
        after: Station,
        commands: Sequence[Command],
        last_meter_at: Callable[[str], datetime | None],
    ) -> list[CsmsCall]:
        return list(self.fixed)  # type: ignore[attr-defined]


FixedFeed.__slots__ = ()  # type: ignore[misc]


def tx(kind: str, sid: str, **payload: object) -> CsmsCall:
    return CsmsCall("TransactionEvent", kind, sid, sid, dict(payload))


def queue(journal: Journal, calls: list[CsmsCall]) -> None:
    journal.csms_feed = FixedFeed(calls)
    with journal._tx() as conn:
        journal.queue_csms_calls(conn, Tick(AT), STATION, STATION, [])


def test_amounts_go_on_the_wire_as_the_exact_decimals_they_are() -> None:
    text = wire_json({"a": Decimal("12.30"), "b": [Decimal("0.10")], "c": Decimal("-0.005")})
    assert text == '{"a":12.30,"b":[0.10],"c":-0.005}'
    assert '"note":"12.30"' in wire_json({"note": "12.30"})  # text stays text
    # Text that looks like a marked number (an id a CSMS sent, say) stays text too.
    forged = wire_json({"idToken": "\x0012.30\x00", "cost": Decimal("1.0")})
    assert json.loads(forged) == {"idToken": "\x0012.30\x00", "cost": 1.0}
    assert forged.startswith('{"cost":1.0,')


def test_seq_numbers_are_continuous_per_transaction_and_kept_until_answered(
    tmp_path: Path,
) -> None:
    journal = Journal.open(tmp_path / "journal.db")
    assert journal.schema_version == len(MIGRATIONS)
    queue(journal, [tx("started", "s1", cost=Decimal("1.50")), tx("started", "s2")])
    queue(
        journal,
        [
            tx("periodic", "s1"),
            tx("ended", "s1"),
            CsmsCall(
                "NotifySettlement", "settled", "s1", "s1", {"settlementAmount": Decimal("3.10")}
            ),
        ],
    )
    rows = journal.csms_pending()
    assert [(r.transaction_id, r.seq_no) for r in rows] == [
        ("s1", 0),
        ("s2", 0),
        ("s1", 1),
        ("s1", 2),
        ("s1", None),
    ]
    assert '"cost":1.50' in rows[0].payload_json and '"seqNo":0' in rows[0].payload_json
    assert '"settlementAmount":3.10' in rows[4].payload_json
    journal.csms_failed(rows[0].id, "link down")
    journal.csms_sent(rows[1].id, {})
    journal.close()
    reopened = Journal.open(tmp_path / "journal.db")
    again = reopened.csms_pending()
    assert [r.id for r in again] == [rows[0].id, *[r.id for r in rows[2:]]]
    assert again[0].attempts == 1 and again[0].message_id == rows[0].message_id
    reopened.close()


def test_nothing_is_queued_when_the_step_is_not_written(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "journal.db")
    journal.csms_feed = FixedFeed([tx("started", "s1")])
    with pytest.raises(RuntimeError), journal._tx() as conn:
        journal.queue_csms_calls(conn, Tick(AT), STATION, STATION, [])
        raise RuntimeError("the step's own write failed")
    assert journal.csms_pending() == []
    journal.close()


def test_the_csms_receipt_address_is_read_from_its_settlement_answer(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "journal.db")
    queue(journal, [CsmsCall("NotifySettlement", "settled", "s1", "s1", {})])
    (row,) = journal.csms_pending()
    assert journal.csms_receipt_url("s1") is None
    journal.csms_sent(row.id, {"receiptUrl": "https://csms.example/r/1"})
    assert journal.csms_receipt_url("s1") == "https://csms.example/r/1"
    journal.close()
