"""`rewatch forget`: an erased household leaves no trace in raw, quarantine, reports or any
published table (nor in any earlier snapshot or data file of the lake); every other household is
untouched; title totals drop by its own share."""

from __future__ import annotations

import datetime as dt
import sqlite3

import duckdb
from typer.testing import CliRunner

from rewatch import pipeline
from rewatch.cli import app
from rewatch.lake import lake_of, open_published
from rewatch.load import load_night
from rewatch.settings import PUBLISHED_TABLES
from tests.conftest import START, copy_of_first_night
from tests.helpers import published_connection

NIGHTS = [START, START + dt.timedelta(days=1)]
HOUSEHOLD_TABLES = ("fct_viewing_sessions", "fct_watch_cycles", "fct_household_title_rewatches", "dim_households")


def _query(settings, sql, params=()):
    con = published_connection(settings)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _holding(con, tables, ids) -> list[tuple[str, str]]:
    """(table, column) of `tables` whose household_id or profile_id holds one of `ids`."""
    held = []
    for table in tables:
        columns = [c for c, *_ in con.execute(f"describe {table}").fetchall()]
        for column in sorted({"household_id", "profile_id"} & set(columns)):
            found = con.execute(
                f"select count(*) from {table} where {column} in (select unnest(?::varchar[]))", [list(ids)]
            ).fetchone()[0]
            if found:
                held.append((table, column))
    return held


def _rows(settings, table, where="true", params=()):
    con = published_connection(settings)
    try:
        columns = con.execute(f"describe {table}").fetchall()
        select = ", ".join(
            f'round("{name}", 6)' if kind in ("DOUBLE", "FLOAT") else f'"{name}"' for name, kind, *_ in columns
        )
        return sorted(con.execute(f"select {select} from {table} where {where}", list(params)).fetchall(), key=repr)
    finally:
        con.close()


