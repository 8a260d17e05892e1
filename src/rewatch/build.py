"""Build a night with dbt in a scratch database, and publish it to the lake in one commit.

Write-audit-publish: the published lake (src/rewatch/lake.py) is never written by dbt. Each run
starts an empty scratch database `build/next-<night>.duckdb`, attaches the lake read-only pinned
to its last published snapshot (the state before this run), and `dbt build`s there only what the
night changes: this run's rows of every stored table and the keys of the published rows they
replace (models/intermediate/run/int_run_replaced__*). The audit checks that database; then one
lake transaction deletes the replaced rows, inserts this run's, replaces the small whole tables
and records the run: one snapshot per night. Readers attached to the lake keep their snapshot; a
refused or failed night writes nothing to the lake (its scratch database is deleted).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from rewatch import children, faults, lake, progress
from rewatch.errors import PermanentError
from rewatch.rawzone import partition_nights
from rewatch.settings import DBT_PROJECT_DIR, Settings, duckdb_limits

# What change capture reads of the published lake (the dbt sources `published*`).
PREVIOUS_STATE_SOURCES = DBT_PROJECT_DIR / "models" / "intermediate" / "run" / "_run__sources.yml"
# What each publish restated: the published title figures it changed, old and new, and why.
RESTATEMENTS_TABLE = "main.rewatch_restatements"
RESTATED_FIGURES = (
    ("starters", "bigint"),
    ("completers", "bigint"),
    ("repeat_households", "bigint"),
    ("completion_rate", "double"),
    ("repeat_rate", "double"),
    ("hours_viewed", "double"),
    ("views", "double"),
)
# dbt's saved parse, in the build folder (`parse_cache_path`), and the latest one any warehouse
# of this Python environment saved (the project files are the environment's): a new
# warehouse's first build starts from it instead of parsing the whole project.
PARSE_CACHE = "dbt-partial-parse.msgpack"
SHARED_PARSE_CACHE = Path(sys.prefix) / "share" / "rewatch" / PARSE_CACHE
# The file name of every build's scratch database (dbt names the database after it).
SCRATCH_NAME = "scratch.duckdb"
# dbt's documentation of each version of the project (shared by the environment's warehouses).
SHARED_DOCS_CACHE = Path(sys.prefix) / "share" / "rewatch" / "dbt-docs"
DOCS_STAMP = "project-version.txt"
# What a version of the project is made of (`project_version`), and what dbt writes into it.
PROJECT_SUFFIXES = (".sql", ".yml", ".yaml", ".csv", ".md")
DBT_OUTPUT_DIRS = ("target", "logs", "dbt_packages")
# The run's record in the lake, one row per night.
RUNS_TABLE = "main.rewatch_runs"
log = logging.getLogger(__name__)


class BuildError(PermanentError):
    """dbt failed: the message names the failing nodes; the published file is untouched."""


class PublishConflictError(PermanentError):
    """The published warehouse changed while this run built on it: publishing would lose that change."""


@dataclass(frozen=True)
class BuildResult:
    night: dt.date | None
    nights: tuple[dt.date, ...]
    candidate_path: Path
    seconds: float
    nodes: int
    base: str | None  # the published snapshot this build started from (published_fingerprint)


def published_fingerprint(settings: Settings) -> str | None:
    """Which published state is in place: the lake's head snapshot. Every publish commits a new
    one, so a different value means another writer published in between. None: nothing published."""
    snapshot = lake.head_snapshot(settings)
    return None if snapshot is None else str(snapshot)


def candidate_path(settings: Settings, night: dt.date | None) -> Path:
    """The scratch database a run builds, in the run's own folder; `night=None` is the full
    rebuild. Its file name is the same for every run: dbt names the database after it, and a
    parse saved by one night's build is reused by the next only when that name is unchanged."""
    return settings.build_dir / f"next-{night.isoformat() if night else 'rebuild'}" / SCRATCH_NAME


def parse_cache_path(settings: Settings) -> Path:
    """dbt's saved parse of the project (partial parsing), kept between the warehouse's builds."""
    return settings.build_dir / PARSE_CACHE


def dbt_run_dir(database: Path) -> Path:
    """Where dbt keeps its target and logs for a build of `database` (beside it)."""
    return database.parent / f"dbt-{database.stem}"


