"""The real DAG through Airflow (dag.test) on generated nights, checked against ground truth."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from rewatch import lake
from rewatch.audit import load_suites
from rewatch.generate import generate
from rewatch.lake import head_snapshot
from rewatch.orchestrate import load_dag, run_nights
from rewatch.settings import Settings, get_settings
from tests import truth_marts
from tests.browser import open_page
from tests.helpers import copy_published, published_connection, published_marker, sessions_against_truth

pytestmark = pytest.mark.slow
START = dt.date(2026, 3, 2)
# Three nights: the middle local date is then delivered in every time zone, so staying power
# has an observed day to draw.
NIGHTS = [START + dt.timedelta(days=i) for i in range(3)]


def _table(settings, sql):
    con = published_connection(settings)
    try:
        return sorted(con.execute(sql).fetchall(), key=repr)
    finally:
        con.close()


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    # 25 households per chunk: each night's events come in three files (part0000-0002), as a
    # large service's export does, and every check below covers all three.
    result = generate(root / "exports", START, len(NIGHTS), 60, seed=3, truth_dir=root / "truth", chunk_households=25)
    for night in NIGHTS:
        assert len(list((root / "exports" / night.isoformat()).glob("playback_events-part*"))) == 3
    return root, result


def test_three_nights_end_to_end(pipeline, monkeypatch, tmp_path):
    root, generated = pipeline
    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(root / "exports"))
    monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(root / "warehouse"))
    published = get_settings()

    outcomes = run_nights(NIGHTS)
    assert [o.state for o in outcomes] == ["success"] * len(NIGHTS)
    assert outcomes[0].summary["load"]["events_loaded"] > 0

    # The warehouse's sessions are exactly the simulated ones.
    # And title by day and title performance equal the same figures computed from the truth in
    # Python (tests/truth_marts.py).
    expected_daily = truth_marts.title_daily(root / "exports", generated.truth_dir)
    expected_performance = truth_marts.title_performance(root / "exports", generated.truth_dir)
    expected_audiences = truth_marts.title_audience_performance(root / "exports", generated.truth_dir)
    con = published_connection(published)
    try:
        warehouse_sessions, truth_sessions = sessions_against_truth(con, generated.truth_dir)
        all_sessions = con.execute("select count(*) from main.fct_viewing_sessions").fetchone()[0]
        title_daily = truth_marts.published_title_daily(con, next(iter(expected_daily.values())).keys())
        performance = truth_marts.published_title_performance(con, next(iter(expected_performance.values())).keys())
        audiences = truth_marts.published_title_audience_performance(con)
    finally:
        con.close()
    assert all_sessions == len(warehouse_sessions) == generated.sessions > 100
    assert warehouse_sessions == truth_sessions
    assert title_daily == expected_daily
    assert performance == expected_performance
    assert {window for _, window in performance} == {"d7", "d28", "d91", "lifetime"}
    # The kids / non-kids split (#16), from the same truth; both audiences have viewers here.
    assert audiences == expected_audiences
    assert {audience for *_, audience in audiences} == {"kids", "non_kids"}
    assert all(
        sum(audiences[(*key, a)]["starters"] for a in ("kids", "non_kids")) >= performance[key]["starters"]
        for key in performance
    )
    assert sum(row["starters"] for (*_, audience), row in audiences.items() if audience == "kids") > 0

    nights = _table(published, "select night from main.rewatch_runs")
    assert nights == [(night,) for night in NIGHTS]
    # The DAG announces one Asset per table analysts got: every table the publish step wrote to
    # the lake's main schema, but the run log and the restatement log.
    lake_tables = _table(
        published,
        "select table_name from duckdb_tables() where database_name = 'lake' and schema_name = 'main' "
        "and table_name not in ('rewatch_runs', 'rewatch_restatements')",
    )
    outlets = load_dag().get_task("publish").outlets
    assert sorted(asset.name.removeprefix("rewatch.") for asset in outlets) == [t for (t,) in lake_tables]
    assert not list((root / "warehouse" / "build").rglob("*.duckdb*"))
    report = json.loads((root / "warehouse" / "reports" / NIGHTS[-1].isoformat() / "run.json").read_text())
    assert report["outcome"] == "published" and report["sessions"] == generated.sessions

    # What `rewatch summary` tells an analyst: its headline counts, from the truth (is_view is the
    # truth's last session column).
    from typer.testing import CliRunner

    from rewatch.cli import app

    shown = CliRunner().invoke(app, ["summary"])
    assert shown.exit_code == 0, shown.output
    view_sessions = sum(1 for session in truth_sessions if session[-1])
    assert f"sessions: {generated.sessions:,}   view sessions: {view_sessions:,}   " in shown.output
    assert "the tables (dbt docs: lineage, grain, every column): " in shown.output
    assert report["view_sessions"] == view_sessions

    # Re-running a night is idempotent: same published tables.
    before = {t: _table(published, f"select * from main.{t}") for t in ("fct_viewing_sessions", "dim_profiles")}
    assert [o.state for o in run_nights([NIGHTS[0]])] == ["success"]
    after = {t: _table(published, f"select * from main.{t}") for t in before}
    assert after == before
    # Three nights deliver one local date in every time zone: nothing is judged unstoppable yet,
    # and the summary says why instead of showing nothing.
    assert "no title has its first 28 days since release delivered yet" in " ".join(shown.output.split())
    _the_morning_page_opens_in_a_browser_offline(root / "warehouse" / "reports", tmp_path)

    # Real catalogs reuse names: two of the top titles renamed alike (in a copy, committed as a
    # publish so readers see it) are told apart by their title ids.
    copy = Settings(exports_dir=root / "exports", warehouse_dir=copy_published(published, root / "named"))
    con = lake.connect(copy)
    try:
        lake.attach(con, lake.lake_of(copy), read_only=False)
        top_two = [
            row[0]
            for row in con.execute(
                "select title_id from lake.main.rpt_title_performance where window_name = 'lifetime' "
                "order by starters desc, title_id limit 2"
            ).fetchall()
        ]
        con.execute("begin")
        con.execute(
            "update lake.main.dim_titles set title_name = 'Same Name' where title_id in (select unnest(?))", [top_two]
        )
        lake.tag_commit(con, "lake", "night", [NIGHTS[-1].isoformat()], "test: a shared title name")
        con.execute("commit")
    finally:
        con.close()
    monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(copy.warehouse_dir))
    shown = CliRunner().invoke(app, ["summary"])
    assert shown.exit_code == 0, shown.output
    for title_id in top_two:
        assert f"Same Name ({title_id})" in shown.output, shown.output


def _the_morning_page_opens_in_a_browser_offline(reports, tmp_path):
    """The last night's page and the index of every night, opened in headless Chromium: every
    chart drew marks, the headline shows the change since the night before, nothing was logged
    to the console, and the page asked nothing of the network (#16)."""
    last = open_page(reports / NIGHTS[-1].isoformat() / "index.html", tmp_path / "night")
    assert last.console == [] and last.requests == []
    assert f"The warehouse this morning (change since {NIGHTS[-2].isoformat()})" in last.dom
    charts = last.dom.split("<svg")[1:]
    assert len(charts) == 5  # funnel, completions, two heat maps, staying power
    assert all('class="mark"' in chart for chart in charts), [chart[:300] for chart in charts]
    # The film kids finish again and again is drawn by day since release.
    assert "The Unstoppable Summer" in charts[-1]
    index = open_page(reports / "index.html", tmp_path / "index")
    assert index.console == [] and index.requests == []
    assert all(f"{night.isoformat()}/index.html" in index.dom for night in NIGHTS)
    assert 'class="mark"' in index.dom
    # One click away: dbt's documentation of the tables and the audit's Data Docs, offline too.
    for page in (last, index):
        assert "dbt-docs/index.html" in page.dom
    assert "data_docs/index.html" in last.dom
    docs = open_page(reports / "dbt-docs" / "index.html", tmp_path / "dbt-docs")
    assert docs.requests == []
    # dbt's own page template names its icons `{{ getIcon(...) }}` until Angular fills them in;
    # Chromium logs each as an unsafe file: URL. Nothing else may be logged.
    assert all("getIcon" in message for message in docs.console), docs.console
    assert ">rewatch: who starts a title, who finishes it, who watches it again</h1>" in docs.dom
    data_docs = reports / NIGHTS[-1].isoformat() / "data_docs"
    audit_index = open_page(data_docs / "index.html", tmp_path / "data-docs")
    assert audit_index.console == [] and audit_index.requests == []
    suites = [suite["name"] for suite in load_suites()]
    assert all(f">{name}</a>" in audit_index.dom for name in suites)
    validation = next(iter(sorted((data_docs / "validations" / "run_streams").rglob("*.html"))))
    shown = open_page(validation, tmp_path / "validation")
    assert shown.console == [] and shown.requests == []
    assert "conservation: the run's sessions play exactly the seconds" in shown.dom


def test_a_bad_night_fails_closed(pipeline, monkeypatch):
    root, _ = pipeline
    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(root / "exports"))
    monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(root / "warehouse"))
    settings = get_settings()
    if head_snapshot(settings) is None:
        run_nights(NIGHTS)
    before = published_marker(settings)
    assert before[0] is not None

    bad = root / "exports" / "2026-03-06"
    bad.mkdir()
    good = root / "exports" / NIGHTS[0].isoformat()
    for f in good.iterdir():
        if f.name != "_manifest.json":
            (bad / f.name).write_bytes(f.read_bytes())
    manifest = json.loads((good / "_manifest.json").read_text())
    manifest["export_date"] = "2026-03-06"
    manifest["files"][0]["sha256"] = "0" * 64
    (bad / "_manifest.json").write_text(json.dumps(manifest))

    (outcome,) = run_nights([dt.date(2026, 3, 6)])
    assert outcome.state == "failed"
    assert outcome.failed_task == "load_raw"
    assert "does not match the manifest" in outcome.error and str(bad) in outcome.error
    assert published_marker(settings) == before
    alerts = (root / "warehouse" / "reports" / "alerts.jsonl").read_text().splitlines()
    assert json.loads(alerts[-1])["night"] == "2026-03-06"


