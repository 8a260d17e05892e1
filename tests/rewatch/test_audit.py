"""The audit gate: a night that breaks an error expectation never reaches the published lake.

Expectations the input can break (events out of the night's window, positions past the
runtime, a mostly-malformed night) are broken through a crafted export night and run through
the pipeline's steps. The rest guard invariants the loader and the models already enforce
(ids present, types pinned, keys unique, conservation, ...): no export night can break them,
so each is broken by corrupting a copy of a real raw partition or candidate file, as a loader
or model bug would, and the audit must name it; keys and not-nulls dbt's own tests check (on
the whole table, failing the build before the audit) are named by that dbt test instead.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from rewatch import pipeline
from rewatch.audit import AUDIT_MODELS, SUITES_DIR, AuditError, audit, audit_in_process, load_suites
from rewatch.build import candidate_path, check_previous_state, dbt_run_dir, parse_cache_path, run_dbt
from rewatch.datadocs import make_offline, remote_references
from rewatch.settings import Settings, get_settings
from tests.helpers import copy_published, event, published_connection, published_marker, write_night

pytestmark = pytest.mark.slow
NIGHT1 = dt.date(2026, 3, 2)
NIGHT2 = dt.date(2026, 3, 3)


def good_events(night: dt.date, prefix: str = "g") -> list[list]:
    """Two sessions of tt1 (5400 s) on the night: a 20-minute watch and a 10-minute one."""
    day = night.isoformat()
    return [
        event(f"{prefix}1", "play", f"{day}T19:00:00Z", "0", received=f"{day}T19:00:01Z"),
        event(f"{prefix}2", "heartbeat", f"{day}T19:10:00Z", "600", received=f"{day}T19:10:01Z"),
        event(f"{prefix}3", "stop", f"{day}T19:20:00Z", "1200", received=f"{day}T19:20:01Z"),
        event(f"{prefix}4", "play", f"{day}T07:00:00Z", "0", profile="pr2", received=f"{day}T07:00:01Z"),
        event(f"{prefix}5", "stop", f"{day}T07:10:00Z", "600", profile="pr2", received=f"{day}T07:10:01Z"),
    ]


def run_night(night: dt.date, settings: Settings) -> dict:
    loaded = pipeline.load(night, settings)
    built = pipeline.build(night, settings)
    return pipeline.publish(night, loaded, built, pipeline.audit(night, settings), settings)


@pytest.fixture(scope="module")
def first_night(tmp_path_factory):
    """A published warehouse holding one good night (copied by each test)."""
    root = tmp_path_factory.mktemp("audit-base")
    mp = pytest.MonkeyPatch()
    mp.setenv("REWATCH_EXPORTS_DIR", str(root / "exports"))
    mp.setenv("REWATCH_WAREHOUSE_DIR", str(root / "warehouse"))
    write_night(root / "exports", NIGHT1, good_events(NIGHT1))
    report = run_night(NIGHT1, get_settings())
    assert report["outcome"] == "published"
    mp.undo()
    return root


@pytest.fixture
def copied(first_night, tmp_path, monkeypatch):
    for name in ("exports", "warehouse"):
        shutil.copytree(first_night / name, tmp_path / name)
    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(tmp_path / "exports"))
    monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    return get_settings()


def raw_rows(settings: Settings, table: str, night: dt.date) -> int:
    path = settings.raw_dir / table / f"export_date={night.isoformat()}" / "data.parquet"
    return duckdb.connect().execute(f"select count(*) from read_parquet('{path}')").fetchone()[0]


BROKEN_NIGHTS = {
    # An exporter clock bug: events dated weeks before the night.
    "event_ts_window": (
        [event("old1", "play", "2026-01-20T19:00:00Z", "0"), event("old2", "stop", "2026-01-20T19:10:00Z", "600")],
        "event_ts within [night - 30 days, night + 1 day)",
        "old1",
    ),
    # Positions in milliseconds instead of seconds.
    "position_vs_runtime": (
        [
            event("ms1", "play", "2026-03-03T19:00:00Z", "0"),
            event("ms2", "stop", "2026-03-03T19:10:00Z", "600000"),
        ],
        "position_seconds at most 1.5 x the title's runtime",
        "ms2",
    ),
    # A broken export: most rows lack their ids (quarantined), far beyond 10 %.
    "quarantine_share": (
        [event("q1", "play", "2026-03-03T19:00:00Z", "0")]
        + [event("", "heartbeat", f"2026-03-03T19:0{i}:00Z", "60") for i in range(1, 4)],
        "expect_column_values_to_be_between(column='quarantine_share', max_value=0.1)",
        "0.27",  # 3 of 11 rows (4 events, 7 snapshot rows)
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_NIGHTS))
def test_a_night_breaking_an_error_expectation_is_refused_then_published_once_fixed(copied, case):
    settings = copied
    events, expectation, example = BROKEN_NIGHTS[case]
    write_night(settings.exports_dir, NIGHT2, events)
    published_before = published_marker(settings)

    loaded = pipeline.load(NIGHT2, settings)
    pipeline.build(NIGHT2, settings)
    with pytest.raises(AuditError) as refused:
        pipeline.audit(NIGHT2, settings)

    message = str(refused.value)
    assert expectation in message and example in message, message
    assert "the published warehouse is unchanged" in message
    assert published_marker(settings) == published_before
    assert not candidate_path(settings, NIGHT2).exists()
    # Nothing the night carried is lost: its rows and quarantine stay in the raw zone.
    assert raw_rows(settings, "playback_events", NIGHT2) == loaded["events_loaded"]
    assert raw_rows(settings, "quarantine", NIGHT2) == loaded["rows_quarantined"]
    report = json.loads((settings.reports_dir / NIGHT2.isoformat() / "run.json").read_text())
    assert report["outcome"] == "refused" and report["audit"]["decision"] == "refused"
    assert any(expectation in line for line in report["audit"]["errors"])
    assert (settings.reports_dir / NIGHT2.isoformat() / "data_docs" / "index.html").is_file()
    assert "refused" in (settings.reports_dir / NIGHT2.isoformat() / "index.html").read_text()
    if case != "event_ts_window":
        return  # the re-delivery below takes the same path whatever refused the night

    # The exporter re-delivers the night, fixed: the re-run publishes it.
    shutil.rmtree(settings.exports_dir / NIGHT2.isoformat())
    write_night(settings.exports_dir, NIGHT2, good_events(NIGHT2, prefix="fixed"))
    report = run_night(NIGHT2, settings)
    assert report["outcome"] == "published"
    con = published_connection(settings)
    try:
        nights = [r[0] for r in con.execute("select night from main.rewatch_runs order by 1").fetchall()]
        session_ids = con.execute("select count(*) from main.fct_viewing_sessions").fetchone()[0]
    finally:
        con.close()
    assert nights == [NIGHT1, NIGHT2]
    assert session_ids == 4


def test_a_warning_only_night_publishes_with_the_warning_in_its_report(copied):
    settings = copied
    # 1 of 19 rows malformed (12 events, 7 snapshot rows): above 1 % (warning), below 10 % (error).
    events = good_events(NIGHT2, prefix="n") + [
        event(f"w{i}", "heartbeat", "2026-03-03T19:05:00Z", "300") for i in range(6)
    ]
    events.append(event("bad", "rewind", "2026-03-03T19:06:00Z", "360"))
    write_night(settings.exports_dir, NIGHT2, events)
    report = run_night(NIGHT2, settings)
    assert report["outcome"] == "published with warnings"
    assert report["publish_decision"] == "publish_with_warnings"
    warnings = report["audit"]["warnings"]
    assert any("quarantine_share', max_value=0.01" in w for w in warnings), warnings
    assert report["audit"]["errors"] == []
    html = (settings.reports_dir / NIGHT2.isoformat() / "index.html").read_text()
    assert "publish, with warnings" in html and "publish_with_warnings" not in html and "quarantine_share" in html


def test_a_quiet_night_with_no_events_publishes(copied):
    settings = copied
    write_night(settings.exports_dir, NIGHT2, [])
    report = run_night(NIGHT2, settings)
    assert report["outcome"] == "published"
    assert report["load"]["events_loaded"] == 0
    assert report["sessions"] == 2  # the first night's sessions, untouched


# --- Invariants no export can break: corrupt a copy, as a loader or model bug would ----------


@pytest.fixture(scope="module")
def built_candidate(first_night, tmp_path_factory):
    """The first night's warehouse plus a built (not yet audited) candidate for night 2."""
    root = tmp_path_factory.mktemp("audit-candidate")
    for name in ("exports", "warehouse"):
        shutil.copytree(first_night / name, root / name)
    settings = Settings(exports_dir=root / "exports", warehouse_dir=root / "warehouse")
    write_night(settings.exports_dir, NIGHT2, good_events(NIGHT2, prefix="n"))
    mp = pytest.MonkeyPatch()
    mp.setenv("REWATCH_EXPORTS_DIR", str(settings.exports_dir))
    mp.setenv("REWATCH_WAREHOUSE_DIR", str(settings.warehouse_dir))
    mp.setenv("DBT_LOG_LEVEL_FILE", "debug")  # dbt's full log, which says how it parsed (a test below)
    pipeline.load(NIGHT2, settings)
    pipeline.build(NIGHT2, settings)
    mp.undo()
    return root