def _remove_database(path: Path) -> None:
    for suffix in ("", ".wal"):
        target = Path(str(path) + suffix)
        if target.exists():
            target.unlink()


@dataclass(frozen=True)
class PreviousState:
    """The published state a run compares with: a lake and the snapshot it is pinned to."""

    lake: lake.Lake
    snapshot: int


def dbt_env(settings: Settings, database: Path, previous: PreviousState) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            # A file name, dbt running in its folder: the profile's values key dbt's saved parse.
            "REWATCH_DBT_DATABASE": database.name,
            "REWATCH_PUBLISHED_CATALOG": previous.lake.catalog,
            "REWATCH_PUBLISHED_SNAPSHOT": str(previous.snapshot),
            "REWATCH_PUBLISHED_DATA_PATH": str(previous.lake.data_path),
            "REWATCH_DUCKDB_EXTENSIONS": str(lake.extension_directory(settings)),
            "REWATCH_RAW_DIR": str(settings.raw_dir),
            "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        }
    )
    return env


def previous_state_tables() -> dict[tuple[str, str], list[tuple[str, str]]]:
    """The published tables and columns change capture reads: the `published*` dbt sources,
    as (schema, table) -> [(column, type)]."""
    spec = yaml.safe_load(PREVIOUS_STATE_SOURCES.read_text())
    return {
        (source["schema"], table["name"]): [(column["name"], column["data_type"]) for column in table["columns"]]
        for source in spec["sources"]
        for table in source["tables"]
    }


def empty_previous_state(settings: Settings, directory: Path) -> PreviousState:
    """The state before the first night (and before a full rebuild): an empty lake with those
    tables, in `directory` (the run's own folder)."""
    shutil.rmtree(directory, ignore_errors=True)
    empty = lake.Lake(catalog=f"sqlite:{directory / 'catalog.sqlite'}", data_path=directory / "data")
    lake.create(settings, empty)
    con = lake.connect(settings)
    try:
        lake.attach(con, empty, read_only=False)
        for (schema, table), columns in previous_state_tables().items():
            con.execute(f"create schema if not exists lake.{schema}")
            con.execute(f"create table lake.{schema}.{table} ({', '.join(f'{c} {t}' for c, t in columns)})")
        snapshot = lake.head(con)
    finally:
        con.close()
    return PreviousState(empty, snapshot)


def check_previous_state(settings: Settings) -> PreviousState:
    """The published lake at its head, refused when it lacks what change capture reads."""
    published = lake.lake_of(settings)
    con = lake.connect(settings)
    try:
        lake.attach(con, published)
        snapshot = lake.published_snapshot(con)
        present = lake.columns(con)
    finally:
        con.close()
    missing = [
        f"{schema}.{table}.{column}"
        for (schema, table), columns in previous_state_tables().items()
        for column, _ in columns
        if (schema, table, column) not in present
    ]
    if missing:
        raise BuildError(
            f"the published lake {published.describe()} was built by an older rewatch: it lacks "
            f"{', '.join(missing[:5])}{' and more' if len(missing) > 5 else ''}. Run `rewatch rebuild` once; "
            "the published warehouse is unchanged."
        )
    return PreviousState(published, snapshot)


