"""The live cost calculator: meter readings in, the running cost out, O(1) per reading."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from kiosk.tariff.engine import CostBreakdown
from kiosk.tariff.model import Tariff
from kiosk.tariff.periods import ChargingPeriod


class LiveCostCalculator:
    def __init__(self, tariff: Tariff, tz: ZoneInfo, start: datetime, start_energy_wh: int) -> None:
        self.tariff = tariff
        self.tz = tz
        self.start = start
        self.start_energy_wh = start_energy_wh

    def add_reading(
        self,
        at: datetime,
        energy_wh: int,
        power_w: float | None = None,
        current_a: float | None = None,
        charging: bool = True,
    ) -> CostBreakdown:
        raise NotImplementedError

    def periods(self) -> list[ChargingPeriod]:
        raise NotImplementedError