def audit_tables_reading(settings: Settings, sql: str) -> list[str]:
    """The audit's batches that are tables (not views) made from a model `sql` corrupts.

    The other batches are views: over the candidate's tables, and over the raw zone through the
    DuckDB variables each audit connection sets to its own warehouse's raw folder, so they read
    a corrupted copy as they are. A table made from a corrupted model must be made again, as the
    build would have made it from a buggy model."""
    run_dir = dbt_run_dir(settings.warehouse_dir / CANDIDATE)
    nodes = json.loads((run_dir / "target" / "manifest.json").read_text())["nodes"]

    def upstream(unique_id: str) -> set[str]:
        parents = set(nodes[unique_id].get("depends_on", {}).get("nodes", [])) & nodes.keys()
        return parents.union(*(upstream(parent) for parent in parents))

    corrupted = {uid for uid, node in nodes.items() if re.search(rf"\b{node['name']}\b", sql)}
    return [
        nodes[uid]["name"]
        for uid in nodes
        if nodes[uid]["name"] in AUDIT_MODELS.values()
        and nodes[uid]["config"]["materialized"] == "table"
        and corrupted & upstream(uid)
    ]


def rebuild_audit_tables(settings: Settings, models: list[str]) -> None:
    proc = run_dbt(
        settings,
        settings.warehouse_dir / CANDIDATE,
        ["run", "--select", *models],
        [NIGHT2],
        check_previous_state(settings),
        parse_cache=parse_cache_path(settings),
    )
    assert proc.returncode == 0, proc.stdout[-3000:]


