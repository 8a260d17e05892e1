"""Loader: every accepted format, every quarantine reason, exactly-once loading."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json

import duckdb
import pytest

from rewatch.contract import ExportError, verify_files
from rewatch.load import load_night
from rewatch.rawzone import partition_path
from tests.helpers import event, write_night

NIGHT = dt.date(2026, 3, 2)
GOOD = [
    event("e1", "play", "2026-03-02T19:00:00Z", "0"),
    event("e2", "heartbeat", "2026-03-02T19:01:00Z", "60"),
    event("e3", "stop", "2026-03-02T19:01:30+00:00", "90"),
]


def _rows(settings, table, night=NIGHT):
    path = partition_path(settings.raw_dir, table, night)
    order = "line" if table == "quarantine" else "_line"
    return duckdb.sql(f"select * from read_parquet('{path}') order by {order}").fetchall()


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet", "ndjson", "ndjson.gz"])
def test_every_accepted_format_loads_the_same_rows(workdir, fmt):
    write_night(workdir.exports_dir, NIGHT, GOOD, fmt=fmt)
    result = load_night(workdir.exports_dir, workdir.raw_dir, NIGHT)
    assert result.status == "loaded"
    assert result.events_loaded == 3
    assert result.rows_quarantined == 0
    rows = duckdb.sql(
        f"select event_id, event_type, event_ts, position_seconds, _line "
        f"from read_parquet('{partition_path(workdir.raw_dir, 'playback_events', NIGHT)}') order by event_id"
    ).fetchall()
    assert [r[0] for r in rows] == ["e1", "e2", "e3"]
    assert rows[2][2] == dt.datetime(2026, 3, 2, 19, 1, 30)  # offset normalised to naive UTC
    assert [r[3] for r in rows] == [0.0, 60.0, 90.0]
    # CSV lines count the header; other formats number records from 1.
    assert [r[4] for r in rows] == ([2, 3, 4] if fmt.startswith("csv") else [1, 2, 3])


BAD_ROWS = {
    "missing_event_id": event("", "play"),
    "missing_household_id": event("b2", household=" "),
    "missing_profile_id": event("b3", profile=""),
    "missing_device_id": event("b4", device=""),
    "missing_title_id": event("b5", title=""),
    "unknown_event_type": event("b6", "rewind"),
    "unparseable_event_ts": event("b7", ts="yesterday"),
    "invalid_position": event("b8", position="NaN"),
    "negative_position": event("b9", position="-5"),
    "unparseable_received_at": event("b10", received="soon"),
}


@pytest.mark.parametrize("reason", sorted(BAD_ROWS))
def test_each_contract_breach_is_quarantined_with_its_reason(workdir, reason):
    write_night(workdir.exports_dir, NIGHT, [*GOOD, BAD_ROWS[reason]])
    result = load_night(workdir.exports_dir, workdir.raw_dir, NIGHT)
    assert result.events_loaded == 3
    assert result.quarantined_by_reason == {reason: 1}
    (row,) = _rows(workdir, "quarantine")
    export_date, file, line, got_reason, record = row
    assert (export_date, file, line, got_reason) == (NIGHT, "playback_events.csv", 5, reason)
    assert json.loads(record)["event_type"] == BAD_ROWS[reason][6]


def test_timestamps_without_zone_are_quarantined_not_guessed(workdir):
    write_night(workdir.exports_dir, NIGHT, [*GOOD, event("z1", ts="2026-03-02 19:00:00")])
    result = load_night(workdir.exports_dir, workdir.raw_dir, NIGHT)
    assert result.quarantined_by_reason == {"unparseable_event_ts": 1}


def test_malformed_csv_record_is_quarantined_and_reconciled(workdir):
    folder = write_night(workdir.exports_dir, NIGHT, GOOD)
    path = folder / "playback_events.csv"
    lines = path.read_text().splitlines()
    lines.insert(2, "x1,hh1,pr1,dv1,tv,tt1,play,2026-03-02T19:00:00Z,0,2026-03-02T19:00:00Z,EXTRA")
    path.write_text("\n".join(lines) + "\n")
    from rewatch.contract import write_manifest

    write_manifest(folder, NIGHT, {"playback_events.csv": 4, "titles.csv": 2, "households.csv": 2, "profiles.csv": 3})
    result = load_night(workdir.exports_dir, workdir.raw_dir, NIGHT)
    assert result.events_loaded == 3
    assert list(result.quarantined_by_reason) == ["malformed_csv_record: too many columns"]
    assert [r[2] for r in _rows(workdir, "quarantine")] == [3]
    assert [r[2] for r in _rows(workdir, "playback_events")] == [2, 4, 5]


@pytest.mark.parametrize("compressed", [False, True], ids=["csv", "csv.gz"])
def test_every_row_is_numbered_by_the_line_it_starts_on_in_the_file(workdir, compressed):
    """#18 item 6: one numbering, the physical line a person opening the file sees (header = 1),
    for loaded rows, rows the reader rejects and rows the rule checks quarantine, across a blank
    line and a quoted field that spans two lines. A gzip file's lines are counted while the
    manifest check decompresses it (`verify_files`), a plain file's by the reader."""
    events = [
        event("e1", "play", "2026-03-02T19:00:00Z", "0"),
        event("e2", "heartbeat", "2026-03-02T19:01:00Z", "60", device="dv\n1"),
        event("e4", "heartbeat", "2026-03-02T19:01:10Z", "-5"),
        event("e3", "stop", "2026-03-02T19:01:30Z", "90"),
    ]
    folder = write_night(workdir.exports_dir, NIGHT, events)
    path = folder / "playback_events.csv"
    lines = path.read_text().splitlines(keepends=True)
    assert len(lines) == 6  # header, e1, e2 on two lines, e4, e3
    lines[2:2] = ["\n"]  # a blank line: line 3
    lines[5:5] = ["only,two\n"]  # after e2 (lines 4-5): line 6
    name = "playback_events.csv"
    if compressed:
        path.unlink()
        name += ".gz"
        (folder / name).write_bytes(gzip.compress("".join(lines).encode()))
    else:
        path.write_text("".join(lines))
    from rewatch.contract import physical_lines, read_manifest, write_manifest

    write_manifest(folder, NIGHT, {name: 5, "titles.csv": 2, "households.csv": 2, "profiles.csv": 3})
    counted = verify_files(read_manifest(folder))
    assert counted == ({folder / name: 8} if compressed else {})
    assert [physical_lines(io.BytesIO(text)) for text in (b"a\nb", b"a\n", b"")] == [2, 1, 0]
    load_night(workdir.exports_dir, workdir.raw_dir, NIGHT)
    quarantined = [(r[2], r[3]) for r in _rows(workdir, "quarantine")]
    assert quarantined == [(6, "malformed_csv_record: missing columns"), (7, "negative_position")]
    loaded = [(r[3], r[2]) for r in _rows(workdir, "playback_events")]
    assert loaded == [("e1", 2), ("e2", 4), ("e3", 8)]


