"""The panel: a display device the kiosk's user may draw on, and a touchscreen it may read.

linuxfb with DRM needs read/write on /dev/dri/card* (group video), the plain framebuffer
/dev/fb*; touch comes from /dev/input/event* (group input). A machine without them (a server,
a container) gets warnings, not failures: the kiosk can still run headless there.
"""

from __future__ import annotations

import stat
from pathlib import Path

from drivers.doctor.ports import Identity, group_name, may_access
from drivers.doctor.result import Check, failed, passed, warned


def _nodes(dev: Path, pattern: str) -> list[Path]:
    found = []
    for path in sorted(dev.glob(pattern)):
        try:
            if stat.S_ISCHR(path.stat().st_mode):
                found.append(path)
        except OSError:
            continue
    return found


def _join(who: Identity, nodes: list[Path]) -> str:
    groups = sorted({group_name(p.stat().st_gid) for p in nodes})
    return (
        f"add {who.name} to group {' or '.join(groups)}: sudo usermod -aG {groups[0]} {who.name}, "
        "then restart the service"
    )


def check_display(who: Identity, dev: Path = Path("/dev")) -> list[Check]:
    checks: list[Check] = []
    outputs = _nodes(dev, "dri/card*") or _nodes(dev, "fb[0-9]*")
    if not outputs:
        checks.append(
            warned(
                "display",
                str(dev / "dri"),
                "no display device (no DRM card, no framebuffer)",
                "on the panel, enable the display driver (on a Pi: dtoverlay=vc4-kms-v3d in "
                "config.txt); a machine without a screen needs none",
            )
        )
    else:
        usable = [p for p in outputs if may_access(p.stat(), who, write=True)]
        names = ", ".join(str(p) for p in outputs)
        if usable:
            checks.append(passed("display", names, f"{who.name} may draw on {usable[0]}"))
        else:
            checks.append(
                failed(
                    "display", names, f"{who.name} may not open any of them", _join(who, outputs)
                )
            )
    inputs = _nodes(dev, "input/event*")
    if not inputs:
        checks.append(
            warned(
                "touch",
                str(dev / "input"),
                "no input devices",
                "connect the touchscreen (its USB cable carries touch on most panels)",
            )
        )
        return checks
    readable = [p for p in inputs if may_access(p.stat(), who, write=False)]
    subject = f"{dev / 'input'}/event*"
    if readable:
        checks.append(
            passed("touch", subject, f"{who.name} may read {len(readable)} of {len(inputs)}")
        )
    else:
        checks.append(
            failed(
                "touch", subject, f"{who.name} may read none of {len(inputs)}", _join(who, inputs)
            )
        )
    return checks
