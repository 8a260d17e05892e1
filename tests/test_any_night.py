"""Any night of any year runs through the real DAG, and the CLI never reports work that did not
happen: a night outside [2007-01-01, tomorrow] is refused, a DAG run with no task instances or
with a task that did not succeed fails the night, and so does a run whose tasks all "succeeded"
while the published warehouse does not record the night."""

from __future__ import annotations

import datetime as dt
import json

import pendulum
import pytest
from typer.testing import CliRunner

from rewatch import orchestrate, pipeline
from rewatch.cli import app
from rewatch.contract import FIRST_NIGHT, NightOutOfRangeError, check_night
from rewatch.generate import generate
from tests.helpers import published_connection, published_marker

pytestmark = pytest.mark.slow
runner = CliRunner()


def _text(result) -> str:
    """The CLI's output as one line (rich wraps error boxes)."""
    return " ".join(result.output.replace("│", " ").split())


def _published(settings) -> list[dt.date]:
    con = published_connection(settings)
    try:
        return [r[0] for r in con.execute("select night from main.rewatch_runs order by 1").fetchall()]
    finally:
        con.close()


def test_nights_from_2007_to_tomorrow_are_accepted_and_others_refused():
    today = dt.date(2026, 11, 26)
    assert check_night(FIRST_NIGHT, today) == dt.date(2007, 1, 1)
    assert check_night(today + dt.timedelta(days=1), today) == dt.date(2026, 11, 27)
    for night in (dt.date(2006, 12, 31), dt.date(1970, 1, 1), today + dt.timedelta(days=2)):
        with pytest.raises(NightOutOfRangeError, match=str(night)):
            check_night(night, today)


@pytest.mark.parametrize("night", ["2006-12-31", "1999-01-01", "2099-01-01"])
def test_the_cli_and_a_dag_task_refuse_a_night_out_of_range(night, workdir):
    result = runner.invoke(app, ["run", "--date", night])
    assert result.exit_code == 2
    assert "rewatch processes nights from 2007-01-01" in _text(result)
    first, last = ("2026-01-01", night) if night > "2026" else (night, "2026-01-01")
    result = runner.invoke(app, ["backfill", "--from", first, "--to", last])
    assert result.exit_code == 2
    assert "rewatch processes nights from 2007-01-01" in _text(result)
    # A run triggered some other way (REST API, a clock gone wrong) fails at its first step.
    with pytest.raises(NightOutOfRangeError):
        pipeline.load(dt.date.fromisoformat(night), workdir)
    assert not workdir.warehouse_dir.exists() or not any(workdir.warehouse_dir.rglob("*.parquet"))


@pytest.fixture(scope="module")
def past_exports(tmp_path_factory):
    root = tmp_path_factory.mktemp("any-night")
    generate(root / "exports", dt.date(2019, 12, 31), 2, 30, seed=8, truth_dir=root / "truth")
    generate(root / "first", FIRST_NIGHT, 1, 20, seed=9, truth_dir=root / "first_truth")
    return root


# A night years before today through the CLI: tests/test_wheel.py runs 2019-12-31 and 2020-01-01
# with the installed wheel's `rewatch run`.


def test_the_first_night_of_streaming_runs(past_exports, workdir, monkeypatch):
    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(past_exports / "first"))
    [outcome] = orchestrate.run_nights([FIRST_NIGHT])
    assert outcome.state == "success", outcome.error
    assert outcome.summary["load"]["events_loaded"] > 0
    assert _published(workdir) == [FIRST_NIGHT]


def test_a_dag_run_with_no_task_instances_is_a_failure_not_a_success(past_exports, workdir, monkeypatch):
    """What happened before: a night before the DAG's start_date got a run with no tasks."""
    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(past_exports / "exports"))
    real_load_dag = orchestrate.load_dag

    def dag_starting_later():
        dag = real_load_dag()
        later = pendulum.datetime(2024, 1, 1, tz="UTC")
        dag.start_date = later
        for task in dag.tasks:
            task.start_date = later
        return dag

    monkeypatch.setattr(orchestrate, "load_dag", dag_starting_later)
    result = runner.invoke(app, ["run", "--date", "2019-12-31"])
    assert result.exit_code == 1, result.output
    assert "2019-12-31: published" not in result.output
    assert "2019-12-31: FAILED at (no task)" in result.output
    assert "Airflow ran no task for night 2019-12-31" in _text(result)
    assert "0/1 nights published" in result.output
    assert published_marker(workdir) == (None, ())  # no snapshot, no data file: nothing published
    alert = json.loads((workdir.reports_dir / "alerts.jsonl").read_text().splitlines()[-1])
    assert alert["night"] == "2019-12-31" and alert["task_id"] == "(no task)"


def test_tasks_that_succeed_without_publishing_fail_the_night(past_exports, workdir, monkeypatch):
    """Every task 'succeeds' but does nothing: the CLI checks rewatch_runs and says so."""
    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(past_exports / "exports"))
    night = dt.date(2019, 12, 31)
    orchestrate.run_nights([night])  # a published warehouse holding 2019-12-31
    before = published_marker(workdir)
    assert before[0] is not None

    def did_nothing(*args, **kwargs):
        return {"decision": "publish", "warnings": []}

    for step in ("load", "build", "audit", "publish"):
        monkeypatch.setattr(pipeline, step, did_nothing)
    [outcome] = orchestrate.run_nights([night + dt.timedelta(days=1)])
    assert outcome.state == "failed"
    assert outcome.failed_task == "publish"
    assert "does not record the night in rewatch_runs" in outcome.error
    assert published_marker(workdir) == before
    report = json.loads((workdir.reports_dir / "2020-01-01" / "run.json").read_text())
    assert report["outcome"] == "failed"
