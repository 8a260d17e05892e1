"""The generator: deterministic, realistic in the ways the models depend on, truth outside."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd
import pytest

from rewatch.contract import read_manifest, verify_files
from rewatch.generate import generate
from tests.conftest import START


def _events(result) -> pd.DataFrame:
    return duckdb.sql(
        f"select * from read_csv('{result.out_dir}/*/playback_events*.csv.gz', all_varchar = true, filename = true)"
    ).df()


def test_same_seed_same_bytes(tmp_path):
    a = generate(tmp_path / "a", dt.date(2026, 3, 2), 2, 30, seed=5, truth_dir=tmp_path / "ta")
    b = generate(tmp_path / "b", dt.date(2026, 3, 2), 2, 30, seed=5, truth_dir=tmp_path / "tb")
    c = generate(tmp_path / "c", dt.date(2026, 3, 2), 2, 30, seed=6, truth_dir=tmp_path / "tc")
    for night in ("2026-03-02", "2026-03-03"):
        files_a = json.loads((a.out_dir / night / "_manifest.json").read_text())["files"]
        files_b = json.loads((b.out_dir / night / "_manifest.json").read_text())["files"]
        files_c = json.loads((c.out_dir / night / "_manifest.json").read_text())["files"]
        assert files_a == files_b
        assert files_a != files_c


def test_nights_follow_the_contract(generated_small):
    for night in range(3):
        folder = generated_small.out_dir / (dt.date(2026, 3, 2) + dt.timedelta(days=night)).isoformat()
        manifest = read_manifest(folder)
        verify_files(manifest)
        assert manifest.event_files


def test_realistic_population_and_delivery(generated_small):
    out = generated_small.out_dir
    households = pd.read_csv(out / "2026-03-04" / "households.csv")
    profiles = pd.read_csv(out / "2026-03-04" / "profiles.csv")
    titles = pd.read_csv(out / "2026-03-04" / "titles.csv")
    assert households["timezone"].nunique() >= 6
    assert profiles.groupby("household_id").size().between(1, 5).all()
    assert profiles["is_kids_profile"].any() and not profiles["is_kids_profile"].all()
    assert set(titles["title_type"]) == {"movie", "episode"}
    assert titles["credits_start_seconds"].isna().any()

    events = _events(generated_small)
    malformed = events["event_id"].str.startswith("bad")
    assert 0 < malformed.sum() < 0.01 * len(events)  # a few broken rows for the quarantine
    events = events[~malformed].copy()
    events["night"] = events["filename"].str.extract(r"(\d{4}-\d{2}-\d{2})")[0]
    event_day = events["event_ts"].str[:10]
    late_days = (pd.to_datetime(events["night"]) - pd.to_datetime(event_day)).dt.days
    assert (late_days >= 1).mean() > 0.005  # offline viewing delivered 1-3 nights late
    assert late_days.max() <= 3
    assert events["event_id"].duplicated().sum() > 0  # re-deliveries
    assert set(events["event_type"]) == {"play", "heartbeat", "pause", "resume", "seek", "stop"}

    sessions = pd.concat(pd.read_parquet(p) for p in (generated_small.truth_dir / "sessions").glob("*.parquet"))
    assert (sessions["started_at"].dt.date != sessions["ended_at"].dt.date).any()  # across midnight
    cycles = pd.concat(pd.read_parquet(p) for p in (generated_small.truth_dir / "cycles").glob("*.parquet"))
    assert (cycles["session_count"] > 1).any()  # watch-throughs spanning sessions
    per_household = cycles[cycles["is_completed"]].groupby(["household_id", "title_id"]).size()
    assert (per_household >= 2).any()  # rewatches to completion


def test_ground_truth_is_outside_the_exports(generated_small, tmp_path):
    assert not list(generated_small.out_dir.rglob("*.parquet"))
    # A truth folder inside the exports would be read as an export: refused before writing.
    for truth in (tmp_path / "exports", tmp_path / "exports" / "truth"):
        with pytest.raises(ValueError, match="outside the exports folder"):
            generate(tmp_path / "exports", START, 1, 2, seed=1, truth_dir=truth)
    assert not (tmp_path / "exports").exists()
