"""Soak: reader processes query the published file in a loop while nights publish.

    uv run python bench/readers_soak.py [--readers 4] [--nights 7] [--households 200] [--out DIR]

Each reader opens the published file read-only, runs one query (the nights it holds and its
session count), closes, and repeats. Prints queries run, errors, and how many answers were
not one of the published states (a mix of two nights): all but the first must be 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.*

from tests.readers_harness import Readers, published_state

from rewatch import pipeline
from rewatch.generate import generate
from rewatch.settings import get_settings

START = dt.date(2026, 3, 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--nights", type=int, default=7)
    parser.add_argument("--households", type=int, default=200)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="rewatch-readers-soak-"))
    generate(root / "exports", START, args.nights, args.households, seed=3, truth_dir=root / "truth")
    os.environ["REWATCH_EXPORTS_DIR"] = str(root / "exports")
    os.environ["REWATCH_WAREHOUSE_DIR"] = str(root / "warehouse")
    settings = get_settings()
    readers = Readers(settings.published_path, root, args.readers)
    states = set()
    began = time.monotonic()
    try:
        for i in range(args.nights):
            night = START + dt.timedelta(days=i)
            loaded = pipeline.load(night, settings)
            built = pipeline.build(night, settings)
            audited = pipeline.audit(night, settings)
            pipeline.publish(night, loaded, built, audited, settings)
            states.add(published_state(settings.published_path))
            print(f"published {night}", flush=True)
    finally:
        queries, errors, answers = readers.stop()
    mixed = sum(1 for nights, sessions in answers if nights != "ERROR" and (nights, sessions) not in states)
    seconds = time.monotonic() - began
    print(f"{args.readers} readers, {args.nights} nights published in {seconds:.0f}s")
    print(f"queries run: {queries:,} ({queries / seconds:.0f}/s)   reader errors: {errors}   mixed answers: {mixed}")
    if args.out is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if errors == 0 and mixed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
