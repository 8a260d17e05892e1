"""Analysts' access: the documented read-only connection cannot change the warehouse.

A real published night (one small hand-made night, loaded, built and published to the lake) is
opened the way analysts are told to, `rewatch.connect()`, and every kind of write
through it is refused: the lake is attached read-only, so the published lake keeps its snapshot
and data files.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

import rewatch
from rewatch import pipeline
from rewatch.settings import get_settings
from tests.helpers import event, published_marker, write_night

NIGHT = dt.date(2026, 3, 2)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A warehouse with one small night published; its environment as an analyst's shell has it."""
    root = tmp_path_factory.mktemp("access")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REWATCH_EXPORTS_DIR", str(root / "exports"))
        mp.setenv("REWATCH_WAREHOUSE_DIR", str(root / "warehouse"))
        settings = get_settings()
        write_night(
            settings.exports_dir,
            NIGHT,
            [
                event("a1", "play", "2026-03-02T19:00:00Z", "0", received="2026-03-02T19:00:01Z"),
                event("a2", "stop", "2026-03-02T19:10:00Z", "600", received="2026-03-02T19:10:01Z"),
            ],
        )
        loaded = pipeline.load(NIGHT, settings)
        built = pipeline.build(NIGHT, settings)
        pipeline.publish(NIGHT, loaded, built, {"decision": "publish", "warnings": []}, settings)
    return root


@pytest.fixture
def analyst(published, monkeypatch):
    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(published / "exports"))
    monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(published / "warehouse"))
    return get_settings()


@pytest.mark.parametrize(
    "statement",
    [
        "insert into main.fct_viewing_sessions select * from main.fct_viewing_sessions",
        "insert into fct_viewing_sessions select * from fct_viewing_sessions",
        "update main.fct_viewing_sessions set played_seconds = 0",
        "delete from main.fct_viewing_sessions",
        "delete from main.rewatch_runs",
        "drop table main.fct_viewing_sessions",
        "create table main.scratch as select 1",
        "create table scratch as select 1",
        "alter table main.fct_viewing_sessions add column y int",
        "create schema sandbox",
    ],
)
def test_a_read_only_connection_cannot_write(analyst, statement):
    before = published_marker(analyst)
    assert before[0] is not None  # a published snapshot (small tables are inlined in the catalog)

    reader = rewatch.connect()  # as analysts are told to open the warehouse
    try:
        sessions = reader.execute("select count(*) from main.fct_viewing_sessions").fetchone()[0]
        assert sessions == 1
        with pytest.raises(duckdb.Error, match="read-only"):
            reader.execute(statement)
        assert reader.execute("select count(*) from main.fct_viewing_sessions").fetchone()[0] == sessions
        assert [r[0] for r in reader.execute("select night from main.rewatch_runs").fetchall()] == [NIGHT]
    finally:
        reader.close()
    assert published_marker(analyst) == before
