"""Kill drills without a second of imports per process: a zygote that imports a drill script
once and forks a fresh process for each run of it.

`Zygote(script).run(*args)` does what `subprocess.run([python, script, *args])` does, and answers
the same way (a CompletedProcess; returncode -9 for a process that SIGKILLed itself): the run is
a child forked from a process that has only imported the script, never run it. So every run,
the killed one and the recovery after it, is its own OS process with its own memory, threads,
SQLite connections and sockets, started from the same freshly imported state, and ends as a
script does (its `main()`'s return, `SystemExit`, a traceback and exit 1).

Why not the pytest process or multiprocessing's forkserver: pytest has threads (a fork then
copies locks in any state), and the forkserver is one per process with the preload of whoever
started it first, so two drills in one pytest worker would share the first one's modules.
Used as `python tests/killdrill.py SCRIPT [MODULE...]`, this file is the zygote: it imports the
script and the modules, then takes one request per line on stdin (JSON: args, timeout_s) and
gives one answer per line on stdout (returncode, stdout, stderr).
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType, TracebackType
from typing import IO, Any

RUN_TIMEOUT_S = 120


class Zygote:
    """The test's side: start the zygote for `script`, run the script in forked processes."""

    def __init__(self, script: Path, preload: Iterable[str] = ()) -> None:
        """`preload`: modules the script imports only when it runs (imported once here too)."""
        self.script = script
        self._proc = subprocess.Popen(
            [sys.executable, __file__, str(script), *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def run(
        self, *args: object, timeout_s: int = RUN_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        """One run of the script with `args` in a new process; a run still going after
        `timeout_s` is ended by SIGALRM and raises TimeoutExpired, as subprocess.run does."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        argv = [str(a) for a in args]
        self._proc.stdin.write(json.dumps({"args": argv, "timeout_s": timeout_s}) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the zygote of {self.script.name} ended: {self._proc.wait()}")
        answer = json.loads(line)
        cmd = [str(self.script), *argv]
        if answer["returncode"] == -signal.SIGALRM:
            raise subprocess.TimeoutExpired(cmd, timeout_s, answer["stdout"], answer["stderr"])
        return subprocess.CompletedProcess(
            cmd, answer["returncode"], answer["stdout"], answer["stderr"]
        )

    def close(self) -> None:
        """End the zygote (it ends when its stdin closes)."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(30)
        except subprocess.TimeoutExpired:  # still waiting for a hung run: its alarm ends that
            self._proc.kill()
            self._proc.wait()
        self._proc.stdout.close()

    def __enter__(self) -> Zygote:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _load(script: Path) -> ModuleType:
    """Import `script` as `python script.py` would find its imports, without running main()."""
    sys.path[0] = str(script.parent)
    spec = importlib.util.spec_from_file_location("drill_script", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _alone() -> None:
    """A fork copies one thread: any other (even one started in C) would leave its locks held."""
    tasks = os.listdir("/proc/self/task") if os.path.isdir("/proc/self/task") else ["main"]
    if threading.active_count() != 1 or len(tasks) != 1:
        raise RuntimeError(f"the zygote has threads ({threading.enumerate()}, tasks {tasks})")


def _answer(status: int, out: IO[bytes], err: IO[bytes]) -> dict[str, Any]:
    texts = []
    for f in (out, err):
        f.seek(0)
        texts.append(f.read().decode("utf-8", "replace"))
    return {
        "returncode": os.waitstatus_to_exitcode(status),
        "stdout": texts[0],
        "stderr": texts[1],
    }


def serve(script: Path, preload: Iterable[str]) -> ModuleType:
    """The zygote's loop. Returns only in a forked child, its sys.argv set, to run the script."""
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)  # a stray print (even while importing) goes to stderr, not into the answers
    module = _load(script)
    for name in preload:
        importlib.import_module(name)
    for line in requests:
        request = json.loads(line)
        _alone()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            pid = os.fork()
            if pid == 0:
                requests.close()
                answers.close()
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                signal.alarm(int(request["timeout_s"]))  # default action: the run ends
                sys.argv = [str(script), *request["args"]]
                return module
            _, status = os.waitpid(pid, 0)
            answers.write(json.dumps(_answer(status, out, err)) + "\n")
            answers.flush()
    raise SystemExit(0)


if __name__ == "__main__":
    # Only a forked child gets past serve(): it runs the script and exits as the script would.
    raise SystemExit(serve(Path(sys.argv[1]), sys.argv[2:]).main())
