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

# docs/metrics.md section 11 (`rewatch__performance_window_days`), written out again.
WINDOW_DAYS = (7, 28, 91)
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


def _local_dates(exports: Path, truth_dir: Path):
    """Each truth session with its household's local start time and date, and each completed
    cycle with its local date (docs/metrics.md 6, 9)."""
    zones = {h["household_id"]: ZoneInfo(h["timezone"]) for h in _snapshot(exports, "households")}
    sessions = []
    for s in _rows(truth_dir, "sessions"):
        local = s["started_at"].astimezone(zones[s["household_id"]])
        sessions.append({**s, "local": local, "local_date": local.date()})
    completions = [
        {**c, "local_date": c["completed_at"].astimezone(zones[c["household_id"]]).date()}
        for c in _rows(truth_dir, "cycles")
        if c["is_completed"]
    ]
    return sessions, completions


def title_daily(exports: Path, truth_dir: Path) -> dict[tuple[str, dt.date], dict]:
    """fct_title_daily from the truth: (title_id, local_date) -> its figures."""
    sessions, completions = _local_dates(exports, truth_dir)
    kids = {p["profile_id"]: p["is_kids_profile"].lower() == "true" for p in _snapshot(exports, "profiles")}
    rows: dict[tuple[str, dt.date], dict] = defaultdict(
        lambda: {
            "viewers": set(),
            "sessions": 0,
            "view_sessions": 0,
            "played": 0,
            "kids_sessions": 0,
            "kids_played": 0,
            "completions": 0,
            "kids_completions": 0,
            **{f"{p}_sessions": 0 for p in DAYPARTS},
        }
    )
    for s in sessions:
        row = rows[(s["title_id"], s["local_date"])]
        row["sessions"] += 1
        row["played"] += s["played_seconds"]
        row[f"{daypart(s['local'])}_sessions"] += 1
        if s["is_view"]:
            row["view_sessions"] += 1
            row["viewers"].add(s["household_id"])
        if kids.get(s["profile_id"], False):
            row["kids_sessions"] += 1
            row["kids_played"] += s["played_seconds"]
    for c in completions:
        row = rows[(c["title_id"], c["local_date"])]
        row["completions"] += 1
        row["kids_completions"] += kids.get(c["profile_id"], False)
    return {
        key: {
            "starters": len(r["viewers"]),
            "sessions": r["sessions"],
            "view_sessions": r["view_sessions"],
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


def title_performance(exports: Path, truth_dir: Path, audience: str | None = None) -> dict[tuple, dict]:
    """rpt_title_performance from the truth: (title_id, window_name) -> its figures (section 11).

    The catalog is the latest night's titles.csv: the content end is the credits offset, else the
    runtime (section 7); a window runs from the release date, inclusive, for its number of local
    days; a title without a release date has only `lifetime`.

    With `audience` (`kids`, `non_kids`): rpt_title_audience_performance's figures instead,
    counting only the sessions and completions of that audience's profiles (the latest
    profiles.csv; a profile it does not list is not kids), for every title and window the
    whole-audience table has.
    """
    catalog = {t["title_id"]: t for t in _snapshot(exports, "titles")}
    kids = {p["profile_id"]: p["is_kids_profile"].lower() == "true" for p in _snapshot(exports, "profiles")}
    sessions, completions = _local_dates(exports, truth_dir)

    def counted(profile_id: str) -> bool:
        return audience is None or kids.get(profile_id, False) == (audience == "kids")

    def windows(title_id: str, local_date: dt.date):
        yield "lifetime"
        title = catalog.get(title_id)
        if title and title["release_date"]:
            release = dt.date.fromisoformat(title["release_date"])
            for days in WINDOW_DAYS:
                if release <= local_date < release + dt.timedelta(days=days):
                    yield f"d{days}"

    viewers: dict[tuple[str, str], set] = defaultdict(set)
    played: dict[tuple[str, str], int] = defaultdict(int)
    completed: dict[tuple[str, str], dict] = defaultdict(lambda: defaultdict(int))
    # A window has a row when a session or a completion (of any audience) falls in it.
    keys = set()
    for s in sessions:
        for window in windows(s["title_id"], s["local_date"]):
            keys.add((s["title_id"], window))
            if not counted(s["profile_id"]):
                continue
            played[(s["title_id"], window)] += s["played_seconds"]
            if s["is_view"]:
                viewers[(s["title_id"], window)].add(s["household_id"])
    for c in completions:
        for window in windows(c["title_id"], c["local_date"]):
            keys.add((c["title_id"], window))
            if counted(c["profile_id"]):
                completed[(c["title_id"], window)][c["household_id"]] += 1

    out = {}
    for key in keys:
        seconds = played.get(key, 0)
        title = catalog.get(key[0])
        starters = viewers[key]
        hours = seconds / 3600
        row = {"starters": len(starters), "hours_viewed": round(hours, 9)}
        content_end = title and int(title["credits_start_seconds"] or title["runtime_seconds"] or 0)
        if content_end:
            # Completers are starters of the window with a completion in it.
            counts = [n for household, n in completed[key].items() if household in starters]
            completers = sum(1 for n in counts if n >= 1)
            repeaters = sum(1 for n in counts if n >= 2)
            row |= {
                "completers": completers,
                "repeat_households": repeaters,
                "completion_rate": round(completers / len(starters), 9) if starters else None,
                "repeat_rate": round(repeaters / completers, 9) if completers else None,
            }
        else:
            row |= {"completers": None, "repeat_households": None, "completion_rate": None, "repeat_rate": None}
        runtime = title and int(title["runtime_seconds"] or 0)
        row["views"] = round(hours / (runtime / 3600), 9) if runtime else None
        row["runtime_source"] = "catalog" if title else None
        if audience is not None:  # the audience table has rule 11's counts and rates only
            row = {k: row[k] for k in AUDIENCE_FIGURES}
            key = (*key, audience)
        out[key] = row
    return out


AUDIENCE_FIGURES = ("starters", "completers", "repeat_households", "completion_rate", "repeat_rate")


def title_audience_performance(exports: Path, truth_dir: Path) -> dict[tuple, dict]:
    """rpt_title_audience_performance from the truth: (title_id, window_name, audience) -> figures."""
    return title_performance(exports, truth_dir, "kids") | title_performance(exports, truth_dir, "non_kids")


def published_title_audience_performance(con) -> dict[tuple, dict]:
    """The published rpt_title_audience_performance in the same shape."""
    return _published(con, "rpt_title_audience_performance", ("title_id", "window_name", "audience"), AUDIENCE_FIGURES)


def published_title_performance(con, columns) -> dict[tuple[str, str], dict]:
    """The published rpt_title_performance's `columns` in the same shape (floats rounded to 9 decimals)."""
    return _published(con, "rpt_title_performance", ("title_id", "window_name"), columns)


def _published(con, table, key_columns, columns) -> dict[tuple, dict]:
    result = con.execute(f"select * from main.{table}")
    names = [d[0] for d in result.description]
    out = {}
    for values in result.fetchall():
        row = dict(zip(names, values, strict=True))
        key = tuple(row.pop(k) for k in key_columns)
        out[key] = {k: round(row[k], 9) if isinstance(row[k], float) else row[k] for k in columns}
    return out


def published_title_daily(con, columns) -> dict[tuple[str, dt.date], dict]:
    """The published fct_title_daily's `columns` in the same shape (hours rounded to 9 decimals)."""
    return _published(con, "fct_title_daily", ("title_id", "local_date"), columns)
