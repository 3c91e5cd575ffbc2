"""Before Qt starts: would its X11 (xcb) platform load? Qt aborts the process when a library of
its xcb plugin is missing and names only one of them; this names them all and the Debian
packages that bring them, so `evkiosk run` can exit with a clear message instead."""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping

# Libraries PySide6's xcb plugin links against (ldd on the wheel's libqxcb.so and
# libQt6XcbQpa.so), with the Debian packages that bring them.
XCB_LIBRARIES: Mapping[str, str] = {
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}


def uses_xcb(env: Mapping[str, str]) -> bool:
    """Whether Qt will pick its xcb platform: asked for, or the default on an X11 session."""
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(":")[0].split(";")[0] == "xcb"
    return bool(env.get("DISPLAY")) and not env.get("WAYLAND_DISPLAY")


def missing_libraries(libraries: Mapping[str, str] = XCB_LIBRARIES) -> dict[str, str]:
    missing = {}
    for name, package in libraries.items():
        try:
            ctypes.CDLL(name)
        except OSError:
            missing[name] = package
    return missing


def xcb_problem(
    env: Mapping[str, str] | None = None, libraries: Mapping[str, str] = XCB_LIBRARIES
) -> str | None:
    """What stops Qt from opening a window (no display at all, or xcb libraries missing) as a
    message saying what to do, or None."""
    env = os.environ if env is None else env
    if not (env.get("QT_QPA_PLATFORM") or env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return (
            "there is no display here (no X11 or Wayland session, no QT_QPA_PLATFORM). "
            "Run headless with --vnc :5900 and connect a VNC viewer to port 5900, or with "
            "QT_QPA_PLATFORM=offscreen and --screenshots DIR; on a panel without a desktop use "
            "QT_QPA_PLATFORM=linuxfb (docs/deployment.md)"
        )
    if not uses_xcb(env):
        return None
    missing = missing_libraries(libraries)
    if not missing:
        return None
    packages = " ".join(sorted(set(missing.values())))
    return (
        f"Qt's X11 (xcb) platform needs {', '.join(missing)}, which are not installed. "
        f"Install them with: sudo apt-get install {packages} "
        "(or run headless: --vnc :5900, or QT_QPA_PLATFORM=offscreen with --screenshots DIR)"
    )
