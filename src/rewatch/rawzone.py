"""The raw zone on disk: where each partition lives, how it is written, who was forgotten.

The raw zone (`$REWATCH_WAREHOUSE_DIR/raw/`) holds one Parquet partition per table and night:

    raw/<table>/export_date=<D>/data.parquet      playback_events, viewing_activity, titles,
                                                  households, profiles
    raw/quarantine/export_date=<D>/data.parquet   rows that break the contract, with file, line, reason
    raw/ledger/export_date=<D>/data.parquet       the night's files by sha256, with row counts
    raw/_accepted/<table>/export_date=<D>/...     the night's last delivery that passed its audit
    raw/forgotten/households.parquet              the households erased with `rewatch forget`

This module is the one place that knows that layout; the loader (`rewatch.load`), the erasure
(`rewatch.forget`), the audit and the build read and write the zone through it, so none of
them needs another's internals (the loader and the erasure once imported each other for it).
Every partition is written to a temporary file and moved into place with `os.replace`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import uuid
from pathlib import Path

import duckdb

from rewatch import faults
from rewatch.settings import duckdb_memory_limit

RAW_TABLES = ("playback_events", "viewing_activity", "titles", "households", "profiles", "quarantine", "ledger")
# Raw tables whose rows carry a household_id column (what an erasure rewrites).
HOUSEHOLD_TABLES = ("playback_events", "viewing_activity", "households", "profiles")
PARTITION_FILE = "data.parquet"
# The last delivery of each night that passed its audit: hard links to its partitions (no bytes
# copied), made when the night is published. A later delivery of the night that is refused (by
# the audit or a failed build) is replaced by it again, so no later build, incremental or
# rebuild, ever reads refused data.
ACCEPTED_DIR = "_accepted"
# SHA-256 digests of the stored ids of the forgotten households (never the ids themselves).
REGISTRY = "forgotten/households.parquet"


def connect(*allowed: Path, spill_to: Path | None = None, progress: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session with settings pinned, whatever the machine's.

    Its memory is capped (`REWATCH_DUCKDB_MEMORY_LIMIT`); beyond it, a session given `spill_to`
    (the load, which holds a whole night) spills there, one without it fails with DuckDB's
    out-of-memory error rather than writing files into the working directory.

    Hardened: it can read and write files only under the `allowed` folders (the exports and
    the raw zone), install or load no extension, attach no database; then the configuration
    is locked, so no statement can undo it. A file name that escapes its night's folder is
    refused by the manifest check first; this is the second wall.
    """
    if spill_to is not None:
        spill_to.parent.mkdir(parents=True, exist_ok=True)  # DuckDB makes only the last folder
    con = duckdb.connect(":memory:")
    con.execute("set TimeZone = 'UTC'")
    con.execute("set memory_limit = ?", [duckdb_memory_limit()])
    con.execute("set temp_directory = ?", [str(spill_to) if spill_to is not None else ""])
    con.execute("set allowed_directories = ?", [[f"{Path(folder).resolve()}/" for folder in allowed]])
    con.execute("set enable_external_access = false")
    con.execute("set autoinstall_known_extensions = false")
    con.execute("set autoload_known_extensions = false")
    if progress:  # `con.query_progress()` answers (for a live display), nothing is printed
        con.execute("set enable_progress_bar = true")
        con.execute("set enable_progress_bar_print = false")
    con.execute("set lock_configuration = true")
    return con


def sql_str(value: str | Path) -> str:
    """Quote a value for the few places DuckDB takes no parameter (table function paths)."""
    return "'" + str(value).replace("'", "''") + "'"


# --- Where partitions live ------------------------------------------------------------------


def _night_folder(night: dt.date) -> str:
    return f"export_date={night.isoformat()}"


def partition_path(raw_dir: Path, table: str, night: dt.date) -> Path:
    """The night's partition of a raw table."""
    return raw_dir / table / _night_folder(night) / PARTITION_FILE


def set_run_variables(con, raw_dir: Path, nights: list[dt.date]) -> None:
    """Give a DuckDB connection the run's inputs the dbt project reads with `getvariable(...)`
    (src/rewatch/dbt_plugin.py lists them): the raw zone's folder, the nights, and each raw
    table's partition files for them. Variables are per connection: every connection that
    reads the scratch database's views of the raw zone needs them (dbt's, the audit's)."""
    con.execute(run_variables_sql(raw_dir, nights))


def run_variables_sql(raw_dir: Path, nights: list[dt.date]) -> str:
    """`set_run_variables`'s statements as one script: dbt opens a cursor per node (about 130 a
    night), and nine round trips each took about 0.3 s of a small night's build under a profiler."""

    def array(values: list[str], of: str) -> str:
        return "[" + ", ".join(sql_str(v) for v in values) + f"]::{of}[]"

    statements = [
        f"set variable rewatch_raw_dir = {sql_str(raw_dir)}",
        f"set variable rewatch_nights = {array([n.isoformat() for n in nights], 'date')}",
    ]
    for table in RAW_TABLES:
        files = [str(partition_path(raw_dir, table, night)) for night in nights]
        statements.append(f"set variable rewatch_this_run_{table} = {array(files, 'varchar')}")
    return ";\n".join(statements)


