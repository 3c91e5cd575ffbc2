"""The service menu's functions on a running station: recent sessions from the journal, and the
card terminal's status, end of day, open holds and card-present refunds, each run on the
terminal's owner thread."""

from __future__ import annotations

import threading
from collections.abc import Callable

from kiosk.devices import CardTerminal
from kiosk.journal.store import Journal
from kiosk.money import Money
from kiosk.runtime import card_refund
from kiosk.runtime.core import Runtime


class StationService:
    """The service menu's functions; terminal calls run on the terminal's owner thread."""

    def __init__(self, runtime: Runtime, journal: Journal, terminal: CardTerminal | None) -> None:
        self._runtime = runtime
        self._journal = journal
        self._terminal = terminal

    def recent_sessions(self, limit: int) -> list[str]:
        rows = self._journal.query(
            "SELECT session_id, connector_id, created_at, phase, hold_minor, currency, closed_at"
            " FROM sessions ORDER BY created_at DESC LIMIT ?",
            (limit,),
        )
        return [
            f"{sid}  connector {cid}  {created}  {phase}  hold {hold} {cur} (minor)"
            f"  {'closed ' + closed if closed else 'open'}"
            for sid, cid, created, phase, hold, cur, closed in rows
        ]

    def _on_terminal(
        self,
        call: Callable[[CardTerminal], object],
        timeout: float = 60,
        show: Callable[[object], str] = repr,
    ) -> str:
        """`call` on the terminal's owner thread, its answer as `show` writes it (or why not)."""
        terminal = self._terminal
        if terminal is None:
            return "no card terminal configured"
        done = threading.Event()
        answer: list[str] = []

        def job() -> None:
            try:
                answer.append(show(call(terminal)))
            except Exception as exc:  # shown to the installer
                answer.append(f"failed: {exc}")
            done.set()

        self._runtime.call(job, "terminal")
        if not done.wait(timeout):
            return "the terminal did not answer in time"
        return answer[0]

    def terminal_status(self) -> str:
        return self._on_terminal(lambda t: t.status())

    def end_of_day(self, timeout: float = 120) -> str:
        """The same journaled run as the schedule's: orphan holds reversed first, the batch
        closed only when no card hold is open, totals compared and reported to the backend."""
        if self._terminal is None:
            return "no card terminal configured"
        self._runtime.run_end_of_day()
        done = threading.Event()
        self._runtime.call(done.set, "terminal")  # the owner runs its jobs in order
        if not done.wait(timeout):
            return "the terminal did not answer in time"
        return self._runtime.reporting.eod_mismatch or (
            "end of day done: the terminal's totals agree with the journal"
        )

    def open_preauths(self) -> str:
        """The holds the terminal itself still has open (receipt numbers and amounts only)."""
        return self._on_terminal(lambda t: t.open_preauths())

    def card_refund(self, session_id: str, amount: str, timeout: float = 180) -> str:
        """Pay part or all of a card session's booking back to the card presented at the
        terminal (ZVT 06 31), journaled and reported like every money command."""
        if self._terminal is None:
            return "no card terminal configured"
        sid = session_id.strip()
        try:
            left, currency = card_refund.refundable(self._journal, sid)
            money = Money.of(amount.strip().replace(",", "."), currency, "amount")
            if not money.is_rounded():
                raise ValueError(f"amount: {amount!r} has more decimals than {currency} has")
            if not 0 < money.to_minor() <= left:
                left_text = Money.from_minor(left, currency).amount
                raise ValueError(f"amount: at most {left_text} {currency} is left to refund")
        except ValueError as exc:
            return f"refused: {exc}"

        def refund(terminal: CardTerminal) -> str:
            result = card_refund.run_card_refund(self._journal, terminal, sid, money.to_minor())
            self._runtime.reporting.report_card_refunds()
            return (
                f"refund {result.outcome.value}: {money.amount} {currency}"
                f" (receipt {result.receipt_no})"
            )

        return self._on_terminal(refund, timeout, show=str)
