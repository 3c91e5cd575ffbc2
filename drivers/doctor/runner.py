"""Run every check in order and render the report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from drivers.doctor.backend import check_backend
from drivers.doctor.config import check_config
from drivers.doctor.devices import (
    check_controller,
    check_meter,
    check_signing,
    check_terminal,
)
from drivers.doctor.display import check_display
from drivers.doctor.host import check_clock, check_disk
from drivers.doctor.journal import check_journal
from drivers.doctor.ports import Identity, check_port, ports_in, serial_port_of
from drivers.doctor.result import Check, Outcome, failed, skipped
from kiosk.config import DeviceConfig
from kiosk.ops.journalfile import users_of


@dataclass(frozen=True)
class DoctorOptions:
    config: Path
    identity: Identity = field(default_factory=Identity.current)
    timeout_s: float = 5.0  # terminal and backend; Modbus devices use their configured timeout
    min_free_mb: int = 200
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    timedatectl: str | None = "timedatectl"
    proc_root: Path = Path("/proc")
    dev_root: Path = Path("/dev")


def run_doctor(options: DoctorOptions) -> list[Check]:
    checks, config = check_config(options.config)
    checks.append(check_clock(options.now(), options.timedatectl))
    if config is None:
        checks.append(
            skipped("devices", "all", "not checked: the config must load first (see above)")
        )
        return checks
    # A running kiosk owns its devices: a status enquiry in the middle of its payment could
    # break the payment. Ask nothing then.
    kiosk = users_of(config.journal_path) if config.journal_path.exists() else []
    if kiosk:
        checks.append(
            failed(
                "kiosk",
                str(config.journal_path),
                "the kiosk is running (" + ", ".join(k.describe() for k in kiosk) + "): "
                "its devices were not asked",
                "systemctl stop evkiosk, run doctor again, then systemctl start evkiosk",
            )
        )
    bad_ports: set[str] = set()
    for port, users in ports_in(config).items():
        result = check_port(port, users, options.identity, options.proc_root)
        checks.append(result)
        if result.outcome is Outcome.FAIL:
            bad_ports.add(port)

    checks.extend(check_display(options.identity, options.dev_root))

    def blocked(device: DeviceConfig, area: str) -> Check | None:
        if kiosk and device.hardware == "real":
            return skipped(area, device.name, "not asked: the kiosk is running (see above)")
        port = serial_port_of(device)
        if port in bad_ports:
            return skipped(area, device.name, f"not asked: its port {port} failed above")
        return None

    if config.terminal is not None:
        checks.append(
            blocked(config.terminal, "terminal")
            or check_terminal(config.terminal, options.timeout_s)
        )
    for meter in config.meters.values():
        checks.append(blocked(meter, "meter") or check_meter(meter))
        signed = check_signing(meter)  # None: the meter does not sign
        if signed is not None:
            checks.append(blocked(meter, "signing") or signed)
    for controller in config.controllers.values():
        checks.append(blocked(controller, "controller") or check_controller(controller))
    if config.backend is not None:
        checks.append(check_backend(config.backend, options.timeout_s, options.now()))
    else:
        checks.append(skipped("backend", "-", "no [backend] configured: QR payments are off"))
    if config.ocpp is not None:
        if kiosk:  # a second connection with the station's identity would replace the kiosk's
            checks.append(skipped("csms", config.ocpp.endpoint, "not asked: the kiosk is running"))
        else:
            from drivers.doctor.csms import check_csms  # noqa: PLC0415 (websockets: only if used)

            checks.append(check_csms(config.ocpp, options.timeout_s))
    checks.append(check_disk(config.journal_path, options.min_free_mb))
    checks.append(check_journal(config.journal_path))
    return checks


MARKS = {Outcome.PASS: "ok  ", Outcome.WARN: "WARN", Outcome.FAIL: "FAIL", Outcome.SKIP: "skip"}


def render(checks: list[Check]) -> list[str]:
    lines = []
    for c in checks:
        lines.append(f"[{MARKS[c.outcome]}] {c.area:10} {c.subject}: {c.detail}")
        if c.fix and c.outcome in (Outcome.FAIL, Outcome.WARN):
            lines.append(f"       {'':10} -> {c.fix}")
    counts = {o: sum(1 for c in checks if c.outcome is o) for o in Outcome}
    lines.append("")
    lines.append(
        f"{counts[Outcome.PASS]} passed, {counts[Outcome.FAIL]} failed, "
        f"{counts[Outcome.WARN]} warnings, {counts[Outcome.SKIP]} skipped"
    )
    return lines
