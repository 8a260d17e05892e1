"""Benchmark: one night's cost on top of 90 nights of history vs 1, with what it writes.

    uv run python bench/nightly_scaling.py [--households 20000] [--history 90] [--out DIR]

Generates history+1 nights, then times the same final night's run (load, dbt build, audit,
publish: the step functions the DAG's tasks call) on a warehouse holding 1 night of history and
on one holding `history` nights (run one by one, as a service accumulates them; the tests prove
that equal to a rebuild). Prints each step's seconds, events per second, the lake's size,
the files and bytes the night's commit added to the lake, the scratch database the build wrote,
the ratio (cost should follow the night's data, not the history), and the dbt nodes whose time
grew most with the history.

Each timed night runs in a fresh Python process, as a night's tasks do in Airflow, so neither
measurement gets the other's warm imports. With `--out DIR` the work is kept and reused: the exports (when generated with the same
households and nights), and each history warehouse once built; every timing runs on a fresh
copy of the history warehouse, so a second run times the same state again. With `--repeat N`
each history is timed N times (each on a fresh copy, the two histories alternating) and the run
of median total is reported: two runs of the same code on this 2-core machine differ by up to 3 s.

The history runs `rewatch maintain` after every 7th night (`--maintain-every`), as the weekly
`rewatch_maintain` DAG does on a service's lake: with 90 nights, the timed night comes six nights
after the last maintenance, the most uncompacted state of the week. `--maintain-every 0` builds
the lake of a service that skips its upkeep.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rewatch import pipeline
from rewatch.build import candidate_path, dbt_run_dir, published_nights
from rewatch.generate import generate
from rewatch.settings import get_settings

START = dt.date(2026, 1, 1)
SEED = 2026


def _files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}


class _PublishSteps(logging.Handler):
    """The publish's per-table seconds (rewatch.build logs them at debug level)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seconds: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("publish: ") and message.endswith(" s"):
            what, _, took = message.removeprefix("publish: ").rpartition(" took ")
            self.seconds[what] = float(took.removesuffix(" s"))


def timed_night(night: dt.date) -> dict:
    """Run `night` through the four steps in this process; seconds per step, and what it wrote."""
    steps = _PublishSteps()
    build_log = logging.getLogger("rewatch.build")
    build_log.addHandler(steps)
    build_log.setLevel(logging.DEBUG)
    settings = get_settings()
    lake_root = settings.warehouse_dir / "lake"
    before = _files(lake_root) if lake_root.exists() else {}
    began = time.perf_counter()
    loaded = pipeline.load(night, settings)
    after_load = time.perf_counter()
    built = pipeline.build(night, settings)
    after_build = time.perf_counter()
    scratch = candidate_path(settings, night)
    scratch_mb = sum(p.stat().st_size for p in scratch.parent.glob("scratch.duckdb*")) / 1e6
    results = json.loads((dbt_run_dir(scratch) / "target" / "run_results.json").read_text())["results"]
    audited = pipeline.audit(night, settings)
    after_audit = time.perf_counter()
    pipeline.publish(night, loaded, built, audited, settings)
    done = time.perf_counter()
    after = _files(lake_root)
    added = {path: size for path, size in after.items() if path not in before}
    return {
        "events": loaded["events_loaded"],
        "load_s": after_load - began,
        "build_s": after_build - after_load,
        "audit_s": after_audit - after_build,
        "publish_s": done - after_audit,
        "total_s": done - began,
        "published_mb": sum(after.values()) / 1e6,
        "files_added": len(added),
        "added_mb": sum(added.values()) / 1e6,
        "catalog_growth_mb": sum(after[p] - before[p] for p in after if p in before) / 1e6,
        "scratch_mb": scratch_mb,
        "dbt_nodes": {r["unique_id"]: r["execution_time"] for r in results},
        "publish_steps": steps.seconds,
    }


