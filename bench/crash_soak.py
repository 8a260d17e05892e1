"""Soak: SIGKILL nightly runs at random named fault points, re-run them, and count the survivors.

    uv run python bench/crash_soak.py [--kills 50] [--households 80] [--seed 7] [--out DIR]

Generates two nights, publishes the first (the base warehouse) and, separately, both (the
reference: an uninterrupted run), step by step, keeping the warehouse before each step. Then,
`--kills` times: a fresh copy of the warehouse before the step of a random fault point, a run of
night 2 from that step (as the DAG's task for it starts, with the earlier steps' summaries)
that kills its whole process group at the point (`REWATCH_FAULT`, drawn
from every point of load, each dbt model, each audit suite and publish: see rewatch.faults),
checks (the published lake opens and holds the old night at the old snapshot, or the new one,
exactly one commit later, once the publish committed), a re-run to completion, and checks
again (equal to the reference, one more night commit, no temporary file left, ledger matching
the manifest, quarantine matching the ledger). Orphan Parquet files a kill mid-publish leaves
under lake/data/ are expected and not counted (tests/crash_harness.py). A point the run
never reached counts as a failure. Prints one line per kill and `kills survived / tried`.
About 25-40 s a kill on 2 cores (most points are dbt models: their killed run builds in a fresh
process).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.crash_harness

from tests.crash_harness import fault_points, phase_of, published_state, run_in_steps, trial

from rewatch.generate import generate
from rewatch.settings import Settings

START = dt.date(2026, 3, 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--households", type=int, default=80)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="work folder (default: a temporary one, removed)")
    args = parser.parse_args()
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    root = args.out or Path(tempfile.mkdtemp(prefix="rewatch-crash-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    exports = root / "exports"
    night = START + dt.timedelta(days=1)
    began = time.monotonic()
    generate(exports, START, 2, args.households, seed=args.seed, truth_dir=root / "truth")
    base = root / "first" / "published"
    run_in_steps(exports, None, root / "first", START)
    stages = run_in_steps(exports, base, root / "second", night)
    reference = root / "second" / "published"
    old = published_state(Settings(exports_dir=exports, warehouse_dir=base))
    new = published_state(Settings(exports_dir=exports, warehouse_dir=reference))
    points = fault_points()
    print(f"set up in {time.monotonic() - began:.0f}s under {root}; {len(points)} fault points", flush=True)

    rng = random.Random(args.seed)
    survived = 0
    by_phase: dict[str, list[int]] = {}
    for i in range(1, args.kills + 1):
        point = rng.choice(points)
        started = time.monotonic()
        start = stages[phase_of(point)]  # the killed run starts at its point's step, as a DAG task does
        result = trial(base, root / "work", exports, night, point, old, new, reference, start=start)
        survived += result.survived
        tally = by_phase.setdefault(phase_of(point), [0, 0])
        tally[0] += result.survived
        tally[1] += 1
        verdict = "survived" if result.survived else "FAILED: " + "; ".join(result.problems)
        print(f"[{i}/{args.kills}] kill at {point:<45} {verdict} ({time.monotonic() - started:.0f}s)", flush=True)
    print("by phase: " + ", ".join(f"{p} {s}/{n}" for p, (s, n) in sorted(by_phase.items())))
    print(f"kills survived / tried: {survived} / {args.kills}")
    if args.out is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if survived == args.kills else 1


if __name__ == "__main__":
    sys.exit(main())
