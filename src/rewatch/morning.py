"""The morning page: what a published night says about the titles, for people who would rather
look than read (docs/operations.md, "The morning page").

`morning_figures` reads the published lake once the night is published and returns plain,
JSON-ready figures; the night's `run.json` keeps them, so the page (`render_morning`) and the
reports index (`render_index`, written by `rewatch.report.write_index`) are drawn from files,
and the change since the previous night is the difference of two such files
(`rewatch.report.previous_headline`), not a second query of history. The charts are inline SVG
(`rewatch.charts`): the page makes no request to the network.
"""

from __future__ import annotations

import datetime as dt
import html

import yaml

from rewatch import charts
from rewatch.settings import DBT_PROJECT_DIR, Settings

TOP_TITLES = 10
CHARTED_TITLES = 5
HEATMAP_DAYS = 7
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOURS = tuple(f"{h:02d}" for h in range(24))
# Households by how many times they completed a title: 1, 2, 3, 4, and 5 or more.
COMPLETION_BUCKETS = 5

HEADLINES = (
    ("households_viewing", "households with a view"),
    ("completions", "completions"),
    ("rewatches", "rewatches (completions beyond the first)"),
    ("repeat_households", "repeat households (household x title)"),
    ("unstoppable_titles", "titles judged unstoppable"),
)


# The dayparts and their order are dbt's (var rewatch__dayparts): fct_title_daily has one
# `<daypart>_sessions` column per daypart.
_DBT_VARS = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
DAYPARTS: list[str] = _DBT_VARS["rewatch__dayparts"]
# rpt_title_longevity's bar for is_unstoppable (docs/metrics.md, "Staying power").
UNSTOPPABLE_WEEK4_TO_WEEK1: float = _DBT_VARS["rewatch__unstoppable_week4_to_week1"]

TOP_TITLES_SQL = f"""
with daypart_sessions as (
    select
        title_id,
        sum(kids_sessions) / nullif(sum(sessions), 0) as kids_share,
        [{", ".join(f"sum({daypart}_sessions)" for daypart in DAYPARTS)}] as counts
    from main.fct_title_daily
    group by title_id
),
top_dayparts as (
    select
        title_id,
        kids_share,
        {DAYPARTS!r}[
            list_position(counts, list_max(counts))
        ] as top_daypart
    from daypart_sessions
),
-- Two titles can share a name (real catalogs reuse them): then the name alone would list
-- "the same" title twice, so it carries its title_id.
current_titles as (
    select
        title_id,
        title_name,
        count(*) over (partition by title_name) > 1 as is_name_shared
    from main.dim_titles
    where is_current
)
select
    case
        when titles.is_name_shared then titles.title_name || ' (' || performance.title_id || ')'
        else coalesce(titles.title_name, performance.title_id)
    end as title,
    performance.title_id,
    performance.starters,
    performance.completers,
    performance.completion_rate,
    performance.repeat_households,
    performance.repeat_rate,
    performance.hours_viewed,
    performance.views,
    top_dayparts.kids_share,
    top_dayparts.top_daypart,
    longevity.week4_to_week1,
    longevity.is_unstoppable
from main.rpt_title_performance as performance
left join current_titles as titles
    on performance.title_id = titles.title_id
left join top_dayparts
    on performance.title_id = top_dayparts.title_id
left join main.rpt_title_longevity as longevity
    on performance.title_id = longevity.title_id
where performance.window_name = 'lifetime'
order by performance.starters desc, performance.title_id
limit ?
"""


