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


# Commands whose run ends by writing manifest.json (dbt.task.runnable.GraphRunnableTask.run).
RUNNABLE_COMMANDS = frozenset({"build", "run", "test", "seed"})


def _write_artifacts_once() -> None:
    """A `dbt build` writes manifest.json twice, after parsing and again after the run, about
    0.5 s each at this project's size; and graph.gpickle, which only dbt's own `retry` and state
    selection read. Here the run's manifest.json (the publish's `published_tables`, the tests)
    and run_results.json are what is read, so the parse's copy and the graph file are not
    written. With the plugin's variables set in one statement, a small night's build went from
    6.1 to 5.4 CPU seconds (medians of 6 each, docs/benchmarks.md). Only for commands
    that write the manifest again at the end (`RUNNABLE_COMMANDS`); `dbt parse` keeps its one.
    dbt.task.runnable imports `write_manifest` under its own name, so its write stays (it is
    imported here first, before the patch, to be sure it holds dbt's own function)."""
    import dbt.task.runnable
    from dbt import compilation
    from dbt.parser import manifest

    if getattr(manifest.write_manifest, "rewatch_skipped", False):
        return  # done already in this process
    for owner, name in ((manifest, "write_manifest"), (compilation.Compiler, "write_graph_file")):
        if not callable(getattr(owner, name, None)):  # a dbt upgrade moved it: say so, do not guess
            raise RuntimeError(
                f"rewatch.dbt_runner: dbt has no {owner.__name__}.{name} any more; update _write_artifacts_once"
            )
    if dbt.task.runnable.write_manifest is not manifest.write_manifest:
        raise RuntimeError("rewatch.dbt_runner: dbt.task.runnable no longer writes the manifest itself")

    def skipped(*args, **kwargs) -> None:
        return None

    skipped.rewatch_skipped = True
    manifest.write_manifest = skipped
    compilation.Compiler.write_graph_file = skipped


def main(argv: list[str]) -> int:
    from dbt.cli.main import dbtRunner

    _secrets_read_once()
    if argv and argv[0] in RUNNABLE_COMMANDS:
        _write_artifacts_once()
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
