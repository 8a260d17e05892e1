"""
### rewatch_maintain

Once a week, the published lake's upkeep (`rewatch maintain`, src/rewatch/maintain.py): rewrite the
files with deleted rows and merge the nights' small data files, expire snapshots older than the last `REWATCH_KEEP_NIGHTS` nightly
publishes (default 90: `rewatch sql --as-of D` keeps working for those), and delete the files no
kept snapshot needs and the orphans a killed commit left. The published tables do not change.

One task in the 1-slot `warehouse_writer` pool, and the warehouse's writer lock inside it: it
never runs beside a nightly task. A night built before it still publishes after it
(maintenance commits rewrite files, never rows).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from rewatch.settings import WRITER_POOL

# Sunday 10:00 UTC: after the nightly run's export wait (04:00 + up to 6 h) has ended.
SCHEDULE = os.environ.get("REWATCH_MAINTAIN_CRON", "0 10 * * 0")


@dag(
    dag_id="rewatch_maintain",
    schedule=SCHEDULE,
    start_date=pendulum.datetime(2026, 1, 4, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10)},
    tags=["rewatch", "maintenance"],
    doc_md=__doc__,
)
def rewatch_maintain():
    @task(pool=WRITER_POOL)
    def maintain() -> dict:
        from rewatch.pipeline import maintain as maintain_lake

        return maintain_lake()

    maintain()


rewatch_maintain()
