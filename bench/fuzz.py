"""Long fuzz runs: each target for --minutes, reporting inputs tried and failures by kind.

    PYTHONPATH=. nice python bench/fuzz.py --target tariff --minutes 10
    PYTHONPATH=. nice python bench/fuzz.py --target all --minutes 1 --json out.json

Targets (tests/fuzz/targets.py): tariff, config, scenario, zvt, modbus, backend. A failure is
an exception outside the target's own error types, or an input that takes longer than
--timeout seconds (a hang). Each kind is reported once with its count and the first input
that showed it, ready to paste into a regression test. The exit code is 1 if anything failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, Phase, given, settings

from tests.fuzz.targets import TARGETS, Hang, Target, bounded, runner

ROOT = Path(__file__).resolve().parents[1]


class TimeUp(Exception):
    """Ends a hypothesis run at the deadline instead of after the rest of its batch."""


@dataclass
class Finding:
    count: int
    message: str
    reproducer: str


@dataclass
class Report:
    target: str
    tried: int = 0
    seconds: float = 0.0
    findings: dict[str, Finding] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "inputs": self.tried,
            "seconds": round(self.seconds, 1),
            "failures": {k: vars(f) for k, f in self.findings.items()},
        }


def _kind(exc: BaseException) -> str:
    """The exception type and the innermost project line it came from."""
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        path = Path(frame.filename)
        if path.is_relative_to(ROOT) and "tests" not in path.relative_to(ROOT).parts[:1]:
            where = f" at {path.relative_to(ROOT)}:{frame.lineno}"
    return f"{type(exc).__name__}{where}"


def fuzz(target: Target, minutes: float, timeout_s: float, batch: int) -> Report:
    report = Report(target.name)
    deadline = time.monotonic() + minutes * 60

    def record(kind: str, message: str, case: Any) -> None:
        found = report.findings.get(kind)
        if found is None:
            report.findings[kind] = Finding(1, message[:500], target.describe(case)[:4000])
        else:
            found.count += 1

    with runner(target) as run:

        def one(case: Any) -> None:
            if time.monotonic() >= deadline:
                raise TimeUp
            report.tried += 1
            try:
                bounded(run, case, timeout_s)
            except Hang:
                record(f"hang (over {timeout_s:g} s)", "", case)
            except target.allowed:
                pass
            except Exception as exc:  # every other exception is what we are looking for
                record(_kind(exc), f"{type(exc).__name__}: {exc}", case)

        test: Callable[[], None] = settings(
            max_examples=batch,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )(given(target.strategy)(one))
        started = time.monotonic()
        while time.monotonic() < deadline:
            try:
                test()
            except TimeUp:
                break
        report.seconds = time.monotonic() - started
    return report


def print_report(report: Report) -> None:
    rate = report.tried / report.seconds if report.seconds else 0.0
    failures = sum(f.count for f in report.findings.values())
    print(
        f"{report.target}: {report.tried} inputs in {report.seconds:.0f} s ({rate:.0f}/s), "
        f"{failures} failures of {len(report.findings)} kinds"
    )
    for kind, finding in sorted(report.findings.items(), key=lambda kv: -kv[1].count):
        print(f"  {finding.count:6d} x {kind}")
        if finding.message:
            print(f"           {finding.message}")
        print(f"           reproducer: {finding.reproducer[:600]}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="all", choices=["all", *TARGETS])
    parser.add_argument("--minutes", type=float, default=1.0, help="per target")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per input")
    parser.add_argument("--batch", type=int, default=500, help="inputs per hypothesis run")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    names = list(TARGETS) if args.target == "all" else [args.target]
    reports = []
    for name in names:
        report = fuzz(TARGETS[name], args.minutes, args.timeout, args.batch)
        print_report(report)
        reports.append(report)
    if args.json:
        args.json.write_text(json.dumps([r.to_json() for r in reports], indent=2) + "\n")
    return 1 if any(r.findings for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