def run_dbt(
    settings: Settings,
    database: Path,
    args: list[str],
    nights: list[dt.date],
    previous: PreviousState | None = None,
    *,
    vars_: dict | None = None,
    parse_cache: Path | None = None,
) -> children.Finished:
    """Run a dbt command against `database` for `nights` in a child process (isolated memory
    and crashes).

    `previous` is the published state the run compares with (attached read-only as
    `published`); None: an empty one (the first night, a full rebuild). The child is this
    environment's dbt through `rewatch.dbt_runner` (the build's fault points), forked from a
    server that has imported dbt once (`rewatch.children`). With `parse_cache`, dbt starts from
    the parse saved there, or else from the environment's latest (`SHARED_PARSE_CACHE`); it
    checks the project's files, variables and environment and parses again what changed (the
    nights change a few files). A successful run of a night's kind (a database named
    `SCRATCH_NAME`, no `vars_`) saves its parse in both places; another would make the next
    night's build parse the whole project again.
    """
    run_dir = dbt_run_dir(database)
    if previous is None:
        previous = empty_previous_state(settings, run_dir / "previous-empty")
    env = dbt_env(settings, database, previous)
    env["REWATCH_NIGHTS"] = " ".join(n.isoformat() for n in nights)
    # dbt's log file at info level: what ran, its warnings and errors (a failure's SQL and message
    # are in run_results.json and the output too). At dbt's default, debug, it also writes every
    # statement and adapter event: about 1 s of a small night's 12 s build (docs/benchmarks.md).
    # DBT_LOG_LEVEL_FILE=debug in the environment keeps the full log.
    env.setdefault("DBT_LOG_LEVEL_FILE", "info")
    argv = [
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(run_dir / "target"),
        "--log-path",
        str(run_dir / "logs"),
    ]
    if vars_:
        argv += ["--vars", json.dumps(vars_)]
    if parse_cache is not None:
        start_from = next((p for p in (parse_cache, SHARED_PARSE_CACHE) if p.exists()), None)
        if start_from is not None:
            argv += ["--partial-parse-file-path", str(start_from)]
    with progress.child_watched(run_dir / "progress.txt", env, "dbt: starting, reading the project"):
        finished = children.run("dbt", "rewatch.dbt_runner:main", [argv], env=env, cwd=database.parent)
    saved = run_dir / "target" / "partial_parse.msgpack"
    # dbt keys a saved parse by the profile (the database's name) and the variables: the parse
    # of a run under another name or with --vars would make the next night parse it all again.
    nightly = database.name == SCRATCH_NAME and not vars_
    if parse_cache is not None and nightly and finished.returncode == 0 and saved.exists():
        _save_parse(saved, parse_cache)
        with contextlib.suppress(OSError):  # a read-only environment (an image): each warehouse keeps its own
            _save_parse(saved, SHARED_PARSE_CACHE)
    return finished


def _save_parse(saved: Path, to: Path) -> None:
    """Replace `to` at once: other processes may be reading it, or saving theirs."""
    to.parent.mkdir(parents=True, exist_ok=True)
    tmp = to.with_name(f"{to.name}.{os.getpid()}.tmp")
    shutil.copyfile(saved, tmp)
    os.replace(tmp, to)


def loaded_nights(settings: Settings) -> list[dt.date]:
    """Nights whose raw load completed (their ledger partition exists)."""
    return partition_nights(settings.raw_dir, "ledger")


def _failures(run_dir: Path) -> list[str]:
    results = run_dir / "target" / "run_results.json"
    if not results.exists():
        return []
    data = json.loads(results.read_text())
    failed = []
    for result in data.get("results", []):
        if result.get("status") in ("error", "fail", "runtime error"):
            message = " ".join(line.strip() for line in (result.get("message") or "").strip().splitlines()[:8])
            failed.append(f"{result.get('unique_id')}: {result.get('status')}: {message}")
    return failed


def build_night(
    settings: Settings, night: dt.date | None, full_refresh: bool = False, nights: list[dt.date] | None = None
) -> BuildResult:
    """`dbt build` what night `night` changes into an empty scratch database.

    Incremental: only what the night changes is recomputed, compared with the published lake.
    With `full_refresh`, the published state is empty and `nights` (default: every loaded night)
    are processed (`rewatch rebuild`).
    """
    if night is None and not full_refresh:
        raise ValueError("an incremental build needs a night")
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    candidate = candidate_path(settings, night)
    # A run killed before publishing leaves its folder (scratch database, WAL, dbt's target and
    # logs): it goes. The lake is never touched here.
    shutil.rmtree(candidate.parent, ignore_errors=True)
    base = published_fingerprint(settings)
    previous = None
    if base is not None and not full_refresh:
        previous = check_previous_state(settings)
        base = str(previous.snapshot)
    started = time.monotonic()
    # Unit tests check the models' code, not the night's data: `make test` runs them.
    args = ["build", "--fail-fast", "--exclude-resource-type", "unit_test"]
    nights = (nights or loaded_nights(settings)) if full_refresh else [night]
    if not nights:
        raise BuildError("no loaded nights to build from; run a night first")
    candidate.parent.mkdir(parents=True)
    proc = run_dbt(settings, candidate, args, nights, previous, parse_cache=parse_cache_path(settings))
    if proc.returncode != 0:
        failures = _failures(dbt_run_dir(candidate))
        tail = "\n".join(proc.stdout.strip().splitlines()[-25:])
        _remove_database(candidate)
        detail = "\n".join(failures) if failures else tail
        raise BuildError(
            f"dbt build failed for night {night}; the published warehouse is unchanged. Fix what it names "
            f"(the night's export, or the models) and re-run the night.\n{detail}"
        )
    data = json.loads((dbt_run_dir(candidate) / "target" / "run_results.json").read_text())
    return BuildResult(
        night=night,
        nights=tuple(nights),
        candidate_path=candidate,
        seconds=time.monotonic() - started,
        nodes=len(data["results"]),
        base=base,
    )