def test_a_night_the_audit_refuses_fails_the_dag_run_and_keeps_the_published_lake(pipeline, monkeypatch):
    import csv

    from rewatch.contract import write_manifest
    from tests.helpers import event, write_events

    root, _ = pipeline
    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(root / "exports"))
    monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(root / "warehouse"))
    settings = get_settings()
    if head_snapshot(settings) is None:
        run_nights(NIGHTS)
    before = published_marker(settings)
    assert before[0] is not None

    # The night's catalog and households are fine; its positions are in milliseconds.
    night = dt.date(2026, 3, 5)
    good = root / "exports" / NIGHTS[0].isoformat()
    folder = root / "exports" / night.isoformat()
    folder.mkdir()
    rows = {}
    for name in ("titles.csv", "households.csv", "profiles.csv"):
        (folder / name).write_bytes((good / name).read_bytes())
        with (folder / name).open(newline="") as handle:
            rows[name] = list(csv.DictReader(handle))
    profile = rows["profiles.csv"][0]
    title = rows["titles.csv"][0]["title_id"]
    events = [
        event("ms-1", "play", "2026-03-05T19:00:00Z", "0", profile["profile_id"], profile["household_id"], title=title),
        event(
            "ms-2",
            "stop",
            "2026-03-05T19:10:00Z",
            "600000",
            profile["profile_id"],
            profile["household_id"],
            title=title,
        ),
    ]
    events_file = write_events(folder, events)
    write_manifest(folder, night, {events_file: 2, **{name: len(body) for name, body in rows.items()}})

    (outcome,) = run_nights([night])
    assert outcome.state == "failed"
    assert outcome.failed_task == "audit"
    assert "position_seconds at most 1.5 x the title's runtime" in outcome.error and "ms-2" in outcome.error
    assert published_marker(settings) == before
    report = json.loads((root / "warehouse" / "reports" / night.isoformat() / "run.json").read_text())
    assert report["outcome"] == "refused" and report["load"]["events_loaded"] == 2
