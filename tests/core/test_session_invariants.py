"""Property test: random event sequences against the pure machine, with the six money
invariants of ARCHITECTURE.md checked after every single step, and at the end (after the
world calms down) that every hold ended exactly once. Sequences include restarts: sessions
come back through the journal's codec and are told what the devices say now.

The world around the machine is a small simulation: a bank that holds, books and reverses
(and sometimes loses the answer), vehicles that plug and unplug, meters whose counters run
while charging is enabled, a backend whose links get paid, expire or are cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from doubles.builders import FULL_PAN, OFFER, T0, station
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.devices import (
    CardResult,
    ControllerStatus,
    IecState,
    LinkStatus,
    MeterReading,
    PaymentLink,
    PaymentOutcome,
)
from kiosk.journal.codec import dumps, loads
from kiosk.session import commands as cmd
from kiosk.session import events as ev
from kiosk.session.machine import step
from kiosk.session.model import Session, Station
from kiosk.session.names import Phase
from kiosk.snapshot import (
    BackToStart,
    Cancel,
    ConfirmPrice,
    ExtendTimeout,
    PayByCard,
    PayByQr,
    StopCharging,
)

CONNECTORS = ("1", "2")
WH_PER_CENT = 5  # the test tariff: 2 cents per 10 Wh


def cost_of(wh: int) -> int:
    return wh // WH_PER_CENT


@dataclass
class Hold:
    amount: int
    status: str = "open"  # open | booked | reversed
    settles: int = 0


@dataclass
class World:
    st: Station = field(default_factory=lambda: station(*CONNECTORS))
    t: float = 0.0
    plugged: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(CONNECTORS, False))
    enabled: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(CONNECTORS, False))
    energy: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CONNECTORS, 10_000))
    metering: dict[str, tuple[str, int]] = field(default_factory=dict)  # connector -> sid, start
    pending: list[cmd.Command] = field(default_factory=list)
    bank: dict[int, Hold] = field(default_factory=dict)
    next_receipt: int = 100
    links: dict[str, str] = field(default_factory=dict)  # link id -> session id
    closes: dict[str, int] = field(default_factory=dict)
    next_sid: int = 0

    def now(self):  # type: ignore[no-untyped-def]
        return T0 + timedelta(seconds=self.t)

    # ------------------------------------------------------------------ one step + checks
    def feed(self, event: ev.Event) -> None:
        before = self.st
        self.st, commands = step(before, event)
        check_step(self, before, event, commands)
        for c in commands:
            if isinstance(c, cmd.BeginMetering):
                self.metering[c.connector_id] = (c.session_id, c.start.energy_import_wh)
            elif isinstance(c, cmd.EnableCharging | cmd.DisableCharging):
                self.enabled[c.connector_id] = isinstance(c, cmd.EnableCharging)
                self.pending.append(c)
            elif isinstance(c, cmd.CloseSession):
                sid = c.session.session_id
                self.closes[sid] = self.closes.get(sid, 0) + 1
            else:
                self.pending.append(c)

    def reading(self, cid: str) -> ev.MeterUpdate:
        cost = None
        if cid in self.metering:
            sid, start = self.metering[cid]
            if self.st.session(sid) is not None:
                cost = cost_of(self.energy[cid] - start)
        r = MeterReading(self.now(), self.energy[cid], power_w=11000.0)
        return ev.MeterUpdate(self.now(), cid, r, cost)

    def controller(self, cid: str) -> ev.ControllerUpdate:
        state = IecState.A
        if self.plugged[cid]:
            state = IecState.C if self.enabled[cid] else IecState.B
        status = ControllerStatus(self.now(), state, state.value, self.enabled[cid])
        return ev.ControllerUpdate(self.now(), cid, status)

    def pass_time(self, seconds: float) -> None:
        self.t += seconds
        for cid in CONNECTORS:
            if self.plugged[cid] and self.enabled[cid]:
                self.energy[cid] += int(seconds * 11000 / 3600)

    # ------------------------------------------------------------------ answering commands
    def answer(self, c: cmd.Command, variant: int) -> ev.Event | None:
        now = self.now()
        if isinstance(c, cmd.PreauthoriseCard):
            if variant % 4 == 3:
                return ev.PreauthDone(
                    now, c.session_id, CardResult(PaymentOutcome.DECLINED, 0, "EUR")
                )
            self.next_receipt += 1
            self.bank[self.next_receipt] = Hold(c.amount_minor)
            pan = FULL_PAN if variant % 2 else "411111******1111"  # a careless driver, sometimes
            result = CardResult(
                PaymentOutcome.APPROVED,
                c.amount_minor,
                "EUR",
                receipt_no=self.next_receipt,
                masked_pan=pan,
                card_brand="VISA",
            )
            return ev.PreauthDone(now, c.session_id, result)
        if isinstance(c, cmd.SettleCard):
            hold = self.bank[c.auth.receipt_no or -1]
            lost_before = variant % 5 == 4
            if not lost_before:
                assert hold.status == "open", f"settle sent for a {hold.status} hold"
                hold.settles += 1
                hold.status = "booked" if c.final_minor else "reversed"
            if variant % 5 in (3, 4):  # the answer is lost (after or before the bank acted)
                return ev.SettleDone(
                    now, c.session_id, CardResult(PaymentOutcome.LINK_ERROR, 0, "EUR")
                )
            return ev.SettleDone(
                now, c.session_id, CardResult(PaymentOutcome.APPROVED, c.final_minor, "EUR")
            )
        if isinstance(c, cmd.QueryOpenPreauths):
            if variant % 4 == 3:
                return ev.OpenPreauthsChecked(now, c.session_id, None)
            open_ = frozenset(r for r, h in self.bank.items() if h.status == "open")
            return ev.OpenPreauthsChecked(now, c.session_id, open_)
        if isinstance(c, cmd.CreatePaymentLink):
            if variant % 5 == 4:
                return ev.LinkFailed(now, c.session_id, "backend offline")
            link_id = f"L{len(self.links)}"
            self.links[link_id] = c.session_id
            link = PaymentLink(
                link_id, "u", LinkStatus.PENDING, now + timedelta(minutes=5), c.amount_minor, "EUR"
            )
            return ev.LinkCreated(now, c.session_id, link)
        if isinstance(c, cmd.EnableCharging | cmd.DisableCharging):
            ok = variant % 7 != 6
            enabled = isinstance(c, cmd.EnableCharging)
            if not ok:
                self.enabled[c.connector_id] = not enabled
            return ev.ChargingSwitched(now, c.connector_id, c.session_id, enabled, ok)
        return None


def check_step(
    w: World, before: Station, event: ev.Event, commands: tuple[cmd.Command, ...]
) -> None:
    after = w.st
    text = repr(after) + repr(commands)
    # 6. no card number is kept or passed on
    assert FULL_PAN not in text
    for c in commands:
        # 1. energy only with an approved, recorded hold
        if isinstance(c, cmd.EnableCharging):
            s = after.session(c.session_id)
            assert s is not None and s.auth is not None and s.auth.amount_minor > 0
        if isinstance(c, cmd.SettleCard):
            s = after.session(c.session_id)
            assert s is not None and s.auth is not None
            # 3. never more than the hold; 4. exactly the tariff cost of the recorded readings
            assert 0 <= c.final_minor <= s.auth.amount_minor
            if s.energy_wh == 0:
                assert c.final_minor == 0
            else:
                assert c.final_minor == min(cost_of(s.energy_wh), s.auth.amount_minor)
        if isinstance(c, cmd.CloseSession):
            # 5. closed (and reported) once
            closed = c.session
            assert w.closes.get(closed.session_id, 0) == 0
            assert c.report == (closed.auth is not None)
            if closed.auth is not None:
                # 4. what is reported (and, for QR, captured) is the cost of the readings
                assert closed.settlement is not None
                expected = min(cost_of(closed.energy_wh), closed.auth.amount_minor)
                assert closed.settlement.final_minor == (expected if closed.energy_wh else 0)
    # 3. the cost cap: a session at or over its cap is being stopped in this very step
    for s in after.sessions:
        if s.auth is not None and s.phase in (Phase.STARTING, Phase.CHARGING):
            assert s.cost_minor < after.policy.cap_minor(s.auth.amount_minor)
        if s.meter_start is not None and s.last_reading is not None:
            assert s.cost_minor == cost_of(s.energy_wh)  # 4. cost follows the readings
    # 2. a hold is never forgotten: a session holding money stays until it is settled
    for s in before.sessions:
        if s.auth is not None and s.settlement is None and after.session(s.session_id) is None:
            raise AssertionError(f"session {s.session_id} left with its hold unsettled")


INTENTS = st.sampled_from(["choose", "confirm", "card", "qr", "cancel", "stop", "extend", "back"])
NEXT = st.tuples(st.just("next"), st.integers(0, 5), st.integers(0, 100))
ACTION = st.one_of(
    NEXT,  # listed several times: most steps move a session along its normal path
    NEXT,
    NEXT,
    NEXT,
    NEXT,
    NEXT,
    st.tuples(st.just("intent"), INTENTS, st.integers(0, 5)),
    st.tuples(st.just("answer"), st.integers(0, 9), st.integers(0, 100)),
    st.tuples(st.just("plug"), st.sampled_from(CONNECTORS), st.sampled_from([True, True, False])),
    st.tuples(st.just("poll"), st.sampled_from(CONNECTORS), st.integers(0, 20)),
    st.tuples(st.just("time"), st.integers(1, 60), st.integers(0, 0)),
    st.tuples(st.just("link"), st.sampled_from(list(LinkStatus)), st.integers(0, 5)),
    st.tuples(st.just("emergency"), st.booleans(), st.just(0)),
    st.tuples(st.just("restart"), st.just(0), st.just(0)),
)


def progress(w: World, index: int, variant: int) -> None:
    """The natural next step of one session (or a new session when there is none)."""
    if not w.st.sessions:
        act(w, ("intent", "choose", variant))
        return
    if variant % 13 == 0:
        restart(w)  # the kiosk dies in the middle of the flow
        return
    s = w.st.sessions[index % len(w.st.sessions)]
    now = w.now()
    mine = [c for c in w.pending if getattr(c, "session_id", None) == s.session_id]
    if s.phase is Phase.PRICE_SHOWN:
        w.feed(ev.IntentReceived(now, ConfirmPrice(s.session_id)))
    elif s.phase is Phase.CHOOSING_PAYMENT:
        make = PayByCard if variant % 3 else PayByQr
        w.feed(ev.IntentReceived(now, make(s.session_id)))
    elif mine:
        w.pending.remove(mine[0])
        answer = w.answer(mine[0], variant)
        if answer is not None:
            w.feed(answer)
    elif s.phase is Phase.PAYING_QR and s.link_id is not None:
        status = LinkStatus.AUTHORIZED if variant % 4 else LinkStatus.EXPIRED
        link = PaymentLink(
            s.link_id, "u", status, now + timedelta(minutes=5), OFFER.hold_minor, "EUR"
        )
        w.feed(ev.LinkUpdated(now, s.session_id, link))
    elif s.phase is Phase.WAITING_FOR_PLUG:
        act(w, ("plug", s.connector_id, True))
        w.feed(w.reading(s.connector_id))
        w.feed(w.controller(s.connector_id))
    else:
        w.pass_time(variant % 60 + 1)
        w.feed(w.controller(s.connector_id))
        w.feed(w.reading(s.connector_id))
        w.feed(ev.Tick(w.now()))


def act(w: World, action: tuple[str, object, object]) -> None:
    kind, a, b = action
    now = w.now()
    if kind == "next":
        progress(w, int(a), int(b))  # type: ignore[call-overload]
    elif kind == "intent":
        sids = [s.session_id for s in w.st.sessions] or ["none"]
        sid = sids[int(b) % len(sids)]  # type: ignore[call-overload]
        if a == "choose":
            w.next_sid += 1
            w.feed(ev.ConnectorChosen(now, CONNECTORS[int(b) % 2], f"S{w.next_sid}", OFFER))  # type: ignore[call-overload]
            return
        make = {
            "confirm": ConfirmPrice,
            "card": PayByCard,
            "qr": PayByQr,
            "cancel": Cancel,
            "stop": StopCharging,
            "extend": ExtendTimeout,
            "back": BackToStart,
        }[str(a)]
        w.feed(ev.IntentReceived(now, make(sid)))
    elif kind == "answer" and w.pending:
        c = w.pending.pop(int(a) % len(w.pending))  # type: ignore[call-overload]
        answer = w.answer(c, int(b))  # type: ignore[call-overload]
        if answer is not None:
            w.feed(answer)
    elif kind == "plug":
        w.plugged[str(a)] = bool(b)
        w.feed(w.controller(str(a)))
    elif kind == "poll":
        if b == 0:
            w.feed(ev.MeterFailed(now, str(a), "timeout"))
        else:
            w.feed(w.controller(str(a)))
            w.feed(w.reading(str(a)))
    elif kind == "time":
        w.pass_time(float(a))  # type: ignore[arg-type]
        w.feed(ev.Tick(w.now()))
    elif kind == "link" and w.links:
        link_id = sorted(w.links)[int(b) % len(w.links)]  # type: ignore[call-overload]
        link = PaymentLink(
            link_id, "u", LinkStatus(a.value), now + timedelta(minutes=5), OFFER.hold_minor, "EUR"
        )  # type: ignore[attr-defined]
        w.feed(ev.LinkUpdated(now, w.links[link_id], link))
    elif kind == "restart":
        restart(w)
    elif kind == "emergency":
        w.feed(ev.EmergencyStop(now, "button") if a else ev.EmergencyCleared(now))


def restart(w: World) -> None:
    """The kiosk dies: commands in flight are lost, sessions come back from their journaled
    form (the codec round trip), and each is told what the devices say now."""
    restored = tuple(loads(Session, dumps(s)) for s in w.st.sessions)
    w.pending.clear()
    w.st = replace(station(*CONNECTORS), sessions=restored, emergency=w.st.emergency)
    open_ = frozenset(r for r, h in w.bank.items() if h.status == "open")
    for cid in CONNECTORS:
        w.feed(w.controller(cid))
    for s in restored:
        status = w.controller(s.connector_id).status
        reading = w.reading(s.connector_id).reading
        w.feed(ev.Resumed(w.now(), s.session_id, status, reading, open_))


def calm_down(w: World) -> None:
    """Answer everything truthfully, unplug, let time run: every hold must end."""
    for cid in CONNECTORS:
        w.plugged[cid] = False
    for _ in range(400):
        while w.pending:
            answer = w.answer(w.pending.pop(0), 0)
            if answer is not None:
                w.feed(answer)
        w.pass_time(30)
        for cid in CONNECTORS:
            w.feed(w.controller(cid))
            w.feed(w.reading(cid))
        w.feed(ev.Tick(w.now()))
        if not w.st.sessions and not w.pending:
            break


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ACTION, min_size=30, max_size=150))
def test_money_invariants_hold_after_every_step(actions: list[tuple[str, object, object]]) -> None:
    w = World()
    for cid in CONNECTORS:
        w.feed(w.controller(cid))
        w.feed(w.reading(cid))
    for action in actions:
        act(w, action)
    calm_down(w)
    assert w.st.sessions == ()
    for receipt, hold in w.bank.items():
        # 2. every approved hold ended exactly once: booked or reversed
        assert hold.status in ("booked", "reversed"), (receipt, hold)
        assert hold.settles == 1, (receipt, hold)
    assert all(n == 1 for n in w.closes.values())
