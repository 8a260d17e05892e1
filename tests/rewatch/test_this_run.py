"""The this-run layer and its inputs (docs/incremental.md): the published lake is the state a run
compares with, declared as dbt sources; a night's publish changes exactly the rows it says it
replaces.

There is no stale this-run layer to refuse any more: dbt builds every run into an empty scratch
database (no stored incremental table lives there), so a model selected alone cannot pick up
what an earlier run left; it fails for want of its inputs. What a run replaces is a model of its
own (`int_run_replaced__<table>`), and the publish step applies exactly that to the lake.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb
import pytest
from typer.testing import CliRunner

from rewatch import build, lake, pipeline
from rewatch.build import (
    DOCS_STAMP,
    BuildError,
    build_night,
    candidate_path,
    check_previous_state,
    dbt_run_dir,
    parse_cache_path,
    previous_state_tables,
    project_version,
    published_tables,
    run_dbt,
)
from rewatch.cli import app
from rewatch.settings import Settings, get_settings
from tests.conftest import copy_of_first_night
from tests.helpers import copy_published, published_connection, published_marker

pytestmark = pytest.mark.slow
NIGHT = dt.date(2026, 3, 2)
NEXT_NIGHT = NIGHT + dt.timedelta(days=1)


@pytest.fixture(scope="module")
def published(first_night, generated_small, tmp_path_factory):
    """One generated night, built, audited and published."""
    mp = pytest.MonkeyPatch()
    settings = copy_of_first_night(first_night, generated_small, tmp_path_factory.mktemp("this_run") / "warehouse", mp)
    yield settings
    mp.undo()


def _dbt(settings, database, select: str):
    """`dbt build -s <select>` of the models (and seeds) alone in `database`, against the published
    lake: the data tests run on every night's full build (test_dbt_graph.py's), not here."""
    return run_dbt(
        settings,
        database,
        ["build", "--select", select, "--exclude-resource-type", "unit_test", "--exclude-resource-type", "test"],
        [NIGHT],
        check_previous_state(settings),
        parse_cache=parse_cache_path(settings),
    )


def test_a_mart_selected_alone_in_a_fresh_scratch_fails_and_builds_with_its_inputs(published):
    database = published.build_dir / "by-hand.duckdb"
    before = published_marker(published)

    # The scratch database is empty: fct_watch_cycles reads int_cycles_this_run, which no
    # earlier run left there, so it fails instead of publishing anything stale.
    alone = _dbt(published, database, "fct_watch_cycles")
    assert alone.returncode != 0
    assert "int_cycles_this_run" in alone.stdout, alone.stdout[-3000:]
    shutil.rmtree(dbt_run_dir(database), ignore_errors=True)
    database.unlink(missing_ok=True)

    with_ancestors = _dbt(published, database, "+fct_watch_cycles")
    assert with_ancestors.returncode == 0, with_ancestors.stdout[-3000:]
    # It holds this run's cycles only, the ones its this-run input computed.
    con = lake.connect(published, str(database), read_only=True)
    try:
        only_mart, only_input = con.execute(
            """
            select (select count(*) from (from main.fct_watch_cycles except all from this_run.int_cycles_this_run)),
                   (select count(*) from (from this_run.int_cycles_this_run except all from main.fct_watch_cycles))
            """
        ).fetchone()
    finally:
        con.close()
    assert (only_mart, only_input) == (0, 0)
    # dbt never writes the lake: it is attached read-only.
    assert published_marker(published) == before
    shutil.rmtree(dbt_run_dir(database), ignore_errors=True)
    database.unlink(missing_ok=True)


def _warehouse(path) -> Settings:
    return Settings(exports_dir=path, warehouse_dir=path)


def test_a_nights_publish_changes_exactly_the_replaced_rows_and_adds_this_runs(published, tmp_path, monkeypatch):
    """Night 2 on a copy of the published warehouse: for every `apply` table, the lake after the
    publish is the lake before minus the rows matching int_run_replaced__<table> plus the
    model's rows (what macros/after_run.sql tells the models); every `replace` table is the
    model's rows."""
    warehouse = tmp_path / "warehouse"
    copy_published(published, warehouse)
    shutil.copytree(published.raw_dir, warehouse / "raw")
    monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(warehouse))
    settings = get_settings()
    before = copy_published(settings, tmp_path / "before")
    loaded, built = pipeline.load(NEXT_NIGHT, settings), pipeline.build(NEXT_NIGHT, settings)
    candidate = candidate_path(settings, NEXT_NIGHT)
    tables = published_tables(dbt_run_dir(candidate))
    # The manifest the publish reads is the run's (its nodes compiled), written once at its end;
    # the parse's copy and dbt's graph.gpickle are not written (rewatch.dbt_runner).
    target = dbt_run_dir(candidate) / "target"
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    assert nodes["model.rewatch.fct_watch_cycles"]["compiled_code"]
    assert not (target / "graph.gpickle").exists()
    scratch = tmp_path / "scratch.duckdb"
    shutil.copyfile(candidate, scratch)
    pipeline.publish(NEXT_NIGHT, loaded, built, {"decision": "publish", "warnings": []}, settings)

    assert {t.name for t in tables if t.mode == "apply"} >= {"int_playback_events", "fct_viewing_sessions"}
    con = lake.connect(settings)
    try:
        lake.attach(con, lake.lake_of(_warehouse(before)), alias="lake_before")
        lake.attach(con, lake.lake_of(settings), alias="lake_after")
        con.execute(f"attach '{scratch}' as scratch (read_only)")
        kept_somewhere = replaced_somewhere = False
        for table in tables:
            name = f"{table.schema}.{table.name}"
            columns = [
                row[0]
                for row in con.execute(
                    "select column_name from duckdb_columns() where database_name = 'lake_after' "
                    "and schema_name = ? and table_name = ? order by column_index",
                    [table.schema, table.name],
                ).fetchall()
            ]
            assert columns, name
            select = ", ".join(f'"{c}"' for c in columns)
            expected = f"select {select} from scratch.{name}"
            if table.mode == "apply":
                replaced = f"scratch.this_run.int_run_replaced__{table.name}"
                keys = [row[0] for row in con.execute(f"select column_name from (describe {replaced})").fetchall()]
                on = " and ".join(f"b.{k} = r.{k}" for k in keys)
                kept = f"select b.* from lake_before.{name} as b anti join {replaced} as r on {on}"
                kept_rows, all_rows = con.execute(
                    f"select (select count(*) from ({kept})), (select count(*) from lake_before.{name})"
                ).fetchone()
                kept = f"select {select} from ({kept})"
                replaced_rows = all_rows - kept_rows
                kept_somewhere |= kept_rows > 0
                replaced_somewhere |= replaced_rows > 0
                expected = f"{kept} union all {expected}"
            actual = f"select {select} from lake_after.{name}"
            actual, expected = f"(select * from ({actual}))", f"(select * from ({expected}))"
            only_after, only_expected = con.execute(
                f"select (select count(*) from ({actual} except all {expected})), "
                f"(select count(*) from ({expected} except all {actual}))"
            ).fetchone()
            assert (only_after, only_expected) == (0, 0), f"{name} ({table.mode})"
    finally:
        con.close()
    # The night both kept published rows and replaced some: the check above compared both.
    assert kept_somewhere and replaced_somewhere


