"""The line commands a simulator subprocess takes on stdin (see the package docstring)."""

from __future__ import annotations

import json

from drivers.modbus_sim.faults import Fault
from drivers.modbus_sim.station import SimStation

HELP = (
    "commands: plug [SOC] | unplug | ev soc=F max_power_w=W capacity_wh=WH | "
    "enable on|off | error E|F|none | fault meter|controller NAME [COUNT] [delay_s=S] | "
    "clear [meter|controller] | status | records"
)


def _keywords(parts: list[str]) -> dict[str, float]:
    out = {}
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"expected key=value, got {part!r}")
        out[key] = float(value)
    return out


def execute(station: SimStation, line: str) -> str:
    """Run one command; returns "ok", a JSON status, or raises ValueError with the reason."""
    words = line.split()
    if not words:
        return "ok"
    command, rest = words[0].lower(), words[1:]
    if command == "plug":
        station.plug_in(float(rest[0]) if rest else None)
    elif command == "unplug":
        station.unplug()
    elif command == "ev":
        kw = _keywords(rest)
        unknown = set(kw) - {"soc", "max_power_w", "capacity_wh"}
        if unknown:
            raise ValueError(f"unknown ev setting(s): {', '.join(sorted(unknown))}")
        station.set_ev(
            soc=kw.get("soc"), max_power_w=kw.get("max_power_w"), capacity_wh=kw.get("capacity_wh")
        )
    elif command == "enable":
        if rest not in (["on"], ["off"]):
            raise ValueError("enable takes on or off")
        station.model.set_enabled(rest[0] == "on")
    elif command == "error":
        if len(rest) != 1 or rest[0] not in ("E", "F", "none"):
            raise ValueError("error takes E, F or none")
        station.set_controller_error(None if rest[0] == "none" else rest[0])
    elif command == "fault":
        if len(rest) < 2:
            raise ValueError("fault takes a target and a fault name")
        target, name = rest[0], rest[1]
        names = ", ".join(f.value for f in Fault)
        try:
            fault = Fault(name)
        except ValueError:
            raise ValueError(f"unknown fault {name!r}; one of {names}") from None
        count = int(rest[2]) if len(rest) > 2 and "=" not in rest[2] else None
        kw = _keywords([p for p in rest[2:] if "=" in p])
        station.inject(target, fault, count, kw.get("delay_s", 1.0))
    elif command == "clear":
        station.clear_faults(rest[0] if rest else None)
    elif command == "records":
        records = getattr(station.meter, "records", None)
        if records is None:
            raise ValueError("the meter does not sign (start it with --signing)")
        return json.dumps(records)  # every OCMF payload/record it signed, oldest first
    elif command == "status":
        model = station.model
        letter, suffix = model.iec_state()
        values = model.values()
        return json.dumps(
            {
                "state": letter + suffix,
                "plugged": model.plugged,
                "enabled": model.enabled,
                "soc": round(model.soc, 4),
                "power_w": round(values.power_total_w, 1),
                "import_wh": round(values.import_wh, 1),
                "current_limit_a": model.current_limit_a,
            }
        )
    else:
        raise ValueError(f"unknown command {command!r}; {HELP}")
    return "ok"
