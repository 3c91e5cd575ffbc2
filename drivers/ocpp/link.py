"""The station's link to the operator's CSMS (OCPP 2.1, 2.0.1 or 1.6J over a websocket).

One thread runs an asyncio loop: connect (basic auth, TLS with the configured CAs), boot,
report every connector's status, then send the journal's queue in id order, each row marked
sent only after the CSMS answered, a heartbeat at the interval the CSMS asked for. When the
link drops, it reconnects with exponential backoff and sends the unanswered row again with
the same message id and seqNo. The runtime hands it snapshots (connector states) and wakes it
after each step; the kiosk core never sees the websocket. What differs between the versions
(the CSMS picks one of the offered subprotocols) is in drivers/ocpp/dialect.py.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, WebSocketException
from websockets.typing import Subprotocol

from drivers.ocpp.dialect import SUBPROTOCOLS, Dialect, boot_payload, dialect_for
from drivers.ocpp.peer import CsmsRefused, LinkClosed, OperatorFigureSink, StationPeer
from drivers.ocpp.reset import ResetPlan
from drivers.ocpp.tariffs import CsmsTariffs
from drivers.ocpp.variables import DeviceModel
from drivers.ocpp.web_payments import WebPayments
from kiosk.config import OcppConfig
from kiosk.journal.csms_feed import CsmsFeed
from kiosk.journal.store import Journal, JournalError
from kiosk.snapshot import ConnectorStatus, CsmsLinkView, StationSnapshot

log = logging.getLogger(__name__)

__all__ = ["CsmsLink", "LinkTiming", "auth_headers", "boot_payload", "tls_context"]


@dataclass(frozen=True, slots=True)
class LinkTiming:
    backoff_first_s: float = 1.0
    backoff_max_s: float = 300.0
    response_timeout_s: float = 30.0
    open_timeout_s: float = 10.0
    poll_s: float = 1.0  # the queue is read at least this often, wakes or not


class CsmsLink:
    def __init__(
        self,
        config: OcppConfig,
        journal: Journal,
        *,
        timing: LinkTiming | None = None,
        firmware: str = "evkiosk",
        currency: str = "EUR",
        remote_stop: Callable[[str], bool] | None = None,
        on_change: Callable[[], None] | None = None,
        tariffs: CsmsTariffs | None = None,
        running: Callable[[str], str | None] | None = None,
        reset: ResetPlan | None = None,
    ) -> None:
        self.config = config
        self.reset = reset
        self.journal = journal
        self.timing = timing or LinkTiming()
        self.firmware = firmware
        self.on_change = on_change
        self.connected = False
        self.accepted = False
        self.last_error: str | None = None
        self._statuses: dict[int, tuple[ConnectorStatus, str]] = {}  # evse -> (status, at)
        self._sent_status: dict[int, str] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._thread_main, name="csms-link", daemon=True)
        self._ids = 0
        self._heartbeat_asked = False
        self.currency = currency
        self.remote_stop = remote_stop
        self.tariffs = tariffs
        self.running = running
        self.dialect = Dialect()  # the connection's version, once the CSMS chose one
        self.peer: StationPeer | None = None  # the connection's station end, while it is up
        self.on_variable: Callable[[str, str, str], None] | None = None  # a value the CSMS set
        self.operator: OperatorFigureSink | None = None  # the CSMS's running cost and text
        self.web_payments: WebPayments | None = None  # C25: QR code, CSMS-paid starts
        self.on_limit: Callable[[str, Decimal], None] | None = None  # a CSMS's maxCost
        self.on_status: Callable[[CsmsLinkView], None] | None = None  # the service menu's line
        self._journaled_state: tuple[bool, str | None, str | None] | None = None

    # ------------------------------------------------------------------ wiring (any thread)

    def attach(self, journal_feed_interval_s: int | None = None) -> CsmsFeed:
        """Make every machine step queue what the CSMS must hear (before the runtime starts)."""
        from datetime import timedelta  # noqa: PLC0415

        interval = journal_feed_interval_s or self.config.meter_interval_s
        feed = CsmsFeed(dict(self.config.evse_ids), timedelta(seconds=interval))
        self.journal.csms_feed = feed
        self.journal.csms_online = lambda: self.accepted
        return feed

    def snapshot(self, snap: StationSnapshot) -> None:
        """A runtime subscriber: connector states for StatusNotification; a step happened."""
        at = snap.published_at.astimezone(UTC).isoformat()
        with self._lock:
            for tile in snap.connectors:
                evse = self.config.evse_ids.get(tile.connector_id)
                if evse is not None:
                    known = self._statuses.get(evse)
                    if known is None or known[0] != tile.status:
                        self._statuses[evse] = (tile.status, at)
        self.wake()

    def wake(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(wake.set)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread.is_alive():
            self._thread.join(timeout)

    # ------------------------------------------------------------------ the link's thread

    def _thread_main(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        delay = self.timing.backoff_first_s
        while not self._stop.is_set():
            try:
                async with connect(
                    self.config.endpoint,
                    subprotocols=[Subprotocol(SUBPROTOCOLS[v]) for v in self.config.versions],
                    additional_headers=auth_headers(self.config),
                    ssl=tls_context(self.config),
                    open_timeout=self.timing.open_timeout_s,
                    ping_interval=60,
                ) as ws:
                    self._set(connected=True, error=None)
                    delay = self.timing.backoff_first_s
                    await self._session(ws)
            except (OSError, TimeoutError, WebSocketException, LinkClosed) as exc:
                reason = _why(exc)
                if self.connected or self.last_error != reason:
                    log.warning("csms: link down (%s); retrying in %.1f s", reason, delay)
                self._set(connected=False, error=reason)
            except CsmsRefused as exc:
                log.error("csms: refused %s; retrying in %.1f s", exc, delay)
                self._set(connected=False, error=str(exc))
            self.accepted = False
            if await self._sleep(delay):
                return
            delay = min(delay * 2, self.timing.backoff_max_s)

    async def _session(self, ws: Any) -> None:
        dialect = dialect_for(ws.subprotocol)
        if dialect is None:
            chosen = ws.subprotocol
            raise CsmsRefused("NotSupported", f"the CSMS chose {chosen!r}, which was not offered")
        self.dialect = dialect
        peer = dialect.peer_class(
            self.config.identity,
            ws,
            self.timing.response_timeout_s,
            model=DeviceModel(self.journal, self.currency, on_set=self.on_variable),
            trigger=self._trigger,
            remote_stop=self.remote_stop,
            tariffs=self.tariffs,
            running=self.running,
            reset=self.reset,
            operator=self.operator,
            web_payments=self.web_payments,
        )
        reader = peer.listen()
        self.peer = peer
        try:
            heartbeat_s = await self._boot(peer)
            self._set(accepted=True)
            with self._lock:
                self._sent_status.clear()
            next_heartbeat = asyncio.get_running_loop().time() + heartbeat_s
            while not self._stop_set():
                if reader.done():
                    raise LinkClosed("the CSMS closed the connection")
                await self._send_statuses(peer)
                await self._send_queue(peer)
                now = asyncio.get_running_loop().time()
                if now >= next_heartbeat or self._heartbeat_asked:
                    self._heartbeat_asked = False
                    await peer.call_dict("Heartbeat", {}, self._next_id())
                    next_heartbeat = now + heartbeat_s
                await self._wait_wake(min(self.timing.poll_s, max(0.0, next_heartbeat - now)))
        finally:
            self.peer = None
            reader.cancel()

    async def _boot(self, peer: StationPeer) -> float:
        try:
            reason = self.journal.csms_boot_reason() or "PowerUp"
        except JournalError as exc:
            log.error("csms: boot reason unreadable: %s", exc)
            reason = "PowerUp"
        while True:
            answer = await peer.call_dict(
                "BootNotification", self.dialect.boot(self.firmware, reason), self._next_id()
            )
            interval = max(1, int(answer.get("interval") or 300))
            if answer.get("status") == "Accepted":
                if reason != "PowerUp":
                    self._boot_accepted()
                log.info(
                    "csms: boot accepted (OCPP %s), heartbeat every %d s",
                    self.dialect.version,
                    interval,
                )
                return float(interval)
            log.warning("csms: boot %s; asking again in %d s", answer.get("status"), interval)
            if await self._sleep(interval):
                raise LinkClosed("stopping")

    async def _send_statuses(self, peer: StationPeer) -> None:
        name = self.dialect.status_name
        with self._lock:
            due = {
                evse: state
                for evse, state in self._statuses.items()
                if self._sent_status.get(evse) != name(state[0])
            }
        for evse, (status, at) in sorted(due.items()):
            payload = self.dialect.status(evse, status, at)
            await peer.call_dict("StatusNotification", payload, self._next_id())
            with self._lock:
                self._sent_status[evse] = name(status)

    async def _send_queue(self, peer: StationPeer) -> None:
        while True:
            try:
                rows = self.journal.csms_pending(limit=20)
            except JournalError as exc:
                log.error("csms: queue unreadable: %s", exc)
                return
            if not rows:
                self.report()
                return
            for row in rows:
                try:
                    answer = await self.dialect.send(peer, row, self.journal)
                except CsmsRefused as exc:
                    # The CSMS will answer this payload the same way every time: keep its
                    # answer with the row and go on, so one refusal does not stop the queue.
                    log.error("csms: %s %s refused: %s", row.action, row.message_id, exc)
                    answer = {"callError": exc.code, "description": exc.description}
                except (OSError, TimeoutError, WebSocketException, LinkClosed) as exc:
                    self._mark_failed(row.id, _why(exc))
                    raise
                self.journal.csms_sent(row.id, answer)
                if row.action == "TransactionEvent" and isinstance(answer, dict):
                    self._limit(row.transaction_id, answer)
                if row.action == "NotifySettlement" and self.on_change is not None:
                    self.on_change()  # a receipt address may have come with the answer

    def _trigger(self, requested: str) -> bool:
        """TriggerMessage: send it again at the next turn of the loop (on the loop's thread)."""
        if requested == "StatusNotification":
            with self._lock:
                self._sent_status.clear()
        elif requested == "Heartbeat":
            self._heartbeat_asked = True
        else:
            return False
        if self._wake is not None:
            self._wake.set()
        return True

    def _limit(self, transaction_id: str | None, answer: dict[str, Any]) -> None:
        """A transactionLimit.maxCost in the CSMS's answer (2.1), for the runtime to apply."""
        limit = answer.get("transactionLimit")
        if not isinstance(limit, dict) or limit.get("maxCost") is None:
            return
        if transaction_id is not None and self.on_limit is not None:
            self.on_limit(transaction_id, Decimal(str(limit["maxCost"])))

    def _boot_accepted(self) -> None:
        try:
            self.journal.csms_boot_accepted()
        except JournalError as exc:
            log.error("csms: %s", exc)

    def _mark_failed(self, row_id: int, reason: str) -> None:
        try:
            self.journal.csms_failed(row_id, reason)
        except JournalError as exc:
            log.error("csms: %s", exc)

    # ------------------------------------------------------------------ helpers

    def _set(
        self, *, connected: bool | None = None, accepted: bool | None = None, error: Any = ...
    ) -> None:
        if connected is not None:
            self.connected = connected
        if accepted is not None:
            self.accepted = accepted
        if error is not ...:
            self.last_error = error
        self.report()

    def report(self) -> None:
        """Tell the service menu (and, when it changed, the journal for `evkiosk status`)
        whether the CSMS accepted the station, the version, what waits and the last error."""
        version = self.dialect.version if self.accepted else None
        state = (self.accepted, version, self.last_error)
        try:
            queued = self.journal.csms_queued()
            if state != self._journaled_state:
                self.journal.csms_link_state(*state)
                self._journaled_state = state
        except JournalError as exc:
            log.error("csms: link state not recorded: %s", exc)
            return
        if self.on_status is not None:
            self.on_status(CsmsLinkView(self.accepted, version, queued, self.last_error))

    def _stop_set(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    async def _wait_wake(self, timeout: float) -> None:
        assert self._wake is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    async def _sleep(self, seconds: float) -> bool:
        """Wait, or return True at once when the link is stopping."""
        assert self._stop is not None
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except TimeoutError:
            return False
        return True

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop

    def next_id(self) -> str:
        return self._next_id()

    def _next_id(self) -> str:
        self._ids += 1
        return f"evk-{datetime.now(UTC).strftime('%H%M%S')}-{self._ids}"


def auth_headers(config: OcppConfig) -> dict[str, str]:
    """HTTP basic auth with the identity as user (security profiles 1 and 2)."""
    if config.password is None:
        return {}
    token = f"{config.identity}:{config.password}".encode()
    return {"Authorization": "Basic " + base64.b64encode(token).decode()}


def tls_context(config: OcppConfig) -> ssl.SSLContext | None:
    if not config.url.startswith("wss://"):
        return None
    context = ssl.create_default_context()
    if config.ca_bundle is not None:
        context.load_verify_locations(cafile=str(config.ca_bundle))
    return context


def _why(exc: BaseException) -> str:
    if isinstance(exc, InvalidHandshake):
        return f"handshake refused: {exc}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
