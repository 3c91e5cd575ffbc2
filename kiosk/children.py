"""Child processes that end with the kiosk: the embedded backend and the device simulators.

A parent starts a child with ``env=child_environment()``; the child's ``evkiosk`` entry point
calls :func:`exit_with_parent`, which asks Linux to send it SIGTERM when the parent dies
(``prctl(PR_SET_PDEATHSIG)``). Without this a kiosk killed by the watchdog, by ``kill -9`` or
by a crash would leave its simulators and backend holding their ports.

The signal follows the *thread* that started the child, so start children from a thread that
lives as long as the process (the main thread).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PARENT_PID_VARIABLE = "EVKIOSK_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def child_environment() -> dict[str, str]:
    """The environment for a child that must not outlive this process."""
    return {**os.environ, PARENT_PID_VARIABLE: str(os.getpid())}


def exit_with_parent() -> bool:
    """Arm the parent-death signal if a parent asked for it; True when armed."""
    parent = os.environ.pop(PARENT_PID_VARIABLE, None)
    if parent is None or not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        return False
    if str(os.getppid()) != parent:  # the parent died before the signal was armed
        os.kill(os.getpid(), signal.SIGTERM)
    return True