RAW_EVENTS = "raw/playback_events/export_date=2026-03-03/data.parquet"
RAW_LEDGER = "raw/ledger/export_date=2026-03-03/data.parquet"
CANDIDATE = "build/next-2026-03-03/scratch.duckdb"

CORRUPTIONS = {
    # Three rules of one suite, each broken on its own event: one corrupted copy names all three.
    "raw_null_id_event_type_negative_position": (
        RAW_EVENTS,
        "select * replace ("
        "case when event_id = 'n2' then null else household_id end as household_id, "
        "case when event_id = 'n3' then 'rewind' else event_type end as event_type, "
        "case when event_id = 'n4' then -5.0 else position_seconds end as position_seconds) from t",
        (
            "expect_column_values_to_not_be_null(column='household_id')",
            "expect_column_values_to_be_in_set(column='event_type'",
            "expect_column_values_to_be_between(column='position_seconds', min_value=0.0)",
        ),
    ),
    "raw_schema": (
        RAW_EVENTS,
        "select * replace (cast(position_seconds as varchar) as position_seconds) from t",
        "raw_playback_events_schema",
    ),
    "ledger_sha": (
        RAW_LEDGER,
        "select * replace (case when path like 'playback%' then 'deadbeef' else sha256 end as sha256) from t",
        "every manifest file loaded with the manifest's sha256 and row count",
    ),
    "ledger_rows": (
        RAW_LEDGER,
        "select * replace (case when path like 'playback%' then rows_loaded - 1 else rows_loaded end as rows_loaded) from t",
        "every manifest file loaded with the manifest's sha256 and row count",
    ),
    "played_past_wall_clock": (
        CANDIDATE,
        "update main.fct_viewing_sessions set played_seconds = played_seconds + 900 where profile_id = 'pr2' and started_at >= '2026-03-03'",
        "played_seconds at most the session's wall-clock duration",
    ),
    "conservation": (
        CANDIDATE,
        "update main.fct_viewing_sessions set played_seconds = played_seconds - 60 where profile_id = 'pr2' and started_at >= '2026-03-03'",
        "conservation: the run's sessions play exactly the seconds",
    ),
    "session_position": (
        CANDIDATE,
        "update main.fct_viewing_sessions set max_position_seconds = 99999 where profile_id = 'pr2' and started_at >= '2026-03-03'",
        "positions at most 1.5 x the title's runtime",
    ),
    "session_title_not_in_dim_titles": (
        CANDIDATE,
        "delete from main.dim_titles where title_id in (select title_id from main.fct_viewing_sessions where profile_id = 'pr2' and started_at >= '2026-03-03')",
        "every session's title is in dim_titles",
    ),
    "hourly_cap": (
        CANDIDATE,
        "update this_run.int_events_this_run set played_seconds = 4000 where event_id = 'n4'",
        "no profile plays more than 60 minutes of one title per wall-clock hour",
    ),
    "cycle_coverage": (
        CANDIDATE,
        "update main.fct_watch_cycles set coverage_seconds = content_end_seconds + 100 where profile_id = 'pr2'",
        "coverage between 0 and the content end",
    ),
    "rewatches_rule": (
        CANDIDATE,
        "update main.fct_household_title_rewatches set rewatches = completions + 1",
        "rewatches = completions - 1 where positive, else 0",
    ),
    "completions_vs_cycles": (
        CANDIDATE,
        "update main.fct_household_title_rewatches set completions = 7",
        "completions at most the household's watch cycles of the title",
    ),
    "completion_and_repeat_rates": (
        CANDIDATE,
        "update main.rpt_title_performance set completion_rate = 1.5, repeat_rate = -0.5 where window_name = 'lifetime'",
        (
            "expect_column_values_to_be_between(column='completion_rate', min_value=0.0, max_value=1.0)",
            "expect_column_values_to_be_between(column='repeat_rate', min_value=0.0, max_value=1.0)",
        ),
    ),
}


