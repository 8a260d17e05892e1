"""Per-night run reports under `$REWATCH_WAREHOUSE_DIR/reports/<night>/`, and status."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import duckdb

from rewatch.settings import Settings


def warehouse_counts(published: Path) -> dict:
    """Headline counts of a warehouse file, read-only."""
    con = duckdb.connect(str(published), read_only=True)
    try:
        sessions, views, hours = con.execute(
            "select count(*), count(*) filter (where is_view), coalesce(sum(played_seconds), 0) / 3600 "
            "from main.fct_viewing_sessions"
        ).fetchone()
    finally:
        con.close()
    return {"sessions": sessions, "views": views, "hours_viewed": round(float(hours), 1)}


def write_report(settings: Settings, night: dt.date, summary: dict) -> Path:
    folder = settings.reports_dir / night.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "run.json"
    tmp = folder / ".run.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return target


def read_reports(settings: Settings, last: int = 10) -> list[dict]:
    """The latest `last` nights' reports, newest first."""
    if not settings.reports_dir.exists():
        return []
    folders = sorted((p for p in settings.reports_dir.iterdir() if (p / "run.json").is_file()), reverse=True)
    return [json.loads((p / "run.json").read_text()) for p in folders[:last]]


TOP_TITLES_SQL = """
with daypart_sessions as (
    select
        title_id,
        sum(kids_sessions) / nullif(sum(sessions), 0) as kids_share,
        [sum(before_school_sessions), sum(school_hours_sessions), sum(after_school_sessions),
         sum(evening_sessions), sum(overnight_sessions), sum(weekend_daytime_sessions)] as counts
    from main.fct_title_daily
    group by title_id
),
top_dayparts as (
    select
        title_id,
        kids_share,
        ['before_school', 'school_hours', 'after_school', 'evening', 'overnight', 'weekend_daytime'][
            list_position(counts, list_max(counts))
        ] as top_daypart
    from daypart_sessions
)
select
    coalesce(titles.title_name, performance.title_id) as title,
    performance.starters,
    performance.completers,
    performance.completion_rate,
    performance.repeat_households,
    performance.repeat_rate,
    performance.hours_viewed,
    performance.views,
    top_dayparts.kids_share,
    top_dayparts.top_daypart
from main.rpt_title_performance as performance
left join main.dim_titles as titles
    on performance.title_id = titles.title_id and titles.is_current
left join top_dayparts
    on performance.title_id = top_dayparts.title_id
where performance.window_name = 'lifetime'
order by performance.starters desc, performance.title_id
limit ?
"""


def warehouse_summary(published: Path, top: int = 10) -> tuple[dict, list[dict]]:
    """Totals and the top titles by lifetime starters, read-only from a published file."""
    con = duckdb.connect(str(published), read_only=True)
    try:
        nights = con.execute("select count(distinct night) from main.rewatch_runs").fetchone()[0]
        sessions, views, households = con.execute(
            "select count(*), count(*) filter (where is_view), count(distinct household_id) "
            "from main.fct_viewing_sessions"
        ).fetchone()
        completions, rewatches, repeaters = con.execute(
            "select coalesce(sum(completions), 0), coalesce(sum(rewatches), 0), "
            "count(*) filter (where is_repeat_household) from main.fct_household_title_rewatches"
        ).fetchone()
        cursor = con.execute(TOP_TITLES_SQL, [top])
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
    totals = {
        "nights": nights,
        "households": households,
        "sessions": sessions,
        "views": views,
        "completions": int(completions),
        "rewatches": int(rewatches),
        "repeat_households": repeaters,
    }
    return totals, rows
