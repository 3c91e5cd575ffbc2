"""A whole station behind the real window: the core runtime, the ZVT terminal simulator over
TCP and a Modbus TCP meter and controller simulator, reached through the real drivers, built
by the app's own composition root. One hand-driven clock moves the runtime, the meter's time
stamps and the simulated car together; the screen reads the same clock."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from uirig import PIN_HASH, Kiosk

from kiosk.config import load_config
from kiosk.runtime.clock import FakeClock
from kiosk.snapshot import StationSnapshot
from ui import app as kiosk_app
from ui.composition import Assembly, assemble
from ui.settings import UiSettings

T0 = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)  # a Saturday morning: no peak-hour price


def tariff(price: str, preauth: str | None = None) -> dict[str, object]:
    data: dict[str, object] = {
        "country_code": "DE",
        "party_id": "EVK",
        "id": "UI-TEST",
        "currency": "EUR",
        "type": "AD_HOC_PAYMENT",
        "tax_included": "YES",
        "elements": [
            {
                "price_components": [
                    {"type": "ENERGY", "price": float(price), "vat": 19, "step_size": 1}
                ]
            }
        ],
        "last_updated": "2026-01-01T00:00:00Z",
    }
    if preauth is not None:
        data["preauthorize_amount"] = float(preauth)
    return data


BACKEND = """
[backend]
url = "http://127.0.0.1:9"
station_id = "UI-TEST-1"
token = "unused-the-embedded-backend-issues-one"
hardware = "simulated"
"""


def station_toml(
    hold_minor: int, plug_in_s: int = 180, price_confirm_s: int = 90, backend: bool = False
) -> str:
    return (
        (BACKEND if backend else "")
        + f"""
[station]
name = "Testplatz"
locales = ["de", "en"]
timezone = "Europe/Berlin"
journal = "journal.db"

[payment]
hold_minor = {hold_minor}
cap_margin_minor = 100
cap_margin_percent = 5

[timeouts]
price_confirm_s = {price_confirm_s}
card_wait_s = 120
plug_in_s = {plug_in_s}
plug_in_extension_s = 120
start_s = 120
meter_stale_s = 30
stopping_s = 20
receipt_s = 60

[terminal]
hardware = "simulated"
model = "zvt"
port = "/dev/null"

[meters.left]
hardware = "simulated"
model = "sdm630"
port = "/dev/null"

[controllers.left]
hardware = "simulated"
model = "phoenix-ev-eth"
port = "/dev/null"

[[connector]]
id = "1"
label = "Links"
type = "Type 2"
max_kw = 11
tariff = "tariff.json"
meter = "left"
controller = "left"
"""
    )


@dataclass
class Flow(Kiosk):
    """The Kiosk test rig (find, tap, texts) on a window fed by the real runtime."""

    asm: Assembly | None = None
    fake: FakeClock | None = None
    qtbot: object = None

    @property
    def snap(self) -> StationSnapshot:
        assert self.asm is not None and self.asm.runtime.snapshot is not None
        return self.asm.runtime.snapshot

    def settle(self) -> None:
        assert self.asm is not None
        assert self.asm.runtime.wait_idle(30), "the runtime did not settle"
        seq = self.snap.seq
        self.qtbot.waitUntil(  # type: ignore[attr-defined]
            lambda: self.window.snapshot is not None and self.window.snapshot.seq >= seq,
            timeout=60_000,
        )

    def advance(self, seconds: int, step: int = 1) -> None:
        assert self.fake is not None
        for _ in range(0, seconds, step):
            self.fake.advance(step)
            self.settle()
            # the window's own tick runs on real time: give it the station's moved clock
            self.window.tick()

    def tap(self, name: str) -> None:
        super().tap(name)
        self.settle()

    def tick(self, seconds: float = 1.0) -> None:
        self.advance(int(seconds))


def start_flow(
    tmp: Path,
    qtbot: object,
    *,
    price: str = "0.50",
    hold_minor: int = 5000,
    preauth: str | None = None,
    plug_in_s: int = 180,
    price_confirm_s: int = 90,
    backend: bool = False,
    start: datetime = T0,
) -> Flow:
    (tmp / "tariff.json").write_text(json.dumps(tariff(price, preauth)))
    toml = station_toml(hold_minor, plug_in_s, price_confirm_s, backend)
    (tmp / "station.toml").write_text(toml)
    config = load_config(tmp / "station.toml")
    fake = FakeClock(start)
    asm = assemble(config, simulate=True, state_dir=tmp / "state", clock=fake)
    parts = kiosk_app.build(
        asm.runtime,
        settings=UiSettings(service_pin_hash=PIN_HASH, dpi=96),
        zone=asm.zone,
        service=asm.service,
        simulator=asm.simulator,
        clock=fake.now,
    )
    window = parts.window
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.resize(800, 480)
    window.show()
    if parts.panel is not None:
        qtbot.addWidget(parts.panel)  # type: ignore[attr-defined]
    asm.start()
    if backend:  # the embedded backend starts beside the kiosk: QR is offered once it answers
        qtbot.waitUntil(  # type: ignore[attr-defined]
            lambda: (
                asm.runtime.reporting.outbox is not None
                and asm.runtime.reporting.outbox.online is True
            ),
            timeout=120_000,
        )
    flow = Flow(window, None, None, asm=asm, fake=fake, qtbot=qtbot)  # type: ignore[arg-type]
    flow.panel = parts.panel  # type: ignore[attr-defined]
    flow.bridge = parts.bridge  # type: ignore[attr-defined]
    flow.advance(2)
    return flow