def test_snapshot_rows_are_checked_too(workdir):
    households = [["hh1", "US", "America/New_York"], ["hh2", "XX", "Mars/Olympus"]]
    write_night(workdir.exports_dir, NIGHT, GOOD, households=households)
    result = load_night(workdir.exports_dir, workdir.raw_dir, NIGHT)
    assert result.quarantined_by_reason == {"invalid_timezone": 1}
    assert [r[3] for r in _rows(workdir, "households")] == ["hh1"]


def test_reloading_the_same_night_is_a_no_op(workdir):
    write_night(workdir.exports_dir, NIGHT, GOOD)
    first = load_night(workdir.exports_dir, workdir.raw_dir, NIGHT)
    stamps = {t: partition_path(workdir.raw_dir, t, NIGHT).stat().st_mtime_ns for t in ("playback_events", "ledger")}
    again = load_night(workdir.exports_dir, workdir.raw_dir, NIGHT)
    assert (first.status, again.status) == ("loaded", "already_loaded")
    assert again.events_loaded == first.events_loaded == 3
    assert {t: partition_path(workdir.raw_dir, t, NIGHT).stat().st_mtime_ns for t in stamps} == stamps


def test_a_corrected_redelivery_of_a_night_replaces_it(workdir):
    write_night(workdir.exports_dir, NIGHT, GOOD)
    load_night(workdir.exports_dir, workdir.raw_dir, NIGHT)
    write_night(workdir.exports_dir, NIGHT, GOOD[:2])
    result = load_night(workdir.exports_dir, workdir.raw_dir, NIGHT)
    assert result.status == "loaded"
    assert [r[3] for r in _rows(workdir, "playback_events")] == ["e1", "e2"]


