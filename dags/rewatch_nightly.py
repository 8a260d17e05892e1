"""
### rewatch_nightly

Each night's viewing export, end to end: wait for the night's `_manifest.json`, load the files
into the raw zone (exactly once; bad rows quarantined), `dbt build` what the night changes
into a scratch database, audit it with the Great Expectations suites in `expectations/` (an error-severity failure
refuses the night: nothing is published, the night's accepted delivery stays what builds read), and publish it to
the DuckLake in one commit (one snapshot per night). Reports: `$REWATCH_WAREHOUSE_DIR/reports/<night>/`.

The run for data interval [D 04:00, D+1 04:00) UTC processes export night D. Every task is
one call into `rewatch.pipeline`; all warehouse writers share the 1-slot `warehouse_writer` pool.

`start_date` is the first night rewatch accepts (2007-01-01), so a run or backfill of any past
night has its tasks; `catchup` is off, so unpausing the DAG schedules only the latest night.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Asset, dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from rewatch.contract import FIRST_NIGHT
from rewatch.pipeline import export_poke_seconds, export_wait
from rewatch.settings import PUBLISHED_TABLES, WRITER_POOL

SCHEDULE = os.environ.get("REWATCH_SCHEDULE_CRON", "0 4 * * *")
EXPORT_WAIT = export_wait()
# Downstream DAGs can schedule on fresh data: publishing updates one Asset per published table.
PUBLISHED_ASSETS = [
    Asset(name=f"rewatch.{table}", uri=f"rewatch://warehouse/main/{table}", group="rewatch")
    for table in PUBLISHED_TABLES
]


def _run(step, *args):
    """Bad input or a failed build fails the run at once: retrying cannot fix an export."""
    from airflow.sdk.exceptions import AirflowFailException

    from rewatch.errors import PermanentError

    try:
        return step(*args)
    except PermanentError as exc:
        raise AirflowFailException(str(exc)) from exc


def _alert_on_failure(context) -> None:
    from airflow.sdk.exceptions import AirflowSensorTimeout

    from rewatch.pipeline import export_missing_message, night_of, record_failure

    night = night_of(context["data_interval_start"])
    error = context.get("exception")
    message = str(error or "unknown error")
    if isinstance(error, AirflowSensorTimeout):
        message = export_missing_message(night, EXPORT_WAIT)
    record_failure(night, context["task_instance"].task_id, message)


@dag(
    dag_id="rewatch_nightly",
    schedule=CronDataIntervalTimetable(SCHEDULE, timezone="UTC"),
    # Every night from the first: Airflow creates no task for a run before its start_date.
    start_date=pendulum.datetime(FIRST_NIGHT.year, FIRST_NIGHT.month, FIRST_NIGHT.day, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        "on_failure_callback": _alert_on_failure,
    },
    tags=["rewatch", "nightly"],
    doc_md=__doc__,
)
def rewatch_nightly():
    @task.sensor(
        poke_interval=export_poke_seconds(EXPORT_WAIT),
        timeout=EXPORT_WAIT.total_seconds(),
        mode="reschedule",
        retries=0,
    )
    def wait_for_export(data_interval_start=None) -> bool:
        from rewatch.pipeline import night_of, poke_export

        return poke_export(night_of(data_interval_start))

    @task(pool=WRITER_POOL)
    def load_raw(data_interval_start=None) -> dict:
        from rewatch.pipeline import load, night_of

        return _run(load, night_of(data_interval_start))

    @task(pool=WRITER_POOL)
    def dbt_build(data_interval_start=None) -> dict:
        from rewatch.pipeline import build, night_of

        return _run(build, night_of(data_interval_start))

    @task(pool=WRITER_POOL)
    def audit(data_interval_start=None) -> dict:
        from rewatch.pipeline import audit as audit_night
        from rewatch.pipeline import night_of

        return _run(audit_night, night_of(data_interval_start))

    @task(pool=WRITER_POOL, outlets=PUBLISHED_ASSETS)
    def publish(load_summary: dict, build_summary: dict, audit_summary: dict, data_interval_start=None) -> dict:
        from rewatch.pipeline import night_of
        from rewatch.pipeline import publish as publish_night

        return _run(publish_night, night_of(data_interval_start), load_summary, build_summary, audit_summary)

    loaded = load_raw()
    built = dbt_build()
    audited = audit()
    wait_for_export() >> loaded >> built >> audited
    publish(loaded, built, audited)


rewatch_nightly()
