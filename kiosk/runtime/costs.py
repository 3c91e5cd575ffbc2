"""Live cost of a running session, from its frozen tariff, through the one tariff engine.

The machine is kept free of tariff arithmetic: the runtime prices every reading as it arrives
(O(1) per reading) and hands the cost to the machine with the reading. After a restart the
tracker is rebuilt from the readings in the journal, so the cost continues where it stopped.
"""

from __future__ import annotations

from typing import Protocol
from zoneinfo import ZoneInfo

from kiosk.devices import MeterReading
from kiosk.journal.csms_cost import PricedSoFar
from kiosk.money import minor_unit_exponent
from kiosk.runtime.offers import tariff_of
from kiosk.snapshot import Amount, CostLine
from kiosk.tariff import LiveCostCalculator


class CostTracker(Protocol):
    def add(self, reading: MeterReading, charging: bool = True) -> int:
        """The session's cost incl. VAT, in minor units, up to this reading."""
        ...

    def lines(self) -> tuple[CostLine, ...]:
        """The cost up to the last reading by price component; they add up to add()'s."""
        ...

    def priced(self) -> PricedSoFar | None:
        """The engine's full breakdown up to the last reading and its periods (None before
        the first reading)."""
        ...


class CostModel(Protocol):
    def start(self, tariff_json: str, start: MeterReading) -> CostTracker: ...


class TariffCostTracker:
    def __init__(self, calculator: LiveCostCalculator) -> None:
        self._calculator = calculator

    def add(self, reading: MeterReading, charging: bool = True) -> int:
        # Only what the journal keeps (time, energy, power, charging or parked) goes in, so
        # the cost can be recomputed from the journal alone and comes out the same.
        # add(): the total only, a few Decimal steps; the full breakdown is built if read.
        return self._calculator.add(
            reading.measured_at,
            reading.energy_import_wh,
            power_w=reading.power_w,
            charging=charging,
        )

    def lines(self) -> tuple[CostLine, ...]:
        # The lines computed with add()'s total (no CostBreakdown is built per reading).
        currency = self._calculator.tariff.currency
        scale = minor_unit_exponent(currency)
        return tuple(
            CostLine(name, Amount(int(gross.scaleb(scale)), currency))
            for name, _, gross in self._calculator.line_amounts()
        )

    def priced(self) -> PricedSoFar | None:
        breakdown = self._calculator.last
        if breakdown is None:
            return None
        return PricedSoFar(breakdown, tuple(self._calculator.periods()))


class TariffCostModel:
    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz

    def start(self, tariff_json: str, start: MeterReading) -> CostTracker:
        tariff = tariff_of(tariff_json)
        calculator = LiveCostCalculator(tariff, self._tz, start.measured_at, start.energy_import_wh)
        return TariffCostTracker(calculator)
