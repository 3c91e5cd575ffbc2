"""The headless runtime: one thread owns the state machine, one thread owns each device.

Device owners post events into one queue; the machine thread takes them in order, steps the
pure machine, journals the step (intents included) and only then hands the commands to the
device owners (`owners.py`, carried out by `execute.py`). Every change publishes a new
immutable snapshot to the subscribers (`publish.py`: the Qt bridge, tests, the CLI). If the
journal cannot be written, the step is dropped, no command is executed, charging is switched off
and the snapshot says why.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from datetime import time as TimeOfDay
from decimal import Decimal
from zoneinfo import ZoneInfo

from kiosk import recovery
from kiosk.devices import IecState
from kiosk.journal.csms_cost import PricedSoFar
from kiosk.journal.store import Journal, JournalError
from kiosk.money import minor_unit_exponent, round_amount
from kiosk.outbox.backoff import Backoff
from kiosk.runtime import card_refund
from kiosk.runtime.clock import Clock, FakeClock
from kiosk.runtime.costs import CostModel, CostTracker
from kiosk.runtime.devices import StationDevices
from kiosk.runtime.execute import Executor, ExecutorParts
from kiosk.runtime.orphan_retry import OrphanSweepRetry
from kiosk.runtime.owner import DeviceOwner
from kiosk.runtime.owners import DeviceOwners
from kiosk.runtime.prices import PriceBoard
from kiosk.runtime.publish import SnapshotPublisher, Subscriber, WebPayCode
from kiosk.runtime.reporting import Reporting, ReportingOptions
from kiosk.runtime.signed import SignedParts, SignedSessions
from kiosk.session import events as ev
from kiosk.session.commands import (
    AuthorizeAtCsms,
    BeginMetering,
    CloseSession,
    Command,
    DisableCharging,
)
from kiosk.session.machine import startable_remotely, step
from kiosk.session.model import Offer, Session, Station
from kiosk.session.names import Phase
from kiosk.snapshot import (
    Amount,
    ChooseConnector,
    CsmsLinkView,
    Intent,
    OperatorFigure,
    StationSnapshot,
)

log = logging.getLogger(__name__)


def _new_session_id() -> str:
    import uuid  # noqa: PLC0415 (with platform ~3 ms: at the first session, not at start)

    return uuid.uuid4().hex


_STOP = object()
_REPUBLISH = object()  # reporting changed: publish a snapshot with its new state
_METERING = frozenset({Phase.STARTING, Phase.CHARGING, Phase.STOPPING})


@dataclass(frozen=True, slots=True)
class _OfferChange:
    offers: dict[str, Offer]


@dataclass(frozen=True, slots=True)
class _CsmsAuthorizeChange:
    on: bool


class Runtime:
    def __init__(
        self,
        *,
        station: Station,
        offers: Mapping[str, Offer],
        journal: Journal,
        devices: StationDevices,
        clock: Clock,
        costs: CostModel,
        name: str = "",
        locales: tuple[str, ...] = ("en",),
        poll_period: timedelta = timedelta(seconds=1),
        tick_period: timedelta = timedelta(seconds=1),
        link_wait_s: float = 1.0,
        new_id: Callable[[], str] | None = None,
        outbox_backoff: Backoff | None = None,
        probe_period: timedelta = timedelta(seconds=30),
        deliver_reports: bool = True,
        end_of_day: TimeOfDay | None = None,
        zone: ZoneInfo | None = None,
        receipt_base_url: str | None = None,
        receipt_secret: str | None = None,
    ) -> None:
        self.station = station
        self.offers = dict(offers)
        self.journal = journal
        self.devices = devices
        self.clock = clock
        self.costs = costs
        self.name = name
        self.locales = locales
        self.fault: str | None = None
        self._tick_period = tick_period
        self._new_id = new_id or _new_session_id
        self._zone = zone or ZoneInfo("UTC")
        self.prices = PriceBoard(self.offers, self._zone)
        self._events: queue.Queue[object] = queue.Queue()
        self._trackers: dict[str, CostTracker] = {}
        self.orphan_retry = OrphanSweepRetry()
        # The CSMS's running cost and text per session (OCPP 2.0.1 central cost), for display.
        self.operator_figures: dict[str, OperatorFigure] = {}
        self.csms_link: CsmsLinkView | None = None  # the CSMS link's state, when there is one
        # Sends AuthorizeAtCsms to the operator's CSMS; its answer comes back as an event.
        self.csms_authorizer: Callable[[AuthorizeAtCsms], None] | None = None
        self.signed = SignedSessions(
            SignedParts(
                signing=devices.signing,
                journal=journal,
                now=clock.now,
                post=self.post,
                # the station value is replaced on every step: ask the one of the moment
                session=lambda session_id: self.station.session(session_id),  # noqa: PLW0108
                costs=costs,
                language=locales[0] if locales else "en",
            )
        )
        self._owners = DeviceOwners(
            devices,
            clock,
            post=self.post,
            note_backend=lambda online: self.note_backend(online=online),
            poll_period=poll_period,
            link_wait_s=link_wait_s,
            in_use=self._in_use,
        )
        self._executor = Executor(
            ExecutorParts(
                journal=journal,
                devices=devices,
                now=clock.now,
                post=self.post,
                owner_for=self._owners.owner_for,
                journal_done=self.journal_done,
                sweep_orphans=self.sweep_orphans,
                note_backend=lambda online: self.note_backend(online=online),
                watch_link=self._owners.watch_link,
                unwatch_link=self._owners.unwatch_link,
                wake_outbox=self._wake_outbox,
                signed_job=self.signed.job,
            )
        )
        self._machine = threading.Thread(target=self._run, name="machine", daemon=True)
        self._tick_cv = threading.Condition()
        self._stopping = False
        self._ticker = threading.Thread(target=self._tick_loop, name="ticker", daemon=True)
        self.reporting = Reporting(
            journal,
            devices.backend,
            devices.terminal,
            clock,
            ReportingOptions(
                outbox_backoff=outbox_backoff,
                probe_period=probe_period,
                deliver_reports=deliver_reports,
                end_of_day=end_of_day,
                zone=zone,
                receipt_base_url=receipt_base_url,
                receipt_secret=receipt_secret,
            ),
            republish=lambda: self._events.put(_REPUBLISH),
        )
        self.outbox = self.reporting.outbox
        self._publisher = SnapshotPublisher(
            name=name,
            locales=locales,
            clock=clock,
            journal=journal,
            devices=devices,
            reporting=self.reporting,
        )

    # ------------------------------------------------------------------ wiring

    def owner_for(self, command: Command) -> DeviceOwner | None:
        return self._owners.owner_for(command)

    def watch_link(self, session_id: str, link_id: str) -> None:
        self._owners.watch_link(session_id, link_id)

    def unwatch_link(self, link_id: str) -> None:
        self._owners.unwatch_link(link_id)

    def note_backend(self, *, online: bool) -> None:
        self.reporting.note_backend(online=online)

    def _check_end_of_day(self) -> None:
        if self.fault is None:
            day = self.reporting.end_of_day_due()
            if day is not None:
                self.run_end_of_day(day)

    def run_end_of_day(self, day: date | None = None) -> None:
        """Close the terminal's day (scheduled, or from the service menu) on its owner."""
        terminal = self.devices.terminal
        if terminal is not None:
            business_day = day or self.clock.now().date()
            job = self.reporting.end_of_day_job(terminal, business_day, self.sweep_orphans)
            self.call(job, "terminal")

    # ------------------------------------------------------------------ lifecycle

    def publish_starting(self) -> None:
        """Publish the station as it is before :meth:`start`: no session yet and every tile
        "connecting" (nothing is selectable before its controller answers), so a screen can
        show the idle page while recovery and the devices start."""
        self._publish()

    def start(self, recover: bool = True) -> None:
        if recover:
            self.resolve_refunds()  # first: Repeat Receipt must find the terminal's last result
            recovery.recover(self._recovery_parts())
        self._owners.start()
        self.reporting.start()
        self._machine.start()
        self._ticker.start()
        self._publish()

    def stop(self) -> None:
        with self._tick_cv:
            self._stopping = True
            self._tick_cv.notify_all()
        self._events.put(_STOP)
        if self._machine.is_alive():
            self._machine.join(5)
        if self._ticker.is_alive():
            self._ticker.join(5)
        self._owners.stop()
        self.reporting.stop()

    def subscribe(self, subscriber: Subscriber) -> None:
        self._publisher.subscribe(subscriber)

    @property
    def snapshot(self) -> StationSnapshot | None:
        return self._publisher.snapshot

    def _in_use(self, connector_id: str) -> bool:
        """For the device owners (any thread): the published snapshot is immutable."""
        snap = self._publisher.snapshot
        return snap is None or snap.in_use(connector_id)

    def post(self, event: ev.Event) -> None:
        self._events.put(event)

    def republish(self) -> None:
        """Something the snapshot shows changed outside the machine (any thread)."""
        self._events.put(_REPUBLISH)

    def send(self, intent: Intent) -> None:
        """An intent from a screen (any thread)."""
        now = self.clock.now()
        if isinstance(intent, ChooseConnector):
            if self.fault is not None:
                log.warning("no new session while the journal cannot be written")
                return
            offer = self.offers.get(intent.connector_id)
            if offer is None:
                log.warning("intent for unknown connector %r ignored", intent.connector_id)
                return
            self.post(ev.ConnectorChosen(now, intent.connector_id, self._new_id(), offer))
        else:
            self.post(ev.IntentReceived(now, intent))

    def priced(self, session_id: str) -> PricedSoFar | None:
        """The engine's cost of a metering session so far, per dimension (machine thread:
        the CSMS feed asks while a step is journaled)."""
        tracker = self._trackers.get(session_id)
        return None if tracker is None else tracker.priced()

    def replace_offers(self, offers: Mapping[str, Offer]) -> None:
        """What these connectors offer from now on (a tariff set by a CSMS), on the machine
        thread; the tile and the price screen show it. A running session keeps the offer it
        froze at connector choice."""
        if self._machine.is_alive():
            self._events.put(_OfferChange(dict(offers)))
        else:
            self._set_offers(dict(offers))

    def note_operator_figure(
        self, session_id: str, total: Decimal | None, text: str | None
    ) -> None:
        """The CSMS's running total cost (major units, its number) and/or its text for a
        session (any thread): shown on the charging screen as the operator's figure."""
        session = self.station.session(session_id)
        if session is None:
            return
        known = self.operator_figures.get(session_id, OperatorFigure())
        if total is not None and not (total.is_finite() and 0 <= total < 10**9):
            log.warning(
                "csms: operator figure %s for %s not shown (not an amount)", total, session_id
            )
            total = None
        if total is not None:
            currency = session.offer.currency
            minor = round_amount(total, currency).scaleb(minor_unit_exponent(currency))
            known = replace(known, total=Amount(int(minor), currency))
        if text:
            known = replace(known, text=text[:512])
        live = {s.session_id for s in self.station.sessions}
        figures = {k: v for k, v in self.operator_figures.items() if k in live}
        self.operator_figures = {**figures, session_id: known}
        self._events.put(_REPUBLISH)

    def note_csms_link(self, view: CsmsLinkView) -> None:
        """The CSMS link's state changed (any thread): the service menu shows it."""
        if view != self.csms_link:
            self.csms_link = view
            self._events.put(_REPUBLISH)

    def set_csms_authorize(self, on: bool) -> None:
        """Whether each approved payment waits for the CSMS's Authorize answer (OCPP
        PaymentCtrlr.AuthorizeDirectPayment); applies to payments approved from now on."""
        if self._machine.is_alive():
            self._events.put(_CsmsAuthorizeChange(on))
        else:
            self._set_csms_authorize(on)

    def set_web_pay(self, code: WebPayCode | None) -> None:
        """The operator's dynamic QR code per connector (OCPP C25), or None for none; shown
        on the free tiles, refreshed when its one-time password rolls over."""
        self._publisher.web_pay = code
        self.republish()

    def remote_start(self, connector_id: str, psp_ref: str, remote_start_id: int) -> str | None:
        """The CSMS starts a session it was paid for (OCPP C25; any thread): its transaction id,
        or None when the connector cannot start one now (a session on it, a fault, no offer)."""
        offer = self.offers.get(connector_id)
        if offer is None or self.fault is not None:
            return None
        if not startable_remotely(self.station, connector_id):
            return None
        session_id = self._new_id()
        now = self.clock.now()
        self.post(
            ev.CsmsStartRequested(now, connector_id, session_id, offer, psp_ref, remote_start_id)
        )
        return session_id

    def csms_limit(self, session_id: str, max_cost: Decimal) -> None:
        """The CSMS's transactionLimit.maxCost for a transaction (any thread; major units, its
        number): a session it was paid for stops below it (OCPP C25 with F07)."""
        session = self.station.session(session_id)
        if session is None:
            return
        if not (max_cost.is_finite() and 0 <= max_cost < 10**9):
            log.warning("csms: maxCost %s for %s ignored (not an amount)", max_cost, session_id)
            return
        currency = session.offer.currency
        minor = round_amount(max_cost, currency).scaleb(minor_unit_exponent(currency))
        self.post(ev.CsmsLimitSet(self.clock.now(), session_id, int(minor)))

    def web_payment_started(self, connector_id: str, timeout_s: int) -> None:
        """OCPP C25 NotifyWebPaymentStarted (any thread): no local start for the timeout."""
        now = self.clock.now()
        self.post(ev.WebPaymentStarted(now, connector_id, now + timedelta(seconds=timeout_s)))

    def _set_csms_authorize(self, on: bool) -> None:
        policy = replace(self.station.policy, csms_authorize=on)
        self.station = replace(self.station, policy=policy)

    def _set_offers(self, offers: dict[str, Offer]) -> None:
        self.offers = {**self.offers, **offers}
        self.prices = PriceBoard(self.offers, self._zone)
        if self._publisher.snapshot is not None:
            self._publish()

    def wait_idle(self, timeout: float = 10.0, checks: int = 3) -> bool:
        """Tests: wait until every event is handled and every device owner is waiting (seen
        idle ``checks`` times in a row)."""
        deadline = time.monotonic() + timeout
        stable = 0
        while time.monotonic() < deadline:
            clock_idle = not isinstance(self.clock, FakeClock) or self.clock.idle()
            owners_idle = self._owners.idle() and self.reporting.idle()
            if clock_idle and owners_idle and self._events.unfinished_tasks == 0:
                stable += 1
                if stable >= checks:
                    return True
            else:
                stable = 0
            time.sleep(0.001)
        return False

    def call(self, job: Callable[[], None], owner_key: str) -> None:
        owner = self._owners.get(owner_key)
        if owner is not None:
            owner.submit(job)

    @property
    def orphan_sweep_pending(self) -> bool:
        """The terminal has not yet answered an orphan sweep (retried on the tick)."""
        return self.orphan_retry.pending

    def resolve_refunds(self) -> bool:
        """Card refunds a killed run left without an outcome (kiosk.runtime.card_refund)."""
        if self.devices.terminal is None:
            return True
        try:
            return card_refund.resolve_open(self.journal, self.devices.terminal)
        except JournalError as exc:
            log.error("%s", exc)
            return False

    def sweep_orphans(self) -> None:
        if self.devices.terminal is not None:
            currencies = {o.currency for o in self.offers.values()}
            currency = next(iter(currencies)) if len(currencies) == 1 else "EUR"
            refunds_settled = self.resolve_refunds()
            swept = recovery.sweep_orphan_holds(self.journal, self.devices.terminal, currency)
            if swept is None or not refunds_settled:
                self.orphan_retry.failed(self.clock.now())
            else:
                self.orphan_retry.succeeded()
            self.reporting.report_orphan_reversals()
            self.reporting.report_card_refunds()

    def journal_done(self, command_id: int, what: str) -> None:
        try:
            self.journal.mark_command_done(command_id, what)
        except JournalError as exc:
            log.error("%s", exc)

    def _wake_outbox(self) -> None:
        if self.outbox is not None:
            self.outbox.wake()

    def _recovery_parts(self) -> recovery.RecoveryParts:
        return recovery.RecoveryParts(
            journal=self.journal,
            terminal=self.devices.terminal,
            meters=self.devices.meters,
            controllers=self.devices.controllers,
            now=self.clock.now,
            station=lambda: self.station,
            set_station=self._set_station,
            start_metering=self.start_metering,
            handle=self.handle,
            recover_signed=self.signed.recover,
            sweep_orphans_later=lambda: self.call(self.sweep_orphans, "terminal"),
        )

    def _set_station(self, station: Station) -> None:
        self.station = station

    # ------------------------------------------------------------------ the machine thread

    def _run(self) -> None:
        while True:
            item = self._events.get()
            try:
                if item is _STOP:
                    return
                if item is _REPUBLISH:
                    self._publish()
                    continue
                if isinstance(item, _OfferChange):
                    self._set_offers(item.offers)
                    continue
                if isinstance(item, _CsmsAuthorizeChange):
                    self._set_csms_authorize(item.on)
                    continue
                assert not isinstance(item, str)
                self.handle(item)  # type: ignore[arg-type]
            except Exception:
                log.exception("runtime: event %r failed", item)
            finally:
                self._events.task_done()

    def _tick_loop(self) -> None:
        try:
            with self._tick_cv:
                while not self._stopping:
                    self.clock.wait(self._tick_cv, self.clock.now() + self._tick_period)
                    if not self._stopping:
                        self.post(ev.Tick(self.clock.now()))
                        self._check_end_of_day()
                        if self.orphan_retry.take_due(self.clock.now()):
                            self.call(self.sweep_orphans, "terminal")
        finally:
            if isinstance(self.clock, FakeClock):
                self.clock.forget()

    def handle(self, event: ev.Event) -> None:
        """One step: price, step, journal, then execute. Called on the machine thread only
        (and by recovery before the threads start)."""
        event = self._priced(event)
        before = self.station
        if isinstance(event, ev.Resumed):
            self.reporting.guard_unjournaled_link(before.session(event.session_id))
        after, commands = step(before, event)
        if not commands and after == before:
            if isinstance(event, ev.Tick) and (
                self.prices.due(event.at) or self._publisher.web_pay_due(event.at)
            ):
                self._publish()  # a tariff boundary passed, or a QR code's password rolled
            return  # nothing to record and nothing new to show (most ticks)
        try:
            ids = self.journal.record_step(event, before, after, commands)
        except JournalError as exc:
            self._journal_failed(str(exc))
            return
        self.station = after
        _log_transitions(before, after, event)
        for command, command_id in zip(commands, ids or [0] * len(commands), strict=True):
            self._apply(command, command_id)
        if not commands and _only_readings_changed(before, after):
            return  # an idle connector's meter poll (1 Hz each): no screen shows its reading
        self._publish()

    def _priced(self, event: ev.Event) -> ev.Event:
        if isinstance(event, ev.SignedEnded):
            return self.signed.price(event)
        if not isinstance(event, ev.MeterUpdate) or event.cost_minor is not None:
            return event
        session = self.station.session_on(event.connector_id)
        if session is None or session.phase not in _METERING:
            return event
        tracker = self._trackers.get(session.session_id)
        if tracker is None:
            return event
        last = session.last_reading
        reading = event.reading
        if last is not None and (
            reading.energy_import_wh < last.energy_import_wh
            or reading.measured_at < last.measured_at
        ):
            return event  # the machine refuses it; the tracker must not see it either
        charging = not _parked(session, self.station.live_of(event.connector_id).iec)
        try:
            cost = tracker.add(reading, charging)
            return replace(event, cost_minor=cost, charging=charging, cost_lines=tracker.lines())
        except ValueError as exc:  # a reading the tariff engine cannot price is no reading
            return ev.MeterFailed(event.at, event.connector_id, f"reading not priceable: {exc}")

    def _apply(self, command: Command, command_id: int) -> None:
        if isinstance(command, BeginMetering):
            self.start_metering(command)
        elif isinstance(command, AuthorizeAtCsms):
            if self.csms_authorizer is not None:
                self.csms_authorizer(command)
            else:  # no link to ask: the payment is not accepted
                self.post(ev.CsmsAuthorized(self.clock.now(), command.session_id, "NoAnswer"))
        elif isinstance(command, CloseSession):
            self._trackers.pop(command.session.session_id, None)
            if command.report:
                self.reporting.queued()
        else:
            self._executor.dispatch(command, command_id)

    def start_metering(self, command: BeginMetering) -> None:
        self._trackers[command.session_id] = self.rebuild_tracker(command)

    def rebuild_tracker(self, command: BeginMetering) -> CostTracker:
        """A tracker from the session's start; after a restart, fed the journaled readings."""
        tracker = self.costs.start(command.tariff_json, command.start)
        for stored in self.journal.readings(command.session_id)[1:]:
            tracker.add(stored.reading, stored.charging)
        return tracker

    def _journal_failed(self, message: str) -> None:
        log.critical("%s", message)
        self.fault = message
        # Nothing can be made durable: stop every energy flow (safe without a record).
        for s in self.station.sessions:
            if s.phase in _METERING or s.phase is Phase.WAITING_FOR_PLUG:
                self._executor.dispatch(DisableCharging(s.session_id, s.connector_id), 0)
        self._publish()

    def _publish(self) -> None:
        self._publisher.publish(
            self.station,
            self.fault,
            self.offers,
            self.prices,
            self.signed.views(),
            operator=self.operator_figures,
            csms=self.csms_link,
        )