UNCHECKED = object()
# Column types a replaced-keys model's time is in (it bounds the publish's delete: `_apply`).
TIME_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE")


@dataclass(frozen=True)
class PublishedTable:
    """A model the publish step writes to the lake (dbt meta `rewatch_publish`)."""

    schema: str
    name: str
    mode: str  # replace: the whole table; apply: delete int_run_replaced__<name>'s keys, insert the model's rows
    # A time column (dbt meta `rewatch_partition_by`): the lake writes the table's files per day
    # of it, and its compaction merges files of one day only (`_create`).
    partition_by: str | None = None


def published_tables(run_dir: Path) -> list[PublishedTable]:
    """The models a build publishes, from its dbt manifest."""
    manifest = json.loads((run_dir / "target" / "manifest.json").read_text())
    tables = []
    for node in manifest["nodes"].values():
        meta = node.get("config", {}).get("meta") or {}
        mode = meta.get("rewatch_publish")
        if node.get("resource_type") == "model" and mode:
            if mode not in ("replace", "apply"):
                raise BuildError(f"{node['unique_id']}: meta rewatch_publish must be replace or apply, not {mode!r}")
            tables.append(PublishedTable(node["schema"], node["alias"], mode, meta.get("rewatch_partition_by")))
    return sorted(tables, key=lambda t: (t.schema, t.name))


def _create(con: duckdb.DuckDBPyConnection, table: PublishedTable, target: str, source: str) -> None:
    """Create (or replace) the lake's table with the build's rows. A table partitioned by a time
    keeps one day of it per data file: a night's reads and deletes bounded by time then touch the
    files of the days it changes, and the weekly compaction (`rewatch maintain`) merges the files
    of one day, never days apart (DuckLake merges within a partition). DuckLake's `day()` is the
    day of the month, so the key is the year, month and day."""
    con.execute(f"create schema if not exists lake.{table.schema}")
    if table.partition_by is None:
        con.execute(f"create or replace table {target} as select * from {source}")
        return
    con.execute(f"create or replace table {target} as select * from {source} limit 0")
    _partition(con, table)
    con.execute(f"insert into {target} select * from {source}")


def _partition(con: duckdb.DuckDBPyConnection, table: PublishedTable) -> None:
    column = table.partition_by
    con.execute(
        f"alter table lake.{table.schema}.{table.name} set partitioned by (year({column}), month({column}), day({column}))"
    )


