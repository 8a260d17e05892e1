"""#15: every DuckDB session of a night (load, dbt, audit, publish) is capped at
`REWATCH_DUCKDB_MEMORY_LIMIT` and spills beyond it into the warehouse, never into the working
directory. What the cap does to a large night's memory is measured by bench/scale.py
(docs/benchmarks.md), not here."""

from __future__ import annotations

import duckdb

from rewatch import build, lake, rawzone
from rewatch.dbt_plugin import Plugin
from rewatch.settings import DEFAULT_MEMORY_LIMIT, Settings, duckdb_limits


def _limit(con) -> str:
    return con.execute("select current_setting('memory_limit')").fetchone()[0]


def _bytes(size: str) -> str:
    """DuckDB's display of a size it was given."""
    with duckdb.connect() as con:
        con.execute("set memory_limit = ?", [size])
        return _limit(con)


def test_the_raw_zones_sessions_take_the_limit_and_spill_only_where_told(tmp_path, monkeypatch):
    monkeypatch.setenv("REWATCH_DUCKDB_MEMORY_LIMIT", "100MB")
    con = rawzone.connect(tmp_path, spill_to=tmp_path / "spill")
    assert _limit(con) == _bytes("100MB")
    assert con.execute("select current_setting('temp_directory')").fetchone()[0] == str(tmp_path / "spill")
    # A session that spills beyond the limit writes there (DuckDB removes its files on close).
    con.execute("create temp table big as select i, md5(i::varchar) as s from range(3000000) as r(i)")
    spilled = con.execute("select count(*), coalesce(sum(size), 0) from duckdb_temporary_files()").fetchone()
    assert con.execute("select count(distinct s) from big").fetchone()[0] == 3_000_000
    assert spilled[0] > 0 and spilled[1] > 0, spilled
    assert all(p.parent == tmp_path / "spill" for p in (tmp_path / "spill").iterdir())
    con.close()
    # Without a spill folder: no spilling at all (not `.tmp` in the working directory).
    monkeypatch.chdir(tmp_path)
    con = rawzone.connect(tmp_path)
    assert con.execute("select current_setting('temp_directory')").fetchone()[0] == ""
    con.close()
    assert not (tmp_path / ".tmp").exists()


def test_the_default_limit_and_the_publishs_session(tmp_path, monkeypatch):
    monkeypatch.delenv("REWATCH_DUCKDB_MEMORY_LIMIT", raising=False)
    settings = Settings(exports_dir=tmp_path / "exports", warehouse_dir=tmp_path / "warehouse")
    assert duckdb_limits() == {"memory_limit": DEFAULT_MEMORY_LIMIT}
    con = lake.connect(settings, limits=duckdb_limits(settings.spill_dir))
    assert _limit(con) == _bytes(DEFAULT_MEMORY_LIMIT)
    assert con.execute("select current_setting('temp_directory')").fetchone()[0] == str(settings.spill_dir)
    con.close()


def test_dbts_connection_takes_the_limit_from_rewatchs_plugin(tmp_path, monkeypatch):
    """The plugin dbt-duckdb calls for each connection of a build (dbt_project/profiles.yml)."""
    settings = Settings(exports_dir=tmp_path / "exports", warehouse_dir=tmp_path / "warehouse")
    previous = build.empty_previous_state(settings, tmp_path / "previous")
    monkeypatch.setenv("REWATCH_DUCKDB_MEMORY_LIMIT", "700MB")
    monkeypatch.setenv("REWATCH_PUBLISHED_CATALOG", previous.lake.catalog)
    monkeypatch.setenv("REWATCH_PUBLISHED_SNAPSHOT", str(previous.snapshot))
    monkeypatch.setenv("REWATCH_PUBLISHED_DATA_PATH", str(previous.lake.data_path))
    monkeypatch.setenv("REWATCH_RAW_DIR", str(settings.raw_dir))
    monkeypatch.setenv("REWATCH_NIGHTS", "2026-03-02")
    con = lake.connect(settings, str(tmp_path / "scratch.duckdb"))
    Plugin.__new__(Plugin).configure_connection(con)
    assert _limit(con) == _bytes("700MB")
    assert con.execute("select count(*) from duckdb_databases() where database_name = 'published'").fetchone()[0] == 1
    con.close()
