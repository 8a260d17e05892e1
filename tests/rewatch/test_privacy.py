"""Pseudonymisation: with REWATCH_PSEUDONYMIZE_KEY set, no raw household id, profile id or
profile name reaches the raw zone or the published lake, and ids still join across nights."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac

import duckdb
import pytest

from rewatch import pipeline
from rewatch.contract import ExportError
from rewatch.load import load_night
from rewatch.privacy import KEY_ENV, PseudonymizeKeyError, Pseudonymizer
from rewatch.settings import get_settings
from tests.conftest import START
from tests.helpers import published_connection

KEY = "test-key-0123456789abcdef-not-for-production"


def expected_pseudonym(kind: str, value: str) -> str:
    """The scheme docs/reliability.md states, computed here, not by the code under test:
    `px_` + the first 32 hex digits of HMAC-SHA256(key, kind NUL value)."""
    return "px_" + hmac.new(KEY.encode(), f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()[:32]


def test_pseudonyms_are_keyed_stable_and_not_a_plain_hash():
    one, other = Pseudonymizer(KEY.encode()), Pseudonymizer(b"another key of enough length")
    assert one("household", "hh000042") == one("household", "hh000042")
    assert one("household", "hh000042") != other("household", "hh000042")
    assert one("household", "hh000042") != one("profile", "hh000042")  # kinds are separated
    assert hashlib.sha256(b"hh000042").hexdigest()[:32] not in one("household", "hh000042")
    assert one("household", "hh000042") == expected_pseudonym("household", "hh000042")
    assert one("profile_name", "Kids") == expected_pseudonym("profile_name", "Kids")
    assert KEY not in repr(one) and one.key_id == Pseudonymizer(KEY.encode()).key_id
    with pytest.raises(PseudonymizeKeyError, match="at least 16"):
        Pseudonymizer(b"short")


def _raw_identifiers(exports, nights):
    found = set()
    for night in nights:
        folder = exports / night.isoformat()
        with (folder / "households.csv").open(encoding="utf-8") as handle:
            found |= {row["household_id"] for row in csv.DictReader(handle)}
        with (folder / "profiles.csv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                found |= {row["profile_id"], row["profile_name"]}
    return found


def _text_values(con, source: str) -> set[str]:
    """Every distinct text value of every column of a relation."""
    columns = [
        name for name, kind, *_ in con.execute(f"describe select * from {source}").fetchall() if kind == "VARCHAR"
    ]
    values = set()
    for column in columns:
        values |= {v for (v,) in con.execute(f'select distinct "{column}" from {source}').fetchall() if v}
    return values


def test_no_raw_identifier_is_loaded_or_published_and_ids_join_across_nights(generated_small, tmp_path, monkeypatch):
    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(generated_small.out_dir))
    monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.setenv(KEY_ENV, KEY)
    settings = get_settings()
    nights = [START, START + dt.timedelta(days=1)]
    for night in nights:
        loaded = pipeline.load(night, settings)
        built = pipeline.build(night, settings)
        pipeline.publish(night, loaded, built, {"decision": "publish", "warnings": []}, settings)

    raw_ids = _raw_identifiers(settings.exports_dir, nights)
    assert len(raw_ids) > 100
    con = published_connection(settings)
    try:
        # Every table of the lake, in every schema (what the old file's `main` held and more).
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'lake'"
        ).fetchall()
        assert ("main", "fct_viewing_sessions") in tables and ("main", "dim_households") in tables
        published = set().union(*(_text_values(con, f'lake.{s}."{t}"') for s, t in tables))
        households = {h for (h,) in con.execute("select household_id from dim_households").fetchall()}
        session_households = {
            h for (h,) in con.execute("select distinct household_id from fct_viewing_sessions").fetchall()
        }
    finally:
        con.close()
    leaked = {v for v in published if any(raw in v for raw in raw_ids)}
    assert leaked == set()
    raw_con = duckdb.connect()
    try:
        raw_values = set()
        for path in sorted(settings.raw_dir.glob("*/export_date=*/data.parquet")):
            raw_values |= _text_values(raw_con, f"read_parquet('{path}')")
    finally:
        raw_con.close()
    assert {v for v in raw_values if any(raw in v for raw in raw_ids)} == set()
    # The same key maps each household to the same pseudonym in every night and table.
    expected = {expected_pseudonym("household", h) for h in raw_ids if h.startswith("hh")}
    assert households == expected and session_households <= households
    # The key itself is written nowhere under the warehouse folder.
    assert not [p for p in settings.warehouse_dir.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]

    # A night loaded without the key (or with another) would not join: refused, named.
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(ExportError, match="without one would mix identifiers"):
        load_night(settings.exports_dir, settings.raw_dir, START + dt.timedelta(days=2))
