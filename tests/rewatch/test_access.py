"""Analysts' access: the documented read-only connection cannot change the warehouse."""

from __future__ import annotations

import duckdb
import pytest

from rewatch.contract import sha256_of


@pytest.mark.parametrize(
    "statement",
    [
        "insert into main.fct_viewing_sessions values ('x', 1.0)",
        "update main.fct_viewing_sessions set played_seconds = 0",
        "delete from main.fct_viewing_sessions",
        "drop table main.fct_viewing_sessions",
        "create table main.scratch as select 1",
        "alter table main.fct_viewing_sessions add column y int",
    ],
)
def test_a_read_only_connection_cannot_write(tmp_path, statement):
    path = tmp_path / "rewatch.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table main.fct_viewing_sessions (session_id varchar, played_seconds double)")
    con.execute("insert into main.fct_viewing_sessions values ('s1', 120.0)")
    con.close()
    before = sha256_of(path)

    reader = duckdb.connect(str(path), read_only=True)  # as docs/operations.md tells analysts
    try:
        with pytest.raises(duckdb.Error, match="read-only"):
            reader.execute(statement)
        assert reader.execute("select count(*) from main.fct_viewing_sessions").fetchone()[0] == 1
    finally:
        reader.close()
    assert sha256_of(path) == before
