"""The command line: strict dates, clear errors, the documented commands."""

from __future__ import annotations

import json
import os
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rewatch.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--date", "2026-02-30"],
        ["run", "--date", "yesterday"],
        ["run", "--date", "2026-03-02'; drop table x; --"],
        ["run", "--from", "2026-03-05", "--to", "2026-03-01"],
        ["run", "--date", "2026-03-02", "--from", "2026-03-01", "--to", "2026-03-03"],
        ["backfill", "--from", "2026-3-1", "--to", "2026-03-03"],
        ["generate", "--out", "x", "--start", "not-a-date"],
    ],
)
def test_malformed_dates_and_ranges_are_refused_before_anything_runs(args, workdir):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert not workdir.warehouse_dir.exists()


def test_summary_without_a_published_warehouse_says_what_to_do(workdir):
    result = runner.invoke(app, ["summary"])
    assert result.exit_code == 1
    assert "nothing published yet" in result.output


def test_status_lists_no_runs_yet(workdir):
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert f"warehouse: {workdir.warehouse_dir} no runs yet in this warehouse (REWATCH_WAREHOUSE_DIR" in text


def test_commands_are_documented():
    result = runner.invoke(app, ["--help"])
    for command in ("generate", "run", "backfill", "rebuild", "status", "summary"):
        assert command in result.output
    # The variables README's settings table lists (but the optional ones) and an example.
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for variable in ("REWATCH_EXPORTS_DIR", "REWATCH_WAREHOUSE_DIR", "REWATCH_EXPORT_WAIT_HOURS", "AIRFLOW_HOME"):
        assert f"| `{variable}` |" in readme and variable in result.output, variable
    assert "rewatch run --date 2026-03-02" in result.output
    # Every variable a command checks is in README's table and in --help.
    from rewatch.settings import CHECKS

    assert [name for name in CHECKS if f"| `{name}` |" not in readme] == []
    assert [name for name in CHECKS if name not in result.output] == []
    # Dates are typed as dates, in every command that takes one.
    import re

    for command, options in (("run", 3), ("backfill", 2), ("generate", 1), ("sql", 1)):
        shown = runner.invoke(app, [command, "--help"], terminal_width=120).output
        typed = re.findall(r"--(date|from|to|start|as-of) +(<\w+>)", shown)
        assert len(typed) == options and {kind for _, kind in typed} == {"<date>"}, (command, typed)


def test_a_load_that_had_nothing_to_do_says_so_in_plain_words():
    from rewatch.pipeline import load_detail

    assert load_detail({"status": "already_loaded"}) == "this delivery was already loaded (nothing read again)"
    assert load_detail({"status": "loaded", "events_loaded": 1200, "rows_quarantined": 1}) == (
        "1,200 events loaded, 1 row quarantined"
    )


def test_version_is_the_installed_packages():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"rewatch {version('rewatch')}"


LONG_PATH = "/srv/streaming/rewatch/" + "/".join(["a-rather-long-folder-name"] * 6) + "/exports"


def test_status_prints_the_last_nights_outcomes_newest_first(workdir):
    import datetime as dt

    from rewatch.report import start_report, update_report

    published, refused, older = dt.date(2026, 3, 3), dt.date(2026, 3, 4), dt.date(2026, 3, 1)
    for night in (older, published, refused):
        start_report(workdir, night)
        update_report(workdir, night, load={"events_loaded": 1200, "rows_quarantined": 2}, outcome="published")
    update_report(workdir, published, audit={"errors": [], "warnings": ["[warning] raw_night_totals: share"]})
    update_report(
        workdir,
        refused,
        outcome="refused",
        audit={"errors": ["[error] raw_playback_events: position"], "warnings": []},
        error=f"no export for 2026-03-04: waited 6:00:00 for {LONG_PATH}/2026-03-04/_manifest.json. Check the exporter",
    )
    result = runner.invoke(app, ["status", "--last", "2"], terminal_width=200)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # The detail column folds a long path over lines: nothing of it is cut.
    details = "".join("".join(line.split("│")[7].split()) for line in lines if line.count("│") == 8)
    assert f"{LONG_PATH}/2026-03-04/_manifest.json.Checktheexporter" in details, result.output  # spaces aside
    row_refused = next(i for i, line in enumerate(lines) if "2026-03-04" in line)
    row_published = next(i for i, line in enumerate(lines) if "2026-03-03" in line)
    assert row_refused < row_published
    assert "refused" in lines[row_refused] and "1 errors" in lines[row_refused]
    assert "0 errors, 1 warnings" in lines[row_published]
    assert "1,200" in lines[row_published]
    assert "2026-03-01" not in result.output
    assert (workdir.reports_dir / "2026-03-04" / "index.html").read_text().count("refused") >= 1