# Keys and not-nulls are dbt's own tests, on the whole table: `dbt build` runs them right after
# the model and fails the night before any audit. The same corruptions fail the named test.
DBT_OWNED = {
    "raw_null_event_id": (
        RAW_EVENTS,
        "select * replace (case when event_id = 'n2' then null else event_id end as event_id) from t",
        "stg_exports__playback_events",
        "not_null_stg_exports__playback_events_event_id",
    ),
    "session_duplicate": (
        CANDIDATE,
        "insert into main.fct_viewing_sessions select * from main.fct_viewing_sessions where profile_id = 'pr2' and started_at >= '2026-03-03'",
        "fct_viewing_sessions",
        "primary_key_fct_viewing_sessions_session_id",
    ),
    "session_null": (
        CANDIDATE,
        "update main.fct_viewing_sessions set household_id = null where profile_id = 'pr2' and started_at >= '2026-03-03'",
        "fct_viewing_sessions",
        "not_null_fct_viewing_sessions_household_id",
    ),
    "cycle_duplicate": (
        CANDIDATE,
        "insert into main.fct_watch_cycles select * from main.fct_watch_cycles where profile_id = 'pr2'",
        "fct_watch_cycles",
        "primary_key_fct_watch_cycles_cycle_id",
    ),
    "rewatch_key": (
        CANDIDATE,
        "insert into main.fct_household_title_rewatches select * from main.fct_household_title_rewatches",
        "fct_household_title_rewatches",
        "primary_key_fct_household_title_rewatches_household_id__title_id",
    ),
    # A null in a key column (not a duplicate): the primary-key test's other half.
    "performance_key_null": (
        CANDIDATE,
        "update main.rpt_title_performance set window_name = null",
        "rpt_title_performance",
        "primary_key_rpt_title_performance_title_id__window_name",
    ),
}


