"""dbt-duckdb plugin (`plugins:` in dbt_project/profiles.yml): attach the published lake to
dbt's connection as `published`, read-only, pinned to the snapshot the run compares with; and
give the connection the run's inputs as DuckDB variables (`getvariable(...)` in the project):

| variable | value |
| --- | --- |
| `rewatch_raw_dir` | the raw zone's folder (`REWATCH_RAW_DIR`) |
| `rewatch_nights` | this run's nights, a DATE[] (`REWATCH_NIGHTS`, space-separated) |
| `rewatch_this_run_<table>` | the raw zone's partition files of `<table>` for those nights |

Variables, not `env_var()` in the project's YAML: dbt renders YAML when it parses, so a value
there that changes every night (or every warehouse) made each build parse those files again
(about 2 s of a small night's build); a variable is read by DuckDB when the query runs.

It is here and not in the profile's `attach:` because dbt keys its saved parse (partial parsing)
on the profile's rendered values: a snapshot that changes every night there made every build
parse the whole project again (about 4 s a night). The lake comes from the environment
`rewatch.build.dbt_env` sets: `REWATCH_PUBLISHED_CATALOG`, `REWATCH_PUBLISHED_SNAPSHOT`,
`REWATCH_PUBLISHED_DATA_PATH`.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from pathlib import Path

from dbt.adapters.duckdb.plugins import BasePlugin

from rewatch import lake
from rewatch.rawzone import run_variables_sql
from rewatch.settings import duckdb_limits

VARIABLES = (
    "REWATCH_PUBLISHED_CATALOG",
    "REWATCH_PUBLISHED_SNAPSHOT",
    "REWATCH_PUBLISHED_DATA_PATH",
    "REWATCH_RAW_DIR",
    "REWATCH_NIGHTS",
)


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        missing = [name for name in VARIABLES if os.environ.get(name) is None]
        if missing:
            raise RuntimeError(
                f"dbt needs {', '.join(missing)} (the published lake to attach, the raw zone, the run's nights): "
                "run dbt through `rewatch` (rewatch.build.run_dbt sets them)"
            )
        published = lake.Lake(
            catalog=os.environ["REWATCH_PUBLISHED_CATALOG"],
            data_path=Path(os.environ["REWATCH_PUBLISHED_DATA_PATH"]),
        )
        # The pipeline's memory limit (a setting of the whole database, its cursors too); beyond
        # it, DuckDB spills beside the scratch database, in the run's own folder.
        for name, value in duckdb_limits().items():
            conn.execute(f"set {name} = ?", [value])
        lake.attach(conn, published, alias="published", snapshot=int(os.environ["REWATCH_PUBLISHED_SNAPSHOT"]))
        _set_variables(conn)

    def configure_cursor(self, cursor) -> None:
        # dbt runs its queries on cursors, each a connection of its own: variables are per connection.
        _set_variables(cursor)


@functools.cache
def _variables_sql() -> str:
    """The run's variables as one script, made once: the environment does not change while dbt runs."""
    nights = [dt.date.fromisoformat(night) for night in os.environ["REWATCH_NIGHTS"].split()]
    return run_variables_sql(Path(os.environ["REWATCH_RAW_DIR"]), nights)


def _set_variables(conn) -> None:
    conn.execute(_variables_sql())
