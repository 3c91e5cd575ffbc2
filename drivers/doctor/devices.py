"""Meter, controller and terminal: built from the config by the real drivers, asked once.

The meter reads one value, the controller reports its connector state, the terminal answers a
status enquiry (ZVT 05 01). A simulated device is not asked (the kiosk starts its simulator).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

from drivers.doctor.result import Check, failed, passed, skipped
from drivers.modbus.bus import BusRegistry
from drivers.modbus.factory import build_controller, build_meter
from drivers.modbus.registermap import available_models
from drivers.ocmf_meter.setup import build_signing, split_settings
from drivers.zvt.config import TERMINAL_MODELS, ZvtConfig
from drivers.zvt.link import Timeouts
from drivers.zvt.terminal import ZvtTerminal
from drivers.zvt.transport_serial import SerialSettings
from kiosk.config import DeviceConfig
from kiosk.devices import DeviceError


def _utc_now() -> datetime:
    return datetime.now(UTC)


MODBUS_FIX = (
    "check the wiring (A/B not swapped, termination), that `unit` matches the address set in "
    "the device's menu, and that baud rate and parity match; try by hand with "
    "`evkiosk meter read --help`"
)


def modbus_settings(device: DeviceConfig) -> dict[str, object]:
    """The config's device keys, exactly as the drivers' factory (and so the app) takes them:
    no aliases, so the doctor never passes a config the kiosk would refuse. A signing meter's
    keys (signing, evse_id, missing_rule) go to its signer, not to the live meter."""
    return split_settings(device.settings)[0]


def _model_fix(device: DeviceConfig) -> str:
    return (
        f"set [{device.name}] model to a shipped profile ({', '.join(available_models())}) "
        "or to the path of a register map file"
    )


def check_meter(device: DeviceConfig) -> Check:
    subject = device.name
    if device.hardware != "real":
        return skipped("meter", subject, "simulated: the kiosk starts its simulator")
    registry = BusRegistry()
    try:
        try:
            meter = build_meter(device.name, device.model, modbus_settings(device), registry)
        except ValueError as exc:
            return failed("meter", subject, f"cannot be set up: {exc}", _model_fix(device))
        try:
            reading = meter.read()
        except DeviceError as exc:
            return failed("meter", subject, f"no usable reading: {exc}", MODBUS_FIX)
        power = "" if reading.power_w is None else f", {reading.power_w:.0f} W"
        return passed(
            "meter", subject, f"energy import {reading.energy_import_wh} Wh{power} (just read)"
        )
    finally:
        registry.close_all()


SIGNING_FIX = (
    "a meter without a key cannot bill under calibration law: check the meter's variant "
    "(Eichrecht) and firmware; `evkiosk meter ocmf-identity --help` asks it by hand"
)


def check_signing(device: DeviceConfig) -> Check | None:
    """A signing meter (Eichrecht): its public key, whether it signs, its firmware."""
    signing = split_settings(device.settings)[1]
    if not signing:
        return None
    subject = device.name
    if device.hardware != "real":
        return skipped("signing", subject, "simulated: the kiosk starts its simulator")
    registry = BusRegistry()
    try:
        try:
            meter = build_meter(device.name, device.model, modbus_settings(device), registry)
            setup = build_signing(device.name, signing, meter.link, wall=_utc_now)
        except ValueError as exc:
            return failed("signing", subject, f"cannot be set up: {exc}", _model_fix(device))
        try:
            ident = setup.meter.identity()
        except DeviceError as exc:
            return failed("signing", subject, f"no identity: {exc}", MODBUS_FIX)
        facts = (
            f"{ident.model} serial {ident.serial}, firmware {ident.firmware or 'not in the map'}, "
            f"EVSE id {setup.charge_point_id}"
        )
        if not ident.signing:
            return failed("signing", subject, f"{facts}: NO signing key", SIGNING_FIX)
        return passed("signing", subject, f"{facts}, signing, public key {ident.public_key}")
    finally:
        registry.close_all()


def check_controller(device: DeviceConfig) -> Check:
    subject = device.name
    if device.hardware != "real":
        return skipped("controller", subject, "simulated: the kiosk starts its simulator")
    registry = BusRegistry()
    try:
        try:
            controller = build_controller(
                device.name, device.model, modbus_settings(device), registry
            )
        except ValueError as exc:
            return failed("controller", subject, f"cannot be set up: {exc}", _model_fix(device))
        try:
            status = controller.status()
        except DeviceError as exc:
            return failed("controller", subject, f"no usable state: {exc}", MODBUS_FIX)
        text = (
            f"state {status.state.value} (raw {status.raw_state}), charging "
            f"{'enabled' if status.charging_enabled else 'disabled'}"
        )
        if status.state.is_error:
            flags = f"; flags {', '.join(sorted(status.error_flags))}" if status.error_flags else ""
            return failed(
                "controller",
                subject,
                f"answers, but reports a fault: {text}{flags}",
                "look at the charger (RCD/contactor, pilot wiring, error LEDs) and its manual; "
                "the kiosk will not start sessions on this connector",
            )
        return passed("controller", subject, text)
    finally:
        registry.close_all()


def terminal_config(device: DeviceConfig, timeout_s: float) -> ZvtConfig:
    settings: Mapping[str, object] = device.settings
    port = settings.get("port")
    if "host" in settings:
        port = f"tcp://{settings['host']}:{settings.get('port', 20007)}"
    if not isinstance(port, str):
        raise ValueError("terminal.port: give a serial device or tcp://HOST:PORT")
    baud = settings.get("baudrate", 9600)
    if isinstance(baud, bool) or not isinstance(baud, int):
        raise ValueError(f"terminal.baudrate: must be a whole number, not {baud!r}")
    timeouts = replace(Timeouts(), t2=timeout_s, t3=timeout_s, t4=timeout_s, connect=timeout_s)
    terminal_id = settings.get("terminal_id")
    return ZvtConfig(
        port=port,
        password=str(settings.get("password", "000000")),
        serial=SerialSettings(baudrate=baud),
        timeouts=timeouts,
        terminal_id=str(terminal_id) if terminal_id is not None else None,
    )


def check_terminal(device: DeviceConfig, timeout_s: float) -> Check:
    subject = "terminal"
    if device.model is not None and device.model not in TERMINAL_MODELS:
        return failed(
            "terminal",
            subject,
            f"model {device.model!r} is not a terminal this kiosk speaks to",
            f"set [terminal] model to one of: {', '.join(TERMINAL_MODELS)}",
        )
    if device.hardware != "real":
        return skipped("terminal", subject, "simulated: the kiosk starts its simulator")
    try:
        config = terminal_config(device, timeout_s)
    except ValueError as exc:
        return failed(
            "terminal", subject, f"cannot be set up: {exc}", "fix [terminal] in the config"
        )
    terminal = ZvtTerminal(config)
    try:
        status = terminal.status()
    except Exception as exc:  # a wrong terminal id, a refused registration: all named
        return failed(
            "terminal",
            subject,
            f"status enquiry failed: {exc}",
            "check [terminal] password and terminal_id against the terminal's ECR settings",
        )
    finally:
        terminal.close()
    tid = f"terminal id {status.terminal_id}" if status.terminal_id else "terminal"
    if status.ready:
        said = "" if status.text.strip().lower() == "ready" else f" ({status.text})"
        return passed("terminal", subject, f"{tid} ready{said}")
    if status.raw_status is None:
        return failed(
            "terminal",
            subject,
            f"{config.port}: {status.text}",
            "check that the terminal is on and its ECR interface (ZVT) is enabled on this "
            "port/address at this baud rate, the cable, and [terminal] password",
        )
    return failed(
        "terminal",
        subject,
        f"{tid} answers but is not ready: {status.text} (status {status.raw_status:#04x})",
        "do what the terminal's display asks (e.g. end-of-day, network, initialisation by the "
        "payment provider), then run doctor again",
    )