def test_forget_erases_a_household_and_only_it(first_night, generated_small, tmp_path, monkeypatch):
    settings = copy_of_first_night(first_night, generated_small, tmp_path / "warehouse", monkeypatch)
    for night in NIGHTS[1:]:
        loaded = pipeline.load(night, settings)
        built = pipeline.build(night, settings)
        pipeline.publish(night, loaded, built, {"decision": "publish", "warnings": []}, settings)
    published = settings  # the lake's head, opened afresh by each query
    # The household with the most completions: it touches sessions, cycles and rewatches.
    ((household,),) = _query(
        published,
        "select household_id from fct_household_title_rewatches group by 1 order by sum(completions) desc, 1 limit 1",
    )
    profiles = [
        p for (p,) in _query(published, "select profile_id from dim_profiles where household_id = ?", [household])
    ]
    others = {t: _rows(published, t, "household_id != ?", [household]) for t in HOUSEHOLD_TABLES}
    titles_before = dict(
        (t, (s, h))
        for t, s, h in _query(
            published, "select title_id, sum(sessions), sum(hours_viewed) from fct_title_daily group by 1"
        )
    )
    own = dict(
        (t, (n, h))
        for t, n, h in _query(
            published,
            "select title_id, count(*), sum(played_seconds) / 3600.0 from fct_viewing_sessions "
            "where household_id = ? and supplemental_type is null group by 1",
            [household],
        )
    )
    starters_before = dict(
        _query(published, "select title_id, starters from rpt_title_performance where window_name = 'lifetime'")
    )
    own_starts = {
        t
        for (t,) in _query(
            published,
            "select distinct title_id from fct_viewing_sessions where household_id = ? and is_view",
            [household],
        )
    }
    assert own and own_starts

    result = CliRunner().invoke(app, ["forget", "--household-id", household, "--yes"])
    assert result.exit_code == 0, result.output
    assert "erased" in result.output
    assert "  rebuild: done in " in result.output and " nights rebuilt, audited and published" in result.output

    # Nothing of it in any published table...
    con = published_connection(settings)
    try:
        assert _holding(con, PUBLISHED_TABLES, [household, *profiles]) == []
    finally:
        con.close()
    # ... nor in any snapshot the lake still keeps (time travel would read it back: the old
    # design replaced the whole file, so nothing of it lingered), ...
    con = published_connection(settings)
    try:
        snapshots = [s for (s,) in con.execute("select snapshot_id from lake.snapshots() order by 1").fetchall()]
    finally:
        con.close()
    for snapshot in snapshots:
        con = open_published(settings, snapshot=snapshot)
        try:
            tables = {
                t
                for (t,) in con.execute(
                    "select table_name from duckdb_tables() where database_name = 'lake'"
                ).fetchall()
            }
            held = _holding(con, sorted(set(PUBLISHED_TABLES) & tables), [household, *profiles])
            assert held == [], (snapshot, held)
        finally:
            con.close()
    # ... nor in any data file under the lake, nor inlined in its catalog (small tables are
    # stored in the catalog's own tables; every text value of every one is read).
    lake_files = duckdb.connect()
    try:
        for path in sorted(lake_of(settings).data_path.rglob("*.parquet")):
            text = lake_files.execute(f"select cast(list(t) as varchar) from read_parquet('{path}') as t").fetchone()[0]
            assert household not in (text or ""), path
    finally:
        lake_files.close()
    catalog = sqlite3.connect(f"file:{lake_of(settings).sqlite_file}?mode=ro", uri=True)
    try:
        for (name,) in catalog.execute("select name from sqlite_master where type = 'table'").fetchall():
            for row in catalog.execute(f'select * from "{name}"'):
                assert not any(isinstance(v, str) and household in v for v in row), name
    finally:
        catalog.close()
    # ... nor in the catalog file's free pages or its WAL (the rows the erasure deleted, such as
    # the statistics of dropped files, which hold column minima and maxima: it is vacuumed), ...
    sqlite_file = lake_of(settings).sqlite_file
    for path in (sqlite_file, sqlite_file.with_name(sqlite_file.name + "-wal")):
        assert not path.exists() or household.encode() not in path.read_bytes(), path
    # ... nor in the raw zone (any column, any partition, quarantine included) or the reports.
    raw = duckdb.connect()
    try:
        for path in sorted(settings.raw_dir.glob("*/export_date=*/data.parquet")):
            text = raw.execute(f"select cast(list(t) as varchar) from read_parquet('{path}') as t").fetchone()[0] or ""
            assert household not in text, path
    finally:
        raw.close()
    assert not [p for p in settings.reports_dir.rglob("*") if p.is_file() and household.encode() in p.read_bytes()]
    # Every other household's rows are exactly as they were.
    assert {t: _rows(published, t, "household_id != ?", [household]) for t in HOUSEHOLD_TABLES} == others
    # Title totals drop by exactly the household's own sessions, hours and starts.
    titles_after = dict(
        (t, (s, h))
        for t, s, h in _query(
            published, "select title_id, sum(sessions), sum(hours_viewed) from fct_title_daily group by 1"
        )
    )
    for title, (sessions, hours) in titles_before.items():
        own_sessions, own_hours = own.get(title, (0, 0.0))
        after_sessions, after_hours = titles_after.get(title, (0, 0.0))
        assert after_sessions == sessions - own_sessions, title
        assert abs(after_hours - (hours - own_hours)) < 1e-6, title
    starters_after = dict(
        _query(published, "select title_id, starters from rpt_title_performance where window_name = 'lifetime'")
    )
    for title, starters in starters_before.items():
        assert starters_after.get(title, 0) == starters - (1 if title in own_starts else 0), title

    # A night loaded later (or re-delivered) leaves it out: it stays forgotten.
    later = load_night(settings.exports_dir, settings.raw_dir, START + dt.timedelta(days=2))
    assert later.rows_forgotten > 0
    night_3 = settings.raw_dir / "playback_events" / f"export_date={START + dt.timedelta(days=2)}" / "data.parquet"
    con = duckdb.connect()
    try:
        left = con.execute(f"select count(*) from read_parquet('{night_3}') where household_id = ?", [household])
        assert left.fetchone()[0] == 0
    finally:
        con.close()
