"""The bad-input catalogue (docs/reliability.md): each kind fed as a real export night, with
its documented outcome. A refused night runs whole through the real DAG, fails at the step
that refuses it and leaves the published lake unchanged (same snapshot, same data files), and a
night the load refuses leaves nothing in the raw zone; a "loaded" kind is checked in the raw
zone; a quarantined row names its file, line and reason."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import json
import os

import duckdb
import pytest

from rewatch import pipeline
from rewatch.contract import MANIFEST_NAME, ExportError, write_manifest
from rewatch.orchestrate import run_nights
from rewatch.rawzone import partition_path, remove_night
from rewatch.settings import get_settings
from tests.helpers import HOUSEHOLDS, PROFILES, TITLES, event, published_marker, write_night

GOOD_NIGHT = dt.date(2026, 3, 2)
NIGHT = dt.date(2026, 3, 3)
EVENTS = [
    event("n1", "play", "2026-03-03T19:00:00Z", "0", received="2026-03-03T19:00:05Z"),
    event("n2", "heartbeat", "2026-03-03T19:01:00Z", "60", received="2026-03-03T19:01:05Z"),
    event("n3", "stop", "2026-03-03T19:01:30Z", "90", received="2026-03-03T19:01:35Z"),
]
ROWS = {"playback_events.csv": 3, "titles.csv": len(TITLES), "households.csv": 2, "profiles.csv": 3}
# The DAG task that refuses each kind of refused night.
REFUSED_AT = {"refused": "load_raw", "build_refused": "dbt_build", "audit_refused": "audit"}
# A "loaded" case is checked in the raw zone: the night's events as loaded (id, UTC time).
RAW_EVENTS = "select event_id, event_ts from read_parquet(?) order by event_id, event_ts"
THREE_EVENTS = [
    ("n1", dt.datetime(2026, 3, 3, 19, 0)),
    ("n2", dt.datetime(2026, 3, 3, 19, 1)),
    ("n3", dt.datetime(2026, 3, 3, 19, 1, 30)),
]


def _events(folder):
    return folder / "playback_events.csv"


def _manifest(folder, **rows):
    write_manifest(folder, NIGHT, {**ROWS, **rows})


def _set_events(folder, text: str | bytes, rows: int):
    data = text.encode() if isinstance(text, str) else text
    _events(folder).write_bytes(data)
    _manifest(folder, **{"playback_events.csv": rows})


def _csv(
    rows,
    header="event_id,household_id,profile_id,device_id,device_type,title_id,event_type,event_ts,position_seconds,received_at",
):
    return header + "\n" + "".join(",".join(r) + "\n" for r in rows)


def empty_file(folder):
    _set_events(folder, b"", 0)
    return "refused", ["playback_events.csv", "empty file"]


def header_only(folder):
    _set_events(folder, _csv([]), 0)
    return "loaded", []


def cut_mid_line(folder):
    text = _csv(EVENTS)
    _set_events(folder, text[: text.rindex(",")], 3)  # the last record loses its last field
    return "quarantined", ("malformed_csv_record: missing columns", 4)


def cut_at_a_line_end(folder):
    text = _csv(EVENTS)
    _set_events(folder, text[: text.rindex("n3")], 3)  # a whole record missing, manifest says 3
    return "refused", ["playback_events.csv", "the manifest says 3 rows but the file holds 2"]


def non_utf8_byte_in_the_first_row(folder):
    # The same rule wherever the row is: the row is quarantined with its line (before: a bare
    # UnicodeDecodeError when the byte fell in the file's first block, retried by Airflow).
    _set_events(folder, _csv(EVENTS).encode().replace(b"n1,hh1", b"n1,hh\xff1"), 3)
    return "quarantined", ("malformed_csv_record: invalid encoding", 2)


def non_utf8_byte_in_the_header(folder):
    _set_events(folder, _csv(EVENTS).encode().replace(b"household_id", b"household\xe9id", 1), 3)
    return "refused", ["playback_events.csv", "the header line is not UTF-8", "re-deliver"]


def utf8_bom(folder):
    _set_events(folder, "\ufeff" + _csv(EVENTS), 3)
    return "loaded", THREE_EVENTS


def crlf_line_ends(folder):
    _set_events(folder, _csv(EVENTS).replace("\n", "\r\n"), 3)
    return "loaded", THREE_EVENTS


def wrong_delimiter(folder):
    _set_events(folder, _csv(EVENTS).replace(",", ";"), 3)
    return "refused", ["playback_events.csv", "header does not match", "Expected columns: event_id"]


def extra_column(folder):
    text = _csv([[*r, "x"] for r in EVENTS])
    _set_events(folder, text.replace("received_at\n", "received_at,extra\n", 1), 3)
    return "refused", ["playback_events.csv", "unexpected extra"]


def missing_column(folder):
    text = _csv([r[:-1] for r in EVENTS])
    _set_events(folder, text.replace(",received_at\n", "\n", 1), 3)
    return "refused", ["playback_events.csv", "missing received_at"]


def renamed_column(folder):
    _set_events(folder, _csv(EVENTS).replace("event_ts", "event_time", 1), 3)
    return "refused", ["playback_events.csv", "missing event_ts", "unexpected event_time"]


def text_in_a_numeric_column(folder):
    rows = [list(r) for r in EVENTS]
    rows[1][8] = "sixty"
    _set_events(folder, _csv(rows), 3)
    return "quarantined", ("invalid_position", 3)


def timestamp_with_offset(folder):
    rows = [list(r) for r in EVENTS]
    rows[0][7] = "2026-03-03T20:00:00+01:00"
    _set_events(folder, _csv(rows), 3)
    return "loaded", THREE_EVENTS  # 20:00+01:00 is 19:00 UTC


def timestamp_offset_beyond_real_zones(folder):
    # +14:00 (Kiribati) is real and loads; +99:00 or +24:00 would move an event days away.
    rows = [
        event("n1", "play", "2026-03-03T19:00:00+14:00", "0", received="2026-03-03T19:00:05Z"),
        event("n2", "heartbeat", "2026-03-03T19:01:00+99:00", "60", received="2026-03-03T19:01:05Z"),
        event("n3", "stop", "2026-03-03T19:01:30-24:00", "90", received="2026-03-03T19:01:35Z"),
    ]
    _set_events(folder, _csv(rows), 3)
    return "quarantined", [("unparseable_event_ts", 3), ("unparseable_event_ts", 4)]


def timestamp_without_zone(folder):
    rows = [list(r) for r in EVENTS]
    rows[0][7] = "2026-03-03T19:00:00"
    _set_events(folder, _csv(rows), 3)
    return "quarantined", ("unparseable_event_ts", 2)


def timestamp_as_epoch_milliseconds(folder):
    rows = [list(r) for r in EVENTS]
    rows[2][7] = "1772564490000"
    _set_events(folder, _csv(rows), 3)
    return "quarantined", ("unparseable_event_ts", 4)


def invalid_household_timezone(folder):
    rows = [*HOUSEHOLDS[:1], ["hh2", "JP", "Mars/Olympus_Mons"]]
    with (folder / "households.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["household_id", "country_code", "timezone"], *rows])
    _manifest(folder)
    return "quarantined", ("invalid_timezone", 3)


def duplicate_keys_in_snapshots(folder):
    # tt1 listed twice (another runtime) and pr1 twice (another household): the first row of
    # each key is the night's, the later one quarantined, so every table keeps the same copy.
    with (folder / "titles.csv").open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerow(["tt1", "Film One", "movie", "", "", "", "9999", "", "PG", "true", "2026-01-01"])
    with (folder / "profiles.csv").open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerow(["pr1", "hh2", "Alex", "false"])
    _manifest(folder, **{"titles.csv": len(TITLES) + 1, "profiles.csv": len(PROFILES) + 1})
    return "quarantined", [("duplicate_profile_id", len(PROFILES) + 2), ("duplicate_title_id", len(TITLES) + 2)]


def duplicate_event_id_with_other_content(folder):
    rows = [*EVENTS, event("n2", "heartbeat", "2026-03-03T19:05:00Z", "300", received="2026-03-03T19:05:05Z")]
    _set_events(folder, _csv(rows), 4)
    # Both delivered rows are kept raw; at another event_ts, n2 is another event (docs/metrics.md;
    # the models' rule is the dbt unit test session_event_id_reused_at_another_time_is_another_event).
    return "loaded", [*THREE_EVENTS[:2], ("n2", dt.datetime(2026, 3, 3, 19, 5)), THREE_EVENTS[2]]


def title_missing_from_the_catalog(folder):
    rows = [list(r) for r in EVENTS]
    for r in rows:
        r[5] = "tt-unknown"
    _set_events(folder, _csv(rows), 3)
    # Refused by the audit, naming the title: every session's title must be in dim_titles, and a
    # playback title comes only from the catalog. Delivering the catalog row and re-running the
    # night publishes it (docs/reliability.md).
    return "audit_refused", ["every session's title is in dim_titles", "tt-unknown", "re-run the night"]


def profile_of_an_unknown_household(folder):
    with (folder / "profiles.csv").open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerow(["pr9", "hh-nowhere", "Ghost", "false"])
    _manifest(folder, **{"profiles.csv": 4})
    # The build's relationships test refuses it, by name (docs/reliability.md).
    return "build_refused", ["dim_profiles_household_is_in_dim_households", "re-run the night"]


def truncated_gzip(folder):
    _events(folder).unlink()
    data = gzip.compress(_csv(EVENTS).encode())[:-10]
    (folder / "playback_events.csv.gz").write_bytes(data)
    write_manifest(
        folder, NIGHT, {**{k: v for k, v in ROWS.items() if k != "playback_events.csv"}, "playback_events.csv.gz": 3}
    )
    return "refused", ["playback_events.csv.gz", "unreadable gzip"]


def corrupt_parquet(folder):
    _events(folder).unlink()
    (folder / "playback_events.parquet").write_bytes(b"PAR1" + os.urandom(64) + b"PAR1")
    write_manifest(
        folder, NIGHT, {**{k: v for k, v in ROWS.items() if k != "playback_events.csv"}, "playback_events.parquet": 3}
    )
    return "refused", ["playback_events.parquet", "unreadable Parquet"]


def missing_manifest(folder):
    (folder / MANIFEST_NAME).unlink()
    # Not run through the DAG: its sensor waits for the manifest (hours), then alerts
    # (test_alerts.py); here, only that loading refuses.
    return "load_refused", [MANIFEST_NAME, "missing"]


def invalid_manifest(folder):
    (folder / MANIFEST_NAME).write_text('{"export_date": "2026-03-03", "files": [', encoding="utf-8")
    return "refused", [MANIFEST_NAME, "not valid JSON"]


def file_not_in_manifest(folder):
    (folder / "playback_events-late.csv").write_text(_csv(EVENTS), encoding="utf-8")
    return "refused", ["not in the manifest: playback_events-late.csv"]


def _events_in(folder, fmt: str, change) -> str:
    """The night's events as one `fmt` file whose columns `change(dict) -> dict` altered."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from rewatch.contract import EVENT_COLUMNS

    _events(folder).unlink()
    records = [change(dict(zip(EVENT_COLUMNS, row, strict=True))) for row in EVENTS]
    name = f"playback_events.{fmt}"
    if fmt == "ndjson":
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    else:
        pq.write_table(pa.Table.from_pylist(records), folder / name)
    write_manifest(folder, NIGHT, {**{k: v for k, v in ROWS.items() if k != "playback_events.csv"}, name: 3})
    return name


