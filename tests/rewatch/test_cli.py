"""The command line: strict dates, clear errors, the documented commands."""

from __future__ import annotations

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
    assert "no runs yet" in result.output


def test_commands_are_documented():
    result = runner.invoke(app, ["--help"])
    for command in ("generate", "run", "backfill", "rebuild", "status", "summary"):
        assert command in result.output
