"""Profile one night's build: which dbt models take its time, and inside them, which operators.

    uv run python bench/profile_night.py --warehouse DIR --night D [--models 8] [--model NAME ...] [--exports DIR]

Copies the warehouse (the original is never written), loads and builds the night on the copy
with the step functions the DAG calls, then runs the slowest models' compiled SQL again on the
build's scratch database, attached to the same published snapshot with the same variables as
dbt's connection, under DuckDB's profiler. Prints, per model, dbt's seconds, the profiled
seconds, and the operators that took the most time (with their rows and, for a scan, the table).
What it answers: which part of a model grows with the history (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from rewatch import lake, pipeline
from rewatch.build import candidate_path, check_previous_state, dbt_run_dir
from rewatch.rawzone import run_variables_sql
from rewatch.settings import duckdb_limits, get_settings


def _operators(node: dict, found: list) -> None:
    name = node.get("operator_name") or node.get("operator_type") or "?"
    extra = node.get("extra_info") or {}
    table = extra.get("Table") or extra.get("CTE Name") or extra.get("Function") or ""
    found.append((node.get("operator_timing", 0.0), name.strip(), table, node.get("operator_cardinality", 0)))
    for child in node.get("children", []):
        _operators(child, found)


def profile(con, sql: str, out: Path) -> tuple[float, list]:
    con.execute("pragma enable_profiling = 'json'")
    con.execute(f"pragma profiling_output = '{out}'")
    began = time.perf_counter()
    con.execute(sql).fetchall()
    seconds = time.perf_counter() - began
    con.execute("pragma disable_profiling")
    found: list = []
    _operators(json.loads(out.read_text()), found)
    return seconds, sorted(found, reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True, help="a warehouse folder (copied, never written)")
    parser.add_argument("--night", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--exports", type=Path, help="the exports folder (default: REWATCH_EXPORTS_DIR)")
    parser.add_argument("--models", type=int, default=8, help="how many of the slowest models to profile")
    parser.add_argument("--model", action="append", default=[], help="profile this model too (repeatable)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (the built copy, to try queries on)")
    parser.add_argument("--operators", type=int, default=6, help="operators shown per model")
    args = parser.parse_args()

    if args.keep:
        args.keep.mkdir(parents=True)
    work = args.keep or Path(tempfile.mkdtemp(prefix="rewatch-profile-"))
    try:
        copy = work / "warehouse"
        began = time.perf_counter()
        shutil.copytree(args.warehouse, copy)
        print(f"copied {args.warehouse} in {time.perf_counter() - began:.0f} s", flush=True)
        os.environ["REWATCH_WAREHOUSE_DIR"] = str(copy)
        if args.exports:
            os.environ["REWATCH_EXPORTS_DIR"] = str(args.exports)
        settings = get_settings()
        previous = check_previous_state(settings)
        began = time.perf_counter()
        pipeline.load(args.night, settings)
        print(f"load {time.perf_counter() - began:.1f} s", flush=True)
        began = time.perf_counter()
        pipeline.build(args.night, settings)
        print(f"build {time.perf_counter() - began:.1f} s", flush=True)

        scratch = candidate_path(settings, args.night)
        target = dbt_run_dir(scratch) / "target"
        results = json.loads((target / "run_results.json").read_text())["results"]
        nodes = json.loads((target / "manifest.json").read_text())["nodes"]
        print(f"{len(results)} dbt nodes in {sum(r['execution_time'] for r in results):.1f} s", flush=True)
        models = sorted((r for r in results if r["unique_id"].startswith("model.")), key=lambda r: -r["execution_time"])
        slowest = models[: args.models] + [
            r for r in models[args.models :] if nodes[r["unique_id"]]["name"] in args.model
        ]

        con = lake.connect(settings, str(scratch), limits=duckdb_limits(work / "spill"))
        lake.attach(con, previous.lake, alias="published", snapshot=previous.snapshot)
        con.execute(run_variables_sql(settings.raw_dir, [args.night]))
        for result in slowest:
            node = nodes[result["unique_id"]]
            seconds, found = profile(con, node["compiled_code"], work / "profile.json")
            print(f"\n{node['name']}: dbt {result['execution_time']:.2f} s, profiled {seconds:.2f} s")
            for timing, name, table, rows in found[: args.operators]:
                print(f"  {timing:7.2f} s  {name:<22} {rows:>12,} rows  {table}")
        con.close()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