def test_a_file_redelivered_in_a_later_night_is_loaded_once(workdir):
    write_night(workdir.exports_dir, NIGHT, GOOD)
    write_night(workdir.exports_dir, NIGHT + dt.timedelta(days=1), GOOD)  # byte-identical events file
    load_night(workdir.exports_dir, workdir.raw_dir, NIGHT)
    later = load_night(workdir.exports_dir, workdir.raw_dir, NIGHT + dt.timedelta(days=1))
    assert later.events_loaded == 0
    assert later.files_skipped_as_redelivered == ["playback_events.csv"]
    assert _rows(workdir, "playback_events", NIGHT + dt.timedelta(days=1)) == []


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("missing_manifest", "_manifest.json: missing"),
        ("rows", "the manifest says 9 rows but the file holds 3"),
        ("sha", "does not match the manifest"),
        ("missing_file", "listed in the manifest but missing"),
        ("gzip", "unreadable gzip"),
        ("header", "Expected columns: event_id, household_id"),
    ],
)
def test_a_broken_night_fails_naming_the_file(workdir, breakage, message):
    fmt = "csv.gz" if breakage == "gzip" else "csv"
    folder = write_night(workdir.exports_dir, NIGHT, GOOD, fmt=fmt, manifest=breakage != "missing_manifest")
    events = folder / f"playback_events.{fmt}"
    manifest_path = folder / "_manifest.json"
    if breakage in ("rows", "sha", "missing_file", "gzip", "header"):
        manifest = json.loads(manifest_path.read_text())
        entry = next(f for f in manifest["files"] if f["path"] == events.name)
        if breakage == "rows":
            entry["rows"] = 9
        elif breakage == "sha":
            events.write_bytes(events.read_bytes().replace(b"e1", b"e9"))
        elif breakage == "missing_file":
            events.unlink()
        elif breakage == "gzip":
            data = events.read_bytes()[:-12]
            events.write_bytes(data)
            entry["bytes"] = len(data)
            entry["sha256"] = __import__("hashlib").sha256(data).hexdigest()
        elif breakage == "header":
            text = events.read_text().replace("position_seconds", "position")
            events.write_text(text)
            entry["bytes"] = events.stat().st_size
            entry["sha256"] = __import__("hashlib").sha256(events.read_bytes()).hexdigest()
        manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ExportError) as failure:
        load_night(workdir.exports_dir, workdir.raw_dir, NIGHT)
    assert message in str(failure.value)
    if breakage != "missing_manifest":
        assert str(folder) in str(failure.value)
    assert not partition_path(workdir.raw_dir, "ledger", NIGHT).exists()


@pytest.mark.parametrize("fmt", ["csv", "parquet", "ndjson"])
def test_a_file_the_reader_cannot_parse_fails_the_night_naming_it(workdir, fmt):
    folder = write_night(workdir.exports_dir, NIGHT, GOOD, fmt=fmt, manifest=False)
    events = folder / f"playback_events.{fmt}"
    data = events.read_bytes()
    if fmt == "csv":  # stray carriage returns: the CSV state machine gives up
        events.write_bytes(data.replace(b"\r\n", b"\r\r\n"))
    elif fmt == "parquet":  # the footer survives, the pages do not
        events.write_bytes(data[:4] + b"\x00" * (len(data) - 12) + data[-8:])
    else:
        events.write_bytes(data.replace(b"}", b"", 1))
    from rewatch.contract import write_manifest

    write_manifest(folder, NIGHT, {events.name: 3, "titles.csv": 2, "households.csv": 2, "profiles.csv": 3})
    with pytest.raises(ExportError) as failure:
        load_night(workdir.exports_dir, workdir.raw_dir, NIGHT)
    assert str(events) in str(failure.value)
    assert "unreadable" in str(failure.value) and "re-deliver" in str(failure.value)
    assert not partition_path(workdir.raw_dir, "ledger", NIGHT).exists()


