"""The published warehouse: a DuckLake (a SQL catalog plus Parquet files), one snapshot per night.

Embedded, the catalog is a SQLite file in WAL mode under the warehouse directory (in the default
journal mode a commit fails while a reader holds the file, ducklake#128); deployed, it is a
PostgreSQL database (`REWATCH_LAKE_CATALOG=postgres:dbname=... host=...`). The data files live
under `<warehouse>/lake/data/` either way. docs/architecture.md records why and what was measured.

Every commit to the lake is a rewatch publish (a night, a rebuild, an erasure), tagged with
`set_commit_message('rewatch', ..., extra_info => {...})`: the head is always audited data, and
the snapshots' `extra_info` is the night -> snapshot map that time travel reads.

The extensions come from PyPI wheels (`duckdb-extension-*`), never from the network: they are
copied into a folder the warehouse owns, and DuckDB is told not to download anything.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import duckdb_extensions

from rewatch.errors import PermanentError
from rewatch.settings import Settings

EXTENSIONS = ("ducklake", "sqlite_scanner", "postgres_scanner")
AUTHOR = "rewatch"


class LakeError(PermanentError):
    """The lake cannot be opened or does not hold what rewatch expects: the message says what to do."""


def extension_directory(settings: Settings | None = None) -> Path:
    """The folder DuckDB loads extensions from, one per Python environment (inside it), filled
    once from the installed `duckdb-extension-*` wheels: nothing is downloaded. Each file is
    installed in a private folder and renamed into place, so processes starting together (test
    workers, Airflow tasks) never load a half-copied extension."""
    directory = Path(sys.prefix) / "share" / "rewatch" / "duckdb_extensions"
    missing = [name for name in EXTENSIONS if not any(directory.rglob(f"{name}.duckdb_extension"))]
    if missing:
        private = directory.parent / f".installing-{os.getpid()}"
        shutil.rmtree(private, ignore_errors=True)
        private.mkdir(parents=True)
        try:
            con = duckdb.connect(config={"extension_directory": str(private), "autoinstall_known_extensions": False})
            try:
                for name in missing:
                    duckdb_extensions.import_extension(name, con=con)
            finally:
                con.close()
            # `.info` before the extension itself: a loader checks for the extension file.
            for path in sorted(private.rglob("*"), key=lambda p: p.suffix != ".info"):
                if path.is_file():
                    target = directory / path.relative_to(private)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(path, target)
        finally:
            shutil.rmtree(private, ignore_errors=True)
    return directory


def connection_config(settings: Settings) -> dict[str, object]:
    """DuckDB settings for any connection that touches the lake (dbt's profile uses the same)."""
    return {
        "extension_directory": str(extension_directory(settings)),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": True,
    }


def connect(
    settings: Settings, database: str = ":memory:", read_only: bool = False, *, limits: dict[str, str] | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the lake's extensions loaded (nothing attached yet); `limits`:
    the pipeline's memory limit and spill folder (`rewatch.settings.duckdb_limits`)."""
    if limits and "temp_directory" in limits:
        Path(limits["temp_directory"]).parent.mkdir(parents=True, exist_ok=True)  # DuckDB makes only the last
    con = duckdb.connect(database, read_only=read_only, config={**connection_config(settings), **(limits or {})})
    for name in EXTENSIONS:
        con.execute(f"load {name}")
    return con


@dataclass(frozen=True)
class Lake:
    """Where a lake's catalog and data live."""

    catalog: str  # `sqlite:<file>` or `postgres:<libpq connection string>`
    data_path: Path

    @property
    def uri(self) -> str:
        return f"ducklake:{self.catalog}"

    @property
    def sqlite_file(self) -> Path | None:
        return Path(self.catalog.removeprefix("sqlite:")) if self.catalog.startswith("sqlite:") else None

    def describe(self) -> str:
        """The catalog for messages (a PostgreSQL password is never shown)."""
        if self.sqlite_file:
            return str(self.sqlite_file)
        return " ".join(part for part in self.catalog.split() if not part.startswith("password="))


def lake_of(settings: Settings) -> Lake:
    """The published lake of these settings (`REWATCH_LAKE_CATALOG` chooses PostgreSQL)."""
    return Lake(catalog=settings.lake_catalog, data_path=settings.warehouse_dir / "lake" / "data")


def exists(lake: Lake) -> bool:
    """Whether the catalog was created (a PostgreSQL catalog is asked; a SQLite one is a file)."""
    if lake.sqlite_file is not None:
        return lake.sqlite_file.exists()
    import psycopg2

    try:
        with psycopg2.connect(lake.catalog.removeprefix("postgres:")) as pg, pg.cursor() as cur:
            cur.execute("select to_regclass('ducklake_snapshot') is not null")
            return bool(cur.fetchone()[0])
    except psycopg2.OperationalError as error:
        raise LakeError(f"cannot reach the lake catalog {lake.describe()}: {error}".strip()) from error


def create(settings: Settings, lake: Lake) -> None:
    """Create an empty lake (its SQLite catalog in WAL mode first, so readers never block a commit)."""
    if lake.sqlite_file is not None:
        lake.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(lake.sqlite_file)
        try:
            db.execute("pragma journal_mode=wal")
        finally:
            db.close()
    lake.data_path.mkdir(parents=True, exist_ok=True)
    con = connect(settings)
    try:
        con.execute(f"attach '{lake.uri}' as lake (data_path '{lake.data_path}/')")
    finally:
        con.close()


def attach(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    alias: str = "lake",
    read_only: bool = True,
    snapshot: int | None = None,
) -> None:
    """Attach `lake` as `alias`: read-only by default, pinned to `snapshot` when given (readers in
    other processes keep that snapshot while later nights commit)."""
    options = []
    if read_only:
        options.append("read_only")
    if snapshot is not None:
        options.append(f"snapshot_version {int(snapshot)}")
    # The catalog stores the data path it was created with; the warehouse directory may have
    # moved since (copied, restored from a backup), so the path is always the one beside it.
    options += [f"data_path '{lake.data_path}/'", "override_data_path true"]
    if not read_only:
        # Every row in Parquet, none inlined in the catalog: an erasure can prove by scanning
        # the data files alone that no trace of a household is left (forget.erase_from_lake).
        options.append("data_inlining_row_limit 0")
    con.execute(f"attach '{lake.uri}' as {alias} ({', '.join(options)})")


@dataclass(frozen=True)
class Publish:
    """One rewatch commit: the snapshot it made and what it published."""

    snapshot: int
    kind: str  # night | rebuild | maintain
    nights: tuple[str, ...]
    committed_at: object


def columns(con: duckdb.DuckDBPyConnection, alias: str = "lake") -> set[tuple[str, str, str]]:
    """(schema, table, column) of every table in the database attached as `alias`."""
    return set(
        con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() where database_name = ?", [alias]
        ).fetchall()
    )


def partitioned(con: duckdb.DuckDBPyConnection, alias: str = "lake") -> set[tuple[str, str]]:
    """(schema, table) of the tables of the lake attached as `alias` that have partition keys:
    a current `ducklake_partition_info` with columns, in DuckLake's metadata database of that
    alias (`reset partitioned by` adds one without columns)."""
    metadata = f"__ducklake_metadata_{alias}"
    return set(
        con.execute(
            f"select distinct s.schema_name, t.table_name from {metadata}.ducklake_table t "
            f"join {metadata}.ducklake_schema s on s.schema_id = t.schema_id and s.end_snapshot is null "
            f"join {metadata}.ducklake_partition_info p on p.table_id = t.table_id and p.end_snapshot is null "
            f"join {metadata}.ducklake_partition_column c on c.partition_id = p.partition_id "
            "and c.table_id = t.table_id where t.end_snapshot is null"
        ).fetchall()
    )


def head_files(con: duckdb.DuckDBPyConnection, alias: str = "lake") -> int:
    """How many files a read of the head snapshot of the lake attached as `alias` opens: its
    current data files and delete files (the files time travel still keeps are not counted)."""
    metadata = f"__ducklake_metadata_{alias}"
    # A replaced or dropped table's files are no longer read, though not yet ended themselves.
    current = (
        f"join {metadata}.ducklake_table t on t.table_id = f.table_id and t.end_snapshot is null "
        "where f.end_snapshot is null"
    )
    return con.execute(
        f"select (select count(*) from {metadata}.ducklake_data_file f {current})"
        f" + (select count(*) from {metadata}.ducklake_delete_file f {current})"
    ).fetchone()[0]


def publishes(con: duckdb.DuckDBPyConnection, alias: str = "lake") -> list[Publish]:
    """rewatch's commits to the lake attached as `alias`, oldest first."""
    rows = con.execute(
        f"select snapshot_id, commit_extra_info, snapshot_time from {alias}.snapshots() "
        f"where author = '{AUTHOR}' order by snapshot_id"
    ).fetchall()
    out = []
    for snapshot, extra, at in rows:
        info = json.loads(extra or "{}")
        out.append(
            Publish(
                snapshot=snapshot, kind=info.get("kind", "night"), nights=tuple(info.get("nights", [])), committed_at=at
            )
        )
    return out


def head(con: duckdb.DuckDBPyConnection, alias: str = "lake") -> int:
    return con.execute(f"select id from {alias}.current_snapshot()").fetchone()[0]


def tag_commit(con: duckdb.DuckDBPyConnection, alias: str, kind: str, nights: list[str], message: str) -> None:
    """Tag the open write transaction as a rewatch publish (before its COMMIT)."""
    extra = json.dumps({"kind": kind, "nights": sorted(nights)})
    con.execute(f"call {alias}.set_commit_message(?, ?, extra_info => ?)", [AUTHOR, message, extra])


def head_snapshot(settings: Settings) -> int | None:
    """The last published snapshot (rewatch's last commit), None when nothing was published yet:
    a lake created by a first night killed before its commit has a snapshot, but no publish."""
    published = lake_of(settings)
    if published.sqlite_file is not None:
        if not published.sqlite_file.exists():
            return None
        # The catalog's own tables, read without DuckDB (cheap: the stop handler asks it too).
        db = sqlite3.connect(f"file:{published.sqlite_file}?mode=ro", uri=True)
        try:
            return db.execute(
                "select max(snapshot_id) from ducklake_snapshot_changes where author = ?", [AUTHOR]
            ).fetchone()[0]
        except sqlite3.OperationalError:
            return None
        finally:
            db.close()
    if not exists(published):
        return None
    con = connect(settings)
    try:
        attach(con, published)
        return published_snapshot(con)
    finally:
        con.close()


def published_snapshot(con: duckdb.DuckDBPyConnection, alias: str = "lake") -> int | None:
    """rewatch's last commit to the lake attached as `alias` (None: none yet)."""
    return con.execute(f"select max(snapshot_id) from {alias}.snapshots() where author = '{AUTHOR}'").fetchone()[0]


def open_published(
    settings: Settings, snapshot: int | None = None, as_of: dt.date | str | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published lake (attached as `lake` and in use), pinned to
    the head at the time of the call; to `snapshot` when given; or, with `as_of=D`, to the tables
    as the last publish of night D left them (time travel)."""
    published = lake_of(settings)
    last = head_snapshot(settings)
    if last is None:
        raise LakeError(
            f"nothing published yet in {settings.warehouse_dir} (no lake catalog {published.describe()}); "
            "run a night first, or set REWATCH_WAREHOUSE_DIR to the warehouse to read"
        )
    con = connect(settings)
    try:
        if snapshot is None and as_of is None:
            snapshot = last
        elif snapshot is None:
            attach(con, published)
            snapshot = snapshot_of_night(con, as_of)
            con.execute("detach lake")
        attach(con, published, snapshot=snapshot)
        con.execute("use lake")
    except Exception:
        con.close()
        raise
    return con


def snapshot_of_night(con: duckdb.DuckDBPyConnection, night: dt.date | str, alias: str = "lake") -> int:
    """The snapshot the last nightly run of `night` committed: the tables as analysts saw them once
    that night was published (a later re-run of the night supersedes an earlier one). A rebuild
    or an erasure republishes history as of today, not as of a night, so it is no answer here."""
    wanted = dt.date.fromisoformat(str(night)).isoformat()
    commits = publishes(con, alias)
    matches = [p.snapshot for p in commits if p.kind == "night" and wanted in p.nights]
    if not matches:
        nights = sorted({n for p in commits if p.kind == "night" for n in p.nights})
        span = f"{nights[0]} .. {nights[-1]}, {len(nights)} nights" if nights else "none"
        (recorded,) = con.execute(
            f"select count(*) from {alias}.main.rewatch_runs where night = ?", [wanted]
        ).fetchone()
        if recorded:
            raise LakeError(
                f"night {wanted} is published, but the snapshot its nightly run left has been expired (by "
                f"`rewatch maintain`, which keeps the last REWATCH_KEEP_NIGHTS nightly publishes, or by an erasure "
                f"or a rebuild's history drop); time travel reaches: {span}"
            )
        raise LakeError(f"night {wanted} was never published by a nightly run in this lake (published nights: {span})")
    return max(matches)


def changed_since(con: duckdb.DuckDBPyConnection, base: int | None, alias: str = "lake") -> bool:
    """Whether the published tables may differ from snapshot `base` (None: nothing published):
    true when rewatch committed anything after it but maintenance (`maintain` commits rewrite
    files, never rows)."""
    commits = publishes(con, alias)
    if base is None:
        return bool(commits)
    return any(p.snapshot > base and p.kind != "maintain" for p in commits)


def data_files(settings: Settings) -> list[Path]:
    """Every Parquet file under the lake's data path."""
    data = lake_of(settings).data_path
    return sorted(data.rglob("*.parquet")) if data.exists() else []


def files_holding(settings: Settings, value: str) -> list[Path]:
    """The lake's data files with `value` in any text column (an erasure's proof: none)."""
    found = []
    con = connect(settings)
    try:
        for path in data_files(settings):
            quoted = str(path).replace("'", "''")
            # Every top-level text column equal to it, or a JSON document naming it as a string,
            # and every list of text holding it.
            conditions = []
            for name, kind, *_ in con.execute(f"describe select * from read_parquet('{quoted}')").fetchall():
                if kind in ("VARCHAR", "JSON"):
                    text = f'cast("{name}" as varchar)'
                    conditions.append(f"{text} = $1 or contains({text}, '\"' || $1 || '\"')")
                elif kind == "VARCHAR[]":
                    conditions.append(f'list_contains("{name}", $1)')
            if not conditions:
                continue
            condition = " or ".join(conditions)
            if con.execute(f"select count(*) from read_parquet('{quoted}') where {condition}", [value]).fetchone()[0]:
                found.append(path)
    finally:
        con.close()
    return found
