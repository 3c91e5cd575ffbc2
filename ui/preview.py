"""Example snapshots of every screen, for screenshots and for tests that render by hand.

They are built from the same snapshot types the runtime publishes, with plausible figures
(a 22 kW Type 2 connector, 0.59 EUR/kWh incl. 19 % VAT, a 50 EUR hold).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from kiosk.snapshot import (
    Amount,
    ConnectorStatus,
    ConnectorTile,
    CostLine,
    Countdown,
    CountdownKind,
    CsmsLinkView,
    FailureReason,
    FailureView,
    LiveValues,
    MoneyOutcome,
    OperatorFigure,
    PaymentLinkView,
    PaymentMethod,
    Phase,
    PriceLine,
    PriceNow,
    PriceWhen,
    Receipt,
    SessionView,
    SigningMeterView,
    StationSnapshot,
    StopReason,
    VatLine,
)

NOW = datetime(2026, 3, 14, 17, 30, tzinfo=UTC)
SESSION = "S-20260314-0042"
EUR = "EUR"


def tiles(
    status_left: ConnectorStatus = ConnectorStatus.AVAILABLE, session: str | None = None
) -> tuple[ConnectorTile, ...]:
    return (
        ConnectorTile(
            "1",
            "Links",
            "Type 2",
            Decimal(22),
            status_left,
            TILE_PRICE,
            session_id=session,
            labels=(("de", "Links"), ("en", "Left"), ("fr", "Gauche")),
        ),
        ConnectorTile(
            "2",
            "Rechts",
            "Type 2",
            Decimal(11),
            ConnectorStatus.AVAILABLE,
            TILE_PRICE,
            labels=(("de", "Rechts"), ("en", "Right"), ("fr", "Droite")),
        ),
        ConnectorTile(
            "3",
            "CCS",
            "CCS2",
            Decimal(50),
            ConnectorStatus.FAULTED,
            TILE_PRICE,
            status_reason="error flags: rcd_trip",
            reason_code="connector_fault",
        ),
    )


_PEAK = PriceWhen(days=(0, 1, 2, 3, 4), start_time="17:00", end_time="21:00")
PRICE_LINES = (
    PriceLine("energy", Decimal("0.69"), EUR, Decimal(19), 1, _PEAK, element=0),
    PriceLine("energy", Decimal("0.59"), EUR, Decimal(19), 1, PriceWhen(otherwise=True), 1),
    PriceLine("flat", Decimal("0.50"), EUR, Decimal(19), element=1),
    PriceLine("parking_time", Decimal("6.00"), EUR, Decimal(19), 60, element=2),
    PriceLine("time", Decimal("1.20"), EUR, Decimal(19), 60, element=3),
)
# Saturday evening: the off-peak energy price is in force; the weekday peak comes on Monday.
MONDAY_PEAK = datetime(2026, 3, 16, 16, 0, tzinfo=UTC)  # 17:00 in Berlin
PRICE_NOW = PriceNow(
    NOW,
    PRICE_LINES[1:],
    NOW + timedelta(hours=5, minutes=30),
    next_at=MONDAY_PEAK,
    next_lines=(PRICE_LINES[0], *PRICE_LINES[2:]),
)
TILE_PRICE = replace(PRICE_NOW, lines=PRICE_LINES[1:3], next_lines=(PRICE_LINES[0], PRICE_LINES[2]))
HOLD = Amount(5000, EUR)


def station(
    phase: Phase = Phase.IDLE, focus: SessionView | None = None, **kw: object
) -> StationSnapshot:
    left = {
        Phase.IDLE: ConnectorStatus.AVAILABLE,
        Phase.CHARGING: ConnectorStatus.CHARGING,
        Phase.STOPPING: ConnectorStatus.FINISHING,
        Phase.SETTLING: ConnectorStatus.FINISHING,
        Phase.RECEIPT: ConnectorStatus.FINISHING,
        Phase.FAILED: ConnectorStatus.AVAILABLE,
    }.get(phase, ConnectorStatus.PREPARING)
    base = StationSnapshot(
        seq=1,
        published_at=NOW,
        station_name="Marktplatz Süd",
        locales=("de", "en"),
        phase=phase,
        connectors=tiles(left, focus.session_id if focus and phase is not Phase.FAILED else None),
        focus=focus,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def view(phase: Phase, **kw: object) -> SessionView:
    base = SessionView(
        SESSION,
        "1",
        phase,
        price_lines=PRICE_LINES,
        price_now=PRICE_NOW,
        alt_text=(
            ("en", "Parking fee applies from the minute charging ends until you unplug."),
            ("de", "Die Standgebühr gilt ab Ladeende bis zum Abstecken."),
        ),
        hold=HOLD,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def countdown(kind: CountdownKind, seconds: int, extendable: bool = True) -> tuple[Countdown, ...]:
    return (Countdown(kind, NOW + timedelta(seconds=seconds), extendable),)


LIVE = LiveValues(
    energy_wh=12_345,
    power_w=10_980.0,
    started_at=NOW - timedelta(minutes=41, seconds=7),
    measured_at=NOW,
    cost=Amount(778, EUR),
)

RECEIPT = Receipt(
    session_id=SESSION,
    connector_id="1",
    energy_wh=18_420,
    started_at=NOW - timedelta(hours=1, minutes=2, seconds=3),
    ended_at=NOW,
    total=Amount(1137, EUR),
    net=Amount(955, EUR),
    vat_lines=(VatLine(Decimal(19), Amount(955, EUR), Amount(182, EUR)),),
    hold=HOLD,
    method=PaymentMethod.CARD,
    money=MoneyOutcome.CHARGED,
    stop_reason=StopReason.DRIVER,
    card_brand="Girocard",
    masked_pan="672559******1234",
    terminal_id="52500001",
    receipt_no=1042,
    trace_no=381,
    receipt_url="http://127.0.0.1:8080/r/7Kq2vB9xN4mT",
    meter_start_wh=1_204_331,
    meter_end_wh=1_222_751,
    cost_lines=(CostLine("energy", Amount(1087, EUR)), CostLine("fixed", Amount(50, EUR))),
)


SIGNING_METER = SigningMeterView(
    "1",
    model="Carlo Gavazzi EM580",
    serial="KY2210045",
    firmware="A.05",
    public_key="3059301306072A8648CE3D020106082A8648CE3D03010703420004A1B2C3D4E5F6",
    signing=True,
)


def plug_in(method: PaymentMethod, **kw: object) -> StationSnapshot:
    """The plug-in screen; with `kw` (or paid through it), at a station joined to a CSMS."""
    focus = view(
        Phase.WAITING_FOR_PLUG,
        method=method,
        countdowns=countdown(CountdownKind.PLUG_IN, 165),
        **kw,
    )
    joined = bool(kw) or method is PaymentMethod.CSMS
    csms = CsmsLinkView(connected=True, version="2.1") if joined else None
    return station(Phase.WAITING_FOR_PLUG, focus, csms=csms)


def operator_qr_tiles() -> tuple[ConnectorTile, ...]:
    left, right, ccs = tiles()
    url = "https://csms.example.com/pay?evse=1&totp=Q7X2KD9M"
    return (
        replace(left, web_pay_url=url),
        replace(right, web_pay_url=url, web_paying_until=NOW + timedelta(minutes=4)),
        ccs,
    )


def starting_tiles() -> tuple[ConnectorTile, ...]:
    """The tiles as the station shows them while it starts: no price yet, nothing to tap."""
    return tuple(
        replace(
            tile,
            status=ConnectorStatus.UNAVAILABLE,
            price=None,
            status_reason="Connecting to the charge controller",
            reason_code="connecting",
        )
        for tile in tiles()
    )


def all_screens() -> dict[str, StationSnapshot]:
    """Name -> snapshot, one per screen state a driver can meet."""
    link = PaymentLinkView("http://127.0.0.1:8080/pay/q8ZtR2mWcX5a", NOW + timedelta(minutes=5))
    charging = view(Phase.CHARGING, method=PaymentMethod.CARD, live=LIVE)
    paused_tiles = tiles(ConnectorStatus.SUSPENDED_EV, SESSION)
    return {
        "idle": station(),
        # Every start: the idle screen from the config alone while the devices are reached.
        "idle_starting": station(connectors=starting_tiles()),
        # OCPP 2.1 C25: the operator's QR code on a free tile; a driver paying that way on
        # another tile's code blocks a local start there.
        "idle_operator_qr": station(connectors=operator_qr_tiles()),
        "price": station(
            Phase.PRICE_SHOWN,
            view(Phase.PRICE_SHOWN, countdowns=countdown(CountdownKind.PRICE_CONFIRM, 75)),
        ),
        "price_timeout_warning": station(
            Phase.PRICE_SHOWN,
            view(Phase.PRICE_SHOWN, countdowns=countdown(CountdownKind.PRICE_CONFIRM, 14)),
        ),
        "payment_choice": station(Phase.CHOOSING_PAYMENT, view(Phase.CHOOSING_PAYMENT)),
        "card_present": station(
            Phase.PAYING_CARD,
            view(
                Phase.PAYING_CARD,
                method=PaymentMethod.CARD,
                terminal_text="Karte bitte",
                countdowns=countdown(CountdownKind.CARD_WAIT, 95, extendable=False),
            ),
        ),
        "card_processing": station(
            Phase.PAYING_CARD,
            view(Phase.PAYING_CARD, method=PaymentMethod.CARD, terminal_text="Bitte warten ..."),
        ),
        "card_declined": station(
            Phase.FAILED,
            view(
                Phase.FAILED,
                method=PaymentMethod.CARD,
                failure=FailureView(
                    FailureReason.CARD_DECLINED,
                    FailureReason.CARD_DECLINED.text,
                    MoneyOutcome.NONE_TAKEN,
                ),
            ),
        ),
        "qr": station(
            Phase.PAYING_QR,
            view(
                Phase.PAYING_QR,
                method=PaymentMethod.QR,
                payment_link=link,
                countdowns=countdown(CountdownKind.PAYMENT_LINK, 287, extendable=False),
            ),
        ),
        "qr_expired": station(
            Phase.FAILED,
            view(
                Phase.FAILED,
                method=PaymentMethod.QR,
                failure=FailureView(
                    FailureReason.LINK_EXPIRED,
                    FailureReason.LINK_EXPIRED.text,
                    MoneyOutcome.NONE_TAKEN,
                ),
            ),
        ),
        "plug_in": plug_in(PaymentMethod.CARD),
        "plug_in_operator_check": plug_in(PaymentMethod.CARD, operator_checking=True),
        "plug_in_operator_paid": plug_in(PaymentMethod.CSMS, hold=None),
        "plug_timeout": station(
            Phase.FAILED,
            view(
                Phase.FAILED,
                method=PaymentMethod.CARD,
                failure=FailureView(
                    FailureReason.PLUG_TIMEOUT,
                    FailureReason.PLUG_TIMEOUT.text,
                    MoneyOutcome.HOLD_RELEASED,
                ),
            ),
        ),
        "starting": station(Phase.STARTING, view(Phase.STARTING, method=PaymentMethod.CARD)),
        "charging": station(Phase.CHARGING, charging),
        "charging_paused": station(Phase.CHARGING, charging, connectors=paused_tiles),
        # A signing meter (Eichrecht) bills: the live figures are labelled informative.
        "charging_signed": station(
            Phase.CHARGING,
            replace(charging, live=replace(LIVE, informative=True)),
            signing_meters=(SIGNING_METER,),
            csms=CsmsLinkView(connected=True, version="2.1"),
        ),
        # OCPP 2.0.1 central cost: the operator's running figure beside the station's own.
        "charging_operator": station(
            Phase.CHARGING,
            replace(charging, operator=OperatorFigure(Amount(781, EUR), "AC 0,59 €/kWh")),
            csms=CsmsLinkView(connected=True, version="2.0.1", queued=2),
        ),
        "stopping": station(
            Phase.STOPPING,
            view(
                Phase.STOPPING, method=PaymentMethod.CARD, live=LIVE, stop_reason=StopReason.DRIVER
            ),
        ),
        "stopped_meter_fault": station(
            Phase.STOPPING,
            view(
                Phase.STOPPING,
                method=PaymentMethod.CARD,
                live=LIVE,
                stop_reason=StopReason.METER_FAULT,
            ),
        ),
        "settling": station(
            Phase.SETTLING,
            view(
                Phase.SETTLING,
                method=PaymentMethod.CARD,
                live=LIVE,
                stop_reason=StopReason.COST_CAP,
            ),
        ),
        "receipt": station(
            Phase.RECEIPT,
            view(
                Phase.RECEIPT,
                method=PaymentMethod.CARD,
                receipt=RECEIPT,
                countdowns=countdown(CountdownKind.RECEIPT, 52, extendable=True),
            ),
        ),
        "connector_fault": station(
            Phase.FAILED,
            view(
                Phase.FAILED,
                failure=FailureView(
                    FailureReason.CONNECTOR_FAULT,
                    FailureReason.CONNECTOR_FAULT.text,
                    MoneyOutcome.RELEASE_PENDING,
                ),
            ),
        ),
    }
