"""Named fault points: a test hook that kills a run at a chosen point, whatever the machine's speed.

`REWATCH_FAULT=<point>` makes the process that reaches `<point>` SIGKILL its whole process
group (the run and its dbt or audit child), as an OOM kill or a lost Airflow worker would.
Unset (always, in production), every point is a no-op: one environment lookup.

The points, in the order a night reaches them:

| point | where |
| --- | --- |
| `load:partition:<table>` | a raw partition is written to its temporary file, not yet moved into place |
| `load:before_ledger` | every partition of the night is in place, the ledger (which says "loaded") is not |
| `build:after_model:<model>` | dbt has committed `<model>` in the scratch database (every model that runs) |
| `audit:after_suite:<suite>` | the audit child has validated `<suite>` |
| `audit:result_written` | the audit child has written its result, the parent has not read it |
| `accept:before_ledger` | publishing: the night's partitions are kept as its accepted delivery, all but the ledger |
| `publish:before_commit` | the night's lake transaction has written everything (its data files too), not yet committed |
| `publish:rewrite_before_commit` | the night is committed; the rewrite of the files its deletes left half empty (a second commit, tagged `maintain`) has run, not yet committed |
| `publish:after_commit` | the night's snapshot (and its rewrite) is committed, the scratch database and the run's report not yet done |

A night the audit refuses (or whose build fails for good) puts its accepted delivery back:

| point | where |
| --- | --- |
| `restore:before_ledger` | the refused delivery's ledger is removed and every other partition is the accepted one again; the accepted ledger is not back yet |

`rewatch maintain` (weekly, not part of a night) has its own, in its order:

| point | where |
| --- | --- |
| `maintain:before_commit` | the compaction's rewrite of the files with deleted rows has run in its transaction, not yet committed |
| `maintain:before_merge_commit` | that rewrite is committed; the merge of small files has run in its transaction, not yet committed |
| `maintain:after_commit` | the compaction (both commits) is committed; no snapshot expired yet |
| `maintain:after_expire` | old snapshots are expired; the files they alone needed are not yet deleted |
| `maintain:after_cleanup` | unneeded and orphaned files are deleted; the embedded catalog is not yet vacuumed |

`rewatch run` and `rewatch backfill` (the command, not a step of a night) have one before any night:

| point | where |
| --- | --- |
| `run:before_airflow` | the command holds the warehouse's writer lock; Airflow's database and the DAG are not yet ready, no night has begun |

The crash tests start a run in its own session (process group) with the variable set; the
kill is the run's own, at the point named, so the test never waits for a moment to pass.

`REWATCH_PAUSE=<point>` (with `REWATCH_PAUSE_FILE=<path>`) instead stops the process there: it
writes its pid to the file and waits until something kills it. The stop tests use it to send
SIGTERM or SIGINT while a run is exactly at a point, again without timing.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

ENV = "REWATCH_FAULT"
PAUSE_ENV = "REWATCH_PAUSE"
PAUSE_FILE_ENV = "REWATCH_PAUSE_FILE"

# Points with a fixed name; `<...>` parts are filled with a table, model or suite name.
STATIC_POINTS = (
    "load:before_ledger",
    "audit:result_written",
    "accept:before_ledger",
    "publish:before_commit",
    "publish:rewrite_before_commit",
    "publish:after_commit",
)
# Reached only when a night is refused (its accepted delivery restored).
REFUSAL_POINTS = ("restore:before_ledger",)
# Reached by the `rewatch run` command before its first night (not by a night's steps).
RUN_POINTS = ("run:before_airflow",)
# `rewatch maintain`'s points, in its order (not reached by a night's run).
MAINTAIN_POINTS = (
    "maintain:before_commit",
    "maintain:before_merge_commit",
    "maintain:after_commit",
    "maintain:after_expire",
    "maintain:after_cleanup",
)


def armed(prefix: str = "") -> bool:
    """True when a fault or pause is set (and starts with `prefix`): lets a caller skip costly hooks."""
    return any(name in os.environ and os.environ[name].startswith(prefix) for name in (ENV, PAUSE_ENV))


def point(name: str) -> None:
    """Kill this process group (SIGKILL) when `$REWATCH_FAULT` is exactly `name`, or wait there to
    be killed when `$REWATCH_PAUSE` is; else nothing."""
    if os.environ.get(PAUSE_ENV) == name:
        marker = Path(os.environ[PAUSE_FILE_ENV])
        marker.with_suffix(".tmp").write_text(f"{os.getpid()}\n")
        marker.with_suffix(".tmp").replace(marker)
        while True:
            time.sleep(60)
    if os.environ.get(ENV) != name:
        return
    os.killpg(os.getpgrp(), signal.SIGKILL)
