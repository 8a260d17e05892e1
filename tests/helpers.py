"""Small hand-made export nights for loader and contract tests."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from rewatch.contract import EVENT_COLUMNS, HOUSEHOLD_COLUMNS, PROFILE_COLUMNS, TITLE_COLUMNS, write_manifest

TITLES = [
    ["tt1", "Film One", "movie", "", "", "", "5400", "5100", "PG", "true", "2026-01-01"],
    ["tt2", "Show: S1: E1", "episode", "Show", "1", "1", "1500", "", "TV-14", "false", "2025-06-01"],
]
HOUSEHOLDS = [["hh1", "US", "America/New_York"], ["hh2", "JP", "Asia/Tokyo"]]
PROFILES = [["pr1", "hh1", "Alex", "false"], ["pr2", "hh1", "Kids", "true"], ["pr3", "hh2", "Kim", "false"]]


def event(
    event_id,
    event_type="heartbeat",
    ts="2026-03-02T19:00:00Z",
    position="60",
    profile="pr1",
    household="hh1",
    device="dv1",
    title="tt1",
    received="2026-03-02T19:00:05Z",
):
    return [event_id, household, profile, device, "tv", title, event_type, ts, position, received]


def _write_csv(path: Path, header, rows, gz=False) -> None:
    opener = gzip.open if gz else open
    with opener(path, "wt", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_events(folder: Path, rows: list[list], fmt: str = "csv", name: str = "playback_events") -> str:
    """Write event rows as one file in `fmt`; returns the file name."""
    file_name = f"{name}.{fmt}"
    path = folder / file_name
    if fmt in ("csv", "csv.gz"):
        _write_csv(path, EVENT_COLUMNS, rows, gz=fmt.endswith(".gz"))
    elif fmt == "parquet":
        columns = list(zip(*rows, strict=True)) if rows else [[] for _ in EVENT_COLUMNS]
        table = pa.table({c: pa.array(list(v), pa.string()) for c, v in zip(EVENT_COLUMNS, columns, strict=True)})
        pq.write_table(table, path)
    elif fmt in ("ndjson", "ndjson.gz"):
        opener = gzip.open if fmt.endswith(".gz") else open
        with opener(path, "wt", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(dict(zip(EVENT_COLUMNS, row, strict=True))) + "\n")
    else:
        raise ValueError(fmt)
    return file_name


def write_night(
    exports: Path,
    night: dt.date,
    events: list[list],
    fmt: str = "csv",
    titles=TITLES,
    households=HOUSEHOLDS,
    profiles=PROFILES,
    manifest: bool = True,
) -> Path:
    """A complete night folder: events in `fmt`, the three snapshots, and the manifest."""
    folder = exports / night.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    rows = {write_events(folder, events, fmt): len(events)}
    for name, header, body in (
        ("titles", TITLE_COLUMNS, titles),
        ("households", HOUSEHOLD_COLUMNS, households),
        ("profiles", PROFILE_COLUMNS, profiles),
    ):
        _write_csv(folder / f"{name}.csv", header, body)
        rows[f"{name}.csv"] = len(body)
    if manifest:
        write_manifest(folder, night, rows)
    return folder


# --- The published lake, as tests look at it -------------------------------------------------


def published_marker(settings) -> tuple:
    """What changes when anything is published: the lake's head snapshot and its data files.
    Equal before and after = nothing was written to the published warehouse."""
    from rewatch.lake import head_snapshot, lake_of

    data = lake_of(settings).data_path
    files = sorted(str(p.relative_to(data)) for p in data.rglob("*") if p.is_file()) if data.exists() else []
    return head_snapshot(settings), tuple(files)


def copy_published(settings, dest: Path) -> Path:
    """A copy of the published lake (catalog and data) in the warehouse directory `dest`, for
    `rewatch.compare.diff_warehouses(dest, settings.warehouse_dir)` after later runs."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(settings.warehouse_dir / "lake", dest / "lake", dirs_exist_ok=False)
    return dest


def published_connection(settings):
    """A read-only connection to the published lake, its tables in the default schema (as
    `rewatch.connect()` gives analysts); `main.<table>` and `intermediate.<table>` work too."""
    from rewatch.lake import open_published

    return open_published(settings)


# The columns a published session and a ground-truth session (rewatch.generate) share.
SESSION_COLUMNS = (
    "household_id, profile_id, device_id, title_id, started_at, ended_at, "
    "max_position_seconds, played_seconds, event_count, is_view"
)


def sessions_against_truth(con, truth_dir: Path) -> tuple[list, list]:
    """(published, truth): the published sessions of the households in `truth_dir`'s ground
    truth, and that truth, both sorted; equal when every night of that truth is published."""
    truth = f"read_parquet('{truth_dir}/sessions/*.parquet')"
    # The truth's times are instants; the warehouse's are UTC wall clock.
    truth_columns = SESSION_COLUMNS.replace("started_at", "timezone('UTC', started_at)::timestamp").replace(
        "ended_at", "timezone('UTC', ended_at)::timestamp"
    )
    published = con.execute(
        f"select {SESSION_COLUMNS} from main.fct_viewing_sessions "
        f"where household_id in (select household_id from {truth})"
    ).fetchall()
    expected = con.execute(f"select {truth_columns} from {truth}").fetchall()
    return sorted(published, key=repr), sorted(expected, key=repr)


def publish_night(settings, night):
    """A night through load, build, the real audit and publish, as the DAG runs it; the report."""
    from rewatch import pipeline

    loaded = pipeline.load(night, settings)
    built = pipeline.build(night, settings)
    audited = pipeline.audit(night, settings)
    return pipeline.publish(night, loaded, built, audited, settings)


def night_commits(settings, base: int | None = None) -> list:
    """The lake's rewatch commits after snapshot `base` (None: all) that change data (nights,
    rebuilds: `rewatch.lake.Publish`), leaving out maintenance (a night's rewrite of the files
    it left half deleted, the weekly `maintain`). Fails when anything but rewatch committed."""
    from rewatch.lake import open_published, publishes

    con = open_published(settings)
    try:
        found = [p for p in publishes(con) if base is None or p.snapshot > base]
        # Every snapshot but the lake's creation (snapshot 0, the only one without an author).
        committed = con.execute(
            "select count(*) from lake.snapshots() where snapshot_id > ?", [0 if base is None else base]
        ).fetchone()[0]
    finally:
        con.close()
    assert committed == len(found), f"commits after snapshot {base} that are not rewatch's"
    return [p for p in found if p.kind != "maintain"]
