"""The DAG imports cleanly, is wired as documented, and keeps heavy work out of import time."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rewatch.orchestrate import airflow_env
from rewatch.settings import DAGS_DIR, WRITER_POOL

WRITERS = {"load_raw", "dbt_build", "audit", "publish"}


@pytest.fixture(scope="module")
def dagbag():
    import os

    os.environ.update(airflow_env())
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


@pytest.fixture(scope="module")
def dag(dagbag):
    return dagbag.dags["rewatch_nightly"]


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"rewatch_nightly", "rewatch_maintain"}


def test_tasks_and_dependencies(dag):
    # The whole graph, edge by edge (Airflow itself refuses a cycle when it loads the DAG).
    assert {t.task_id for t in dag.tasks} == {"wait_for_export", *WRITERS}
    assert dag.get_task("wait_for_export").downstream_task_ids == {"load_raw"}
    assert dag.get_task("load_raw").downstream_task_ids == {"dbt_build", "publish"}
    assert dag.get_task("dbt_build").downstream_task_ids == {"audit", "publish"}
    assert dag.get_task("audit").downstream_task_ids == {"publish"}
    assert dag.get_task("publish").downstream_task_ids == set()


def test_schedule_and_run_limits(dag):
    from airflow.timetables.interval import CronDataIntervalTimetable

    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable._expression == "0 4 * * *"
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert "rewatch" in dag.tags


def test_writers_share_the_one_slot_pool_and_retry(dag):
    for task_id in WRITERS:
        task = dag.get_task(task_id)
        assert task.pool == WRITER_POOL, task_id
        assert task.retries >= 1, task_id
        assert task.on_failure_callback, task_id


def test_sensor_waits_in_reschedule_mode_with_a_timeout(dag):
    sensor = dag.get_task("wait_for_export")
    assert sensor.mode == "reschedule"
    assert 0 < sensor.timeout <= 24 * 3600


@pytest.mark.parametrize("dag_file", ["rewatch_nightly.py", "rewatch_maintain.py"])
def test_dag_file_keeps_heavy_imports_out_of_module_level(dag_file):
    code = (
        "import sys, runpy; runpy.run_path(sys.argv[1]);"
        "heavy = [m for m in ('duckdb', 'pandas', 'great_expectations', 'dbt', 'pyarrow') if m in sys.modules];"
        "print('HEAVY=' + ','.join(heavy))"
    )
    env = {**__import__("os").environ, **airflow_env()}
    out = subprocess.run(
        [sys.executable, "-c", code, str(DAGS_DIR / dag_file)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    (line,) = [x for x in out.stdout.splitlines() if x.startswith("HEAVY=")]
    assert line == "HEAVY=", f"imported at DAG parse time: {line[6:]}"


def test_maintenance_runs_weekly_as_one_writer_in_the_pool(dagbag):
    dag = dagbag.dags["rewatch_maintain"]
    assert [t.task_id for t in dag.tasks] == ["maintain"]
    task = dag.get_task("maintain")
    assert task.pool == WRITER_POOL and task.retries >= 1
    assert type(dag.timetable).__name__ == "CronTriggerTimetable"  # a run at the time, no data interval
    assert dag.timetable.expression == "0 10 * * 0"  # weekly, after the nightly export wait
    assert dag.max_active_runs == 1 and dag.catchup is False


def test_the_export_sensor_pokes_often_enough_for_its_wait(dag):
    """#17: a 3.6-second wait used to last 5 minutes (one poke every 300 s, whatever the wait)."""
    from datetime import timedelta

    from rewatch.pipeline import export_poke_seconds

    sensor = dag.get_task("wait_for_export")
    assert sensor.poke_interval == export_poke_seconds(timedelta(seconds=sensor.timeout))
    assert export_poke_seconds(timedelta(hours=6)) == 300  # the default wait: every 5 minutes
    assert export_poke_seconds(timedelta(minutes=20)) == 60
    assert export_poke_seconds(timedelta(hours=0.001)) == 1
