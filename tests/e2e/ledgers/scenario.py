"""Generated money scenarios: one seed, one scenario, the same on every machine.

A scenario is plain data (JSON) so a kiosk child process can replay it and a failing seed can
be run again alone. The generator leans on the places money goes wrong: starts a minute before
a tariff boundary or a DST change, parking and time prices with coarse steps, min/max prices,
stops by every actor, and terminal faults on either money command.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]
WEEKEND = ["SATURDAY", "SUNDAY"]
STOPS = ("driver", "full", "paused", "unplug", "cap", "meter_fault", "controller_fault")
# (fault, which money command it hits); "none" is the common case.
TERMINAL_FAULTS = (
    "none",
    "none",
    "none",
    "drop_after_result",
    "lose_result",
    "drop_before_result",
    "no_response",
    "slow_host",
    "decline",
)
# Local wall times a start is drawn around: tariff boundaries and the two DST changes of 2026.
DST_STARTS = (
    datetime(2026, 3, 29, 0, 40, tzinfo=UTC),  # 01:40 CET, the clock jumps 02:00 -> 03:00
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 02:30 CEST, the clock falls 03:00 -> 02:00
)


@dataclass
class Scenario:
    seed: int
    method: str  # "card" | "qr"
    tariff: dict[str, Any]
    start: str  # ISO UTC: the kiosk's clock when the station starts
    hold_minor: int
    charge_s: int  # how long the car charges before the stop (or the stop event)
    stop: str  # one of STOPS
    park_s: int  # car connected, not drawing, before the driver stops (paused/full: parking)
    soc: float
    ev_max_power_w: float
    terminal_fault: str
    fault_on: str  # "preauth" | "settle"
    transport: str = "tcp"  # "tcp" | "pty"
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Scenario:
        return cls(**raw)

    @property
    def start_at(self) -> datetime:
        """ "now-N" (QR: the backend's links live in real time) or a fixed ISO instant."""
        if self.start.startswith("now-"):
            now = datetime.now(UTC).replace(microsecond=0)
            return now - timedelta(seconds=int(self.start.removeprefix("now-")))
        return datetime.fromisoformat(self.start)


def _money(rng: random.Random, low: int, high: int) -> str:
    """A price in euros with two decimals, between low and high cents."""
    return f"{rng.randint(low, high) / 100:.2f}"


def _component(kind: str, price: str, step: int) -> dict[str, Any]:
    return {"type": kind, "price": price, "vat": 19, "step_size": step}


def generate_tariff(rng: random.Random) -> dict[str, Any]:
    base: list[dict[str, Any]] = [
        _component("ENERGY", _money(rng, 25, 79), rng.choice([1, 1, 100, 1000]))
    ]
    if rng.random() < 0.35:
        base.append(_component("TIME", _money(rng, 30, 300), rng.choice([1, 60, 300, 900])))
    if rng.random() < 0.4:
        base.append(_component("FLAT", _money(rng, 10, 150), 1))
    elements: list[dict[str, Any]] = []
    if rng.random() < 0.6:  # a restricted line first, as the sample station has
        start_h = rng.choice([7, 8, 17, 18, 22])
        end_h = (start_h + rng.choice([2, 4, 9])) % 24
        restrictions: dict[str, Any] = {
            "start_time": f"{start_h:02d}:00",
            "end_time": f"{end_h:02d}:00",
        }
        if rng.random() < 0.6:
            restrictions["day_of_week"] = rng.choice([WEEKDAYS, WEEKEND, ["MONDAY"]])
        peak = _component("ENERGY", _money(rng, 40, 99), rng.choice([1, 100]))
        elements.append({"price_components": [peak], "restrictions": restrictions})
    elements.append({"price_components": base})
    if rng.random() < 0.5:
        parking = _component("PARKING_TIME", _money(rng, 60, 1200), rng.choice([1, 60, 60, 300]))
        element: dict[str, Any] = {"price_components": [parking]}
        if rng.random() < 0.3:
            element["restrictions"] = {"start_time": "08:00", "end_time": "20:00"}
        elements.append(element)
    tariff: dict[str, Any] = {
        "country_code": "DE",
        "party_id": "EVK",
        "id": f"GEN-{rng.randrange(10**6):06d}",
        "currency": "EUR",
        "type": "AD_HOC_PAYMENT",
        "tax_included": "YES",
        "elements": elements,
        "last_updated": "2026-01-01T00:00:00Z",
    }
    low = 0
    if rng.random() < 0.25:
        low = rng.randint(50, 300)
        tariff["min_price"] = {"excl_vat": f"{low / 119:.2f}", "incl_vat": f"{low / 100:.2f}"}
    if rng.random() < 0.2:
        high = rng.randint(max(150, low), 900)  # a tariff with max below min is refused
        tariff["max_price"] = {"excl_vat": f"{high / 119:.2f}", "incl_vat": f"{high / 100:.2f}"}
    return tariff


def _boundaries(tariff: dict[str, Any]) -> list[int]:
    hours = {8, 17, 20, 21}
    for element in tariff["elements"]:
        r = element.get("restrictions", {})
        for key in ("start_time", "end_time"):
            if key in r:
                hours.add(int(r[key][:2]))
    return sorted(hours)


def generate_start(rng: random.Random, tariff: dict[str, Any], method: str) -> str:
    if method == "qr":  # the backend's payment links expire in its own (real) time
        return f"now-{rng.randint(0, 3600)}"
    return _fixed_start(rng, tariff).isoformat()


def _fixed_start(rng: random.Random, tariff: dict[str, Any]) -> datetime:
    pick = rng.random()
    if pick < 0.15:
        return rng.choice(DST_STARTS) + timedelta(seconds=rng.randint(-120, 120))
    day = datetime(2026, 6, 1, tzinfo=BERLIN) + timedelta(days=rng.randint(0, 13))
    if pick < 0.7:  # a few minutes before a tariff boundary, so the session crosses it
        hour = rng.choice(_boundaries(tariff))
        local = day.replace(hour=hour) - timedelta(seconds=rng.randint(20, 400))
    else:
        local = day.replace(hour=rng.randint(0, 23), minute=rng.randint(0, 59))
    return local.astimezone(UTC)


def generate(seed: int) -> Scenario:
    rng = random.Random(seed)
    method = "qr" if rng.random() < 0.25 else "card"
    tariff = generate_tariff(rng)
    stop = rng.choice(STOPS)
    fault = rng.choice(TERMINAL_FAULTS) if method == "card" else "none"
    transport = "pty" if method == "card" and rng.random() < 0.15 else "tcp"
    if transport == "pty" and rng.random() < 0.5:
        fault = rng.choice(["nak", "no_ack", "drop_ack"])
    hold = rng.choice([300, 1500, 3000, 5000]) if stop == "cap" else rng.choice([3000, 5000, 10000])
    return Scenario(
        seed=seed,
        method=method,
        tariff=tariff,
        start=generate_start(rng, tariff, method),
        hold_minor=hold,
        charge_s=rng.choice([30, 60, 120, 300, 600, 1200]) if stop != "cap" else 3600,
        stop=stop,
        park_s=rng.choice([0, 0, 5, 30, 61, 150, 400]),
        soc=0.97 if stop == "full" else round(rng.uniform(0.1, 0.7), 2),
        ev_max_power_w=rng.choice([3700.0, 7400.0, 11000.0]),
        terminal_fault=fault,
        fault_on=rng.choice(["preauth", "settle"]),
        transport=transport,
    )