def _apply(
    con: duckdb.DuckDBPyConnection,
    table: PublishedTable,
    existing: set[tuple[str, str]],
    partitioned: set[tuple[str, str]],
    full: bool,
) -> None:
    target, source = f"lake.{table.schema}.{table.name}", f"scratch.{table.schema}.{table.name}"
    if table.mode == "replace" or full or (table.schema, table.name) not in existing:
        _create(con, table, target, source)
        return
    if table.partition_by and (table.schema, table.name) not in partitioned:
        # Published before the table had partition keys: from this night on its new files hold
        # one day each (the earlier files keep their layout until a `rewatch rebuild`).
        _partition(con, table)
    # A table an older rewatch published lacks the columns added since: inserting this run's
    # rows would fail half-way with DuckDB's binder error. Say what to do instead.
    built, published = (
        {row[0] for row in con.execute(f"select column_name from (describe {relation})").fetchall()}
        for relation in (source, target)
    )
    if built != published:
        differences = [f"new {c}" for c in sorted(built - published)] + [f"gone {c}" for c in sorted(published - built)]
        raise BuildError(
            f"the published table {table.schema}.{table.name} has other columns than this rewatch builds "
            f"({', '.join(differences[:5])}{' and more' if len(differences) > 5 else ''}): it was published by "
            "another version. Run `rewatch rebuild` once; the published warehouse is unchanged."
        )
    replaced = f"scratch.this_run.int_run_replaced__{table.name}"
    keys = dict(con.execute(f"select column_name, column_type from (describe {replaced})").fetchall())
    columns = ", ".join(keys)
    # A time among the keys bounds the delete by its earliest value, as a constant: DuckLake then
    # skips the files whose rows all start before it (their column statistics) instead of
    # reading every file of the table for the keys. No replaced row: nothing to delete.
    times = [name for name, kind in keys.items() if kind in TIME_TYPES]
    rows, nulls, *earliest = con.execute(
        f"select count(*), count(*) filter (where {' or '.join(f'{k} is null' for k in keys)})"
        + "".join(f", min({t})::varchar" for t in times)
        + f" from {replaced}"
    ).fetchone()
    if nulls:  # a null never matches in the delete below: its published row would stay beside the new one
        raise BuildError(f"{replaced}: {nulls} replaced key(s) with a null column; nothing published")
    if rows:
        bounds = "".join(f" and {t} >= '{value}'::{keys[t]}" for t, value in zip(times, earliest, strict=True))
        con.execute(f"delete from {target} where ({columns}) in (select {columns} from {replaced}){bounds}")
    con.execute(f"insert into {target} by name select * from {source}")


def _log_restatements(con: duckdb.DuckDBPyConnection, kind: str, nights: list[dt.date]) -> list[dict]:
    """Inside the publish transaction, before rpt_title_performance is replaced: append to
    `rewatch_restatements` every published (title, window) row whose figures this run changes
    or removes, with the figures before and after and why (docs/metrics.md, "Restatements").

    A nightly run logs only the titles `int_run_restated_titles` gives a reason for (late
    events, a night delivered again, a catalog recut): a figure that only grows with the night's
    own events is no restatement. A rebuild (`kind` rebuild or erasure) logs every change."""
    figures = [name for name, _ in RESTATED_FIGURES]
    con.execute(
        f"create table if not exists lake.{RESTATEMENTS_TABLE} (restated_at timestamp, run_kind varchar, "
        "nights date[], title_id varchar, window_name varchar, reasons varchar[], "
        + ", ".join(f"{name}_before {kind_}, {name}_after {kind_}" for name, kind_ in RESTATED_FIGURES)
        + ")"
    )

    # Doubles compared rounded: sums of the same values in another order differ in the last bits.
    def value(side: str, name: str) -> str:
        kind_ = dict(RESTATED_FIGURES)[name]
        return f"round({side}.{name}, 9)" if kind_ == "double" else f"{side}.{name}"

    changed = " or ".join(f"{value('before', f)} is distinct from {value('after', f)}" for f in figures)
    if kind == "night":
        reasons = (
            "join scratch.this_run.int_run_restated_titles as why on before.title_id = why.title_id",
            "list_filter([case when why.has_late_events then 'late_events' end, "
            "case when why.has_redelivered_night then 'redelivered_night' end, "
            "case when why.has_catalog_recut then 'catalog_recut' end], reason -> reason is not null)",
        )
    else:
        reasons = ("", f"['{kind}']")
    con.execute(
        f"""
        create or replace temp table restated as
        select
            cast(now() at time zone 'UTC' as timestamp) as restated_at, ?::varchar as run_kind,
            ?::date[] as nights, before.title_id, before.window_name, {reasons[1]} as reasons,
            {", ".join(f"before.{f} as {f}_before, after.{f} as {f}_after" for f in figures)}
        from lake.main.rpt_title_performance as before
        left join scratch.main.rpt_title_performance as after
            on before.title_id = after.title_id and before.window_name = after.window_name
        {reasons[0]}
        where after.title_id is null or {changed}
        """,
        [kind, list(nights)],
    )
    con.execute(f"insert into lake.{RESTATEMENTS_TABLE} by name select * from restated")
    rows = con.execute(
        "select title_id, window_name, reasons, starters_before, starters_after from restated "
        "order by title_id, window_name"
    ).fetchall()
    con.execute("drop table restated")
    columns = ("title_id", "window_name", "reasons", "starters_before", "starters_after")
    return [dict(zip(columns, row, strict=True)) for row in rows]


