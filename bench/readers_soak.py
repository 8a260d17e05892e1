"""Soak: reader processes query the published lake in a loop while nights publish.

    uv run python bench/readers_soak.py [--readers 4] [--attached 0] [--nights 7] [--households 200] [--out DIR]

Each reader opens the published lake read-only (`rewatch.connect()`) for each query (the nights
it holds and its session count) and closes it; `--attached` of them instead keep one connection
with the lake attached and ask the same in one transaction of two statements
(tests/readers_harness.py).
Prints queries run, errors, how many answers were not one of the published states (a mix of two
nights), and how many readers missed a published night: all but the first must be 0.
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
    parser.add_argument("--attached", type=int, default=0, help="how many of the readers keep one connection")
    parser.add_argument("--nights", type=int, default=7)
    parser.add_argument("--households", type=int, default=200)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="rewatch-readers-soak-"))
    generate(root / "exports", START, args.nights, args.households, seed=3, truth_dir=root / "truth")
    os.environ["REWATCH_EXPORTS_DIR"] = str(root / "exports")
    os.environ["REWATCH_WAREHOUSE_DIR"] = str(root / "warehouse")
    settings = get_settings()
    readers = Readers(settings, root, args.readers, attached=args.attached)
    states = set()
    published, stalled = 0, False
    began = time.monotonic()
    try:
        for i in range(args.nights):
            night = START + dt.timedelta(days=i)
            loaded = pipeline.load(night, settings)
            built = pipeline.build(night, settings)
            audited = pipeline.audit(night, settings)
            pipeline.publish(night, loaded, built, audited, settings)
            state = published_state(settings)
            states.add(state)
            print(f"published {night}", flush=True)
            published += 1
            try:
                readers.wait_until_seen(state)  # every reader's next query sees the new night
            except AssertionError as exc:  # a reader failed or never saw it: counted below
                print(f"readers: {exc}", flush=True)
                stalled = True
                break
    finally:
        queries, errors, answers, by_reader = readers.stop()
    mixed = sum(1 for nights, sessions in answers if nights != "ERROR" and (nights, sessions) not in states)
    missed = sum(1 for seen in by_reader if not states <= seen)
    seconds = time.monotonic() - began
    print(f"{args.readers} readers, {published} of {args.nights} nights published in {seconds:.0f}s")
    print(
        f"queries run: {queries:,} ({queries / seconds:.0f}/s)   reader errors: {errors}   "
        f"mixed answers: {mixed}   readers that missed a night: {missed}"
    )
    if args.out is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if not stalled and published == args.nights and errors == 0 and mixed == 0 and missed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
