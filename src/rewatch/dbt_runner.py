"""`python -m rewatch.dbt_runner <dbt arguments>`: dbt, as `build.run_dbt` runs it in a child process.

The same as the `dbt` command (dbt's programmatic runner; exit 0 success, 1 failure, 2 error),
plus the build's fault points: with `REWATCH_FAULT=build:after_model:<model>`, the process
group is killed as soon as dbt has finished `<model>` (see `rewatch.faults`).
"""

from __future__ import annotations

import os
import sys

from rewatch import faults, progress


def _after_model(event) -> None:
    if event.info.name != "NodeFinished":
        return
    unique_id = event.data.node_info.unique_id  # model.rewatch.<name>
    if unique_id.startswith("model."):
        faults.point(f"build:after_model:{unique_id.rsplit('.', 1)[-1]}")


class _Progress:
    """When someone watches the build (`rewatch.progress.child_watched`), a line per finished node."""

    def __init__(self) -> None:
        self.done: set[str] = set()

    def __call__(self, event) -> None:
        if event.info.name != "NodeFinished":
            return
        unique_id = event.data.node_info.unique_id  # model.rewatch.<name>, test.rewatch.<name>.<hash>
        self.done.add(unique_id)
        progress.tell(f"dbt: {len(self.done)} nodes done, last {unique_id.split('.')[2]}")


def _close_database() -> None:
    """Close the DuckDB database dbt-duckdb keeps open for the life of the process: DuckDB
    checkpoints the scratch database into its file now. The child ends with os._exit
    (`rewatch.children`), where no finalizer would do it."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if environment is not None:
        environment.close()


def _secrets_read_once() -> None:
    """dbt scrubs every log line of the values of `DBT_ENV_SECRET_*` variables, and finds them
    by decoding the whole environment again for each line: 6,000 lines a small night's build,
    about 0.5 of its 12 s. The environment of this child does not change
    while dbt runs, so the secrets are read once; the scrubbing itself is dbt's, unchanged."""
    from dbt_common.events import functions

    secrets = functions.env_secrets()
    functions.env_secrets = lambda: secrets


def main(argv: list[str]) -> int:
    from dbt.cli.main import dbtRunner

    _secrets_read_once()
    callbacks = [_after_model] if faults.armed("build:") else []
    if os.environ.get(progress.PROGRESS_FILE_VAR):
        callbacks.append(_Progress())
    try:
        result = dbtRunner(callbacks=callbacks).invoke(argv)
    finally:
        _close_database()
    if result.exception is not None and result.result is None:
        print(f"dbt could not run: {result.exception}", file=sys.stderr)
        return 2
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