@dataclass(frozen=True)
class Published:
    """What a publish did: the lake it committed to and the figures it restated."""

    lake: lake.Lake
    restatements: list[dict]


def publish(
    settings: Settings,
    night: dt.date | None,
    summary: dict,
    nights: list[dt.date] | None = None,
    base: str | object | None = UNCHECKED,
    kind: str | None = None,
) -> Published:
    """Apply the audited scratch database to the lake in one transaction, and record the run.

    `nights` are the nights the run processed (default: `night`); a rebuild records them all and
    replaces every table. `base`: the published snapshot the build started from
    (BuildResult.base); when rewatch committed anything but maintenance after it, another writer
    published meanwhile and this build, made without that change, is discarded
    (PublishConflictError). `kind`: night (default with a night), rebuild (default without), or
    erasure (a rebuild after `rewatch forget`), as the restatement log records it.
    """
    candidate = candidate_path(settings, night)
    run_dir = dbt_run_dir(candidate)
    if not candidate.exists():
        raise BuildError(
            f"{candidate}: no built warehouse to publish for {night or 'the rebuild'} (its build failed or was "
            "discarded); run the build again before publishing. The published warehouse is unchanged."
        )
    published = lake.lake_of(settings)
    conflict = PublishConflictError(
        f"the published lake {published.describe()} changed since the build of {night or 'the rebuild'} started "
        f"(another writer published meanwhile); not publishing a build that lacks that change. "
        f"The published warehouse is unchanged: run {night or 'the rebuild'} again."
    )
    nights = nights or [night]
    tables = published_tables(run_dir)
    if not lake.exists(published):
        lake.create(settings, published)
    con = lake.connect(settings, limits=duckdb_limits(settings.spill_dir))
    try:
        lake.attach(con, published, read_only=False)
        con.execute(f"attach '{candidate}' as scratch (read_only)")
        _reset_partition_keys(con, tables)
        con.execute("begin")
        if base is not UNCHECKED and lake.changed_since(con, None if base is None else int(base)):
            con.execute("rollback")
            discard_candidate(settings, night)
            raise conflict
        existing = set(
            con.execute("select schema_name, table_name from duckdb_tables() where database_name = 'lake'").fetchall()
        )
        kind = kind or ("rebuild" if night is None else "night")
        restated = []
        if ("main", "rpt_title_performance") in existing:
            with _timed("the restatement log"):
                restated = _log_restatements(con, kind, nights)
        partitioned = lake.partitioned(con)
        for table in tables:
            with _timed(f"{table.schema}.{table.name} ({table.mode})"):
                _apply(con, table, existing, partitioned, full=night is None)
        con.execute(f"create table if not exists lake.{RUNS_TABLE} (night date, published_at timestamp, summary json)")
        con.execute(f"delete from lake.{RUNS_TABLE} where night in (select unnest(?::date[]))", [list(nights)])
        for processed in nights:
            con.execute(
                f"insert into lake.{RUNS_TABLE} values (?, cast(now() at time zone 'UTC' as timestamp), ?)",
                [processed, json.dumps(summary, sort_keys=True, default=str)],
            )
        commit_kind = "rebuild" if night is None else "night"
        lake.tag_commit(
            con, "lake", commit_kind, [n.isoformat() for n in nights], f"{commit_kind} {night or ''}".strip()
        )
        faults.point("publish:before_commit")
        with _timed("the commit"):
            con.execute("commit")
        if night is not None:
            with _timed("rewriting half-deleted files"):
                _rewrite_deleted(con, [(t.schema, t.name) for t in tables if t.mode == "apply"])
    finally:
        con.close()
    faults.point("publish:after_commit")
    discard_candidate(settings, night)
    return Published(published, restated)


