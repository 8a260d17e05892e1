"""`rewatch maintain`: the published tables never change; time travel keeps exactly the last N
nightly publishes and says so for older nights; small files are merged; orphans and files no
kept snapshot needs are gone; a night built before maintenance still publishes after it."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sqlite3

import pytest
from typer.testing import CliRunner

import rewatch
from rewatch import lake, pipeline
from rewatch.cli import app
from rewatch.compare import diff_warehouses
from rewatch.maintain import MaintainError, keep_nights_setting
from rewatch.settings import PUBLISHED_TABLES, Settings
from tests.conftest import START, copy_of_first_night
from tests.helpers import copy_published, publish_night

NIGHTS = [START + dt.timedelta(days=i) for i in range(3)]


def _counts(con) -> dict[str, int]:
    return {t: con.execute(f"select count(*) from main.{t}").fetchone()[0] for t in PUBLISHED_TABLES}


@pytest.fixture(scope="module")
def maintained(first_night, generated_small, tmp_path_factory):
    """Three nights published and a copy of that lake; an orphan planted (as a killed commit
    leaves one); night 3 built again but not published; then `maintain --keep-nights 2`; then
    that build audited and published."""
    root = tmp_path_factory.mktemp("maintain")
    with pytest.MonkeyPatch.context() as mp:
        settings = copy_of_first_night(first_night, generated_small, root / "warehouse", mp)
        for night in NIGHTS[1:]:
            publish_night(settings, night)
        before = copy_published(settings, root / "before")
        as_of_before = {}
        for night in NIGHTS:
            con = rewatch.connect(settings, as_of=night.isoformat())
            as_of_before[night] = _counts(con)
            con.close()
        table_dir = next(p for p in lake.lake_of(settings).data_path.rglob("*.parquet")).parent
        orphan = table_dir / "ducklake-left-by-a-killed-commit.parquet"
        shutil.copyfile(next(table_dir.glob("*.parquet")), orphan)

        loaded = pipeline.load(NIGHTS[2], settings)
        built = pipeline.build(NIGHTS[2], settings)
        done = pipeline.maintain(settings, keep_nights=2)
        after_maintain = copy_published(settings, root / "after_maintain")
        audited = pipeline.audit(NIGHTS[2], settings)
        pipeline.publish(NIGHTS[2], loaded, built, audited, settings)
        yield settings, before, after_maintain, as_of_before, orphan, done


def test_the_published_tables_do_not_change(maintained):
    _, before, after_maintain, *_ = maintained
    assert all(counts == (0, 0) for counts in diff_warehouses(before, after_maintain).values())


def test_time_travel_keeps_the_last_n_nights_and_says_why_an_older_one_is_gone(maintained):
    settings, _, after_maintain, as_of_before, _, done = maintained
    kept = Settings(exports_dir=settings.exports_dir, warehouse_dir=after_maintain)
    for night in NIGHTS[1:]:
        con = rewatch.connect(kept, as_of=night.isoformat())
        assert _counts(con) == as_of_before[night], night
        con.close()
    with pytest.raises(lake.LakeError, match="expired"):
        rewatch.connect(kept, as_of=NIGHTS[0].isoformat())
    assert done["time_travel"] == f"{NIGHTS[1]} .. {NIGHTS[2]} (2 nights)"
    assert done["snapshots_expired"] > 0


def test_small_files_are_merged_and_unneeded_files_and_orphans_removed(maintained):
    settings, _, _, _, orphan, done = maintained
    assert done["compaction_snapshot"] is not None and done["files_merged"] > done["files_merged_into"] > 0
    assert done["files_rewritten"] > 0 and done["head_files_after"] < done["head_files_before"]
    assert done["files_removed"] > 0
    assert not orphan.exists()
    # Every file the lake still lists exists (the head and the kept snapshots read), none else.
    listed = {str(row[0]) for rows in _listed_files(settings, "data_file").values() for row in rows}
    assert listed and all(lake.lake_of(settings).data_path.joinpath(p).exists() for p in listed)
    # The embedded catalog keeps no free pages (rows the expiry deleted: file statistics).
    db = sqlite3.connect(lake.lake_of(settings).sqlite_file)
    assert db.execute("pragma freelist_count").fetchone()[0] == 0
    db.close()


def _listed_files(settings: Settings, select: str, where: str = "") -> dict[str, list[tuple]]:
    """Per published table, `select` over the files DuckLake lists for its head
    (`ducklake_list_files`: one row per data file, with its delete file if any)."""
    con = rewatch.connect(settings)
    try:
        return {
            table: con.execute(
                f"select {select} from ducklake_list_files('lake', '{table}', schema => '{schema}') {where}"
            ).fetchall()
            for schema, table in con.execute(
                "select schema_name, table_name from duckdb_tables() where database_name = 'lake'"
            ).fetchall()
        }
    finally:
        con.close()


def _delete_files(settings: Settings) -> dict[str, int]:
    """Per published table, its data files that have a delete file."""
    return {
        table: rows[0][0]
        for table, rows in _listed_files(settings, "count(*)", "where delete_file is not null").items()
    }


def test_compaction_rewrites_every_file_with_a_deleted_row(maintained):
    # Not only the half-deleted ones: DuckLake merges no file with a delete file, and a night's
    # replaced cycles leave one in most days' partitions (src/rewatch/maintain.py, step 1).
    settings, before, after_maintain, *_ = maintained
    with_deletes = _delete_files(Settings(exports_dir=settings.exports_dir, warehouse_dir=before))
    assert with_deletes["fct_watch_cycles"] > 0 and with_deletes["fct_viewing_sessions"] > 0
    after = _delete_files(Settings(exports_dir=settings.exports_dir, warehouse_dir=after_maintain))
    assert after == dict.fromkeys(after, 0)


def test_a_night_built_before_maintenance_publishes_after_it(maintained):
    settings, before, *_, done = maintained
    con = rewatch.connect(settings)
    after = [p.kind for p in lake.publishes(con) if p.snapshot > done["compaction_snapshot"]]
    con.close()
    # The night's commit, then at most the rewrite of the files its deletes left half empty.
    assert after in (["night"], ["night", "maintain"])
    # Night 3 published again equals night 3 published the first time.
    assert all(counts == (0, 0) for counts in diff_warehouses(before, settings.warehouse_dir).values())


def test_the_command_reports_what_it_did(maintained):
    settings, *_ = maintained
    result = CliRunner().invoke(
        app, ["maintain", "--keep-nights", "1"], env={"REWATCH_WAREHOUSE_DIR": str(settings.warehouse_dir)}
    )
    assert result.exit_code == 0, result.output
    assert f"warehouse: {settings.warehouse_dir}" in result.output  # every command says which one
    assert "Expired" in result.output and f"Time travel reaches {NIGHTS[2]} .. {NIGHTS[2]} (1 night)" in result.output
    # What a read of the head opens, counted from the catalog: the same number as the lake lists.
    listed = sum(rows[0][0] for rows in _listed_files(settings, "count(data_file) + count(delete_file)").values())
    opens = re.search(r"a read of the head opens ([\d,]+) -> ([\d,]+) files", " ".join(result.output.split()))
    assert opens and int(opens[2].replace(",", "")) == listed


def test_keep_nights_must_be_a_positive_whole_number(monkeypatch, workdir):
    monkeypatch.setenv("REWATCH_KEEP_NIGHTS", "0")
    with pytest.raises(MaintainError, match="REWATCH_KEEP_NIGHTS='0'"):
        keep_nights_setting()
    monkeypatch.setenv("REWATCH_KEEP_NIGHTS", "two")
    with pytest.raises(MaintainError, match="whole number"):
        keep_nights_setting()
    monkeypatch.setenv("REWATCH_KEEP_NIGHTS", "30")
    assert keep_nights_setting() == 30
    with pytest.raises(MaintainError, match="nothing published yet"):
        pipeline.maintain(workdir, keep_nights=2)


def test_the_time_partitioned_tables_keep_one_day_per_file_through_compaction(maintained):
    """The tables a night reads and deletes by time (dbt meta `rewatch_partition_by`) hold one
    day of that time per data file, after three nights and a compaction that merged files: a
    night's bounded reads skip the files of other days, however long the history."""
    settings, *_ = maintained
    partitioned = {
        ("intermediate", "int_playback_events"): "event_at",
        ("intermediate", "int_viewing_segments_merged"): "session_started_at",
        ("main", "fct_viewing_sessions"): "started_at",
    }
    con = rewatch.connect(settings)
    try:
        for (schema, table), column in partitioned.items():
            files = [
                str(lake.lake_of(settings).data_path.joinpath(row[0]))
                for row in con.execute(
                    f"select data_file from ducklake_list_files('lake', '{table}', schema => '{schema}')"
                ).fetchall()
            ]
            days = [
                con.execute(f"select count(distinct {column}::date), count(*) from read_parquet('{path}')").fetchone()
                for path in files
            ]
            assert len(files) > 1 and all(n_days == 1 for n_days, _ in days), (table, days)
            assert (
                sum(rows for _, rows in days)
                >= con.execute(f"select count(*) from lake.{schema}.{table}").fetchone()[0]
            )
    finally:
        con.close()
