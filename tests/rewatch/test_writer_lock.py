"""One writer per warehouse: two real processes never both write it.

Before the lock, two `rewatch run` started together (nights 2 and 3) both printed "published"
and the warehouse held nights 1 and 3: night 2 was lost. Now every writer takes an OS lock
under the warehouse (refusing, naming the holder, or waiting with --wait), and publish refuses
to commit to the lake when another writer committed to it after its build started."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rewatch import lake, pipeline
from rewatch.build import PublishConflictError, candidate_path
from rewatch.lock import WarehouseBusyError, writer_lock
from tests.conftest import START, copy_of_first_night
from tests.helpers import night_commits, published_connection, published_marker

pytestmark = pytest.mark.slow
N1, N2, N3 = (START + dt.timedelta(days=i) for i in range(3))
FIXTURE = Path(__file__).parents[1] / "fixtures" / "netflix_viewing_activity" / "us_household_iso_timestamps.csv"
HOLDER = """
import sys
from pathlib import Path
from rewatch.lock import writer_lock
with writer_lock(Path(sys.argv[1]), "a test holding the lock"):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


def _nights(settings) -> list[dt.date]:
    con = published_connection(settings)
    try:
        return [r[0] for r in con.execute("select night from main.rewatch_runs order by 1").fetchall()]
    finally:
        con.close()


@pytest.fixture
def one_night(first_night, generated_small, tmp_path, monkeypatch):
    """A copy of the warehouse with night 1 published; returns its settings."""
    return copy_of_first_night(first_night, generated_small, tmp_path / "warehouse", monkeypatch)


def _cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rewatch.cli", *args],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_every_writer_refuses_while_another_process_holds_the_warehouse(one_night):
    settings = one_night
    before = published_marker(settings)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(settings.warehouse_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        for args in (
            ["run", "--date", N2.isoformat()],
            ["backfill", "--from", N2.isoformat(), "--to", N3.isoformat()],
            ["rebuild"],
            ["forget", "--household-id", "hh0000001", "--yes"],
            # An import into the exports folder the warehouse reads would rewrite a night under a run.
            ["import-netflix", str(FIXTURE), "--household-id", "hh-n", "--out", str(settings.exports_dir)],
        ):
            proc = _cli(*args)
            out, errors = proc.communicate(timeout=300)
            text = " ".join((out + errors).split())
            assert proc.returncode == 1, (args, out, errors)
            assert f"is being written by pid {holder.pid} (a test holding the lock" in text, text
            assert "one writer at a time" in text
        # A step called directly (as an Airflow task is) refuses too when told not to wait.
        with pytest.raises(WarehouseBusyError), writer_lock(settings.warehouse_dir, "a test", wait=0.5):
            pass
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert published_marker(settings) == before  # not a snapshot, not a data file written
    assert _nights(settings) == [N1]


def _hold(settings) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(settings.warehouse_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def _wait_line(proc: subprocess.Popen) -> str:
    """Read the process's stderr up to the line saying it waits (blocking: no timing involved)."""
    while line := proc.stderr.readline():
        if "waiting for pid" in line:
            return line
    raise AssertionError(f"exited without waiting: {proc.wait()} {proc.stdout.read()}")


def test_two_runs_started_together_both_publish(one_night):
    """The reported loss: nights 2 and 3 started at once. Each waits (--wait) for the writer
    ahead of it, so both nights are published and neither replaces the other's."""
    settings = one_night
    head = lake.head_snapshot(settings)
    holder = _hold(settings)
    try:
        runs = [_cli("run", "--date", night.isoformat(), "--wait") for night in (N2, N3)]
        for run in runs:
            assert f"waiting for pid {holder.pid} (a test holding the lock" in _wait_line(run)
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    results = [run.communicate(timeout=900) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results
    assert _nights(settings) == [N1, N2, N3]
    assert sorted(c.nights for c in night_commits(settings, head)) == [(N2.isoformat(),), (N3.isoformat(),)]


def _another_writer_commits(settings) -> None:
    """Another writer publishes: one rewatch commit to the lake (here: night 1's rows rewritten
    with the same content)."""
    con = lake.connect(settings)
    try:
        lake.attach(con, lake.lake_of(settings), read_only=False)
        con.execute("begin")
        con.execute("update lake.main.rewatch_runs set summary = summary")
        lake.tag_commit(con, "lake", "night", [N1.isoformat()], f"night {N1}")
        con.execute("commit")
    finally:
        con.close()


def test_publish_refuses_a_warehouse_replaced_since_its_build_started(one_night):
    settings = one_night
    loaded = pipeline.load(N2, settings)
    built = pipeline.build(N2, settings)
    head = lake.head_snapshot(settings)
    _another_writer_commits(settings)
    replaced = published_marker(settings)
    assert replaced[0] == head + 1
    with pytest.raises(PublishConflictError, match=f"changed since the build of {N2} started"):
        pipeline.publish(N2, loaded, built, {"decision": "publish", "warnings": []}, settings)
    assert published_marker(settings) == replaced  # not a snapshot, not a data file written
    assert not candidate_path(settings, N2).exists()
    assert _nights(settings) == [N1]
