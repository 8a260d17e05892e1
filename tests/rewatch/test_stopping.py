"""SIGTERM and SIGINT stop `rewatch run` at once, in any step (#18, "Stopping").

Each run is the real CLI through the embedded Airflow, paused at a named point
(`REWATCH_PAUSE`, see rewatch.faults) in whichever process reaches it: the run itself (load,
publish), dbt (build) or the audit child. The test sends the signal only once the run is there,
so nothing depends on the machine's speed.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rewatch import faults
from rewatch.build import published_nights
from rewatch.cli import app
from rewatch.lake import head_snapshot
from tests.conftest import copy_of_first_night
from tests.helpers import night_commits, published_marker

pytestmark = pytest.mark.slow
N1, N2 = dt.date(2026, 3, 2), dt.date(2026, 3, 3)
# A safety net for a broken run, never a measure of speed: the run is paused before any signal.
PATIENCE = 900


@pytest.fixture(scope="module")
def warehouse(first_night, generated_small, tmp_path_factory):
    """Night 1 published; the stop tests then run night 2."""
    mp = pytest.MonkeyPatch()
    settings = copy_of_first_night(first_night, generated_small, tmp_path_factory.mktemp("stopping") / "warehouse", mp)
    yield settings
    mp.undo()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _cli(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rewatch.cli", *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


# Where the run is when the signal comes (which process holds the point), and whether the night
# is published by then: one stop in each step. A stopped run is cleaned up by the next one, the
# last by a full run. The crash suite covers every point a stop can leave.
STOPS = [
    ("load:before_ledger", signal.SIGINT, False),  # in the run itself, the raw zone written, not recorded
    ("build:after_model:int_run_changes", signal.SIGTERM, False),  # in the run's dbt child
    ("audit:after_suite:raw_playback_events", signal.SIGTERM, False),  # in the audit child
    ("publish:after_commit", signal.SIGINT, True),  # in the run itself, after the lake COMMIT
]


def _paused_at(point: str, tmp_path: Path) -> tuple[subprocess.Popen, int]:
    """`rewatch run` of night 2, once it is paused at `point`; and the pid of the paused process."""
    marker = tmp_path / f"paused-{point.replace(':', '-')}"
    run = _cli("run", "--date", N2.isoformat(), env={faults.PAUSE_ENV: point, faults.PAUSE_FILE_ENV: str(marker)})
    deadline = time.monotonic() + PATIENCE
    while not marker.exists():
        assert run.poll() is None, f"the run ended before reaching {point}:\n{run.stderr.read()[-3000:]}"
        assert time.monotonic() < deadline, f"the run never reached {point}"
        time.sleep(0.2)
    return run, int(marker.read_text())


def test_a_signal_before_the_first_night_stops_the_run_saying_so(warehouse, tmp_path):
    """While Airflow's database and the DAG get ready (nothing written yet), SIGINT was click's
    "Aborted!" with exit 1: now the same stop as in a step."""
    before = published_marker(warehouse)
    run, _ = _paused_at("run:before_airflow", tmp_path)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=PATIENCE)
    assert run.returncode == 128 + signal.SIGINT, stderr[-3000:]
    assert (
        "stopped by SIGINT during the run's start (Airflow's database and the DAG; no night begun): "
        "the published warehouse is unchanged" in stderr
    ), stderr[-3000:]
    assert published_marker(warehouse) == before


def _stop_at(warehouse, tmp_path, point: str, signum: int, published: bool) -> None:
    before, head = published_marker(warehouse), head_snapshot(warehouse)
    run, paused_pid = _paused_at(point, tmp_path)
    deadline = time.monotonic() + PATIENCE
    assert _status_of(N2) == "running"  # the run holds the warehouse, paused

    run.send_signal(signum)
    _, stderr = run.communicate(timeout=PATIENCE)

    assert run.returncode == 128 + signum, f"{point}: {stderr[-3000:]}"
    assert f"stopped by {signal.Signals(signum).name} during" in stderr
    if published:
        assert "the published warehouse was replaced before the stop" in stderr
        assert N2 in published_nights(warehouse)
        # The night's one commit (a `maintain` commit rewriting half-deleted files may follow it).
        assert [c.nights for c in night_commits(warehouse, head)] == [(N2.isoformat(),)]
    else:
        assert "the published warehouse is unchanged" in stderr, stderr[-3000:]
        assert published_marker(warehouse) == before  # not a snapshot, not a data file written
    # The paused process (dbt or the audit child, when it was not the run itself) went with it.
    while _alive(paused_pid):
        assert time.monotonic() < deadline, f"{point}: process {paused_pid} outlived the stopped run"
        time.sleep(0.2)
    if not published:  # its report says running, but no process holds the warehouse any more
        assert _status_of(N2) == "stopped"


def _status_of(night: dt.date) -> str:
    """The outcome `rewatch status` shows for `night`."""
    shown = CliRunner().invoke(app, ["status"])
    assert shown.exit_code == 0, shown.output
    [row] = [line for line in shown.output.splitlines() if f" {night} " in line]
    return row.split("│")[2].strip()


def test_a_signal_stops_the_run_at_once_in_every_step_and_the_next_run_recovers(warehouse, tmp_path):
    for point, signum, published in STOPS:
        _stop_at(warehouse, tmp_path, point, signum, published)

    recovery = _cli("run", "--date", N2.isoformat())
    out, err = recovery.communicate(timeout=PATIENCE)
    assert recovery.returncode == 0, out[-2000:] + err[-3000:]
    assert N2 in published_nights(warehouse)
    # #17: the terminal gets the night's steps as they end; Airflow's own output goes to the log.
    for step, result in (("load", "loaded"), ("build", " dbt models"), ("audit", ": passed"), ("publish", " sessions")):
        assert re.search(rf"^  {step} of night {N2}: done in [0-9.]+s - .*{result}", out, re.M), (step, out)
    assert out.splitlines()[:2] == [f"exports:   {warehouse.exports_dir}", f"warehouse: {warehouse.warehouse_dir}"]
    [log] = re.findall(r"^log: +(\S+)", out, re.M)
    assert Path(log).parent == warehouse.reports_dir / "logs" and Path(log).is_file()
    # Never an empty file: it names the command, and ends with a line once the run is done.
    lines = Path(log).read_text().splitlines()
    assert re.fullmatch(r"\[\S+\] rewatch: .* run --date \S+ \(pid \d+\): Airflow's own output follows", lines[0])
    assert re.fullmatch(r"\[\S+\] rewatch: end of the run's output", lines[-1])
    assert err == "", err[-3000:]
    assert not list(warehouse.build_dir.glob("next-*")), "the recovery run left a candidate behind"


def test_verbose_shows_airflows_output_in_the_terminal_instead_of_a_log_file(warehouse, tmp_path):
    """#17: `-v` is the way to see what Airflow says. Night 2 delivered again with a file changed
    after its manifest was written: the load fails at once, through the real DAG."""
    exports = tmp_path / "exports"
    shutil.copytree(warehouse.exports_dir / N2.isoformat(), exports / N2.isoformat())
    titles = exports / N2.isoformat() / "titles.csv"
    titles.write_bytes(titles.read_bytes().replace(b",", b";", 1))  # same size, another sha256
    before, logs = published_marker(warehouse), warehouse.reports_dir / "logs"
    earlier_logs = set(logs.glob("*.log"))
    run = _cli("run", "-v", "--date", N2.isoformat(), env={"REWATCH_EXPORTS_DIR": str(exports)})
    out, err = run.communicate(timeout=PATIENCE)
    assert run.returncode == 1, out[-2000:] + err[-3000:]
    both = out + err
    for task in ("wait_for_export", "load_raw"):
        assert f"[DAG TEST] starting task_id={task} " in both, task  # Airflow's own lines
    assert "sha256" in both and f"{N2}: FAILED at load_raw" in err, err[-3000:]
    assert not re.search(r"^log:", out, re.M)
    assert set(logs.glob("*.log")) == earlier_logs  # no log file: the terminal had it all
    assert published_marker(warehouse) == before


def test_a_signal_stops_a_run_waiting_for_its_export(warehouse):
    """While the sensor waited (`--wait`), SIGTERM and SIGINT were swallowed: Airflow's task
    runner installs its own SIGTERM handler for each task and never restores it. The run is
    signalled once its log shows dag.test() waiting for the sensor's next poke."""
    missing = dt.date(2026, 3, 20)  # no export for it
    before = published_marker(warehouse)
    run = _cli("run", "--date", missing.isoformat(), "--wait", env={"REWATCH_EXPORT_WAIT_HOURS": "1"})
    log = next((Path(line.split()[1]) for line in run.stdout if line.startswith("log:")), None)
    assert log is not None, run.stderr.read()[-3000:]
    # The terminal says what the run waits for, at its first look (read as it comes: no timing).
    told = _line_with(run, "waiting up to")
    manifest = warehouse.exports_dir / missing.isoformat() / "_manifest.json"
    assert (
        told
        == f"night {missing}: no export yet; waiting up to 1:00:00 for {manifest} (looking every 180s; Ctrl-C stops)"
    )
    deadline = time.monotonic() + PATIENCE
    while "No tasks to run" not in (log.read_text() if log.exists() else ""):
        assert run.poll() is None, f"the run ended before waiting:\n{run.stderr.read()[-3000:]}"
        assert time.monotonic() < deadline, "the run never waited for its export"
        time.sleep(0.2)

    run.send_signal(signal.SIGTERM)
    _, stderr = run.communicate(timeout=PATIENCE)
    assert run.returncode == 128 + signal.SIGTERM, stderr[-3000:]
    assert f"stopped by SIGTERM during night {missing}" in stderr and "waiting for its export" in stderr
    assert published_marker(warehouse) == before