def warehouse_summary(settings: Settings, top: int = 10) -> tuple[dict, list[dict]]:
    """Totals and the top titles by lifetime starters, read-only from the published lake."""
    from rewatch.lake import open_published

    con = open_published(settings)
    try:
        nights = con.execute("select count(distinct night) from main.rewatch_runs").fetchone()[0]
        sessions, view_sessions, households = con.execute(
            "select count(*), count(*) filter (where is_view), count(distinct household_id) "
            "from main.fct_viewing_sessions"
        ).fetchone()
        rewatch_totals = _rewatch_totals(con)
        rows = top_titles(con, top)
        judged, unstoppable = _verdicts(con)
    finally:
        con.close()
    totals = {
        "nights": nights,
        "households": households,
        "sessions": sessions,
        "view_sessions": view_sessions,
        "completions": rewatch_totals["completions"],
        "rewatches": rewatch_totals["rewatches"],
        "repeat_households": rewatch_totals["repeat_households"],
        # Titles whose days 0-27 since release are delivered (week4_to_week1 known), and those
        # of them that keep week 1 in week 4 (is_unstoppable), best first.
        "longevity_judged": judged,
        "unstoppable": unstoppable,
    }
    return totals, rows


def _rewatch_totals(con) -> dict:
    """Households with a view, completions, rewatches and repeat households of the whole
    warehouse, from fct_household_title_rewatches (the summary's and the morning headline's)."""
    households_viewing, completions, rewatches, repeat_households = con.execute(
        "select count(distinct household_id) filter (where days_viewed > 0), coalesce(sum(completions), 0), "
        "coalesce(sum(rewatches), 0), count(*) filter (where is_repeat_household) "
        "from main.fct_household_title_rewatches"
    ).fetchone()
    return {
        "households_viewing": households_viewing,
        "completions": int(completions),
        "rewatches": int(rewatches),
        "repeat_households": repeat_households,
    }


def top_titles(con, top: int) -> list[dict]:
    """The top titles by lifetime starters, with their figures and verdicts."""
    cursor = con.execute(TOP_TITLES_SQL, [top])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _verdicts(con) -> tuple[int, list[str]]:
    """How many titles have a week4_to_week1, and the unstoppable ones' names, best first."""
    judged, unstoppable = con.execute(
        "select count(*) filter (where longevity.week4_to_week1 is not null), "
        "coalesce(list(coalesce(titles.title_name, longevity.title_id) order by longevity.week4_to_week1 desc, "
        "longevity.title_id) filter (where longevity.is_unstoppable), []) "
        "from main.rpt_title_longevity as longevity "
        "left join main.dim_titles as titles on longevity.title_id = titles.title_id and titles.is_current"
    ).fetchone()
    return judged, list(unstoppable)


def morning_figures(con, night: dt.date) -> dict:
    """The page's figures, read on `con`: the published lake as the night left it."""
    top = top_titles(con, TOP_TITLES)
    judged, unstoppable = _verdicts(con)
    rewatch_totals = _rewatch_totals(con)
    distribution = con.execute(
        f"select least(completions, {COMPLETION_BUCKETS}) as bucket, count(*) "
        "from main.fct_household_title_rewatches where completions >= 1 group by bucket order by bucket"
    ).fetchall()
    # The local days the night can still change (its UTC day reaches D-1 and D+1 somewhere),
    # and the week before: read by local_date, so the scan skips older files.
    heat = con.execute(
        """
        select
            case when is_kids_profile then 'kids' else 'non_kids' end as audience,
            isodow(local_started_at) as weekday,
            hour(local_started_at) as hour,
            count(*) as sessions
        from main.fct_viewing_sessions
        where local_date between ? and ? and supplemental_type is null
        group by all
        """,
        [night - dt.timedelta(days=HEATMAP_DAYS - 1), night],
    ).fetchall()
    charted = [row["title_id"] for row in top[:CHARTED_TITLES]]
    staying = con.execute(
        "select title_id, day_since_release, households from main.rpt_title_staying_power "
        "where title_id in (select unnest(?)) and is_day_observed order by title_id, day_since_release",
        [charted],
    ).fetchall()
    names = {row["title_id"]: row["title"] for row in top}
    curves: dict[str, list[list[int]]] = {}
    for title_id, day, households in staying:
        curves.setdefault(names[title_id], []).append([day, households])
    return {
        "night": night.isoformat(),
        "headline": {**rewatch_totals, "unstoppable_titles": len(unstoppable)},
        "longevity_judged": judged,
        "top_titles": [
            {
                key: row[key]
                for key in (
                    "title_id",
                    "title",
                    "starters",
                    "completers",
                    "repeat_households",
                    "completion_rate",
                    "repeat_rate",
                    "kids_share",
                    "top_daypart",
                    "week4_to_week1",
                    "is_unstoppable",
                )
            }
            for row in top
        ],
        "completion_distribution": [[int(bucket), count] for bucket, count in distribution],
        "heatmap_days": [(night - dt.timedelta(days=HEATMAP_DAYS - 1)).isoformat(), night.isoformat()],
        "heatmap": [[audience, weekday, hour, sessions] for audience, weekday, hour, sessions in heat],
        "staying_power": curves,
    }


