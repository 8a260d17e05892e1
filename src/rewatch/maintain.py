"""`rewatch maintain`: keep the lake's history to a number of nights, its files few and no orphan.

Every night commits one snapshot and a few small Parquet files (this run's rows, and delete files
for the rows it replaced). A night replaces rows all over its tables' earlier files (a pair
watched tonight had its row written on the night it was last watched), so right after its
publish it rewrites, in a second commit tagged `maintain`, the files of the tables it applied
to of which at least half the rows are now deleted (`rewrite_deleted`). Without it a table's
files held, after 90 nights at 20,000 households, up to 9 dead rows for each live one, and
every read and every later delete went through them (DuckLake applies a file's delete file on
every scan); with it no file is more than half dead, and since a file is rewritten only once
its deleted rows outnumber its live ones, the rows rewritten are at most the rows the nights
deleted: the cost follows the nights, not the history.

Left alone, the lake still keeps every snapshot and every file forever: time travel reaches
back to the first night, and reads open more and more small files. Once a week (the
`rewatch_maintain` DAG, or by hand), under the warehouse's writer lock:

1. **Compact**, in two commits tagged `maintain`: rewrite every file with a deleted row without
   its deleted rows (`ducklake_rewrite_data_files`), then merge adjacent small files
   (`ducklake_merge_adjacent_files`; a merge sees committed files only). The tables' contents do not change; a night built before
   it still publishes (`lake.changed_since` ignores `maintain` commits). Every file, not only
   the half-deleted ones the nightly rewrite handles: DuckLake merges no file that has a delete
   file, and a night's deletes reach files all over the per-pair tables (a changed pair's rows
   were written the night it was last watched). When `fct_watch_cycles` was partitioned by day,
   after 90 nights at 20,000 households and a compaction of the half-deleted files only, it
   held 4,094 data files and 4,004 delete files for 2.6 M rows, and a scan of it took 1.5 s;
   with every file with a delete rewritten (41 s), 179 files and 0.25 s. Six models of a night
   read it.
2. **Expire** every snapshot older than the publish of the oldest of the last `keep_nights`
   nightly publishes: `rewatch.connect(as_of=D)` keeps working for those nights, and says
   plainly that an older night was expired.
3. **Remove files** no kept snapshot needs (`ducklake_cleanup_old_files`) and files no snapshot
   ever referred to, left by a killed commit (`ducklake_delete_orphaned_files`). Safe under the
   writer lock: no commit is in flight. A reader still pinned to an expired snapshot loses it.
4. **Vacuum** an embedded (SQLite) catalog, so the rows the expiry deleted (file statistics hold
   column minima and maxima, such as ids) do not linger in free pages.

`forget.erase_from_lake` uses steps 2 to 4 with nothing kept but the head.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import asdict, dataclass

from rewatch import faults, lake
from rewatch.settings import Settings

KEEP_NIGHTS_ENV = "REWATCH_KEEP_NIGHTS"
DEFAULT_KEEP_NIGHTS = 90
# A data file is rewritten without its deleted rows once this share of them is deleted.
REWRITE_DELETED_SHARE = 0.5


class MaintainError(lake.LakeError):
    """Maintenance cannot run (nothing published, a bad setting): the lake is unchanged."""


def keep_nights_setting() -> int:
    """How many nightly publishes time travel keeps (`REWATCH_KEEP_NIGHTS`, default 90)."""
    from rewatch.settings import whole_nights

    raw = os.environ.get(KEEP_NIGHTS_ENV, str(DEFAULT_KEEP_NIGHTS))
    if (wrong := whole_nights(raw)) is not None:
        raise MaintainError(f"{KEEP_NIGHTS_ENV}={raw!r}: {wrong}")
    return int(raw)


@dataclass(frozen=True)
class Maintained:
    """What one maintenance run did (printed by the CLI, returned to the DAG)."""

    keep_nights: int
    time_travel: str  # the nights `as_of` still reaches, e.g. "2026-03-02 .. 2026-05-30 (90 nights)"
    compaction_snapshot: int | None  # the last `maintain` commit, None when nothing needed rewriting or merging
    files_rewritten: int  # data files with deleted rows, rewritten without them
    files_rewritten_into: int
    files_merged: int  # small data files merged (the rewritten ones among them)
    files_merged_into: int
    head_files_before: int  # data and delete files a read of the head opens
    head_files_after: int
    snapshots_expired: int
    files_removed: int
    files_before: int  # Parquet files on disk, those time travel keeps included
    files_after: int
    bytes_before: int
    bytes_after: int
    catalog_vacuumed: bool
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def _files(settings: Settings) -> tuple[int, int]:
    files = lake.data_files(settings)
    return len(files), sum(path.stat().st_size for path in files)


def _rewrite_sql(table: tuple[str, str] | None = None, share: float = REWRITE_DELETED_SHARE) -> str:
    """`ducklake_rewrite_data_files` for the files at least `share` of whose rows are deleted
    (0: every file with a deleted row), of one (schema, table) or all."""
    where = f"'{table[1]}', schema => '{table[0]}', " if table else ""
    return f"call ducklake_rewrite_data_files('lake', {where}delete_threshold => {share})"


def _maintenance_commit(con, statements: list[str], message: str, fault_point: str) -> tuple[int, int]:
    """Run DuckLake compaction `statements` in one commit tagged `maintain`: (files read, files
    written); (0, 0) when they had nothing to do, and then nothing is committed. `fault_point`
    is reached with the statements run, before the commit (or the rollback)."""
    con.execute("begin")
    try:
        rows = [row for statement in statements for row in con.execute(statement).fetchall()]
        read, written = sum(row[2] for row in rows), sum(row[3] for row in rows)
        faults.point(fault_point)
        if not read:
            con.execute("rollback")
            return 0, 0
        lake.tag_commit(con, "lake", "maintain", [], message)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return read, written


def compact(con) -> tuple[int | None, tuple[int, int], tuple[int, int]]:
    """Step 1 on the lake attached read-write as `lake`: (the last commit or None, (files
    rewritten, into how many), (files merged, into how many))."""
    # Rewrite first: DuckLake merges no file that has deletes (see the module's docstring). Two
    # commits: the merge sees only committed files, so in the rewrite's own transaction it would
    # leave the rewritten files for the next maintenance to merge.
    rewritten, rewritten_into = _maintenance_commit(
        con, [_rewrite_sql(share=0)], "maintain: rewrite the files with deleted rows", "maintain:before_commit"
    )
    merged, merged_into = _maintenance_commit(
        con,
        ["call ducklake_merge_adjacent_files('lake')"],
        "maintain: merge small data files",
        "maintain:before_merge_commit",
    )
    return (lake.head(con) if rewritten or merged else None), (rewritten, rewritten_into), (merged, merged_into)


def rewrite_deleted(con, tables: list[tuple[str, str]]) -> int:
    """After a night's publish, on the lake attached read-write as `lake`: rewrite the data
    files of `tables` ((schema, table) pairs) at least `REWRITE_DELETED_SHARE` of whose rows are
    deleted, in one commit tagged `maintain`; how many files were read (0: nothing to do, no
    commit). Only after the night's commit: DuckLake rewrites committed deletes only."""
    read, _ = _maintenance_commit(
        con,
        [_rewrite_sql(table) for table in tables],
        "maintain: rewrite the files a night's deletes left half empty",
        "publish:rewrite_before_commit",
    )
    return read