def corrupted_copy(built_candidate: Path, tmp_path: Path, target: str, sql: str) -> Settings:
    """A copy of the built candidate's warehouse with `sql` run on `target` (a raw partition or the candidate)."""
    for name in ("exports", "warehouse"):
        shutil.copytree(built_candidate / name, tmp_path / name)
    settings = Settings(exports_dir=tmp_path / "exports", warehouse_dir=tmp_path / "warehouse")
    path = settings.warehouse_dir / target
    if target.endswith(".parquet"):
        con = duckdb.connect()
        con.execute(f"create table t as select * from read_parquet('{path}')")
        con.execute(f"copy ({sql}) to '{path}' (format parquet)")
        con.close()
    else:
        con = duckdb.connect(str(path))
        con.execute(sql)
        con.close()
        if tables := audit_tables_reading(settings, sql):
            rebuild_audit_tables(settings, tables)
    return settings


def test_a_nights_build_starts_from_the_saved_parse(built_candidate):
    """dbt re-parses only the files the night changes (partial parsing), not the whole project:
    nothing in its profile changes from night to night (docs/incremental.md)."""
    settings = Settings(exports_dir=built_candidate / "exports", warehouse_dir=built_candidate / "warehouse")
    log = (dbt_run_dir(candidate_path(settings, NIGHT2)) / "logs" / "dbt.log").read_text()
    # "Nothing changed" when the saved parse was another build's of the same night (tests share one).
    assert "Partial parsing enabled" in log or "Nothing changed, skipping partial parsing" in log
    assert "Unable to do partial parsing" not in log


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_every_guarded_invariant_is_named_when_broken(built_candidate, tmp_path, case):
    target, sql, expectation = CORRUPTIONS[case]
    settings = corrupted_copy(built_candidate, tmp_path, target, sql)
    stage = "output" if target == CANDIDATE else "raw"
    # The verdict only: the Data Docs page is checked through the child below.
    result = audit_in_process(
        settings, NIGHT2, settings.warehouse_dir / CANDIDATE, tmp_path / "docs", (stage,), render_docs=False
    )
    message = result.error_message()
    assert result.decision == "refused"
    for named in (expectation,) if isinstance(expectation, str) else expectation:
        assert named in message, message
    assert "e.g." in message or "observed" in message or "row(s) unexpected" in message


def test_a_corruption_is_named_by_the_audit_as_the_pipeline_runs_it(built_candidate, tmp_path):
    """The cases above call the audit in this process; the pipeline runs it in a child forked
    from the audit server (`rewatch.children`), which reports through a result file."""
    target, sql, expectation = CORRUPTIONS["session_position"]
    settings = corrupted_copy(built_candidate, tmp_path, target, sql)
    result = audit(settings, NIGHT2, settings.warehouse_dir / CANDIDATE, tmp_path / "docs")
    assert result.decision == "refused"
    assert expectation in result.error_message(), result.error_message()
    assert (tmp_path / "docs" / "index.html").exists()


@pytest.mark.parametrize("case", sorted(DBT_OWNED))
def test_every_key_dbt_owns_fails_its_dbt_test_when_broken(built_candidate, tmp_path, case):
    target, sql, model, test = DBT_OWNED[case]
    settings = corrupted_copy(built_candidate, tmp_path, target, sql)
    candidate = settings.warehouse_dir / CANDIDATE
    proc = run_dbt(
        settings,
        candidate,
        ["test", "--select", model, "--exclude-resource-type", "unit_test"],
        [NIGHT2],
        check_previous_state(settings),
        parse_cache=parse_cache_path(settings),
    )
    results = json.loads((dbt_run_dir(candidate) / "target" / "run_results.json").read_text())["results"]
    failed = {result["unique_id"].split(".")[2] for result in results if result["status"] in ("fail", "error")}
    assert proc.returncode != 0 and failed == {test}, proc.stdout[-3000:]


def test_the_untouched_candidate_passes_every_suite(built_candidate, tmp_path):
    for name in ("exports", "warehouse"):
        shutil.copytree(built_candidate / name, tmp_path / name)
    settings = Settings(exports_dir=tmp_path / "exports", warehouse_dir=tmp_path / "warehouse")
    result = audit_in_process(settings, NIGHT2, settings.warehouse_dir / CANDIDATE, tmp_path / "docs")
    assert result.findings == [] and result.decision == "publish"
    assert set(result.suites) == {s["name"] for s in load_suites()}
    assert all(s["evaluated"] > 0 for s in result.suites.values())
    # The batches are the night and what the run rewrote: 5 raw events; the night's 2 new
    # sessions, and not the previous night's (they ended a day before, beyond the session gap).
    assert result.suites["raw_playback_events"]["rows"] == 5
    assert result.suites["fct_viewing_sessions"]["rows"] == 2
    # Its Data Docs load nothing from the network; the index links each suite's validation page.
    docs = tmp_path / "docs"
    assert remote_references(docs) == []
    index = (docs / "index.html").read_text()
    for name in result.suites:
        page = next((docs / "validations" / name).rglob("*.html"))
        assert f"<a href='{page.relative_to(docs).as_posix()}'>{name}</a>" in index


