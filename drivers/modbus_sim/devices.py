"""Simulated meter and controller as pymodbus `SimDevice`s, built from the same map files.

The register image is computed from the charging model when a request arrives (pymodbus calls
the device's action coroutine with the live register block), so every read sees the model at
that moment. Only the addresses a map declares (plus the holes its block reads span) exist;
anything else draws exception 2, as on a real device. The model's limits are enforced like the
manuals say: more than `max_registers` per request → exception 3; odd start or count on a model
that needs even ones → exception 2.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from pymodbus.constants import ExcCodes
from pymodbus.simulator import DataType, SimData, SimDevice

from drivers.charger.controller_map import ControllerSpec
from drivers.modbus.planner import plan_blocks
from drivers.modbus.registermap import RegisterMap, RegisterSpec
from drivers.modbus_sim.faults import Fault, FaultInjector
from drivers.modbus_sim.model import ChargingModel

READ_FUNCTIONS = (3, 4)
WRITE_REGISTER_FUNCTIONS = (6, 16)
WRITE_COIL_FUNCTIONS = (5, 15)
# Pymodbus needs every one of the four tables non-empty; this filler sits far from real maps.
_FILLER_ADDRESS = 65000


def _ranges(
    specs: Iterable[RegisterSpec], regmap: RegisterMap, function: int
) -> list[tuple[int, int]]:
    blocks = [b for b in plan_blocks(specs, regmap.limits) if b.function == function]
    merged: list[tuple[int, int]] = []
    for block in sorted(blocks, key=lambda b: b.address):
        start, end = block.address, block.address + block.count
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _register_table(ranges: list[tuple[int, int]]) -> list[SimData]:
    if not ranges:
        return [SimData(_FILLER_ADDRESS, values=0, datatype=DataType.REGISTERS)]
    return [SimData(a, count=e - a, values=0, datatype=DataType.REGISTERS) for a, e in ranges]


def _bits(addresses: Iterable[int]) -> list[SimData]:
    starts = sorted({a - a % 16 for a in addresses}) or [_FILLER_ADDRESS - _FILLER_ADDRESS % 16]
    return [SimData(s, values=[False] * 16, datatype=DataType.BITS) for s in starts]


class SimulatedDevice:
    def __init__(self, regmap: RegisterMap, model: ChargingModel, unit: int) -> None:
        self.regmap = regmap
        self.model = model
        self.unit = unit
        self.faults = FaultInjector(seed=unit)
        self.requests = 0
        self._documented: dict[int, set[int]] = {}
        for spec in regmap.registers.values():
            words = range(spec.address, spec.address + spec.count)
            self._documented.setdefault(spec.function, set()).update(words)

    def image(self) -> dict[int, int]:
        """Register address -> value for the registers computed from the model."""
        raise NotImplementedError

    def coil_addresses(self) -> list[int]:
        return []

    def extra_holding(self) -> list[tuple[int, int]]:
        return []

    def simdevice(self) -> SimDevice:
        specs = list(self.regmap.registers.values())
        holding = _ranges(specs, self.regmap, 3) + self.extra_holding()
        tables = (
            _bits(self.coil_addresses()),
            _bits([]),
            _register_table(sorted(holding)),
            _register_table(_ranges(specs, self.regmap, 4)),
        )
        device = SimDevice(self.unit, simdata=tables, action=self._action)
        return device

    async def _action(  # noqa: PLR0917 - the signature pymodbus calls
        self,
        function: int,
        start: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        self.requests += 1
        if self.faults.take(Fault.EXCEPTION):
            return ExcCodes.DEVICE_FAILURE
        slow = self.faults.take(Fault.SLOW)
        if slow:
            await asyncio.sleep(slow.delay_s)
        if function in READ_FUNCTIONS:
            limits = self.regmap.limits
            if count > limits.max_registers:
                return ExcCodes.ILLEGAL_VALUE
            if limits.even_alignment and (address % 2 or count % 2):
                return ExcCodes.ILLEGAL_ADDRESS
            if count > 4 and self.faults.take(Fault.BLOCK_REFUSED):
                return ExcCodes.ILLEGAL_ADDRESS
            documented = self._documented.get(function, set())
            span = range(address, address + count)
            if not documented.issuperset(span) and self.faults.take(Fault.HOLES_REFUSED):
                return ExcCodes.ILLEGAL_ADDRESS
            image = self.image()
            for offset in range(count):
                value = image.get(address + offset)
                if value is not None:
                    registers[address - start + offset] = value
            return None
        if values is None:
            return None  # coil and discrete-input reads: the stored bits are the truth
        return self.on_write(function, address, values)

    def on_write(
        self, function: int, address: int, values: list[int] | list[bool]
    ) -> ExcCodes | None:
        return ExcCodes.ILLEGAL_FUNCTION


class SimulatedMeter(SimulatedDevice):
    """A meter of any shipped model, showing the model's electrical values."""

    _frozen: dict[int, int] | None = None

    def image(self) -> dict[int, int]:
        if self.faults.active(Fault.FROZEN):
            if self._frozen is None:
                self._frozen = self._live_image()
            return self._frozen
        self._frozen = None
        return self._live_image()

    def _live_image(self) -> dict[int, int]:
        v = self.model.values()
        by_name: dict[str, float] = {
            "power_total": v.power_total_w,
            "frequency": v.frequency_hz,
            "energy_import": v.import_wh,
            "energy_export": v.export_wh,
        }
        for i, phase in enumerate(("l1", "l2", "l3")):
            if i < len(v.voltage_v):
                by_name[f"voltage_{phase}"] = v.voltage_v[i]
                by_name[f"current_{phase}"] = v.current_a[i]
                by_name[f"power_{phase}"] = v.power_w[i]
        for spec in self.regmap.registers.values():
            if spec.exponent is not None:
                by_name[spec.exponent] = 0.0  # the counter in the register's own unit
        no_value = self.faults.active(Fault.NO_VALUE)
        image: dict[int, int] = {}
        for spec in self.regmap.registers.values():
            value = by_name.get(spec.name)
            if value is None:
                continue
            regs = spec.encode_no_value() if no_value else spec.encode(value)
            for offset, reg in enumerate(regs):
                image[spec.address + offset] = reg
        return image


