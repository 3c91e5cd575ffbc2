"""Child processes that end with the kiosk: the embedded backend and the device simulators.

A parent starts a child with ``env=child_environment()``; the child's ``evkiosk`` entry point
calls :func:`exit_with_parent`, which asks Linux to send it SIGTERM when the parent dies
(``prctl(PR_SET_PDEATHSIG)``). Without this a kiosk killed by the watchdog, by ``kill -9`` or
by a crash would leave its simulators and backend holding their ports.

The signal follows the *thread* that started the child, so children are started with
:func:`spawn`, which runs ``subprocess.Popen`` on a thread that lives as long as the process
(the main thread, or one spawner thread): the app builds its station on a thread that ends.
"""

from __future__ import annotations

import ctypes
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

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


_Job = tuple[Callable[[], "subprocess.Popen[Any]"], "Future[subprocess.Popen[Any]]"]
_jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
_spawner_lock = threading.Lock()
_spawner: list[threading.Thread] = []  # the one spawner thread, once started


def spawn(*args: Any, **kwargs: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen(*args, **kwargs)`` from a thread that lives as long as the process,
    so a child armed with :func:`exit_with_parent` is not ended when the caller's thread is."""
    if threading.current_thread() is threading.main_thread():
        return subprocess.Popen(*args, **kwargs)
    with _spawner_lock:
        if not _spawner:
            _spawner.append(threading.Thread(target=_serve, name="child-spawner", daemon=True))
            _spawner[0].start()
    done: Future[subprocess.Popen[Any]] = Future()
    _jobs.put((lambda: subprocess.Popen(*args, **kwargs), done))
    return done.result()


def _serve() -> None:
    while True:
        start, done = _jobs.get()
        try:
            done.set_result(start())
        except BaseException as exc:  # the caller gets it (a missing file, a bad argument)
            done.set_exception(exc)
