"""Property: whatever happens to a delivered file, the load keeps its one promise.

Hypothesis mutates a valid night's events file (bytes flipped, inserted or cut; bytes that
are not UTF-8; a column renamed, dropped or added; values of the wrong type; quotes; line
endings; blank lines; gzip; another format's name) and re-signs the manifest (new sha256,
the rows the exporter declared). The load then either refuses the night with a named
ExportError that names the file, loading nothing, or loads it with every declared row
accounted for: rows loaded + rows quarantined = rows in the file. Never anything else (a bare
UnicodeDecodeError, a DuckDB error, a silent NULL column). Examples are derived from a fixed
seed (derandomize): the same ones on every run.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rewatch.contract import MANIFEST_NAME, ExportError, write_manifest
from rewatch.load import load_night
from rewatch.rawzone import partition_path
from tests.helpers import event, write_night

NIGHT = dt.date(2026, 3, 3)
EVENTS = [
    event("p1", "play", "2026-03-03T19:00:00Z", "0", received="2026-03-03T19:00:05Z"),
    event("p2", "heartbeat", "2026-03-03T19:01:00Z", "60", received="2026-03-03T19:01:05Z"),
    event("p3", "heartbeat", "2026-03-03T19:02:00+01:00", "120", received="2026-03-03T19:02:05Z"),
    event("p4", "stop", "2026-03-03T19:02:30Z", "150", received="2026-03-03T19:02:35Z"),
]


def _flip(data: bytes, at: int, value: int) -> bytes:
    at %= max(len(data), 1)
    return data[:at] + bytes([value]) + data[at + 1 :]


def _insert(data: bytes, at: int, chunk: bytes) -> bytes:
    at %= max(len(data), 1)
    return data[:at] + chunk + data[at:]


def _cut(data: bytes, at: int) -> bytes:
    return data[: at % max(len(data), 1)]


def _header(data: bytes, change: str) -> bytes:
    head, _, body = data.partition(b"\n")
    columns = head.rstrip(b"\r").split(b",")
    if change == "rename" and len(columns) > 3:
        columns[3] = b"device"
    elif change == "drop":
        columns = columns[:-1]
    else:
        columns.append(b"extra")
    return b",".join(columns) + b"\n" + body


def _replace_field(data: bytes, field: int, value: bytes) -> bytes:
    lines = data.split(b"\n")
    if len(lines) < 3:
        return data
    cells = lines[2].split(b",")
    cells[field % len(cells)] = value
    lines[2] = b",".join(cells)
    return b"\n".join(lines)


# A mutation: (name, function of the file's bytes). `gzip` and the name changes also rename.
MUTATIONS = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(0, 255)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.binary(min_size=1, max_size=6)),
    st.tuples(st.just("cut"), st.integers(0, 10_000)),
    st.tuples(st.just("not_utf8"), st.integers(0, 10_000), st.sampled_from([b"\xff", b"\xe9", b"\xc3\x28", b"\x80"])),
    st.tuples(st.just("header"), st.sampled_from(["rename", "drop", "add"])),
    st.tuples(
        st.just("value"),
        st.integers(0, 9),
        st.sampled_from(
            [b"", b"abc", b"-5", b"1e400", b'"quoted, comma"', b'"unbalanced', b"2026-03-03T19:00:00+99:00"]
        ),
    ),
    st.tuples(st.just("crlf")),
    st.tuples(st.just("blank_lines"), st.integers(0, 10_000)),
    st.tuples(st.just("gzip")),
    st.tuples(st.just("named_ndjson")),
)


def _mutate(data: bytes, mutation: tuple) -> tuple[bytes, str]:
    """The mutated bytes and the file's (possibly new) name."""
    kind, *args = mutation
    name = "playback_events.csv"
    if kind == "flip":
        data = _flip(data, *args)
    elif kind == "insert":
        data = _insert(data, *args)
    elif kind == "cut":
        data = _cut(data, *args)
    elif kind == "not_utf8":
        data = _insert(data, *args)
    elif kind == "header":
        data = _header(data, *args)
    elif kind == "value":
        data = _replace_field(data, *args)
    elif kind == "crlf":
        data = data.replace(b"\n", b"\r\n")
    elif kind == "blank_lines":
        data = _insert(data, args[0], b"\n\n")
    elif kind == "gzip":
        data, name = gzip.compress(data, mtime=0), "playback_events.csv.gz"
    elif kind == "named_ndjson":
        name = "playback_events.ndjson"
    return data, name


def _ledger(raw: Path, file_name: str) -> tuple[int, int, int]:
    con = duckdb.connect()
    try:
        return con.execute(
            "select rows_declared, rows_loaded, rows_quarantined from read_parquet(?) where path = ?",
            [str(partition_path(raw, "ledger", NIGHT)), file_name],
        ).fetchone()
    finally:
        con.close()


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(mutations=st.lists(MUTATIONS, min_size=1, max_size=3))
def test_a_mutated_file_is_refused_by_name_or_every_row_is_accounted_for(mutations):
    with tempfile.TemporaryDirectory(prefix="rewatch-mutate-") as tmp:
        exports, raw = Path(tmp) / "exports", Path(tmp) / "raw"
        folder = write_night(exports, NIGHT, EVENTS)
        original = folder / "playback_events.csv"
        data, name = original.read_bytes(), original.name
        for mutation in mutations:
            data, renamed = _mutate(data, mutation)
            name = renamed if renamed != "playback_events.csv" else name
        original.unlink()
        (folder / name).write_bytes(data)
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        rows = {f["path"]: f["rows"] for f in manifest["files"] if f["path"] != "playback_events.csv"}
        write_manifest(folder, NIGHT, {**rows, name: len(EVENTS)})  # re-signed; the rows declared

        try:
            result = load_night(exports, raw, NIGHT)
        except ExportError as exc:
            assert name in str(exc) or MANIFEST_NAME in str(exc), str(exc)
            assert not partition_path(raw, "ledger", NIGHT).exists()  # nothing of it loaded
            return
        declared, loaded, quarantined = _ledger(raw, name)
        assert declared == len(EVENTS)
        assert loaded + quarantined == declared, (mutations, result.as_dict())
        assert result.events_loaded == loaded


@pytest.mark.parametrize("change", ["rename", "drop", "add"])
def test_each_column_change_is_refused_in_every_format(tmp_path, change):
    """The property's header mutations, pinned: one rule for CSV, gzip CSV and NDJSON/Parquet
    (the last two in test_bad_input.py)."""
    folder = write_night(tmp_path / "exports", NIGHT, EVENTS)
    path = folder / "playback_events.csv"
    path.write_bytes(_header(path.read_bytes(), change))
    write_manifest(folder, NIGHT, {"playback_events.csv": 4, "titles.csv": 2, "households.csv": 2, "profiles.csv": 3})
    with pytest.raises(ExportError, match="header does not match the export contract"):
        load_night(tmp_path / "exports", tmp_path / "raw", NIGHT)
