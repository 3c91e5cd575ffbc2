"""The terminal's end-of-day totals against the journal's bookings, per card brand.

The journal's side is every approved booking (a settle above zero) since the last approved
end-of-day, one per session, less every card refund (06 31) since then: as the terminal does,
a refund counts as a transaction of the brand of the card it went to and its amount is
subtracted from that brand's total. A brand the terminal lists no slot for is counted in its
"others" slot; a terminal that gives no per-brand breakdown is compared on its total. A
difference is named brand by brand, for the service menu and the backend.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.devices import BrandTotal, EndOfDayTotals
from kiosk.journal.store import Journal

ALL_BRANDS = "*"
OTHERS = "others"  # the slot terminals sum every brand into that they do not list


@dataclass(frozen=True, slots=True)
class BrandDifference:
    brand: str
    terminal: BrandTotal
    journal: BrandTotal


def journal_bookings(journal: Journal, after_result_id: int) -> tuple[list[BrandTotal], int]:
    """Bookings less refunds per brand in card results after `after_result_id`, and the last id
    seen. A result the terminal dropped (never acknowledged, not kept) is no booking/refund."""
    rows = journal.query(
        "SELECT COALESCE(NULLIF(c.card_brand, ''), a.card_brand, '?'), COUNT(*), "
        "SUM(CASE WHEN c.kind = 'refund' THEN -c.amount_minor ELSE c.amount_minor END) "
        "FROM card_results c LEFT JOIN authorisations a USING (session_id) "
        "WHERE c.id IN (SELECT MAX(id) FROM card_results WHERE kind = 'settle' "
        "  AND outcome = 'approved' AND amount_minor > 0 AND dropped_at IS NULL AND id > ? "
        "  GROUP BY session_id) "
        "OR (c.kind = 'refund' AND c.outcome = 'approved' AND c.dropped_at IS NULL AND c.id > ?) "
        "GROUP BY 1 ORDER BY 1",
        (after_result_id, after_result_id),
    )
    (last,) = journal.query("SELECT COALESCE(MAX(id), 0) FROM card_results")[0]
    return [BrandTotal(str(b), int(n), int(total)) for b, n, total in rows], int(last)


def compare(totals: EndOfDayTotals, booked: list[BrandTotal]) -> list[BrandDifference]:
    if not totals.brands:  # no breakdown from the terminal: compare the sums
        terminal = BrandTotal(ALL_BRANDS, sum(b.count for b in totals.brands), totals.total_minor)
        mine = BrandTotal(
            ALL_BRANDS, sum(b.count for b in booked), sum(b.amount_minor for b in booked)
        )
        if terminal.amount_minor != mine.amount_minor:
            return [BrandDifference(ALL_BRANDS, terminal, mine)]
        return []
    by_terminal = {b.brand.casefold(): b for b in totals.brands}
    by_journal: dict[str, BrandTotal] = {}
    for b in booked:
        key = b.brand.casefold()
        if key not in by_terminal and OTHERS in by_terminal:
            key = OTHERS  # a brand the terminal has no slot for counts in its "others"
        was = by_journal.get(
            key, BrandTotal(by_terminal[key].brand if key == OTHERS else b.brand, 0, 0)
        )
        by_journal[key] = BrandTotal(
            was.brand, was.count + b.count, was.amount_minor + b.amount_minor
        )
    out = []
    for key in sorted(by_terminal.keys() | by_journal.keys()):
        found = by_terminal.get(key) or by_journal[key]
        t = by_terminal.get(key, BrandTotal(found.brand, 0, 0))
        j = by_journal.get(key, BrandTotal(found.brand, 0, 0))
        if (t.count, t.amount_minor) != (j.count, j.amount_minor):
            out.append(BrandDifference(found.brand, t, j))
    return out