class SimulatedController(SimulatedDevice):
    """A charge controller: state from the model, enable and current written by the master."""

    def __init__(self, spec: ControllerSpec, model: ChargingModel, unit: int) -> None:
        super().__init__(spec.regmap, model, unit)
        self.spec = spec
        self.setup_values: dict[int, int] = {w.address: 0 for w in spec.setup}
        self.coil_on = False

    def coil_addresses(self) -> list[int]:
        return [self.spec.enable_address] if self.spec.enable_address is not None else []

    def extra_holding(self) -> list[tuple[int, int]]:
        return [(a, a + 1) for a in self.setup_values]

    def image(self) -> dict[int, int]:
        spec = self.spec
        letter, suffix = self.model.iec_state()
        image = {spec.state.address: spec.encode_state(letter, suffix)}
        signalled = self.regmap.registers.get("signalled_current")
        if signalled is not None:
            amps = self.model.effective_current_a() if letter == "C" else 0.0
            for offset, reg in enumerate(signalled.encode(amps)):
                image[signalled.address + offset] = reg
        if spec.errors is not None:
            bits = 0
            if self.model.error_state == "E":
                bits |= 1 << 1  # vehicle state E
            for offset, reg in enumerate(spec.errors.encode(bits)):
                image[spec.errors.address + offset] = reg
        limit = spec.current
        written = limit.encode(self.model.current_limit_a if self._enabled_by_current() else 0)
        for offset, reg in enumerate(written):
            image[limit.address + offset] = reg
        for address, value in self.setup_values.items():
            image[address] = value
        return image

    def _enabled_by_current(self) -> bool:
        return self.spec.enable_kind == "coil" or self.model.enabled

    def _setup_ok(self) -> bool:
        return all(self.setup_values[w.address] == w.value for w in self.spec.setup)

    def on_write(
        self, function: int, address: int, values: list[int] | list[bool]
    ) -> ExcCodes | None:
        spec = self.spec
        if function in WRITE_COIL_FUNCTIONS:
            if address != spec.enable_address:
                return ExcCodes.ILLEGAL_ADDRESS
            self.coil_on = bool(values[0])
            # Like the real controller: the coil only counts once the enable source is the coil.
            self.model.set_enabled(self.coil_on and self._setup_ok())
            return None
        if function not in WRITE_REGISTER_FUNCTIONS:
            return ExcCodes.ILLEGAL_FUNCTION
        regs = [int(v) for v in values]
        if address in self.setup_values and len(regs) == 1:
            self.setup_values[address] = regs[0]
            return None
        if address != spec.current.address or len(regs) != spec.current.count:
            return ExcCodes.ILLEGAL_ADDRESS
        amps = spec.current.decode(regs) or 0.0
        if amps and not spec.min_a <= amps <= spec.max_a:
            return ExcCodes.ILLEGAL_VALUE
        if spec.enable_kind == "current_zero":
            self.model.set_enabled(amps > 0)
            if amps:
                self.model.write_current(amps)
            else:
                self.model.write_current(self.model.current_limit_a)
        else:
            self.model.write_current(amps)
        return None