def pct(value) -> str:
    return "" if value is None else f"{value * 100:.0f}%"


def _change(now: int, before: int | None) -> str:
    if before is None:
        return ""
    delta = now - before
    return f"<span class='delta'>{'+' if delta >= 0 else '−'}{abs(delta):,}</span>"


def render_morning(morning: dict) -> str:
    """The page's upper half: headline, top titles, charts. Only escaped text and inline SVG."""
    headline, previous = morning.get("headline") or {}, morning.get("previous") or {}
    parts = ["<section class='morning'>"]
    since = f" (change since {html.escape(previous['night'])})" if previous.get("night") else ""
    parts.append(f"<h2>The warehouse this morning{since}</h2><div class='headline'>")
    for key, label in HEADLINES:
        if key in headline:
            parts.append(
                f"<div class='figure'><div class='value'>{headline[key]:,}</div>"
                f"<div class='label'>{html.escape(label)}</div>{_change(headline[key], previous.get(key))}</div>"
            )
    parts.append("</div>")
    judged = morning.get("longevity_judged", 0)
    parts.append(
        "<p class='note'>Unstoppable: week 4 since release keeps at least 80&nbsp;% of week 1's "
        "household-days (<code>rpt_title_longevity</code>). "
        + (
            f"{judged:,} title(s) have their first 28 days delivered."
            if judged
            else "No title has its first 28 days since release delivered yet: the verdicts are blank, not guessed."
        )
        + "</p>"
    )
    top = morning.get("top_titles") or []
    parts.append(
        "<h3>Top titles by households that started them (lifetime)</h3><table class='titles'><tr>"
        "<th>title</th><th>starters</th><th>completion</th><th>repeat rate</th><th>kids share</th>"
        "<th>top daypart</th><th>week 4 / week 1</th><th>unstoppable</th></tr>"
    )
    for row in top:
        verdict = {True: "yes", False: "no"}.get(row.get("is_unstoppable"), "not yet")
        parts.append(
            f"<tr><td>{html.escape(str(row['title']))}</td><td class='n'>{row['starters']:,}</td>"
            f"<td class='n'>{pct(row['completion_rate'])}</td><td class='n'>{pct(row['repeat_rate'])}</td>"
            f"<td class='n'>{pct(row['kids_share'])}</td><td>{html.escape(str(row['top_daypart'] or ''))}</td>"
            f"<td class='n'>{pct(row['week4_to_week1'])}</td><td>{verdict}</td></tr>"
        )
    parts.append("</table>")
    charted = top[:CHARTED_TITLES]
    parts.append("<h3>Completion funnel</h3>")
    parts.append(
        charts.grouped_bars(
            "Completion funnel of the top titles: starters, completers, repeat households",
            [
                (row["title"], [row["starters"], row["completers"] or 0, row["repeat_households"] or 0])
                for row in charted
            ],
            ["starters", "completers", "repeat households"],
        )
    )
    buckets = dict(morning.get("completion_distribution") or [])
    parts.append("<h3>How often households finish a title</h3>")
    parts.append(
        charts.columns(
            "Household x title pairs by number of completions",
            [
                (f"{n}+" if n == COMPLETION_BUCKETS else str(n), buckets.get(n, 0))
                for n in range(1, COMPLETION_BUCKETS + 1)
            ],
            "households x titles",
        )
    )
    first, last = morning.get("heatmap_days") or ["", ""]
    parts.append(f"<h3>When they watch: sessions by local weekday and hour, {first} to {last}</h3>")
    for audience, label in (("kids", "kids profiles"), ("non_kids", "other profiles")):
        values = {
            (WEEKDAYS[weekday - 1], f"{hour:02d}"): sessions
            for who, weekday, hour, sessions in morning.get("heatmap") or []
            if who == audience
        }
        parts.append(f"<h4>{label}</h4>")
        parts.append(charts.heatmap(f"Sessions of {label} by local weekday and hour", WEEKDAYS, HOURS, values))
    parts.append("<h3>Staying power: households with a view, by day since release</h3>")
    parts.append(
        charts.lines(
            "Households with a view by day since release, top titles",
            {name: [tuple(p) for p in points] for name, points in (morning.get("staying_power") or {}).items()},
            "day since release",
            "households",
            empty="no observed day since release for the top titles yet",
        )
    )
    parts.append("</section>")
    return "\n".join(parts)


