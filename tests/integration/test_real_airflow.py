"""The real thing: PostgreSQL + api-server + scheduler + dag-processor + triggerer, via REST.

Unpause the DAG (the scheduler runs the latest night on its own), trigger one night through
the REST API, create a 2-night backfill of years-old nights (2019-12-31 .. 2020-01-01, across a year) through
the REST API, wait for all of them, and check the published warehouse holds exactly those
nights, each with its events.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

import pytest

from rewatch.generate import generate
from rewatch.settings import DAG_ID, WRITER_POOL, Settings
from tests.helpers import published_connection, sessions_against_truth
from tests.integration.stack import AirflowStack, Postgres

pytestmark = [pytest.mark.slow, pytest.mark.integration]
RUN_TIMEOUT = 900
BACKFILL_FROM = dt.date(2019, 12, 31)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("real-airflow")
    today = dt.datetime.now(dt.UTC).date()
    # Ten nights up to yesterday: whatever night the scheduler picks as "latest" exists.
    generate(root / "exports", today - dt.timedelta(days=10), 10, 25, seed=5, truth_dir=root / "truth")
    # History: nights years before today (and before any start_date the DAG once had).
    # Same seed, so the same catalog (one service); other households, so other event ids.
    generate(root / "exports", BACKFILL_FROM, 2, 40, seed=5, truth_dir=root / "history_truth", first_household=1001)
    postgres = Postgres()
    airflow = None
    try:
        url = postgres.start()
        # As deployed: the published lake's catalog is the stack's PostgreSQL (database rewatch_lake).
        airflow = AirflowStack(root / "airflow", url, root / "exports", root / "warehouse", postgres.lake_catalog)
        airflow.start()
        yield airflow, root, today
    finally:
        if airflow is not None:
            airflow.stop()
        postgres.stop()


def dag_runs(airflow: AirflowStack) -> list[dict]:
    return airflow.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns?limit=100")["dag_runs"]


def all_finished(airflow: AirflowStack, expected: int):
    runs = dag_runs(airflow)
    failed = [r for r in runs if r["state"] == "failed"]
    if failed:
        run_id = urllib.parse.quote(failed[0]["dag_run_id"], safe="")
        tasks = airflow.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")["task_instances"]
        states = {t["task_id"]: t["state"] for t in tasks}
        raise AssertionError(f"run {failed[0]['dag_run_id']} failed: {states}\n{airflow.log_tail('scheduler')}")
    done = [r for r in runs if r["state"] == "success"]
    return runs if len(done) >= expected and len(done) == len(runs) else None


def test_scheduler_trigger_and_backfill_through_the_rest_api(stack):
    airflow, root, today = stack
    airflow.wait_for(
        lambda: _dag_parsed(airflow), "the dag-processor to parse rewatch_nightly", timeout=240, interval=3
    )
    airflow.request("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
    # The scheduler creates the latest interval's run by itself (catchup is off).
    airflow.wait_for(lambda: all_finished(airflow, 1), "the scheduled run", timeout=RUN_TIMEOUT, interval=5)

    manual_logical = dt.datetime.combine(today - dt.timedelta(days=3), dt.time(4, 0), tzinfo=dt.UTC)
    airflow.request(
        "POST",
        f"/api/v2/dags/{DAG_ID}/dagRuns",
        {"dag_run_id": "rest-trigger", "logical_date": manual_logical.isoformat()},
    )
    airflow.wait_for(lambda: all_finished(airflow, 2), "the triggered run", timeout=RUN_TIMEOUT, interval=5)

    backfill = airflow.request(
        "POST",
        "/api/v2/backfills",
        {
            "dag_id": DAG_ID,
            "from_date": dt.datetime.combine(BACKFILL_FROM, dt.time(0, 0), tzinfo=dt.UTC).isoformat(),
            "to_date": dt.datetime.combine(
                BACKFILL_FROM + dt.timedelta(days=1), dt.time(23, 0), tzinfo=dt.UTC
            ).isoformat(),
            "max_active_runs": 1,
            "reprocess_behavior": "none",
        },
    )
    assert backfill["dag_id"] == DAG_ID
    runs = airflow.wait_for(lambda: all_finished(airflow, 4), "the 2-night backfill", timeout=RUN_TIMEOUT, interval=5)
    assert sum(1 for r in runs if r["run_type"] == "backfill") == 2
    assert sum(1 for r in runs if r["run_type"] == "manual") == 1
    # One, or two if the test happened to span 04:00 UTC and a new interval came due.
    assert sum(1 for r in runs if r["run_type"] == "scheduled") >= 1

    # Each run processed the night its data interval starts on, and published it.
    nights = sorted({dt.datetime.fromisoformat(r["data_interval_start"]).date() for r in runs})
    assert len(nights) == len(runs) >= 4
    # The lake the stack's tasks published to: its catalog is in PostgreSQL, not a file.
    catalog = airflow.env["REWATCH_LAKE_CATALOG"]
    assert catalog.startswith("postgres:dbname=rewatch_lake ")
    assert not (root / "warehouse" / "lake" / "catalog.sqlite").exists()
    settings = Settings(exports_dir=root / "exports", warehouse_dir=root / "warehouse", catalog=catalog)
    con = published_connection(settings)
    try:
        published = [row[0] for row in con.execute("select night from main.rewatch_runs order by 1").fetchall()]
        # The backfilled nights are the whole of their generation: their sessions are its truth.
        history_sessions, history_truth = sessions_against_truth(con, root / "history_truth")
        history = con.execute(
            "select count(distinct night) from main.rewatch_runs where night between ? and ?",
            [BACKFILL_FROM, BACKFILL_FROM + dt.timedelta(days=1)],
        ).fetchone()[0]
    finally:
        con.close()
    assert published == nights
    assert len(history_sessions) > 100
    assert history_sessions == history_truth
    assert history == 2
    for night in nights:
        report = json.loads((root / "warehouse" / "reports" / night.isoformat() / "run.json").read_text())
        assert report["outcome"] in ("published", "published with warnings")
        assert report["load"]["events_loaded"] > 0  # the night's work happened, not an empty run

    # Every warehouse writer ran in the 1-slot pool.
    run_id = urllib.parse.quote(runs[0]["dag_run_id"], safe="")
    tasks = airflow.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")["task_instances"]
    pools = {t["task_id"]: t["pool"] for t in tasks}
    assert {pools[t] for t in ("load_raw", "dbt_build", "audit", "publish")} == {WRITER_POOL}


def _dag_parsed(airflow: AirflowStack) -> bool:
    try:
        airflow.request("GET", f"/api/v2/dags/{DAG_ID}")
        return True
    except RuntimeError:
        return False
