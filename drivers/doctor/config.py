"""The station config: found, parses, every key valid (kiosk.config does the validation)."""

from __future__ import annotations

from pathlib import Path

from drivers.doctor.result import Check, failed, passed
from kiosk.config import ConfigError, StationConfig, load_config


def check_config(path: Path) -> tuple[list[Check], StationConfig | None]:
    if not path.exists():
        return [
            failed(
                "config",
                str(path),
                "no config file here",
                f"create it from the sample (cp assets/samples/station.toml {path}) and edit "
                "it, or pass --config FILE",
            )
        ], None
    try:
        config = load_config(path)
    except ConfigError as exc:
        return [
            failed(
                "config",
                f"{path}:{p.line if p.line is not None else '?'}",
                f"{p.key}: {p.message}",
                f"edit {path}"
                + (f" line {p.line}" if p.line is not None else "")
                + f" ({p.key}), then run doctor again",
            )
            for p in exc.problems
        ], None
    devices = [config.terminal] if config.terminal else []
    devices += [*config.meters.values(), *config.controllers.values()]
    real = sum(1 for d in devices if d is not None and d.hardware == "real")
    return [
        passed(
            "config",
            str(path),
            f"station {config.name!r}: {len(config.connectors)} connector(s), "
            f"{real} real and {len(devices) - real} simulated device(s)",
        )
    ], config