def expire_before(con, snapshot: int) -> int:
    """Step 2: expire every snapshot older than `snapshot`; how many."""
    older = [
        row[0]
        for row in con.execute("select snapshot_id from lake.snapshots() where snapshot_id < ?", [snapshot]).fetchall()
    ]
    if older:
        con.execute(f"call ducklake_expire_snapshots('lake', versions => [{', '.join(map(str, older))}])")
    return len(older)


def remove_unneeded_files(con) -> int:
    """Step 3: delete the files no kept snapshot refers to, and orphans; how many."""
    old = con.execute("call ducklake_cleanup_old_files('lake', cleanup_all => true)").fetchall()
    orphans = con.execute("call ducklake_delete_orphaned_files('lake', cleanup_all => true)").fetchall()
    return len(old) + len(orphans)


def vacuum_catalog(settings: Settings) -> bool:
    """Step 4, for an embedded (SQLite) catalog; False for PostgreSQL (its autovacuum's job;
    after an erasure, run VACUUM FULL there)."""
    published = lake.lake_of(settings)
    if published.sqlite_file is None:
        return False
    db = sqlite3.connect(published.sqlite_file, timeout=60)
    try:
        db.execute("vacuum")
        # In WAL mode the old pages sit in the -wal file until a checkpoint copies them back.
        db.execute("pragma wal_checkpoint(truncate)")
    finally:
        db.close()
    return True


