"""Kill a nightly run with SIGKILL at a named fault point, then check what it left.

Shared by tests/rewatch/test_crashes.py (one kill per kind of point) and bench/crash_soak.py
(as many as asked, at random points). The run is the same step functions the DAG's tasks call
(load, build, audit, publish), in its own process group; `REWATCH_FAULT` makes it kill that
whole group itself at the point (`rewatch.faults`), as an OOM kill or a lost worker would. No
sleeps: where the kill lands does not depend on the machine's speed.

The published warehouse is a DuckLake (rewatch.lake): a kill before the publish's COMMIT
leaves the lake at its old snapshot (perhaps with orphan Parquet files under lake/data/, never
referenced by the catalog: expected, and not checked), a kill after it at the new night's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import duckdb

from rewatch import faults, pipeline
from rewatch.build import PARSE_CACHE
from rewatch.compare import diff_warehouses
from rewatch.contract import night_dir, read_manifest
from rewatch.lake import LakeError, head_snapshot
from rewatch.load import _ledger_rows, is_loaded
from rewatch.rawzone import partition_path
from rewatch.settings import Settings, get_settings
from tests.helpers import night_commits
from tests.readers_harness import published_state

RUNNER = """
import datetime as dt, json, sys
from rewatch import pipeline
from rewatch.settings import get_settings
night, settings = dt.date.fromisoformat(sys.argv[1]), get_settings()
done = json.loads(sys.argv[2])  # the summaries of the steps that earlier processes ran
loaded = done["load"] if "load" in done else pipeline.load(night, settings)
built = done["build"] if "build" in done else pipeline.build(night, settings)
audited = done["audit"] if "audit" in done else pipeline.audit(night, settings)
pipeline.publish(night, loaded, built, audited, settings)
"""
STEPS = ("load", "build", "audit", "publish")


@dataclass(frozen=True)
class Stage:
    """A night's run stopped before a step: `warehouse` holds what the steps before it wrote (None:
    no warehouse yet), `done` their summaries. In Airflow each step is a task in a process of
    its own, handed the earlier steps' summaries (XComs), so a run that starts at a later step
    from this state is the DAG's own shape, and a kill in that step need not run the earlier ones
    again in a fresh interpreter (a fresh one imports dbt and Great Expectations anew)."""

    warehouse: Path | None
    done: dict


def run_in_steps(exports: Path, start: Path | None, root: Path, night: dt.date) -> dict[str, Stage]:
    """Run `night` to its publish, step by step in this process (the real audit included), on a
    copy of the warehouse `start` (None: none yet) made at `root / "published"`, keeping a copy
    of the warehouse before each step: {step: Stage}. `root / "published"` ends as the
    uninterrupted run's warehouse."""
    work = root / "published"
    if start is not None:
        shutil.copytree(start, work)
    stages: dict[str, Stage] = {"load": Stage(start, {})}  # before the load: `start` itself
    done: dict[str, dict] = {}
    scoped = {"REWATCH_EXPORTS_DIR": str(exports), "REWATCH_WAREHOUSE_DIR": str(work)}
    with mock.patch.dict(os.environ, scoped):
        settings = get_settings()
        for step in STEPS:
            if step != "load":  # the load made the warehouse
                stages[step] = Stage(root / f"before-{step}", dict(done))
                shutil.copytree(work, stages[step].warehouse)
            if step == "publish":
                pipeline.publish(night, done["load"], done["build"], done["audit"], settings)
            else:
                done[step] = getattr(pipeline, step)(night, settings)
    return stages


def fault_points() -> list[str]:
    """Every named fault point a night's run reaches (see `rewatch.faults`), in run order."""
    from rewatch.audit import load_suites
    from rewatch.rawzone import RAW_TABLES
    from rewatch.settings import DBT_PROJECT_DIR

    models = sorted(
        path.stem
        for path in (DBT_PROJECT_DIR / "models").rglob("*.sql")
        if "staging" not in path.parts and "materialized='ephemeral'" not in path.read_text()
    )
    return [
        *(f"load:partition:{table}" for table in RAW_TABLES),
        "load:before_ledger",
        *(f"build:after_model:{model}" for model in models),
        *(f"audit:after_suite:{suite['name']}" for suite in load_suites()),
        "audit:result_written",
        "accept:before_ledger",
        "publish:before_commit",
        "publish:rewrite_before_commit",
        "publish:after_commit",
    ]


def phase_of(point: str) -> str:
    return point.split(":", 1)[0]


def published_by(point: str) -> bool:
    """Whether the night is published when the run dies at `point` (only after the lake COMMIT)."""
    return point in ("publish:rewrite_before_commit", "publish:after_commit")


def run_night(env: dict, night: dt.date) -> None:
    """A nightly run to completion (the recovery run), in this process: the same step functions
    as RUNNER, with this process's warm dbt and audit servers (a fresh interpreter would start
    them again, importing dbt and Great Expectations: several seconds a run)."""
    scoped = {k: v for k, v in env.items() if k.startswith("REWATCH_") and k not in (faults.ENV, faults.PAUSE_ENV)}
    with mock.patch.dict(os.environ, scoped):
        settings = get_settings()
        loaded = pipeline.load(night, settings)
        built = pipeline.build(night, settings)
        audited = pipeline.audit(night, settings)
        pipeline.publish(night, loaded, built, audited, settings)