def _renamed(record):
    record["event_time"] = record.pop("event_ts")
    return record


def _missing(record):
    record.pop("received_at")
    return record


def _extra(record):
    return {**record, "extra": "x"}


def ndjson_renamed_key(folder):
    name = _events_in(folder, "ndjson", _renamed)
    return "refused", [name, "record 1 does not match", "missing event_ts", "unexpected event_time"]


def ndjson_missing_key(folder):
    name = _events_in(folder, "ndjson", lambda r: _missing(r) if r["event_id"] == "n2" else r)
    return "refused", [name, "record 2 does not match", "missing received_at"]


def ndjson_extra_key(folder):
    name = _events_in(folder, "ndjson", _extra)
    return "refused", [name, "unexpected extra"]


def parquet_renamed_column(folder):
    name = _events_in(folder, "parquet", _renamed)
    return "refused", [name, "missing event_ts", "unexpected event_time"]


def parquet_missing_column(folder):
    name = _events_in(folder, "parquet", _missing)
    return "refused", [name, "missing received_at"]


def parquet_extra_column(folder):
    name = _events_in(folder, "parquet", _extra)
    return "refused", [name, "unexpected extra"]


def _manifest_path(folder, path):
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    manifest["files"][0]["path"] = path
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")


def manifest_path_with_dotdot(folder):
    _manifest_path(folder, "../2026-03-02/playback_events.csv")
    return "refused", ["is outside the night's folder"]