def test_accepting_a_night_twice_leaves_one_link_and_nothing_else(workdir):
    from rewatch.rawzone import RAW_TABLES, accept_night, accepted_path, restore_accepted

    night = dt.date(2026, 3, 2)
    write_night(workdir.exports_dir, night, [event("e1", "play")])
    load_night(workdir.exports_dir, workdir.raw_dir, night)
    assert restore_accepted(workdir.raw_dir, night) is False  # never accepted: nothing to put back
    accept_night(workdir.raw_dir, night)
    accept_night(workdir.raw_dir, night)  # a re-run of a published night accepts the same files again
    for table in RAW_TABLES:
        current = partition_path(workdir.raw_dir, table, night)
        if current.exists():
            assert accepted_path(workdir.raw_dir, table, night).samefile(current)
    assert not list(workdir.raw_dir.rglob("*.tmp"))
    assert restore_accepted(workdir.raw_dir, night) is True
    assert partition_path(workdir.raw_dir, "ledger", night).exists()
    assert not list(workdir.raw_dir.rglob("*.tmp"))


def test_a_nights_events_are_stored_in_file_and_line_order_whatever_the_manifests_order(workdir):
    """A manifest listing the event files the other way round. The partition is sorted as it is
    written: the order rows were inserted in is not it (on an 8 M-event night, DuckDB's parallel
    inserts left a file's lines out of order; writing without the sort was tried and measured)."""
    from rewatch.contract import write_manifest
    from tests.helpers import HOUSEHOLDS, PROFILES, TITLES, write_events

    folder = write_night(workdir.exports_dir, NIGHT, GOOD)
    second = [event(f"z{i}", "heartbeat", f"2026-03-02T20:{i:02d}:00Z", str(60 * i)) for i in range(5)]
    write_events(folder, second, "csv", name="playback_events-b")
    (folder / "playback_events.csv").rename(folder / "playback_events-a.csv")
    snapshots = {"titles.csv": TITLES, "households.csv": HOUSEHOLDS, "profiles.csv": PROFILES}
    rows = {"playback_events-a.csv": len(GOOD), "playback_events-b.csv": 5} | {n: len(r) for n, r in snapshots.items()}
    manifest_path = write_manifest(folder, NIGHT, rows)  # files in name order: list them backwards
    manifest = json.loads(manifest_path.read_text())
    manifest["files"].reverse()
    manifest_path.write_text(json.dumps(manifest))

    assert load_night(workdir.exports_dir, workdir.raw_dir, NIGHT).events_loaded == 8
    path = partition_path(workdir.raw_dir, "playback_events", NIGHT)
    stored = duckdb.sql(f"select _file, _line, event_id from read_parquet('{path}')").fetchall()
    assert stored == sorted(stored)
    assert [row[0] for row in stored] == ["playback_events-a.csv"] * 3 + ["playback_events-b.csv"] * 5


def test_the_manifest_check_names_the_first_bad_file_in_the_manifests_order(workdir):
    """The files are checked side by side (threads); the error is the first listed file's,
    whichever thread finished first, and a good night's gzip lines are counted per file."""
    from rewatch.contract import read_manifest, write_manifest

    folder = write_night(workdir.exports_dir, NIGHT, [event("e1", "play", "2026-03-02T19:00:00Z", "0")])
    for part in ("part0000", "part0001"):
        (folder / f"playback_events-{part}.csv.gz").write_bytes(
            gzip.compress((folder / "playback_events.csv").read_bytes())
        )
    (folder / "playback_events.csv").unlink()
    rows = {"titles.csv": 2, "households.csv": 2, "profiles.csv": 3}
    names = ["playback_events-part0000.csv.gz", "playback_events-part0001.csv.gz"]
    write_manifest(folder, NIGHT, {**dict.fromkeys(names, 1), **rows})
    assert verify_files(read_manifest(folder)) == {folder / name: 2 for name in names}

    manifest = read_manifest(folder)
    first, second = [entry.path for entry in manifest.files][:2]
    (folder / second).unlink()  # missing: found at once
    (folder / first).write_bytes((folder / first).read_bytes() + b"x")  # wrong size
    with pytest.raises(ExportError, match=f"{first}: .* bytes, the manifest says"):
        verify_files(manifest)