def _reset_partition_keys(con: duckdb.DuckDBPyConnection, tables: list[PublishedTable]) -> None:
    """Reset the keys of the tables an older rewatch partitioned and this one does not
    (`fct_watch_cycles` was, by day): from this night on their new files are not split (the
    earlier ones keep their days until a `rewatch rebuild`). In a commit of its own, tagged
    `maintain` (files, never rows, so a build from the snapshot before it still publishes), not
    in the night's: DuckDB 1.5.5's DuckLake aborts the whole process when one transaction resets
    a table's partition keys and writes to it ("Attempted to access index 0 within vector of
    size 0"); reset alone, then written, it does not."""
    partitioned = lake.partitioned(con)
    stale = [t for t in tables if t.partition_by is None and (t.schema, t.name) in partitioned]
    if not stale:
        return
    con.execute("begin")
    try:
        for table in stale:
            con.execute(f"alter table lake.{table.schema}.{table.name} reset partitioned by")
        names = ", ".join(f"{t.schema}.{t.name}" for t in stale)
        lake.tag_commit(con, "lake", "maintain", [], f"maintain: {names} no longer partitioned")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


@contextlib.contextmanager
def _timed(step: str) -> Iterator[None]:
    """Log at debug level how long a step of the publish took: where a publish spends its time
    (bench/nightly_scaling.py reads these lines and shows them per step)."""
    began = time.monotonic()
    yield
    log.debug("publish: %s took %.2f s", step, time.monotonic() - began)


def _rewrite_deleted(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]]) -> None:
    """The night is published: rewrite the files its deletes left at least half empty
    (maintain.rewrite_deleted). A failure here loses nothing (the files stay as they were, and
    the weekly maintenance rewrites them), so it is reported, not raised."""
    from rewatch.maintain import rewrite_deleted

    try:
        rewrite_deleted(con, tables)
    except duckdb.Error as error:
        log.warning(
            "the night is published, but rewriting its tables' half-deleted files failed (%s); "
            "`rewatch maintain` rewrites them",
            error,
        )


def discard_candidate(settings: Settings, night: dt.date | None) -> None:
    """Remove a scratch database (published, refused or abandoned) and its dbt run folder."""
    shutil.rmtree(candidate_path(settings, night).parent, ignore_errors=True)


def published_nights(settings: Settings) -> list[dt.date] | None:
    """Nights the published lake holds (None when nothing is published yet)."""
    if lake.head_snapshot(settings) is None:
        return None
    con = lake.open_published(settings)
    try:
        return [row[0] for row in con.execute(f"select distinct night from {RUNS_TABLE} order by 1").fetchall()]
    finally:
        con.close()


def rebuild_nights(settings: Settings) -> list[dt.date]:
    """What a rebuild processes: the loaded nights that were published.

    A night the audit refused the first time it came stays loaded in the raw zone but was never
    published; rebuilding it in would make the rebuild differ from the nightly runs. With
    nothing published yet, every loaded night.
    """
    loaded = loaded_nights(settings)
    published = published_nights(settings)
    if published is None:
        return loaded
    if missing := sorted(set(published) - set(loaded)):
        # A run killed while it put a night's accepted delivery back: never rebuild without it.
        raise BuildError(
            f"night(s) {', '.join(map(str, missing))} are published but not loaded in the raw zone (a run was "
            f"interrupted); run them again (rewatch run --date D) before rebuilding. The published warehouse is unchanged."
        )
    return [night for night in loaded if night in set(published)]


def rebuild(settings: Settings, audit=None, kind: str = "rebuild") -> dict:
    """Rebuild every table from the published nights' raw data into a fresh file, audit, publish.

    `audit(candidate) -> dict` validates the candidate and raises to refuse it. `kind`: rebuild,
    or erasure (after `rewatch forget`), as the restatement log records the figures it changes.
    """
    nights = rebuild_nights(settings)
    if not nights:
        raise BuildError("no published or loaded nights to rebuild from; run a night first")
    result = build_night(settings, None, full_refresh=True, nights=nights)
    summary = {
        "rebuild": True,
        "nights": [n.isoformat() for n in result.nights],
        "dbt_seconds": round(result.seconds, 2),
    }
    if audit is not None:
        try:
            summary["audit"] = audit(result.candidate_path)
        except Exception:
            discard_candidate(settings, None)
            raise
    published = publish(settings, None, summary, nights=list(result.nights), base=result.base, kind=kind)
    summary["restatements"] = len(published.restatements)
    return summary


