"""A simulated charging point: meter and charge controller sharing one EV charging model."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import TracebackType

from drivers.charger.controller_map import controller_spec
from drivers.modbus.registermap import load_map
from drivers.modbus_sim.devices import SimulatedController, SimulatedDevice, SimulatedMeter
from drivers.modbus_sim.faults import Fault
from drivers.modbus_sim.model import ChargingModel
from drivers.modbus_sim.server import SimServer

TRANSPORTS = ("tcp", "rtu-tcp", "pty")


def _signing_meter(
    model_name: str,
    model: ChargingModel,
    *,
    unit: int | None,
    key_pem: bytes | None,
    clock: Callable[[], float],
    speed: float,
) -> SimulatedMeter:
    # cryptography is loaded only for a signing simulator
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.hazmat.primitives.serialization import load_pem_private_key  # noqa: PLC0415

    from drivers.modbus_sim.signing import signing_meter  # noqa: PLC0415

    key = None
    if key_pem is not None:
        key = load_pem_private_key(key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the signing key must be an EC private key (secp256r1)")
    started, at = clock(), datetime.now(UTC)

    def wall() -> datetime:
        return at + timedelta(seconds=(clock() - started) * speed)

    options: dict[str, object] = {"wall": wall, "key": key}
    if unit is not None:
        options["unit"] = unit
    return signing_meter(model_name, model, **options)


class SimStation:
    """Start with `SimStation.start(...)`; see the package docstring for the whole API."""

    def __init__(
        self,
        model: ChargingModel,
        meter: SimulatedMeter | None,
        controller: SimulatedController | None,
        servers: list[SimServer],
        urls: dict[str, str],
    ) -> None:
        self.model = model
        self.meter = meter
        self.controller = controller
        self._servers = servers
        self.meter_port = urls.get("meter", "")
        self.controller_port = urls.get("controller", "")

    @classmethod
    def start(
        cls,
        *,
        transport: str = "tcp",
        meter_profile: str | None = "sdm630",
        controller_profile: str | None = "phoenix-ev-eth",
        meter_unit: int | None = None,
        controller_unit: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        speed: float = 1.0,
        watchdog_s: float | None = None,
        baudrate: int = 9600,
        host: str = "127.0.0.1",
        ports: tuple[int, int] = (0, 0),
        signing: str | None = None,
        signing_key_pem: bytes | None = None,
    ) -> SimStation:
        """`signing` ("em580", "wm3m4c"): the meter is that signing meter (OCMF), showing its
        live values too; it signs with the PEM key given (a new key each start otherwise) and
        its clock runs at the model's speed from the real time of the start."""
        if transport not in TRANSPORTS:
            raise ValueError(f"transport {transport!r} must be one of {', '.join(TRANSPORTS)}")
        model = ChargingModel(clock=clock, speed=speed)
        meter = controller = None
        if signing:
            meter = _signing_meter(
                signing, model, unit=meter_unit, key_pem=signing_key_pem, clock=clock, speed=speed
            )
        elif meter_profile:
            regmap = load_map(meter_profile)
            meter = SimulatedMeter(regmap, model, meter_unit or regmap.comms.unit)
        if controller_profile:
            spec = controller_spec(load_map(controller_profile))
            unit = controller_unit or spec.regmap.comms.unit
            if transport != "tcp" and controller_unit is None and unit > 247:
                unit = 2  # a TCP-only default (e.g. 255) is no RTU address
            if meter is not None and transport != "tcp" and unit == meter.unit:
                unit = meter.unit + 1  # one RS485 line: the two devices need distinct ids
            controller = SimulatedController(spec, model, unit)
            model.watchdog_s = watchdog_s if watchdog_s is not None else spec.watchdog_s
        servers: list[SimServer] = []
        urls: dict[str, str] = {}
        try:
            if transport == "tcp":
                # Separate devices with their own Ethernet ports.
                for (role, device), port in zip(
                    (("meter", meter), ("controller", controller)), ports, strict=True
                ):
                    if device is not None:
                        server = SimServer([device], "tcp", host=host, port=port)
                        servers.append(server)
                        urls[role] = server.url
            else:
                on_bus: list[SimulatedDevice] = [d for d in (meter, controller) if d is not None]
                server = SimServer(on_bus, transport, host=host, port=ports[0], baudrate=baudrate)
                servers.append(server)
                urls = {"meter": server.url, "controller": server.url}
        except BaseException:
            for s in servers:
                s.close()
            raise
        return cls(model, meter, controller, servers, urls)

    # ------------------------------------------------------------------ the car

    def plug_in(self, soc: float | None = None) -> None:
        self.model.plug_in(soc)

    def unplug(self) -> None:
        self.model.unplug()

    def set_ev(
        self,
        *,
        soc: float | None = None,
        max_power_w: float | None = None,
        capacity_wh: float | None = None,
    ) -> None:
        self.model.set_ev(soc=soc, max_power_w=max_power_w, capacity_wh=capacity_wh)

    def set_controller_error(self, state: str | None) -> None:
        """Put the controller into IEC state E or F (None clears it)."""
        self.model.set_error(state)

    # ------------------------------------------------------------------ faults

    def _device(self, target: str) -> SimulatedDevice:
        device = {"meter": self.meter, "controller": self.controller}.get(target)
        if device is None:
            raise ValueError(f"no simulated {target!r} in this station")
        return device

    def inject(
        self, target: str, fault: Fault | str, count: int | None = None, delay_s: float = 1.0
    ) -> None:
        fault = Fault(fault)
        if fault is Fault.COUNTER_RESET:
            self._device(target)  # checks the target exists
            self.model.reset_counter()
            return
        self._device(target).faults.inject(fault, count, delay_s)

    def clear_faults(self, target: str | None = None) -> None:
        for name in ("meter", "controller") if target is None else (target,):
            device = {"meter": self.meter, "controller": self.controller}.get(name)
            if device is not None:
                device.faults.clear()

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        for server in self._servers:
            server.close()
        self._servers.clear()

    def __enter__(self) -> SimStation:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
