"""Benchmark: what a small night costs beyond its data (start-up, parsing, imports).

    uv run python bench/fixed_costs.py [--households 80] [--nights 4] [--out DIR]

Generates `nights` small nights and runs them one after another in this one process (load, dbt
build, audit, publish: the step functions the DAG's tasks call), printing each step's seconds
per night. The first night starts the warm dbt and audit servers (src/rewatch/children.py) and
parses the dbt project; later nights fork from the servers and reuse the saved parse. Also
prints how long importing Great Expectations and dbt takes in a fresh interpreter (what every
child paid before the servers).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nightly_scaling import timed_night  # the same timed steps (bench/ is this script's folder)

from rewatch.generate import generate

START = dt.date(2026, 3, 2)


def import_seconds(module: str) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=80)
    parser.add_argument("--nights", type=int, default=4)
    parser.add_argument("--out", type=Path, default=None, help="work folder (default: a temporary one, removed)")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="rewatch-fixed-costs-"))
    try:
        print(
            f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}"
        )
        for module in ("great_expectations", "dbt.cli.main"):
            print(f"import {module} in a fresh interpreter: {import_seconds(module):.1f} s")
        generate(root / "exports", START, args.nights, args.households, seed=11)
        os.environ["REWATCH_EXPORTS_DIR"] = str(root / "exports")
        os.environ["REWATCH_WAREHOUSE_DIR"] = str(root / "warehouse")
        print(f"{args.households} households, {args.nights} nights, one process")
        print("night       events   load s  build s  audit s  publish s  total s")
        for i in range(args.nights):
            night = START + dt.timedelta(days=i)
            t = timed_night(night)
            print(
                f"{night}  {t['events']:7,}  {t['load_s']:7.1f}  {t['build_s']:7.1f}  "
                f"{t['audit_s']:7.1f}  {t['publish_s']:9.1f}  {t['total_s']:7.1f}"
            )
    finally:
        if args.out is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