def accepted_path(raw_dir: Path, table: str, night: dt.date) -> Path:
    """The night's accepted delivery of a raw table (see ACCEPTED_DIR)."""
    return raw_dir / ACCEPTED_DIR / table / _night_folder(night) / PARTITION_FILE


def partitions_glob(raw_dir: Path, table: str) -> Path:
    """A glob of every night's partition of a table, for `read_parquet`."""
    return raw_dir / table / "export_date=*" / PARTITION_FILE


def partitions(raw_dir: Path, table: str, accepted: bool = False) -> list[Path]:
    """The table's partitions on disk (or, with `accepted`, its accepted deliveries), by night."""
    folder = raw_dir / ACCEPTED_DIR / table if accepted else raw_dir / table
    return sorted(folder.glob(f"export_date=*/{PARTITION_FILE}"))


def partition_nights(raw_dir: Path, table: str) -> list[dt.date]:
    """The nights that have a partition of the table (the ledger's: the loaded nights)."""
    return sorted(dt.date.fromisoformat(p.parent.name.split("=", 1)[1]) for p in partitions(raw_dir, table))


# --- Writing partitions ---------------------------------------------------------------------


def write_partition(con: duckdb.DuckDBPyConnection, query: str, target: Path, params: list | None = None) -> int:
    """Write a query's rows to a Parquet partition atomically; returns the row count."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        con.execute(f"copy ({query}) to {sql_str(tmp)} (format parquet, compression zstd)", params or [])
        faults.point(f"load:partition:{target.parent.parent.name}")
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return con.execute(f"select count(*) from read_parquet({sql_str(target)})").fetchone()[0]


def _link(source: Path, target: Path) -> None:
    """`target` becomes another name of `source`'s file, atomically."""
    if target.exists() and target.samefile(source):
        return  # already: rename(2) of two links to one file would do nothing and leave the temporary
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    os.link(source, tmp)
    os.replace(tmp, target)
    tmp.unlink(missing_ok=True)


def _mirror(raw_dir: Path, night: dt.date, to_accepted: bool) -> None:
    """Make one side of the night's partitions the same files as the other (ledger last)."""
    for table in (*[t for t in RAW_TABLES if t != "ledger"], "ledger"):
        if table == "ledger":
            faults.point("accept:before_ledger" if to_accepted else "restore:before_ledger")
        current, accepted = partition_path(raw_dir, table, night), accepted_path(raw_dir, table, night)
        source, target = (current, accepted) if to_accepted else (accepted, current)
        if source.exists():
            _link(source, target)
        else:
            target.unlink(missing_ok=True)


def accept_night(raw_dir: Path, night: dt.date) -> None:
    """Keep the night's partitions, as loaded now, as its accepted delivery (ledger last)."""
    _mirror(raw_dir, night, to_accepted=True)


def restore_accepted(raw_dir: Path, night: dt.date) -> bool:
    """Put the night's accepted delivery back in place of a refused one.

    The ledger goes first and comes back last, so a kill in between leaves the night "not
    loaded" (its next run loads the export again). False when the night was never accepted:
    its refused delivery stays loaded, and nothing reads it (the night is not published).
    """
    if not accepted_path(raw_dir, "ledger", night).exists():
        return False
    partition_path(raw_dir, "ledger", night).unlink(missing_ok=True)
    _mirror(raw_dir, night, to_accepted=False)
    return True


def remove_stale_temporaries(raw_dir: Path, night: dt.date) -> list[Path]:
    """Partitions half-written by a run that was killed (`.data.parquet.<id>.tmp`).

    Only one writer runs at a time (the warehouse's writer lock), so a temporary file found
    when a load starts belongs to a run that died; the partition it was to replace is intact.
    """
    removed = []
    folders = [
        *raw_dir.glob(f"*/{_night_folder(night)}"),
        *raw_dir.glob(f"{ACCEPTED_DIR}/*/{_night_folder(night)}"),
    ]
    for folder in folders:
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def remove_night(raw_dir: Path, night: dt.date) -> None:
    """Drop a night from the raw zone (ledger first, so a crash leaves it 'not loaded')."""
    for table in ("ledger", *[t for t in RAW_TABLES if t != "ledger"]):
        folder = partition_path(raw_dir, table, night).parent
        if folder.exists():
            shutil.rmtree(folder)


# --- The forgotten households ---------------------------------------------------------------


def household_digest(stored_id: str) -> str:
    """What the registry keeps of a household: the SHA-256 of its id as the raw zone stores it."""
    return hashlib.sha256(stored_id.encode()).hexdigest()


def forgotten_digests(raw_dir: Path) -> list[str]:
    """SHA-256 digests of the stored ids of every forgotten household."""
    registry = raw_dir / REGISTRY
    if not registry.exists():
        return []
    con = connect(raw_dir)
    try:
        return [r[0] for r in con.execute(f"select digest from read_parquet({sql_str(registry)})").fetchall()]
    finally:
        con.close()


def register_forgotten(raw_dir: Path, stored_id: str) -> None:
    """Add a household to the registry (idempotent): the loader leaves it out of every later night."""
    digests = sorted({*forgotten_digests(raw_dir), household_digest(stored_id)})
    con = connect(raw_dir)
    try:
        write_partition(
            con,
            "select digest from (select unnest(?::varchar[]) as digest) order by digest",
            raw_dir / REGISTRY,
            [digests],
        )
    finally:
        con.close()
