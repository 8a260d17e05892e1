"""dbt-duckdb plugin (`plugins:` in dbt_project/profiles.yml): attach the published lake to
dbt's connection as `published`, read-only, pinned to the snapshot the run compares with.

It is here and not in the profile's `attach:` because dbt keys its saved parse (partial parsing)
on the profile's rendered values: a snapshot that changes every night there made every build
parse the whole project again (about 4 s a night). The lake comes from the environment
`rewatch.build.dbt_env` sets: `REWATCH_PUBLISHED_CATALOG`, `REWATCH_PUBLISHED_SNAPSHOT`,
`REWATCH_PUBLISHED_DATA_PATH`.
"""

from __future__ import annotations

import os
from pathlib import Path

from dbt.adapters.duckdb.plugins import BasePlugin

from rewatch import lake

VARIABLES = ("REWATCH_PUBLISHED_CATALOG", "REWATCH_PUBLISHED_SNAPSHOT", "REWATCH_PUBLISHED_DATA_PATH")


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        missing = [name for name in VARIABLES if not os.environ.get(name)]
        if missing:
            raise RuntimeError(
                f"dbt needs {', '.join(missing)} (the published lake to attach): "
                "run dbt through `rewatch` (rewatch.build.run_dbt sets them)"
            )
        published = lake.Lake(
            catalog=os.environ["REWATCH_PUBLISHED_CATALOG"],
            data_path=Path(os.environ["REWATCH_PUBLISHED_DATA_PATH"]),
        )
        lake.attach(conn, published, alias="published", snapshot=int(os.environ["REWATCH_PUBLISHED_SNAPSHOT"]))