def test_data_docs_made_offline_keep_their_content_and_drop_every_remote_load(tmp_path):
    """What GX 1.24 writes into each page and its stylesheet (CDN scripts and styles, an S3
    logo) is found, then removed; the page's own text stays."""
    page = tmp_path / "validations" / "suite" / "run" / "page.html"
    page.parent.mkdir(parents=True)
    page.write_text(
        '<html><head><link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>'
        '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script></head><body>'
        '<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1">'
        "<script>$('#t').bootstrapTable({})</script><td>observed 0</td>"
        '<a href="https://greatexpectations.io">GX</a></body></html>'
    )
    sheet = tmp_path / "static" / "styles" / "default.css"
    sheet.parent.mkdir(parents=True)
    sheet.write_text(".logo{background: url('https://great-expectations-web-assets.s3.amazonaws.com/x.png') 0 0}")
    assert len(remote_references(tmp_path)) == 4
    make_offline(tmp_path, "2026-03-03", {"suite": {"stage": "raw", "success": True, "rows": 1234, "evaluated": 2}})
    assert remote_references(tmp_path) == []
    text = page.read_text()
    assert "<script" not in text and "observed 0" in text and 'src="../../../static/images/logo-long.png"' in text
    assert "href='validations/suite/run/page.html'>suite</a>" in (tmp_path / "index.html").read_text()


def test_suites_are_gx_json_with_a_severity_on_every_expectation():
    suites = load_suites()
    assert len(suites) == len(list(SUITES_DIR.glob("*.json"))) >= 8
    for suite in suites:
        assert suite["meta"]["rewatch"]["grain"], suite["name"]
        for expectation in suite["expectations"]:
            assert expectation["meta"]["severity"] in ("error", "warning")
    severities = {
        (s["name"], e["kwargs"].get("column"), e["kwargs"].get("max_value")): e["meta"]["severity"]
        for s in suites
        for e in s["expectations"]
    }
    assert severities[("raw_night_totals", "quarantine_share", 0.01)] == "warning"
    assert severities[("raw_night_totals", "quarantine_share", 0.10)] == "error"
    assert severities[("raw_night_totals", "events_vs_trailing_median", 2.0)] == "warning"


SHIM_PROBE = """
import json, sys, duckdb
import great_expectations as gx
from rewatch import audit
path = sys.argv[1]
con = duckdb.connect(path)
con.execute("create or replace table t as select range as id from range(1000)")
con.close()
def count():
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_sql(name="s", connection_string=f"duckdb:///{path}")
    asset = source.add_query_asset(name="t", query="select * from t")
    batch = asset.add_batch_definition_whole_table("b").get_batch()
    result = batch.validate(gx.expectations.ExpectColumnValuesToNotBeNull(column="id"))
    return result.result.get("element_count")
before = count()
audit.buffer_duckdb_results()
print(json.dumps({"without_shim": before, "with_shim": count()}))
"""


def test_the_duckdb_shim_is_what_makes_gx_see_rows(tmp_path):
    """Upstream GX 1.24 reads DuckDB results after closing the connection: 0 rows without the shim.

    When this starts failing on `without_shim`, upstream has fixed the bug: drop the shim.
    """
    proc = subprocess.run(
        [sys.executable, "-c", SHIM_PROBE, str(tmp_path / "probe.duckdb")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "GX_ANALYTICS_ENABLED": "False"},
    )
    counts = json.loads(proc.stdout.strip().splitlines()[-1])
    assert counts == {"without_shim": None, "with_shim": 1000}