def test_a_missing_export_fails_in_seconds_with_what_to_do(workdir, generated_small, monkeypatch):
    # Without --wait, no Airflow run starts: one message names what is missing and what to do.
    result = runner.invoke(app, ["run", "--date", "2026-03-05"])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert f"no export for 2026-03-05: {workdir.exports_dir / '2026-03-05' / '_manifest.json'} does not exist" in text
    assert "--wait" in text and "REWATCH_EXPORT_WAIT_HOURS" in text
    assert not workdir.warehouse_dir.exists()

    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(workdir.exports_dir / "nowhere"))
    result = runner.invoke(app, ["run", "--date", "2026-03-05"])
    assert result.exit_code == 1
    assert "the exports folder" in result.output and "does not exist" in result.output

    # A range names how many nights are missing, and which; nothing runs either.
    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(generated_small.out_dir))
    result = runner.invoke(app, ["backfill", "--from", "2026-03-03", "--to", "2026-03-06"])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "no export for 2 of 4 nights: 2026-03-05, 2026-03-06 have no _manifest.json" in text
    assert not workdir.warehouse_dir.exists()


def test_a_terminal_shows_the_running_step_live_and_a_line_as_each_step_ends():
    """#17: `rewatch run`'s reporter, on a terminal (rich); plain output is checked through the
    real CLI in test_any_night and test_stopping."""
    import io
    import re

    from rich.console import Console

    from rewatch import progress
    from rewatch.cli import _StepLines

    screen = io.StringIO()
    steps = _StepLines(Console(file=screen, force_terminal=True, width=120))
    previous = progress.install(steps)
    try:
        with progress.step("build of night 2026-03-02"):
            assert progress.watching()
            progress.status("dbt: 3 nodes done, last fct_watch_cycles")
            assert re.fullmatch(
                r"build of night 2026-03-02 - \d+s - dbt: 3 nodes done, last fct_watch_cycles", str(steps.__rich__())
            )
            progress.detail("179 dbt models, seeds and tests")
        with pytest.raises(RuntimeError), progress.step("audit of night 2026-03-02"):
            raise RuntimeError("refused")
    finally:
        progress.install(previous)
    assert not progress.watching()
    text = screen.getvalue()
    assert re.search(r"  build of night 2026-03-02: done in [0-9.]+s - 179 dbt models, seeds and tests", text)
    assert re.search(r"  audit of night 2026-03-02: FAILED in [0-9.]+s", text)


class _Seen:
    """A reporter that keeps what it is told (a live display shows each status as it comes)."""

    def __init__(self) -> None:
        self.statuses: list[str] = []

    def started(self, what: str) -> None: ...
    def status(self, what: str, text: str) -> None:
        self.statuses.append(text)

    def finished(self, what: str, seconds: float, detail: str | None, failed: bool) -> None: ...
    def note(self, text: str) -> None: ...


def test_the_load_says_what_it_reads_and_its_rows_so_far(generated_small, tmp_path):
    """#17: the live line of a load names the file it reads and the events loaded so far."""
    import datetime as dt

    from rewatch import progress
    from rewatch.load import load_night

    night = dt.date(2026, 3, 2)
    seen = _Seen()
    previous = progress.install(seen)
    try:
        with progress.step(f"load of night {night}"):
            result = load_night(generated_small.out_dir, tmp_path / "raw", night)
    finally:
        progress.install(previous)
    manifest = json.loads((generated_small.out_dir / night.isoformat() / "_manifest.json").read_text())
    [events] = [f for f in manifest["files"] if f["path"].startswith("playback_events")]
    assert seen.statuses[0] == f"checking {len(manifest['files'])} files against the manifest (size, sha256, gzip)"
    assert f"reading {events['path']} (events file 1 of 1)" in seen.statuses
    assert f"checking {events['rows']:,} records of {events['path']} against the contract" in seen.statuses
    so_far = [s for s in seen.statuses if s.endswith("quarantined so far")]
    assert so_far and so_far[-1].startswith(f"{result.events_loaded:,} events loaded, "), so_far
    assert result.events_loaded > 1000
    assert seen.statuses[-1] == f"writing the raw zone ({result.events_loaded:,} events)"


def test_the_loads_live_line_counts_records_read_from_duckdbs_progress():
    from types import SimpleNamespace

    from rewatch.load import Doing

    at = {"percent": 25.0}
    doing = Doing(SimpleNamespace(query_progress=lambda: at["percent"]))
    assert doing.text() is None  # nothing started
    doing.now("reading playback_events-part0000.csv.gz (events file 1 of 2)", 1_200_000)
    assert (
        doing.text()
        == "reading playback_events-part0000.csv.gz (events file 1 of 2): about 300,000 of 1,200,000 records"
    )
    at["percent"] = -1  # between statements
    assert doing.text() == "reading playback_events-part0000.csv.gz (events file 1 of 2)"
    doing.now("writing the raw zone (1,200,000 events)")  # no count to measure against
    assert doing.text() == "writing the raw zone (1,200,000 events)"