def _applying(replaced_rows: list[tuple]):
    """`_apply` of one `apply` table on plain DuckDB databases named as the publish names them:
    published sessions at three times, the given replaced keys (session id, start), one new row.
    Returns what `lake` holds after it, or the error it raised."""
    con = duckdb.connect()
    try:
        con.execute("attach ':memory:' as lake")
        con.execute("attach ':memory:' as scratch")
        con.execute("create schema scratch.this_run")
        con.execute("create table lake.main.t (session_id varchar, started_at timestamp, v int)")
        con.execute(
            "insert into lake.main.t values ('a', '2026-03-01 10:00', 1), ('b', '2026-03-02 10:00', 2), "
            "('c', '2026-03-03 10:00', 3)"
        )
        con.execute(
            "create table scratch.main.t as select 'c' as session_id, timestamp '2026-03-03 10:00' as started_at, 4 as v"
        )
        con.execute("create table scratch.this_run.int_run_replaced__t (session_id varchar, started_at timestamp)")
        for row in replaced_rows:
            con.execute("insert into scratch.this_run.int_run_replaced__t values (?, ?)", row)
        try:
            build._apply(con, build.PublishedTable("main", "t", "apply"), {("main", "t")}, set(), full=False)
        except build.BuildError as exc:
            return exc
        return con.execute("select session_id, v from lake.main.t order by 1").fetchall()
    finally:
        con.close()


def test_the_publish_deletes_the_replaced_keys_from_their_earliest_time_and_refuses_a_null_key():
    assert _applying([("c", dt.datetime(2026, 3, 3, 10))]) == [("a", 1), ("b", 2), ("c", 4)]
    # Two replaced sessions: the bound is the earlier one's start, and both go.
    assert _applying([("b", dt.datetime(2026, 3, 2, 10)), ("c", dt.datetime(2026, 3, 3, 10))]) == [
        ("a", 1),
        ("c", 4),
    ]
    # Nothing replaced: nothing deleted, the run's row added.
    assert _applying([]) == [("a", 1), ("b", 2), ("c", 3), ("c", 4)]
    refused = _applying([("b", None), ("c", dt.datetime(2026, 3, 3, 10))])
    assert isinstance(refused, build.BuildError) and "null" in str(refused)