def _exports(root: Path, households: int, nights: int) -> Path:
    exports = root / "exports"
    marker = root / "generated.txt"
    wanted = f"{households} households, {nights} nights, seed {SEED}, from {START}\n"
    if marker.exists() and marker.read_text() == wanted:
        print(f"reusing {exports} ({wanted.strip()})", flush=True)
        return exports
    shutil.rmtree(exports, ignore_errors=True)
    began = time.perf_counter()
    result = generate(exports, START, nights, households, seed=SEED, truth_dir=root / "truth")
    print(
        f"generated {result.nights} nights, {result.events:,} events in {time.perf_counter() - began:.0f} s", flush=True
    )
    marker.write_text(wanted)
    return exports


def _history(root: Path, nights: list[dt.date], audit_every_night: bool = True, maintain_every: int = 0) -> Path:
    """A warehouse holding `nights`, each run through the four steps in order, as a service
    accumulates its history (the tests prove it equal to one `rewatch rebuild`; one rebuild of
    90 nights at 20,000 households would hold 10^8 events in one process). Built once (with
    `--out`, kept for the next run); an interrupted preparation resumes after the last
    published night. Prints every tenth night's seconds: how a night grows along the way. Without
    `audit_every_night`, nights after the fifth skip the audit, which changes no table (about a
    sixth of a night). With `maintain_every` N, `rewatch maintain` (what the weekly
    `rewatch_maintain` DAG runs) follows every Nth night, as on a service's lake."""
    maintained = f"-maintained-every-{maintain_every}" if maintain_every and len(nights) >= maintain_every else ""
    warehouse = root / f"history-{len(nights)}-{nights[-1]}{maintained}"
    marker = warehouse / "built.txt"
    if marker.exists():
        print(f"reusing {warehouse}", flush=True)
        return warehouse
    os.environ["REWATCH_WAREHOUSE_DIR"] = str(warehouse)
    settings = get_settings()
    done = set(published_nights(settings) or [])
    began = time.perf_counter()
    for i, night in enumerate(nights, 1):
        if night in done:
            continue
        started = time.perf_counter()
        loaded = pipeline.load(night, settings)
        built = pipeline.build(night, settings)
        if audit_every_night or i <= 5:
            audited = pipeline.audit(night, settings)
        else:  # publish needs a decision: this one says that no audit ran
            audited = {"decision": "publish", "warnings": ["not audited: a benchmark history night"], "seconds": 0}
        pipeline.publish(night, loaded, built, audited, settings)
        if maintain_every and i % maintain_every == 0:
            kept = pipeline.maintain(settings)
            print(
                f"  maintained after night {night} in {kept['seconds']:.0f} s"
                f" (a read of the head opens {kept['head_files_before']:,} -> {kept['head_files_after']:,} files)",
                flush=True,
            )
        if i % 10 == 0 or i == len(nights):
            print(
                f"  ran {i}/{len(nights)} nights in {time.perf_counter() - began:.0f} s"
                f" (night {night}: {time.perf_counter() - started:.1f} s)",
                flush=True,
            )
    marker.write_text(f"{len(nights)} nights up to {nights[-1]}\n")
    return warehouse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=20000)
    parser.add_argument("--history", type=int, default=90)
    parser.add_argument(
        "--out", type=Path, default=None, help="work folder, kept and reused (default: a temporary one)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="time each history this many times, each on a fresh copy, and report the run of median total",
    )
    parser.add_argument(
        "--skip-history-audits",
        action="store_true",
        help="while building a history, audit only its first five nights (the audit changes no table)",
    )
    parser.add_argument(
        "--maintain-every",
        type=int,
        default=7,
        metavar="N",
        help="while building a history, run `rewatch maintain` after every Nth night, as the weekly "
        "rewatch_maintain DAG does (default 7; 0: never, the lake of a service that skips its upkeep)",
    )
    parser.add_argument("--timed-night", type=dt.date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.timed_night:  # the child process of one measurement: the result on stdout's last line
        print(json.dumps(timed_night(args.timed_night)))
        return
    root = args.out or Path(tempfile.mkdtemp(prefix="rewatch-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}", flush=True)
    exports = _exports(root, args.households, args.history + 1)
    os.environ["REWATCH_EXPORTS_DIR"] = str(exports)
    final = START + dt.timedelta(days=args.history)

    histories = {}
    for label, history in (
        ("1 night of history", [final - dt.timedelta(days=1)]),
        (f"{args.history} nights of history", [START + dt.timedelta(days=i) for i in range(args.history)]),
    ):
        print(f"{label}:", flush=True)
        histories[label] = _history(
            root, history, audit_every_night=not args.skip_history_audits, maintain_every=args.maintain_every
        )
    # Interleaved (1, many, 1, many, ...): this machine's speed drifts by 15 % over a day, which
    # would otherwise land on one side of the ratio.
    runs: dict[str, list[dict]] = {label: [] for label in histories}
    for attempt in range(1, args.repeat + 1):
        for label, built in histories.items():
            timed = root / "timed"
            shutil.rmtree(timed, ignore_errors=True)
            shutil.copytree(built, timed)
            env = {**os.environ, "REWATCH_WAREHOUSE_DIR": str(timed)}
            child = subprocess.run(
                [sys.executable, __file__, "--timed-night", final.isoformat()],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            runs[label].append(json.loads(child.stdout.strip().splitlines()[-1]))
            shutil.rmtree(timed)
            print(f"  {label}, run {attempt}/{args.repeat}: {runs[label][-1]['total_s']:.1f} s", flush=True)
    rows = {}
    for label, timed_runs in runs.items():
        # The run of median total (the lower middle one of an even number), whole: its steps add up.
        rows[label] = sorted(timed_runs, key=lambda run: run["total_s"])[(len(timed_runs) - 1) // 2]
        rows[label]["all_totals_s"] = [round(run["total_s"], 1) for run in timed_runs]

    print(f"\nnight {final}, {args.households:,} households")
    print(
        f"{'warehouse':<27}{'events':>10}{'load s':>8}{'build s':>9}{'audit s':>9}{'publish s':>10}{'total s':>9}"
        f"{'events/s':>10}{'lake MB':>10}{'files added':>12}{'MB added':>10}{'scratch MB':>11}"
    )
    for label, row in rows.items():
        print(
            f"{label:<27}{row['events']:>10,}{row['load_s']:>8.1f}{row['build_s']:>9.1f}{row['audit_s']:>9.1f}"
            f"{row['publish_s']:>10.1f}{row['total_s']:>9.1f}{row['events'] / row['total_s']:>10,.0f}"
            f"{row['published_mb']:>10,.0f}{row['files_added']:>12}{row['added_mb']:>10.1f}{row['scratch_mb']:>11.1f}"
        )
    if args.repeat > 1:
        for label, row in rows.items():
            print(f"{label}: the run of median total of {args.repeat}; all totals (s): {row['all_totals_s']}")
    one, many = rows.values()
    print(
        f"\nratio, {args.history} nights vs 1 night of history: {many['total_s'] / one['total_s']:.2f} "
        f"(build {many['build_s'] / one['build_s']:.2f}, audit {many['audit_s'] / one['audit_s']:.2f}, "
        f"publish {many['publish_s'] / one['publish_s']:.2f})"
    )
    grown = sorted(many["dbt_nodes"], key=lambda n: one["dbt_nodes"].get(n, 0) - many["dbt_nodes"][n])[:10]
    print("\ndbt nodes whose time grew most with the history (s, 1 night -> many):")
    for node in grown:
        print(f"  {node:<75}{one['dbt_nodes'].get(node, 0):>7.2f} -> {many['dbt_nodes'][node]:>7.2f}")
    if many.get("publish_steps"):
        print("\nthe publish's steps (s, 1 night -> many):")
        for step in sorted(many["publish_steps"], key=lambda s: -many["publish_steps"][s]):
            print(f"  {step:<75}{one['publish_steps'].get(step, 0):>7.2f} -> {many['publish_steps'][step]:>7.2f}")
    (root / "result.json").write_text(json.dumps(rows, indent=1))
    if args.out is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
