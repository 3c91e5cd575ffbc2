"""The money drill: generated sessions against a real backend and terminal, the kiosk killed
at journal commits and ZVT message boundaries, the four ledgers compared after each run.

    python bench/drill_money.py --scenarios 200 --seed 1 --kills 4 --jobs 6
    python bench/drill_money.py --scenarios 1 --seed 4711 --kills all        # replay one seed
    python bench/drill_money.py --scenarios 1 --seed 4711 --only zvt:7       # replay one kill

Seeds run from --seed upwards; each scenario is a clean run plus --kills killed runs (drawn
by the seed from every commit and money boundary the clean run passed; "all" for every one).
Prints scenarios, kills, disagreements by kind with the seed and kill point of each, and one
line per disagreement; exit 1 if any. The work directories of runs that disagree are kept
under --dir for inspection. See docs/core.md, "The four-ledger drill".
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.ledgers.drill import Drill, KillPoint, ScenarioResult


def _kill_point(text: str) -> KillPoint:
    kind, _, number = text.partition(":")
    if kind not in ("commit", "zvt") or not number.isdigit():
        raise argparse.ArgumentTypeError(f"--only {text!r}: expected commit:N or zvt:N")
    return kind, int(number)


def _kills(text: str) -> int | str:
    if text == "all" or text.isdigit():
        return text if text == "all" else int(text)
    raise argparse.ArgumentTypeError(f"--kills {text!r}: a number or 'all'")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1, help="first seed")
    parser.add_argument("--kills", type=_kills, default=3, help="killed runs per scenario, or all")
    parser.add_argument("--only", type=_kill_point, help="replay one kill point (commit:N, zvt:N)")
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep every run's directory")
    parser.add_argument("--minutes", type=float, help="stop starting scenarios after this long")
    parser.add_argument(
        "--jobs", type=int, default=1, help="scenarios run side by side (each its own kiosk)"
    )
    args = parser.parse_args(argv)
    root = args.dir or Path(tempfile.mkdtemp(prefix="drill-money-"))
    drill = Drill(root, keep=args.keep)
    started = time.monotonic()
    by_kind: dict[str, list[str]] = defaultdict(list)
    scenarios = runs = kills = not_reached = 0
    kills_by: dict[str, int] = defaultdict(int)
    seeds = iter(range(args.seed, args.seed + args.scenarios))
    running: set[Future[ScenarioResult]] = set()
    futures_seed: dict[Future[ScenarioResult], int] = {}

    def submit(pool: ThreadPoolExecutor) -> None:
        while len(running) < max(1, args.jobs):
            if args.minutes and time.monotonic() - started > args.minutes * 60:
                return
            seed = next(seeds, None)
            if seed is None:
                return
            future = pool.submit(drill.scenario, seed, args.kills, args.only)
            futures_seed[future] = seed
            running.add(future)

    try:
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            submit(pool)
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    running.discard(future)
                    try:
                        result = future.result()
                    except Exception as exc:  # the drill's own machinery, not the kiosk
                        scenarios += 1
                        by_kind["drill_error"].append(f"{futures_seed[future]}@-")
                        print(f"DRILL ERROR seed={futures_seed[future]}: {exc!r}", flush=True)
                        continue
                    seed = result.seed
                    scenarios += 1
                    for run in result.runs:
                        runs += 1
                        kills += run.killed
                        if run.killed and run.kill is not None:
                            kills_by[run.kill[0]] += 1
                        not_reached += run.kill is not None and not run.killed
                        where = "clean" if run.kill is None else f"{run.kill[0]}:{run.kill[1]}"
                        if run.label:
                            where += f" ({run.label})"
                        for d in run.disagreements:
                            by_kind[d.kind].append(f"{seed}@{where}")
                            print(f"DISAGREE {d.kind} seed={seed} at={where}: {d.detail}")
                    print(
                        f"seed {seed}: runs={len(result.runs)}"
                        f" commits={result.points.get('commits')}"
                        f" zvt_points={len(result.points.get('zvt', []))}"
                        f" disagreements={sum(len(r.disagreements) for r in result.runs)}"
                        f" [{scenarios} scenarios, {kills} kills,"
                        f" {(time.monotonic() - started) / 60:.1f} min]",
                        flush=True,
                    )
                submit(pool)
    finally:
        drill.close()
    minutes = (time.monotonic() - started) / 60
    print(
        f"\nscenarios={scenarios} runs={runs} kills={kills} kill_points_not_reached={not_reached}"
    )
    print(f"minutes={minutes:.1f} work_dir={root}")
    print(f"disagreements={sum(len(v) for v in by_kind.values())}")
    for kind, where in sorted(by_kind.items()):
        listed = sorted({w.split("@")[0] for w in where}, key=int)
        print(f"  {kind}: {len(where)} (seeds {', '.join(listed)})")
    if by_kind:
        print("replay: python bench/drill_money.py --scenarios 1 --kills all --seed SEED")
    return 1 if by_kind else 0


if __name__ == "__main__":
    raise SystemExit(main())