def generate_docs(settings: Settings, out_dir: Path | None = None) -> Path:
    """`dbt docs generate` for the published warehouse: one self-contained page (lineage, every
    model's grain and columns) in `out_dir` (default: <reports>/dbt-docs/index.html).

    dbt reads the column catalog from a throwaway database holding a view of every published
    table, with the lake attached read-only as `published`, as a run does.
    """
    nights = published_nights(settings)
    if not nights:
        raise BuildError(f"nothing published yet in {settings.warehouse_dir}; run a night first")
    out_dir = out_dir or settings.dbt_docs_dir
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    # Named like a night's scratch database (dbt names the database after the file): the
    # profile is then the same, and so is dbt's saved parse, which both reuse and save.
    database = settings.build_dir / "docs" / SCRATCH_NAME
    shutil.rmtree(database.parent, ignore_errors=True)
    database.parent.mkdir(parents=True)
    previous = check_previous_state(settings)
    con = lake.connect(settings, str(database))
    try:
        lake.attach(con, previous.lake, alias="published", snapshot=previous.snapshot)
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'published'"
        ).fetchall():
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create view {schema}.{table} as select * from published.{schema}.{table}")
    finally:
        con.close()
    try:
        proc = run_dbt(
            settings,
            database,
            ["docs", "generate", "--static"],
            [nights[-1]],
            previous,
            parse_cache=parse_cache_path(settings),
        )
        target = dbt_run_dir(database) / "target"
        if proc.returncode != 0 or not (target / "static_index.html").exists():
            tail = "\n".join(proc.stdout.strip().splitlines()[-15:])
            raise BuildError(f"dbt docs generate failed:\n{tail}")
        out_dir.mkdir(parents=True, exist_ok=True)
        for source, name in (("static_index.html", "index.html"), ("manifest.json",) * 2, ("catalog.json",) * 2):
            _copy_whole(target / source, out_dir / name)
    finally:
        shutil.rmtree(database.parent, ignore_errors=True)
    return out_dir / "index.html"


def project_version() -> str:
    """A fingerprint of the dbt project as its documentation sees it: every model, macro, seed,
    YAML and Markdown file, and dbt's version. Equal fingerprints give the same docs page."""
    digest = hashlib.sha256(importlib.metadata.version("dbt-core").encode())
    for path in sorted(DBT_PROJECT_DIR.rglob("*")):
        relative = path.relative_to(DBT_PROJECT_DIR)
        if path.is_file() and path.suffix in PROJECT_SUFFIXES and relative.parts[0] not in DBT_OUTPUT_DIRS:
            digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _copy_whole(source: Path, target: Path) -> None:
    """Copy `source` to `target` at once: a reader of the page never sees half of it."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def _copy_page(cached: Path, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for source in cached.iterdir():
        _copy_whole(source, out_dir / source.name)


def publish_docs(settings: Settings) -> Path:
    """dbt's documentation page in <reports>/dbt-docs/index.html, current with the project.

    Generated (`generate_docs`) only when the project changed since the page was written: its
    version is stamped beside it. The page depends on the project alone (lineage, descriptions,
    and column types, which the models fix), so a page generated for the same version by
    another warehouse of this environment is copied instead of generated again.
    """
    out_dir = settings.dbt_docs_dir
    version = project_version()
    stamp = out_dir / DOCS_STAMP
    if stamp.exists() and stamp.read_text().strip() == version and (out_dir / "index.html").exists():
        return out_dir / "index.html"
    cached = SHARED_DOCS_CACHE / version
    if not (cached / "index.html").exists():
        generate_docs(settings, out_dir)
        with contextlib.suppress(OSError):  # a read-only environment: each warehouse generates its own
            staging = cached.with_name(f"{version}.{os.getpid()}.tmp")
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(out_dir, staging, ignore=shutil.ignore_patterns(DOCS_STAMP))
            try:
                os.rename(staging, cached)
            except OSError:
                # Another process generated and cached the same version meanwhile. dbt stamps each
                # generation (generated_at, invocation_id): take the cached one, so every
                # warehouse of this environment shows the same page for a version.
                shutil.rmtree(staging, ignore_errors=True)
                _copy_page(cached, out_dir)
    else:
        _copy_page(cached, out_dir)
    stamp.write_text(version + "\n")
    return out_dir / "index.html"