def test_the_change_capture_reads_only_the_declared_published_columns(published):
    # The first night built on an empty published state holding exactly the declared columns
    # (the fixture did it); every declared one exists in what a run publishes.
    con = published_connection(published)
    try:
        present = lake.columns(con)
    finally:
        con.close()
    declared = {(s, t, c) for (s, t), columns in previous_state_tables().items() for c, _ in columns}
    assert declared and declared <= present


def _older_copy(published, tmp_path, monkeypatch, alter: str) -> Settings:
    """A copy of the published warehouse (lake and raw zone) as an older rewatch left it: `alter`
    run on its lake; REWATCH_WAREHOUSE_DIR points at it."""
    warehouse = tmp_path / "warehouse"
    copy_published(published, warehouse)
    older = _warehouse(warehouse)
    con = lake.connect(older)
    try:
        lake.attach(con, lake.lake_of(older), read_only=False)
        con.execute(alter)
    finally:
        con.close()
    monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(warehouse))
    settings = get_settings()
    shutil.copytree(published.raw_dir, settings.raw_dir)
    return settings


def test_a_published_lake_from_an_older_rewatch_is_refused_with_what_to_do(published, tmp_path, monkeypatch):
    settings = _older_copy(
        published,
        tmp_path,
        monkeypatch,
        "alter table lake.intermediate.int_profiles_current drop column is_kids_profile",
    )
    marker = published_marker(settings)
    with pytest.raises(BuildError, match=r"int_profiles_current\.is_kids_profile.*rewatch rebuild"):
        build_night(settings, NIGHT)
    assert published_marker(settings) == marker
    assert not candidate_path(settings, NIGHT).exists()


def test_a_published_table_without_a_new_column_fails_the_publish_with_what_to_do(published, tmp_path, monkeypatch):
    """A column added to an applied mart (the night inserts its rows into the published table)
    is not one change capture reads, so the build cannot see it is missing: the publish says
    what to do instead of failing half-way on DuckDB's binder error, and changes nothing."""
    settings = _older_copy(
        published, tmp_path, monkeypatch, "alter table lake.main.fct_household_title_rewatches drop column days_viewed"
    )
    marker = published_marker(settings)
    loaded, built = pipeline.load(NIGHT, settings), pipeline.build(NIGHT, settings)
    with pytest.raises(BuildError, match=r"fct_household_title_rewatches .*new days_viewed.*rewatch rebuild"):
        pipeline.publish(NIGHT, loaded, built, {"decision": "publish", "warnings": []}, settings)
    assert published_marker(settings) == marker


def _next_night_files(settings: Settings, schema: str, table: str) -> tuple[bool, bool, list[str]]:
    """Publish NEXT_NIGHT on `settings`' lake: whether `schema.table` had partition keys before
    and after, and the data files the night wrote to it (paths)."""
    list_files = f"select data_file from ducklake_list_files('lake', '{table}', schema => '{schema}')"

    def state() -> tuple[bool, set[str]]:
        con = lake.connect(settings)
        try:
            lake.attach(con, lake.lake_of(settings))
            return (schema, table) in lake.partitioned(con), {row[0] for row in con.execute(list_files).fetchall()}
        finally:
            con.close()

    partitioned_before, files_before = state()
    loaded, built = pipeline.load(NEXT_NIGHT, settings), pipeline.build(NEXT_NIGHT, settings)
    pipeline.publish(NEXT_NIGHT, loaded, built, {"decision": "publish", "warnings": []}, settings)
    partitioned_after, files_after = state()
    data_path = lake.lake_of(settings).data_path
    return partitioned_before, partitioned_after, [str(data_path / f) for f in sorted(files_after - files_before)]


def test_a_table_published_before_it_had_partition_keys_gets_them_at_the_next_night(published, tmp_path, monkeypatch):
    """A lake whose int_playback_events an older rewatch published without partition keys: the
    next night's commit sets them, and the files it writes hold one day of event_at each."""
    settings = _older_copy(
        published, tmp_path, monkeypatch, "alter table lake.intermediate.int_playback_events reset partitioned by"
    )
    # NEXT_NIGHT's events span two days of event_at.
    before, after, new_files = _next_night_files(settings, "intermediate", "int_playback_events")
    days = [
        duckdb.execute(f"select count(distinct event_at::date) from read_parquet('{f}')").fetchone()[0]
        for f in new_files
    ]
    assert not before and after
    assert len(days) > 1 and set(days) == {1}, days


