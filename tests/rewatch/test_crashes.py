"""Crashes: a nightly run SIGKILLed at named fault points in every phase (load, dbt build, audit,
publish), then re-run. The published lake always opens and shows the old night (or the new one,
once the publish's COMMIT happened), never half, at the old snapshot (or exactly one commit
later); the re-run equals an uninterrupted run; no temporary file is left; ledger and
quarantine agree. The run kills itself at the point (`REWATCH_FAULT`), so
where the kill lands does not depend on the machine's speed. The killed run starts at its point's
step, from the warehouse the earlier steps left, as the DAG's tasks do (each step is a process of
its own there); the recovery runs the whole night. bench/crash_soak.py does the same
at as many random points as asked, over every point `fault_points()` lists."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import rewatch
from rewatch import faults, lake
from rewatch.compare import diff_warehouses
from rewatch.lake import LakeError, head_snapshot
from rewatch.settings import Settings
from tests.conftest import START
from tests.crash_harness import (
    Stage,
    fault_points,
    leftovers,
    phase_of,
    published_by,
    published_state,
    run_and_kill,
    run_in_steps,
    run_night,
    trial,
)

NIGHT = START + dt.timedelta(days=1)
# One point of each kind; the soak (bench/crash_soak.py) draws from all of them.
POINTS = (
    "load:partition:playback_events",
    "load:before_ledger",
    "build:after_model:fct_watch_cycles",
    "audit:after_suite:raw_playback_events",
    "publish:before_commit",
    "publish:rewrite_before_commit",
    "publish:after_commit",
)


@dataclass(frozen=True)
class Prepared:
    """The module's warehouses (see `published_once`) and what readers see of base and reference."""

    root: Path
    exports: Path
    base: Path
    reference: Path
    old: tuple
    new: tuple
    first: dict[str, Stage]
    stages: dict[str, Stage]


@pytest.fixture(scope="module")
def published_once(first_night, generated_small, tmp_path_factory):
    """`base`: night 1 published; `reference`: base + night 2, uninterrupted; both run step by
    step, keeping the warehouse before each step (`first` and `stages`: night 1's and night 2's)."""
    root = tmp_path_factory.mktemp("crashes")
    exports = generated_small.out_dir
    first, base = first_night.stages, first_night.warehouse
    stages = run_in_steps(exports, base, root / "second", NIGHT)
    reference = root / "second" / "published"
    old = published_state(Settings(exports_dir=exports, warehouse_dir=base))
    new = published_state(Settings(exports_dir=exports, warehouse_dir=reference))
    assert old != new
    return Prepared(root, exports, base, reference, old, new, first, stages)


@pytest.mark.parametrize("point", POINTS)
def test_a_run_killed_at_any_point_recovers_to_the_uninterrupted_result(published_once, point):
    """The killed run starts at the step of `point`, from the warehouse the earlier steps left
    (each step is a task in a process of its own in the DAG); the recovery runs the whole night."""
    p = published_once
    work = p.root / f"work-{point.replace(':', '-')}"
    start = p.stages[phase_of(point)]
    result = trial(p.base, work, p.exports, NIGHT, point, p.old, p.new, p.reference, start=start)
    assert result.killed_at == point
    assert result.survived, result.problems
    assert result.state_after_kill == (p.new if published_by(point) else p.old)
    if point == "publish:rewrite_before_commit":  # the kill interrupted real work: the reference has the rewrite
        con = lake.open_published(Settings(exports_dir=p.exports, warehouse_dir=p.reference))
        try:
            assert [c.kind for c in lake.publishes(con)][-2:] == ["night", "maintain"]
        finally:
            con.close()


def test_the_first_night_killed_before_its_commit_publishes_nothing_and_recovers(published_once):
    p = published_once
    work = p.root / "first-night"
    shutil.copytree(p.first["publish"].warehouse, work)
    env = {**os.environ, "REWATCH_EXPORTS_DIR": str(p.exports), "REWATCH_WAREHOUSE_DIR": str(work)}
    killed = run_and_kill(env, START, "publish:before_commit", done=p.first["publish"].done)
    assert killed == "publish:before_commit"
    settings = Settings(exports_dir=p.exports, warehouse_dir=work)
    assert head_snapshot(settings) is None  # nothing was published
    run_night(env, START)
    assert published_state(settings) == p.old
    assert all(counts == (0, 0) for counts in diff_warehouses(p.base, work).values())
    assert not leftovers(work)


