"""Benchmark: a nightly run's throughput, and its cost with 30 nights of history vs 1.

    uv run python bench/nightly_scaling.py [--households 2000] [--history 30] [--out DIR]

Generates history+1 nights, then times the same final night's run (load, dbt build, audit, publish)
on a warehouse holding 1 night of history and on one holding `history` nights (built with
`rewatch rebuild`, which the tests prove equal to running the nights one by one). Prints
events per second, the published lake's size and what the night's commit added to it, and the
ratio: cost should follow the night's data, not the history (the night's scratch database holds
only its own rows; the publish deletes and inserts only those in the lake).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import tempfile
import time
from pathlib import Path

from rewatch import pipeline
from rewatch.build import rebuild
from rewatch.generate import generate
from rewatch.load import load_night
from rewatch.settings import get_settings

START = dt.date(2026, 1, 1)


def timed_night(night: dt.date) -> dict:
    settings = get_settings()
    began = time.perf_counter()
    loaded = pipeline.load(night, settings)
    after_load = time.perf_counter()
    built = pipeline.build(night, settings)
    after_build = time.perf_counter()
    audited = pipeline.audit(night, settings)
    lake_before = lake_mb(settings)
    after_audit = time.perf_counter()
    pipeline.publish(night, loaded, built, audited, settings)
    done = time.perf_counter()
    lake_after = lake_mb(settings)
    return {
        "events": loaded["events_loaded"],
        "load_s": after_load - began,
        "build_s": after_build - after_load,
        "audit_s": after_audit - after_build,
        "publish_s": done - after_audit,
        "total_s": done - began,
        "published_mb": lake_after,
        "added_mb": lake_after - lake_before,
    }


def lake_mb(settings) -> float:
    """The published lake on disk (catalog and Parquet data files), in MB."""
    root = settings.warehouse_dir / "lake"
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6


def warehouse_with_history(exports: Path, warehouse: Path, nights: list[dt.date]) -> None:
    os.environ["REWATCH_WAREHOUSE_DIR"] = str(warehouse)
    settings = get_settings()
    for night in nights:
        load_night(exports, settings.raw_dir, night)
    rebuild(settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--history", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None, help="working folder (default: a temporary one)")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="rewatch-bench-"))
    exports = root / "exports"
    os.environ["REWATCH_EXPORTS_DIR"] = str(exports)

    began = time.perf_counter()
    result = generate(exports, START, args.history + 1, args.households, seed=2026, truth_dir=root / "truth")
    print(f"generated {result.nights} nights, {result.events:,} events in {time.perf_counter() - began:.1f}s")
    final = START + dt.timedelta(days=args.history)

    rows = {}
    for label, history in (
        ("1 night of history", [final - dt.timedelta(days=1)]),
        (f"{args.history} nights of history", [START + dt.timedelta(days=i) for i in range(args.history)]),
    ):
        warehouse = root / f"warehouse-{len(history)}"
        shutil.rmtree(warehouse, ignore_errors=True)
        began = time.perf_counter()
        warehouse_with_history(exports, warehouse, history)
        print(f"{label}: history built in {time.perf_counter() - began:.1f}s")
        rows[label] = timed_night(final)

    print(f"\nnight {final}, {args.households:,} households")
    print(
        f"{'warehouse':<26}{'events':>10}{'load s':>9}{'build s':>9}{'audit s':>9}{'publish s':>11}"
        f"{'total s':>9}{'events/s':>11}{'lake MB':>9}{'added MB':>10}"
    )
    for label, row in rows.items():
        print(
            f"{label:<26}{row['events']:>10,}{row['load_s']:>9.2f}{row['build_s']:>9.2f}{row['audit_s']:>9.2f}"
            f"{row['publish_s']:>11.2f}"
            f"{row['total_s']:>9.2f}{row['events'] / row['total_s']:>11,.0f}{row['published_mb']:>9.1f}"
            f"{row['added_mb']:>10.1f}"
        )
    one, many = rows.values()
    print(
        f"\nratio, {args.history} nights vs 1 night of history: {many['total_s'] / one['total_s']:.2f} "
        f"(build only: {many['build_s'] / one['build_s']:.2f}, audit only: {many['audit_s'] / one['audit_s']:.2f})"
    )
    if args.out is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