def run_and_kill(env: dict, night: dt.date, point: str, timeout: float = 600, done: dict | None = None) -> str:
    """Run a night in its own process group with `REWATCH_FAULT=point`: the run kills itself there.
    With `done` (step -> summary), the steps it names are taken as run: the run starts after them.

    Returns `point` when the run died of SIGKILL, or what happened instead: "finished" (the
    point was never reached) or "failed (exit N)".
    """
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, night.isoformat(), json.dumps(done or {})],
        env={**env, faults.ENV: point},
        start_new_session=True,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode == -signal.SIGKILL:
        return point
    return "finished" if proc.returncode == 0 else f"failed (exit {proc.returncode})"


@dataclass
class Trial:
    point: str
    killed_at: str
    state_after_kill: tuple
    problems: list[str]

    @property
    def survived(self) -> bool:
        return not self.problems


def leftovers(warehouse: Path) -> list[Path]:
    """Temporary or half-made files under the warehouse folder after a completed run (dbt's
    saved parse, kept between builds on purpose, is none)."""
    found = [p for p in warehouse.rglob("*") if p.is_file() and (p.name.endswith((".tmp", ".copying")))]
    build = warehouse / "build"
    if build.exists():
        found += [p for p in build.iterdir() if p.name != PARSE_CACHE]
    return found


def trial(
    base: Path,
    work: Path,
    exports: Path,
    night: dt.date,
    point: str,
    old: tuple,
    new: tuple,
    reference: Path,
    start: Stage | None = None,
):
    """Copy the base warehouse, kill a run of `night` at `point`, check, recover, check again.

    `base` and `reference` are warehouse directories: night(s) before `night` published, and
    the same plus `night`, uninterrupted. `old` / `new`: what readers see of them
    (`published_state`). With `start` (a `Stage` of `night` on `base`, from `run_in_steps`),
    the killed run starts from that stage instead of from the base: the point must be in its
    step or a later one. The recovery is always the whole night.
    """
    if work.exists():
        shutil.rmtree(work)
    if start is None:
        shutil.copytree(base, work)
    elif start.warehouse is not None:
        shutil.copytree(start.warehouse, work)
    base_head = head_snapshot(Settings(exports_dir=exports, warehouse_dir=base))
    env = {**os.environ, "REWATCH_EXPORTS_DIR": str(exports), "REWATCH_WAREHOUSE_DIR": str(work)}
    killed_at = run_and_kill(env, night, point, done=start.done if start else None)
    settings = Settings(exports_dir=exports, warehouse_dir=work)
    problems = [] if killed_at == point else [f"the run was not killed at {point}: {killed_at}"]
    published = published_by(point)
    expected, label, like = (new, "new", reference) if published else (old, "old", base)
    try:  # the published lake must always open, and hold exactly the old night or the new one
        state = published_state(settings)
        diff = diff_warehouses(like, work)
    except (duckdb.Error, LakeError) as exc:
        return Trial(point, killed_at, (), [*problems, f"the published lake does not open after the kill: {exc}"])
    if state != expected:
        problems.append(f"readers would see {state}, not the {label} night {expected}")
    if any(counts != (0, 0) for counts in diff.values()):
        problems.append(f"after the kill the published tables differ from the {label} warehouse: {diff}")
    # One commit per night: the kill committed nothing, or exactly the night's one commit (and
    # perhaps the rewrite of the files it left half deleted, tagged `maintain`, after it).
    nights = night_commits(settings, base_head)
    if len(nights) != published:
        problems.append(f"after the kill the lake holds {len(nights)} night commit(s) after the base, not {published}")
    try:
        run_night(env, night)
    except Exception as exc:  # any failure of the re-run is the trial's finding
        return Trial(point, killed_at, state, [*problems, f"re-run failed: {type(exc).__name__}: {str(exc)[-2000:]}"])
    diff = diff_warehouses(reference, work)
    if any(counts != (0, 0) for counts in diff.values()):
        problems.append(f"re-run differs from an uninterrupted run: {diff}")
    if published_state(settings) != new:
        problems.append(f"after the re-run readers would see {published_state(settings)}, not {new}")
    nights = night_commits(settings, base_head)
    if len(nights) != published + 1 or (nights[-1].kind, nights[-1].nights) != ("night", (night.isoformat(),)):
        problems.append(f"the re-run made not one night commit of {night} after the base: {nights}")
    if left := leftovers(work):
        problems.append(f"left behind: {[str(p.relative_to(work)) for p in left]}")
    manifest = read_manifest(night_dir(exports, night))
    if not is_loaded(_ledger_rows(settings.raw_dir), manifest):
        problems.append("the ledger does not match the night's manifest")
    con = duckdb.connect()
    try:
        quarantined = con.execute(
            "select count(*) from read_parquet(?)", [str(partition_path(settings.raw_dir, "quarantine", night))]
        ).fetchone()[0]
        declared = con.execute(
            "select sum(rows_quarantined) from read_parquet(?)",
            [str(partition_path(settings.raw_dir, "ledger", night))],
        ).fetchone()[0]
    finally:
        con.close()
    if quarantined != declared:
        problems.append(f"quarantine holds {quarantined} rows, the ledger says {declared}")
    return Trial(point, killed_at, state, problems)