MAINTAIN_RUNNER = "from rewatch import pipeline; pipeline.maintain(keep_nights=1)"


def _maintain(env: dict, point: str | None = None) -> int:
    """`rewatch maintain` keeping one night, in its own process group (killed at `point`, if any)."""
    return subprocess.run(
        [sys.executable, "-c", MAINTAIN_RUNNER],
        env={**env, faults.ENV: point} if point else env,
        start_new_session=True,
        capture_output=True,
        timeout=600,
        check=False,
    ).returncode


def test_maintenance_killed_at_any_point_changes_no_table_and_the_next_one_completes_it(published_once):
    """`rewatch maintain` on two published nights, keeping one: killed at each of its points
    (compaction uncommitted, committed, snapshots expired, files removed), the published tables
    are the reference's, and the next maintenance leaves the lake as an uninterrupted one does:
    the same files, no orphan, time travel to the kept night only."""
    root, exports, new = published_once.root, published_once.exports, published_once.new

    def fresh(name: str) -> tuple[dict, Settings]:
        work = root / name
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(published_once.reference, work)
        env = {**os.environ, "REWATCH_EXPORTS_DIR": str(exports), "REWATCH_WAREHOUSE_DIR": str(work)}
        return env, Settings(exports_dir=exports, warehouse_dir=work)

    def files(settings: Settings) -> int:
        return len(lake.data_files(settings))

    env, uninterrupted = fresh("maintained")
    assert _maintain(env) == 0
    assert files(uninterrupted) < files(Settings(exports_dir=exports, warehouse_dir=published_once.reference))
    for point in faults.MAINTAIN_POINTS:
        env, settings = fresh(f"maintain-{point.replace(':', '-')}")
        assert _maintain(env, point) == -signal.SIGKILL, f"maintenance not killed at {point}"
        assert published_state(settings) == new, point
        assert all(c == (0, 0) for c in diff_warehouses(published_once.reference, settings.warehouse_dir).values()), (
            point
        )
        assert _maintain(env) == 0, point
        assert published_state(settings) == new, point
        assert all(c == (0, 0) for c in diff_warehouses(published_once.reference, settings.warehouse_dir).values()), (
            point
        )
        assert files(settings) == files(uninterrupted), point  # no orphan left by the kill
        for night, kept in ((NIGHT, True), (START, False)):
            try:
                rewatch.connect(settings, as_of=night.isoformat()).close()
                opened = True
            except LakeError:
                opened = False
            assert opened == kept, (point, night)
        assert not leftovers(settings.warehouse_dir), point


def test_the_tested_points_are_real_points():
    points = fault_points()
    assert set(POINTS) <= set(points)
    assert {"build:after_model:fct_viewing_sessions", "build:after_model:rpt_title_performance"} <= set(points)
    assert not any("stg_exports" in p or p.endswith("_latest") for p in points)  # ephemeral: never run


def test_every_kind_of_point_is_documented_and_every_static_point_is_reached():
    points = fault_points()
    documented = set(re.findall(r"^\| `([a-z_]+:[a-z_]+)", faults.__doc__, flags=re.MULTILINE))
    kinds = (
        {":".join(p.split(":")[:2]) for p in points}
        | set(faults.REFUSAL_POINTS)
        | set(faults.MAINTAIN_POINTS)
        | set(faults.RUN_POINTS)
    )
    assert kinds == documented, (kinds, documented)
    assert set(faults.STATIC_POINTS) <= set(points), set(faults.STATIC_POINTS) - set(points)


def _child(fault: str | None, point: str) -> int:
    code = f"from rewatch import faults; faults.point({point!r}); print('alive')"
    env = {"PATH": "/usr/bin:/bin", **({faults.ENV: fault} if fault else {})}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, start_new_session=True, capture_output=True, check=False
    ).returncode


def test_a_fault_point_kills_only_when_its_exact_name_is_set():
    assert _child(None, "publish:before_commit") == 0
    assert _child("publish:after_commit", "publish:before_commit") == 0
    assert _child("publish:before", "publish:before_commit") == 0  # no prefix match
    assert _child("publish:before_commit", "publish:before_commit") == -signal.SIGKILL