def render_index(reports: list[tuple[str, dict]], dbt_docs: bool = False) -> str:
    """`reports/index.html` from every night's report (folder name, run.json), newest first:
    a link to each, and the headline trend of the published ones (and, with `dbt_docs`, a link
    to dbt's documentation page beside it)."""
    trend = sorted(
        (r["night"], r["morning"]["headline"])
        for _, r in reports
        if r.get("outcome", "").startswith("published") and (r.get("morning") or {}).get("headline")
    )
    series = {
        label: [(i, headline.get(key, 0)) for i, (_, headline) in enumerate(trend)] for key, label in HEADLINES[:3]
    }
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>rewatch reports</title>",
        f"<style>{STYLE}</style></head><body><h1>rewatch: every night</h1>",
        "<p><a href='dbt-docs/index.html'>The tables: dbt docs (lineage, grain, every column)</a></p>"
        if dbt_docs
        else "",
        "<h2>Headline trend</h2>",
        charts.lines(
            "Headline figures by published night",
            series if trend else {},
            f"published night ({trend[0][0]} to {trend[-1][0]})" if trend else "published night",
            "count",
            empty="no published night yet",
        ),
        "<table class='titles'><tr><th>night</th><th>outcome</th><th>households with a view</th>"
        "<th>completions</th><th>repeat households</th></tr>",
    ]
    for name, report in reports:
        headline = (report.get("morning") or {}).get("headline") or {}
        parts.append(
            f"<tr><td><a href='{html.escape(name)}/index.html'>{html.escape(name)}</a></td>"
            f"<td>{html.escape(str(report.get('outcome', '')))}</td>"
            + "".join(
                f"<td class='n'>{headline[k]:,}</td>" if k in headline else "<td></td>"
                for k in ("households_viewing", "completions", "repeat_households")
            )
            + "</tr>"
        )
    parts.append("</table></body></html>\n")
    return "\n".join(parts)


STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}"
    "table{border-collapse:collapse;margin-bottom:1.5em}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}td.n{text-align:right}"
    ".headline{display:flex;gap:1.5em;flex-wrap:wrap;margin:1em 0}"
    ".figure{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;min-width:9em}"
    ".figure .value{font-size:1.8em;font-weight:bold}.figure .label{color:#555}"
    ".delta{color:#0072b2}.note{color:#555}.error{color:#b00}.warning{color:#a60}"
    "svg.chart{display:block;margin:.5em 0 1.5em}"
)
