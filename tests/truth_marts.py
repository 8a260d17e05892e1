"""The title marts computed again from the generator's ground truth, in plain Python.

Nothing here reads the warehouse or shares its SQL: sessions and cycles come from the truth
`rewatch.generate` writes, time zones and kids flags from the export's own CSV snapshots, and
the rules from docs/metrics.md (local dates, dayparts, views, completions) are written out here
again. Compared exactly with the published tables in tests/test_end_to_end.py.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

DAYPARTS = ("before_school", "school_hours", "after_school", "evening", "overnight", "weekend_daytime")


def daypart(local: dt.datetime) -> str:
    """docs/metrics.md, "Local time": the part of the local day a session starts in."""
    if local.hour >= 23 or local.hour < 6:
        return "overnight"
    if local.hour >= 19:
        return "evening"
    if local.weekday() >= 5:  # Saturday, Sunday
        return "weekend_daytime"
    if local.hour < 9:
        return "before_school"
    return "school_hours" if local.hour < 15 else "after_school"


def _snapshot(exports: Path, name: str) -> list[dict]:
    """The latest night's snapshot CSV of `name` (households, profiles)."""
    latest = max(p for p in exports.iterdir() if p.is_dir())
    with open(latest / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _rows(truth_dir: Path, table: str) -> list[dict]:
    con = duckdb.connect()
    try:
        con.execute("set timezone = 'UTC'")
        result = con.execute(f"select * from read_parquet('{truth_dir}/{table}/*.parquet')")
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    finally:
        con.close()


def title_daily(exports: Path, truth_dir: Path) -> dict[tuple[str, dt.date], dict]:
    """fct_title_daily from the truth: (title_id, local_date) -> its figures."""
    zones = {h["household_id"]: ZoneInfo(h["timezone"]) for h in _snapshot(exports, "households")}
    kids = {p["profile_id"]: p["is_kids_profile"].lower() == "true" for p in _snapshot(exports, "profiles")}
    rows: dict[tuple[str, dt.date], dict] = defaultdict(
        lambda: {
            "viewers": set(),
            "sessions": 0,
            "views": 0,
            "played": 0,
            "kids_sessions": 0,
            "kids_played": 0,
            "completions": 0,
            "kids_completions": 0,
            **{f"{p}_sessions": 0 for p in DAYPARTS},
        }
    )
    for s in _rows(truth_dir, "sessions"):
        local = s["started_at"].astimezone(zones[s["household_id"]])
        row = rows[(s["title_id"], local.date())]
        row["sessions"] += 1
        row["played"] += s["played_seconds"]
        row[f"{daypart(local)}_sessions"] += 1
        if s["is_view"]:
            row["views"] += 1
            row["viewers"].add(s["household_id"])
        if kids.get(s["profile_id"], False):
            row["kids_sessions"] += 1
            row["kids_played"] += s["played_seconds"]
    for c in _rows(truth_dir, "cycles"):
        if not c["is_completed"]:
            continue
        row = rows[(c["title_id"], c["completed_at"].astimezone(zones[c["household_id"]]).date())]
        row["completions"] += 1
        row["kids_completions"] += kids.get(c["profile_id"], False)
    return {
        key: {
            "starters": len(r["viewers"]),
            "sessions": r["sessions"],
            "views": r["views"],
            "hours_viewed": round(r["played"] / 3600, 9),
            "completions": r["completions"],
            "kids_sessions": r["kids_sessions"],
            "non_kids_sessions": r["sessions"] - r["kids_sessions"],
            "kids_hours_viewed": round(r["kids_played"] / 3600, 9),
            "non_kids_hours_viewed": round((r["played"] - r["kids_played"]) / 3600, 9),
            "kids_completions": r["kids_completions"],
            "non_kids_completions": r["completions"] - r["kids_completions"],
            **{f"{p}_sessions": r[f"{p}_sessions"] for p in DAYPARTS},
        }
        for key, r in rows.items()
    }


def published_title_daily(con, columns) -> dict[tuple[str, dt.date], dict]:
    """The published fct_title_daily's `columns` in the same shape (hours rounded to 9 decimals)."""
    result = con.execute("select * from main.fct_title_daily")
    names = [d[0] for d in result.description]
    out = {}
    for values in result.fetchall():
        row = dict(zip(names, values, strict=True))
        key = (row.pop("title_id"), row.pop("local_date"))
        out[key] = {k: round(row[k], 9) if isinstance(row[k], float) else row[k] for k in columns}
    return out
