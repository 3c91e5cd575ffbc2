"""Options of `evkiosk run --simulate` that reshape the station: --connectors N, --vnc."""

from __future__ import annotations

from dataclasses import replace

from kiosk.config import DeviceConfig, StationConfig

MAX_CONNECTORS = 24


def with_connectors(config: StationConfig, count: int) -> StationConfig:
    """The same station with `count` connectors, copied in turn from the configured ones, each
    with a meter and a controller of its own (simulated)."""
    if not 1 <= count <= MAX_CONNECTORS:
        raise ValueError(f"--connectors {count}: must be between 1 and {MAX_CONNECTORS}")
    if not config.connectors:
        raise ValueError("--connectors: the config has no [[connector]] to copy")
    connectors = []
    meters: dict[str, DeviceConfig] = {}
    controllers: dict[str, DeviceConfig] = {}
    for i in range(1, count + 1):
        template = config.connectors[(i - 1) % len(config.connectors)]
        key = f"sim{i}"
        meter = config.meters[template.meter]
        controller = config.controllers[template.controller]
        meters[key] = replace(meter, name=f"meters.{key}", hardware="simulated")
        controllers[key] = replace(controller, name=f"controllers.{key}", hardware="simulated")
        connectors.append(replace(template, id=str(i), label=str(i), meter=key, controller=key))
    return replace(config, connectors=tuple(connectors), meters=meters, controllers=controllers)


def vnc_platform(where: str, size: tuple[int, int] | None) -> str:
    """QT_QPA_PLATFORM for Qt's VNC platform from `--vnc :5900` (or `5900`)."""
    port_text = where.rpartition(":")[2]
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"--vnc {where!r}: expected :PORT, e.g. :5900")
    width, height = size or (1280, 800)
    return f"vnc:size={width}x{height}:port={int(port_text)}"