def _only_readings_changed(before: Station, after: Station) -> bool:
    """The step changed nothing but connectors' last meter readings. A snapshot shows no
    connector's reading (a session's figures come from the session), so publishing would
    only build a snapshot equal to the last one."""
    if after.live.keys() != before.live.keys():
        return False
    for connector_id, live in after.live.items():
        old = before.live[connector_id]
        if live is not old and replace(live, reading=old.reading) != old:
            return False
    return replace(after, live=before.live) == before


def _parked(session: Session, iec: IecState) -> bool:
    """Parking time: while the session is the driver's to end (CHARGING), the vehicle is
    connected and not drawing after it drew energy (IEC B after C). Waiting for the car to
    start drawing is not parking, nor is the state B the kiosk causes by switching charging
    off (STOPPING): which poller reports it first must not change the bill."""
    return session.phase is Phase.CHARGING and iec is IecState.B and session.energy_wh > 0


def _log_transitions(before: Station, after: Station, event: ev.Event) -> None:
    """One line per phase change, in the names the screens and the journal use."""
    old = {s.session_id: s.phase for s in before.sessions}
    new = {s.session_id: s.phase for s in after.sessions}
    for sid in old.keys() | new.keys():
        was, now = old.get(sid), new.get(sid, Phase.CLOSED)
        if was is not now:
            log.info(
                "session %s: %s -> %s (%s)",
                sid,
                "new" if was is None else was.value,
                now.value,
                type(event).__name__,
            )