def _line_with(run: subprocess.Popen, text: str) -> str:
    """The first line of the run's stdout that holds `text` (read as it comes: no timing)."""
    for line in run.stdout:
        if text in line:
            return line.rstrip("\n")
    raise AssertionError(f"the run ended without saying {text!r}: {run.wait()} {run.stderr.read()[-3000:]}")


def test_a_waiting_run_runs_the_night_when_its_export_arrives_and_says_when_it_never_does(warehouse, tmp_path):
    """#17: `--wait` through the real DAG's sensor. A 6-minute wait looks every 18 s; the night
    arrives as an exporter delivers it (files first, here the whole folder renamed into place at
    once), after the run said it waits. A 3.6-second wait that nothing ends fails with the wait it
    really waited and the manifest it looked for."""
    exports = tmp_path / "exports"
    exports.mkdir()
    env = {"REWATCH_EXPORTS_DIR": str(exports), "REWATCH_EXPORT_WAIT_HOURS": "0.1"}
    run = _cli("run", "--date", N2.isoformat(), "--wait", env=env)
    told = _line_with(run, "waiting up to")
    manifest = exports / N2.isoformat() / "_manifest.json"
    assert told == f"night {N2}: no export yet; waiting up to 0:06:00 for {manifest} (looking every 18s; Ctrl-C stops)"
    shutil.copytree(warehouse.exports_dir / N2.isoformat(), exports / ".arriving")
    (exports / ".arriving").rename(exports / N2.isoformat())
    out, err = run.communicate(timeout=PATIENCE)
    assert run.returncode == 0, out[-2000:] + err[-3000:]
    assert re.search(rf"^\[1/1\] {N2}: \w+ in \d+s", out, re.M), out[-2000:]
    assert N2 in published_nights(warehouse)

    never = dt.date(2026, 3, 21)
    before = published_marker(warehouse)
    run = _cli("run", "--date", never.isoformat(), "--wait", env={**env, "REWATCH_EXPORT_WAIT_HOURS": "0.001"})
    out, err = run.communicate(timeout=PATIENCE)
    assert run.returncode == 1, out[-2000:] + err[-3000:]
    text = " ".join(err.split())
    looked = exports / never.isoformat() / "_manifest.json"
    assert re.search(
        rf"{never}: FAILED at wait_for_export: no export for {never} by .*: waited 0:00:0\d for {looked}", text
    ), text
    assert "the published warehouse is unchanged" in text
    assert published_marker(warehouse) == before
