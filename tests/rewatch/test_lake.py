"""The published lake as analysts and operators meet it: one snapshot per night, time travel by
night, the `rewatch sql` shell, a reader pinned to its snapshot while a night commits, and a
night's publish that adds files and rewrites none (erasure: test_forget.py)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

import rewatch
from rewatch import lake, maintain
from tests.conftest import START, copy_of_first_night
from tests.helpers import publish_night

NIGHTS = [START, START + dt.timedelta(days=1)]


@pytest.fixture(scope="module")
def two_nights(first_night, generated_small, tmp_path_factory):
    """Night 1 published, a reader pinned to it opened, then night 2 published."""
    with pytest.MonkeyPatch.context() as mp:
        settings = copy_of_first_night(first_night, generated_small, tmp_path_factory.mktemp("lake") / "warehouse", mp)
        reader = rewatch.connect(settings)
        before = reader.execute("select count(*) from fct_viewing_sessions").fetchone()[0]
        files_before = set(lake.data_files(settings))
        publish_night(settings, NIGHTS[1])
        yield settings, reader, before, files_before
        reader.close()


def test_each_published_night_is_one_rewatch_commit_naming_its_night(two_nights):
    settings, *_ = two_nights
    con = rewatch.connect(settings)
    commits = lake.publishes(con)
    assert [(c.kind, c.nights) for c in commits if c.kind != "maintain"] == [
        ("night", (NIGHTS[0].isoformat(),)),
        ("night", (NIGHTS[1].isoformat(),)),
    ]
    assert commits[-1].snapshot == lake.head(con) == lake.head_snapshot(settings)
    # Nothing but rewatch's publishes (and the lake's creation) ever commits.
    assert (
        con.execute("select count(*) from lake.snapshots() where author is distinct from 'rewatch'").fetchone()[0] <= 1
    )


def test_a_reader_keeps_its_snapshot_while_the_next_night_commits(two_nights):
    settings, reader, before, _ = two_nights
    assert reader.execute("select count(*) from fct_viewing_sessions").fetchone()[0] == before
    assert reader.execute("select list(night order by night) from rewatch_runs").fetchone()[0] == [NIGHTS[0]]
    now = rewatch.connect(settings)
    assert now.execute("select list(night order by night) from rewatch_runs").fetchone()[0] == NIGHTS
    assert now.execute("select count(*) from fct_viewing_sessions").fetchone()[0] > before


def test_time_travel_by_night_shows_the_tables_as_that_night_left_them(two_nights):
    settings, _, before, _ = two_nights
    old = rewatch.connect(settings, as_of=NIGHTS[0].isoformat())
    assert old.execute("select count(*) from fct_viewing_sessions").fetchone()[0] == before
    assert old.execute("select list(night) from rewatch_runs").fetchone()[0] == [NIGHTS[0]]
    with pytest.raises(lake.LakeError, match="never published by a nightly run"):
        rewatch.connect(settings, as_of="2026-01-01")


def test_a_night_writes_new_files_and_rewrites_none(two_nights):
    settings, _, _, files_before = two_nights
    files_after = set(lake.data_files(settings))
    # DuckLake never changes a data file in place: night 2 only adds files (its rows, its
    # deletes, the rewritten files), and the files night 1's snapshot reads stay.
    assert files_before <= files_after
    assert files_after - files_before


def test_no_published_file_is_left_more_than_half_deleted(two_nights):
    """A night's deletes reach earlier files everywhere; right after its commit the night
    rewrites every file it left at least half deleted (maintain.rewrite_deleted), so reads
    never go through more dead rows than live ones."""
    settings, *_ = two_nights
    con = rewatch.connect(settings)
    files = con.execute(
        """
        select tables.table_name, data.record_count, coalesce(deletes.delete_count, 0)
        from __ducklake_metadata_lake.ducklake_data_file as data
        inner join __ducklake_metadata_lake.ducklake_table as tables
            on data.table_id = tables.table_id and tables.end_snapshot is null
        left join __ducklake_metadata_lake.ducklake_delete_file as deletes
            on data.data_file_id = deletes.data_file_id and deletes.end_snapshot is null
        where data.end_snapshot is null
        """
    ).fetchall()
    assert files
    assert [f for f in files if f[2] >= maintain.REWRITE_DELETED_SHARE * f[1]] == []
    # Night 2 did leave some of night 1's files half deleted, and they were rewritten then, in a
    # commit of its own: the check above is not vacuous.
    kinds = [c.kind for c in lake.publishes(con)]
    assert kinds == ["night", "night", "maintain"]
    assert any(deleted for _, _, deleted in files)


def test_rewatch_sql_answers_read_only_and_refuses_writes(two_nights):
    settings, *_ = two_nights
    env = {**os.environ, "REWATCH_WAREHOUSE_DIR": str(settings.warehouse_dir)}
    cli = [sys.executable, "-m", "rewatch.cli"]  # the real command, in its own process
    ok = subprocess.run(
        [*cli, "sql", "select count(distinct night) as nights_published from rewatch_runs"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "nights_published" in ok.stdout and "│" in ok.stdout and " 2 " in ok.stdout
    as_of = subprocess.run(
        [*cli, "sql", "--as-of", NIGHTS[0].isoformat(), "select count(*) as n from rewatch_runs"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert as_of.returncode == 0 and " 1 " in as_of.stdout, as_of.stdout + as_of.stderr
    # Which warehouse and which night, on stderr: stdout is the result alone, for a pipe.
    assert f"warehouse: {settings.warehouse_dir} as of night {NIGHTS[0].isoformat()}" in as_of.stderr
    assert "warehouse:" not in as_of.stdout
    write = subprocess.run(
        [*cli, "sql", "delete from fct_viewing_sessions"], env=env, capture_output=True, text=True, check=False
    )
    assert write.returncode == 1 and "read-only" in write.stderr, write.stdout + write.stderr
    assert rewatch.connect(settings).execute("select count(*) from fct_viewing_sessions").fetchone()[0] > 0
