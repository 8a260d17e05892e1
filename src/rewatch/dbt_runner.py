"""`python -m rewatch.dbt_runner <dbt arguments>`: dbt, as `build.run_dbt` runs it in a child process.

The same as the `dbt` command (dbt's programmatic runner; exit 0 success, 1 failure, 2 error),
plus the build's fault points: with `REWATCH_FAULT=build:after_model:<model>`, the process
group is killed as soon as dbt has finished `<model>` (see `rewatch.faults`).
"""

from __future__ import annotations

import contextlib
import itertools
import sys

from rewatch import faults


def _after_model(event) -> None:
    if event.info.name != "NodeFinished":
        return
    unique_id = event.data.node_info.unique_id  # model.rewatch.<name>
    if unique_id.startswith("model."):
        faults.point(f"build:after_model:{unique_id.rsplit('.', 1)[-1]}")


def _close_database() -> None:
    """Close the DuckDB database dbt-duckdb keeps open for the life of the process: DuckDB
    checkpoints the scratch database into its file now. The child ends with os._exit
    (`rewatch.children`), where no finalizer would do it."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if environment is not None:
        environment.close()


# The options of a child's dbt command that a parse of the same project needs.
_PARSE_OPTIONS = ("--project-dir", "--profiles-dir", "--partial-parse-file-path", "--vars")


def warm_up(argv: list[str]) -> None:
    """In the dbt server (`rewatch.children.WARM_UP`), after its first child ran `argv`: parse
    the project as that child did (starting from the saved parse it named, which is only read;
    what the parse writes goes to a folder removed after), then compile every macro's template
    into dbt's process-wide cache. Children forked later find the templates compiled and
    dbt's serialisation code generated."""
    import tempfile

    from dbt.cli.main import dbtRunner
    from dbt_common.clients.jinja import template_cache

    options = []
    for flag, value in itertools.pairwise(argv):
        if flag in _PARSE_OPTIONS:
            options += [flag, value]
    with tempfile.TemporaryDirectory(prefix="rewatch-dbt-warm-up-") as scratch:
        result = dbtRunner().invoke(
            [
                "parse",
                *options,
                "--target-path",
                scratch,
                "--log-path",
                scratch,
                "--quiet",
                "--log-level-file",
                "none",
                "--no-write-json",
            ]
        )
    if not result.success or result.result is None:
        return
    for macro in result.result.macros.values():
        with contextlib.suppress(Exception):  # a macro that does not compile alone is compiled when used
            template_cache.get_node_template(macro)


def main(argv: list[str]) -> int:
    from dbt.cli.main import dbtRunner

    callbacks = [_after_model] if faults.armed("build:") else []
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
