"""The crash drills' zygote (tests/killdrill.py): every run is a new process, forked from one
that only imported the script, and ends as `python script.py` would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.killdrill import Zygote

SCRIPT = """
import json, os, signal, sys, threading

RUNS = []  # what earlier runs did to module state must not reach a later run


def main():
    RUNS.append(sys.argv[1])
    print(json.dumps({"pid": os.getpid(), "parent": os.getppid(), "runs": RUNS}), flush=True)
    if sys.argv[1] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if sys.argv[1] == "fail":
        raise ValueError("the run failed")
    if sys.argv[1] == "hang":
        threading.Event().wait()
    return int(sys.argv[2]) if len(sys.argv) > 2 else 0


if __name__ == "__main__":
    raise SystemExit(main())
"""


@pytest.fixture
def zygote(tmp_path: Path) -> Iterator[Zygote]:
    script = tmp_path / "station.py"
    script.write_text(SCRIPT)
    with Zygote(script) as z:
        yield z


def printed(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    return dict(json.loads(done.stdout.splitlines()[0]))


def test_each_run_is_a_new_process_from_the_freshly_imported_script(zygote: Zygote) -> None:
    runs = [zygote.run("ok"), zygote.run("kill"), zygote.run("ok", 3)]
    assert [r.returncode for r in runs] == [0, -signal.SIGKILL, 3]
    seen = [printed(r) for r in runs]
    assert [s["runs"] for s in seen] == [["ok"], ["kill"], ["ok"]]  # no run's memory in the next
    pids = {s["pid"] for s in seen}
    assert len(pids) == 3 and os.getpid() not in pids
    (zygote_pid,) = {s["parent"] for s in seen}
    assert zygote_pid not in pids and zygote_pid != os.getpid()


def test_a_failing_run_ends_with_its_traceback_and_exit_1(zygote: Zygote) -> None:
    done = zygote.run("fail")
    assert done.returncode == 1
    assert "ValueError: the run failed" in done.stderr


def test_a_run_past_its_timeout_is_ended(zygote: Zygote) -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        zygote.run("hang", timeout_s=1)
    assert zygote.run("ok").returncode == 0  # the zygote serves on