def manifest_absolute_path(folder):
    _manifest_path(folder, "/etc/passwd")
    return "refused", ["is outside the night's folder"]


def manifest_symlink(folder):
    target = folder.parent / "elsewhere.csv"
    target.write_text(_csv(EVENTS), encoding="utf-8")
    _events(folder).unlink()
    _events(folder).symlink_to(target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        if entry["path"] == "playback_events.csv":
            entry.update(sha256=digest, bytes=target.stat().st_size)
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    return "refused", ["is a symbolic link"]


CASES = [
    empty_file,
    header_only,
    cut_mid_line,
    cut_at_a_line_end,
    non_utf8_byte_in_the_first_row,
    non_utf8_byte_in_the_header,
    utf8_bom,
    crlf_line_ends,
    wrong_delimiter,
    extra_column,
    missing_column,
    renamed_column,
    ndjson_renamed_key,
    ndjson_missing_key,
    ndjson_extra_key,
    parquet_renamed_column,
    parquet_missing_column,
    parquet_extra_column,
    text_in_a_numeric_column,
    timestamp_with_offset,
    timestamp_offset_beyond_real_zones,
    timestamp_without_zone,
    timestamp_as_epoch_milliseconds,
    invalid_household_timezone,
    duplicate_keys_in_snapshots,
    duplicate_event_id_with_other_content,
    title_missing_from_the_catalog,
    profile_of_an_unknown_household,
    truncated_gzip,
    corrupt_parquet,
    missing_manifest,
    invalid_manifest,
    file_not_in_manifest,
    manifest_path_with_dotdot,
    manifest_absolute_path,
    manifest_symlink,
]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A warehouse with one good night published (loaded, built, published)."""
    root = tmp_path_factory.mktemp("bad_input")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REWATCH_EXPORTS_DIR", str(root / "exports"))
        mp.setenv("REWATCH_WAREHOUSE_DIR", str(root / "warehouse"))
        settings = get_settings()
        write_night(settings.exports_dir, GOOD_NIGHT, [event("g1", "play"), event("g2", ts="2026-03-02T19:01:00Z")])
        loaded = pipeline.load(GOOD_NIGHT, settings)
        built = pipeline.build(GOOD_NIGHT, settings)
        pipeline.publish(GOOD_NIGHT, loaded, built, {"decision": "publish", "warnings": []}, settings)
        yield settings


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_bad_input_gets_its_documented_outcome(published, case):
    settings = published
    folder = settings.exports_dir / NIGHT.isoformat()
    if folder.exists():
        for path in folder.iterdir():
            path.unlink()
    remove_night(settings.raw_dir, NIGHT)
    write_night(settings.exports_dir, NIGHT, EVENTS, titles=TITLES, households=HOUSEHOLDS, profiles=PROFILES)
    before = published_marker(settings)
    assert before[0] is not None  # the good night is published: a refused one must not move it
    kind, expected = case(folder)

    if kind == "load_refused":
        with pytest.raises(ExportError) as refused:
            pipeline.load(NIGHT, settings)
        for text in expected:
            assert text in str(refused.value)
        assert not partition_path(settings.raw_dir, "ledger", NIGHT).exists()
        return
    if kind in REFUSED_AT:
        # The whole night, through the real DAG: it fails at that step, and nothing after it runs.
        (outcome,) = run_nights([NIGHT])
        step = REFUSED_AT[kind]
        assert (outcome.state, outcome.failed_task) == ("failed", step)
        for text in expected:
            assert text in outcome.error
        if kind == "refused":
            assert not partition_path(settings.raw_dir, "ledger", NIGHT).exists()
        assert published_marker(settings) == before
        return
    if kind == "loaded":
        summary = pipeline.load(NIGHT, settings)
        assert summary["events_loaded"] == len(expected) and summary["rows_quarantined"] == 0
        raw = str(partition_path(settings.raw_dir, "playback_events", NIGHT))
        con = duckdb.connect()
        try:
            assert con.execute(RAW_EVENTS, [raw]).fetchall() == expected
        finally:
            con.close()
    else:
        pipeline.load(NIGHT, settings)
        expected = expected if isinstance(expected, list) else [expected]
        con = duckdb.connect()
        try:
            rows = con.execute(
                "select reason, line, record from read_parquet(?)",
                [str(partition_path(settings.raw_dir, "quarantine", NIGHT))],
            ).fetchall()
        finally:
            con.close()
        assert sorted((r, n) for r, n, _ in rows) == expected
        assert rows[0][2]  # the row as delivered is kept