def _span(nights: list[str]) -> str:
    if not nights:
        return "none (no nightly publish since the last rebuild or erasure)"
    return f"{nights[0]} .. {nights[-1]} ({len(nights)} night{'s' if len(nights) != 1 else ''})"


def drop_history(settings: Settings) -> dict[str, int]:
    """Steps 2 to 4 keeping only the head (after an erasure: no earlier snapshot can show the
    household, and time travel starts again at the head)."""
    con = lake.connect(settings)
    try:
        lake.attach(con, lake.lake_of(settings), read_only=False)
        expired = expire_before(con, lake.published_snapshot(con))
        removed = remove_unneeded_files(con)
    finally:
        con.close()
    vacuum_catalog(settings)
    return {"snapshots_expired": expired, "files_removed": removed}


def maintain(settings: Settings, keep_nights: int) -> Maintained:
    """Steps 1 to 4 (the caller holds the writer lock: `pipeline.maintain`)."""
    if keep_nights < 1:
        raise MaintainError(f"keep_nights={keep_nights}: time travel must keep at least the last night")
    started = time.monotonic()
    published = lake.lake_of(settings)
    if lake.head_snapshot(settings) is None:
        raise MaintainError(f"nothing published yet in {settings.warehouse_dir}: nothing to maintain")
    files_before, bytes_before = _files(settings)
    con = lake.connect(settings)
    try:
        lake.attach(con, published, read_only=False)
        nightly = [p for p in lake.publishes(con) if p.kind == "night"]
        kept = nightly[-keep_nights:]
        # The oldest kept night's publish, or the head when no nightly publish is left (after a
        # rebuild or an erasure only the head is history).
        oldest = kept[0].snapshot if kept else lake.published_snapshot(con)
        head_files_before = lake.head_files(con)
        commit, (rewritten, rewritten_into), (merged, merged_into) = compact(con)
        head_files_after = lake.head_files(con)
        faults.point("maintain:after_commit")
        expired = expire_before(con, oldest)
        faults.point("maintain:after_expire")
        removed = remove_unneeded_files(con)
    finally:
        con.close()
    faults.point("maintain:after_cleanup")
    vacuumed = vacuum_catalog(settings)
    files_after, bytes_after = _files(settings)
    return Maintained(
        keep_nights=keep_nights,
        time_travel=_span(sorted({n for p in kept for n in p.nights})),
        compaction_snapshot=commit,
        files_rewritten=rewritten,
        files_rewritten_into=rewritten_into,
        files_merged=merged,
        files_merged_into=merged_into,
        head_files_before=head_files_before,
        head_files_after=head_files_after,
        snapshots_expired=expired,
        files_removed=removed,
        files_before=files_before,
        files_after=files_after,
        bytes_before=bytes_before,
        bytes_after=bytes_after,
        catalog_vacuumed=vacuumed,
        seconds=round(time.monotonic() - started, 2),
    )