def test_cycles_partitioned_by_an_older_rewatch_are_no_longer_split_by_day(published, tmp_path, monkeypatch):
    """A lake whose fct_watch_cycles an older rewatch partitioned by the day of started_at: the
    next night's commit resets the keys, and writes its cycles, which started on several days,
    into one file (by day it wrote one per day: docs/architecture.md, "One day per file")."""
    settings = _older_copy(
        published,
        tmp_path,
        monkeypatch,
        "alter table lake.main.fct_watch_cycles set partitioned by "
        "(year(started_at), month(started_at), day(started_at))",
    )
    before, after, new_files = _next_night_files(settings, "main", "fct_watch_cycles")
    days = duckdb.execute("select count(distinct started_at::date) from read_parquet(?)", [new_files]).fetchone()[0]
    assert before and not after
    assert len(new_files) == 1 and days > 1, (new_files, days)


def test_each_publish_keeps_dbt_docs_of_the_real_lineage_current(published, tmp_path, monkeypatch):
    """The publish wrote dbt's page for this version of the project; `rewatch docs` finds it
    current; another warehouse of the same version copies it; a changed project generates again."""
    docs = published.dbt_docs_dir
    assert (docs / DOCS_STAMP).read_text().strip() == project_version()
    assert (docs / "index.html").stat().st_size > 100_000  # dbt's page, data inlined
    manifest = json.loads((docs / "manifest.json").read_text())
    parents = manifest["nodes"]["model.rewatch.int_run_changes"]["depends_on"]["nodes"]
    assert "source.rewatch.published.fct_viewing_sessions" in parents
    assert "model.rewatch.int_run_delivery_changes" in parents
    catalog = json.loads((docs / "catalog.json").read_text())
    assert "started_at" in {c.lower() for c in catalog["nodes"]["model.rewatch.fct_viewing_sessions"]["columns"]}
    assert not list(published.build_dir.glob("docs*"))  # the throwaway copy is gone
    made = []

    def generate(settings, out_dir=None):  # what `publish_docs` asks of dbt, recorded
        made.append(settings.warehouse_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "index.html").write_text(f"version {build.project_version()}")
        return out_dir / "index.html"

    monkeypatch.setattr(build, "generate_docs", generate)
    result = CliRunner().invoke(app, ["docs"])
    assert result.exit_code == 0 and "dbt-docs/index.html" in " ".join(result.output.split()), result.output
    other = Settings(exports_dir=published.exports_dir, warehouse_dir=tmp_path / "other")
    # The environment's page of this version: the one this warehouse holds, whichever test
    # process generated it first (dbt stamps each generation, so two would differ).
    cached = build.SHARED_DOCS_CACHE / project_version() / "index.html"
    assert (docs / "index.html").read_bytes() == cached.read_bytes()
    assert build.publish_docs(other).read_bytes() == cached.read_bytes()
    assert made == []  # current, then copied from the environment's page of this version
    monkeypatch.setattr(build, "SHARED_DOCS_CACHE", tmp_path / "cache")
    monkeypatch.setattr(build, "project_version", lambda: "changed")
    assert build.publish_docs(other).read_text() == "version changed" and made == [other.warehouse_dir]
    assert (tmp_path / "cache" / "changed" / "index.html").read_text() == "version changed"


def test_a_warehouse_that_generated_docs_beside_another_process_keeps_the_cached_page(tmp_path, monkeypatch):
    """Two processes generate the same version's page at once (two nights' publishes, two test
    workers): the one that cached it second shows the cached page, so every warehouse of the
    environment holds the same page for a version."""
    monkeypatch.setattr(build, "SHARED_DOCS_CACHE", tmp_path / "cache")
    monkeypatch.setattr(build, "project_version", lambda: "v1")

    def generate(settings, out_dir=None):  # meanwhile, another process caches its own page
        (tmp_path / "cache" / "v1").mkdir(parents=True)
        (tmp_path / "cache" / "v1" / "index.html").write_text("theirs")
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "index.html").write_text("mine")
        return out_dir / "index.html"

    monkeypatch.setattr(build, "generate_docs", generate)
    settings = Settings(exports_dir=tmp_path / "exports", warehouse_dir=tmp_path / "warehouse")
    assert build.publish_docs(settings).read_text() == "theirs"
    assert (settings.dbt_docs_dir / DOCS_STAMP).read_text().strip() == "v1"
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["v1"]  # no staging left behind