def _refused(settings: Settings, night: dt.date, events: list[list]) -> None:
    """Deliver `events` as `night` (replacing any earlier delivery) and run it: the audit refuses it."""
    shutil.rmtree(settings.exports_dir / night.isoformat(), ignore_errors=True)
    write_night(settings.exports_dir, night, events)
    pipeline.load(night, settings)
    pipeline.build(night, settings)
    with pytest.raises(AuditError):
        pipeline.audit(night, settings)


def test_a_refused_delivery_is_never_read_by_a_later_rebuild(copied):
    """Night 2 published, then re-delivered broken and refused: its accepted delivery goes back
    into the raw zone. Night 3 refused on its first delivery: no rebuild reads it. A rebuild (or
    forget, which rebuilds) then publishes exactly what the nightly runs published."""
    from rewatch.build import rebuild_nights
    from rewatch.compare import PUBLISHED_TABLES, diff_warehouses

    settings = copied
    night3 = NIGHT2 + dt.timedelta(days=1)
    broken = BROKEN_NIGHTS["position_vs_runtime"][0]
    write_night(settings.exports_dir, NIGHT2, good_events(NIGHT2, prefix="accepted"))
    assert run_night(NIGHT2, settings)["outcome"] == "published"
    accepted_rows = raw_rows(settings, "playback_events", NIGHT2)
    published = copy_published(settings, settings.warehouse_dir.parent / "published-before")

    _refused(settings, NIGHT2, broken)
    assert json.loads((settings.reports_dir / NIGHT2.isoformat() / "run.json").read_text())["raw_restored_to_accepted"]
    con = duckdb.connect()
    try:
        ids = con.execute(
            "select list(event_id order by event_id) from read_parquet(?)",
            [str(Path(settings.raw_dir) / "playback_events" / f"export_date={NIGHT2}" / "data.parquet")],
        ).fetchone()[0]
    finally:
        con.close()
    assert raw_rows(settings, "playback_events", NIGHT2) == accepted_rows
    assert all(i.startswith("accepted") for i in ids), ids

    _refused(settings, night3, broken)
    assert raw_rows(settings, "playback_events", night3) == len(broken)  # loaded, kept, never read
    assert rebuild_nights(settings) == [NIGHT1, NIGHT2]

    summary = pipeline.rebuild(settings)
    assert summary["nights"] == [NIGHT1.isoformat(), NIGHT2.isoformat()]
    assert summary["audit"]["decision"] == "publish"
    assert diff_warehouses(published, settings.warehouse_dir) == {t: (0, 0) for t in PUBLISHED_TABLES}


def test_a_refusal_killed_while_restoring_the_accepted_delivery_is_completed_by_the_next_run(copied):
    """Night 1 (published) is re-delivered broken; its run is killed while the accepted delivery
    goes back (`restore:before_ledger`). The night then counts as not loaded (no ledger), the
    published lake is unchanged, and the next run of the still-broken delivery is refused again
    and finishes the restore: the raw zone holds the accepted delivery, never the refused one."""
    from rewatch.compare import PUBLISHED_TABLES, diff_warehouses
    from rewatch.rawzone import partition_path
    from tests.crash_harness import run_and_kill

    settings = copied
    accepted_rows = raw_rows(settings, "playback_events", NIGHT1)
    published = copy_published(settings, settings.warehouse_dir.parent / "published-before")
    shutil.rmtree(settings.exports_dir / NIGHT1.isoformat())
    write_night(settings.exports_dir, NIGHT1, BROKEN_NIGHTS["position_vs_runtime"][0])
    env = {
        **os.environ,
        "REWATCH_EXPORTS_DIR": str(settings.exports_dir),
        "REWATCH_WAREHOUSE_DIR": str(settings.warehouse_dir),
    }

    assert run_and_kill(env, NIGHT1, "restore:before_ledger") == "restore:before_ledger"
    assert not partition_path(settings.raw_dir, "ledger", NIGHT1).exists()  # "not loaded": loaded again next
    assert diff_warehouses(published, settings.warehouse_dir) == {t: (0, 0) for t in PUBLISHED_TABLES}

    _refused(settings, NIGHT1, BROKEN_NIGHTS["position_vs_runtime"][0])
    assert partition_path(settings.raw_dir, "ledger", NIGHT1).exists()
    assert raw_rows(settings, "playback_events", NIGHT1) == accepted_rows
    assert diff_warehouses(published, settings.warehouse_dir) == {t: (0, 0) for t in PUBLISHED_TABLES}