def _unset_after_the_test(monkeypatch, *names: str) -> None:
    """`.env` sets variables in this process: make monkeypatch remove them after the test."""
    for name in names:
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)


def test_dotenv_in_the_working_directory_sets_what_the_environment_does_not(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _unset_after_the_test(monkeypatch, "REWATCH_WAREHOUSE_DIR", "REWATCH_EXPORT_WAIT_HOURS")
    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(tmp_path / "from-the-environment"))
    (tmp_path / ".env").write_text(
        f"# the project's settings\nREWATCH_WAREHOUSE_DIR={tmp_path / 'wh'}\n"
        f"REWATCH_EXPORTS_DIR={tmp_path / 'from-the-file'}\nexport REWATCH_EXPORT_WAIT_HOURS='0.5'\n"
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=postgresql://compose-only\n"  # docker compose's, not rewatch's
    )
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0, result.output
    assert f"warehouse: {tmp_path / 'wh'}" in result.output
    assert os.environ["REWATCH_EXPORTS_DIR"] == str(tmp_path / "from-the-environment")  # the environment wins
    assert os.environ["REWATCH_EXPORT_WAIT_HOURS"] == "0.5"
    assert os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN") != "postgresql://compose-only"


def test_settings_that_are_not_valid_are_refused_each_named_with_where_it_came_from(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _unset_after_the_test(monkeypatch, "REWATCH_EXPORT_WAIT_HOURS", "REWATCH_PSEUDONYMIZE_KEY")
    (tmp_path / ".env").write_text("REWATCH_EXPORT_WAIT_HOURS=six\nREWATCH_PSEUDONYMIZE_KEY=too-short\n")
    (tmp_path / "a-file").write_text("")
    wrong = {
        "REWATCH_WAREHOUSE_DIR": str(tmp_path / "a-file"),
        "REWATCH_SCHEDULE_CRON": "0 4 * *",
        "REWATCH_LAKE_CATALOG": "mysql://db/rewatch",
        "REWATCH_ALERT_WEBHOOK_URL": "ftp://alerts.example",
        "REWATCH_KEEP_NIGHTS": "0",
        "REWATCH_EXPORTS_DIR": " ",
        "REWATCH_DUCKDB_MEMORY_LIMIT": "lots",
    }
    for name, value in wrong.items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "not valid; nothing was run" in text
    for name in [*wrong, "REWATCH_EXPORT_WAIT_HOURS", "REWATCH_PSEUDONYMIZE_KEY"]:
        assert f"{name}=" in text, name
    assert f"REWATCH_EXPORT_WAIT_HOURS='six' (from {tmp_path / '.env'}): not a number of hours" in text
    assert "too-short" not in text  # a secret is never printed
    assert "warehouse:" not in text  # status did not run
    assert runner.invoke(app, ["status", "--help"]).exit_code == 0  # help is always shown
    # What the code reads is valid: both catalogs rewatch.lake opens, and what maintain's int() takes.
    from rewatch.settings import CHECKS

    assert CHECKS["REWATCH_LAKE_CATALOG"](f"sqlite:{tmp_path / 'catalog.sqlite'}") is None
    assert CHECKS["REWATCH_LAKE_CATALOG"]("postgres:dbname=rewatch host=db") is None
    assert CHECKS["REWATCH_KEEP_NIGHTS"]("30") is None and CHECKS["REWATCH_KEEP_NIGHTS"]("two") is not None
    assert all(CHECKS["REWATCH_DUCKDB_MEMORY_LIMIT"](size) is None for size in ("2GB", "1500 MiB", "0.5gb"))


def test_dag_tests_waiting_line_is_logged_once_per_run(caplog):
    """#17: while a sensor waits, dag.test() logged "No tasks to run" every second."""
    import logging

    from rewatch.orchestrate import DAG_TEST_LOGGER, repeated_waits_said_once

    logger = logging.getLogger(DAG_TEST_LOGGER)
    with caplog.at_level(logging.WARNING, logger=DAG_TEST_LOGGER):
        for _ in range(2):  # two nights
            with repeated_waits_said_once():
                for _ in range(5):
                    logger.warning("No tasks to run. unrunnable tasks: %s", {"wait_for_export"})
                logger.warning("something else")
        logger.warning("No tasks to run. unrunnable tasks: %s", {"outside a run"})
    said = [r.getMessage() for r in caplog.records]
    assert said == [
        "No tasks to run. unrunnable tasks: {'wait_for_export'}",
        "something else",
        "No tasks to run. unrunnable tasks: {'wait_for_export'}",
        "something else",
        "No tasks to run. unrunnable tasks: {'outside a run'}",
    ]
