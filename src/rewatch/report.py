"""Per-night run reports under `$REWATCH_WAREHOUSE_DIR/reports/<night>/`, and status."""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from pathlib import Path

import duckdb

from rewatch.settings import Settings

# The audit's decision (`publish_decision` in the report's JSON) in the page's words.
DECISION_WORDS = {"publish": "publish", "publish_with_warnings": "publish, with warnings"}


def warehouse_counts(con) -> dict:
    """Headline counts of the published lake, read on `con` (rewatch.lake.open_published)."""
    sessions, view_sessions, hours = con.execute(
        "select count(*), count(*) filter (where is_view), coalesce(sum(played_seconds), 0) / 3600 "
        "from main.fct_viewing_sessions"
    ).fetchone()
    # view_sessions: sessions that count as a view (is_view); not the `views` figure of the title
    # tables (hours / runtime, docs/metrics.md).
    return {"sessions": sessions, "view_sessions": view_sessions, "hours_viewed": round(float(hours), 1)}


def report_dir(settings: Settings, night: dt.date | None) -> Path:
    """`reports/<night>/` (`reports/rebuild/` for a full rebuild)."""
    return settings.reports_dir / (night.isoformat() if night else "rebuild")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _atomic_write(target: Path, text: str) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def write_report(settings: Settings, night: dt.date | None, summary: dict) -> Path:
    """Write the night's `run.json` and its human view `index.html` (each atomically)."""
    folder = report_dir(settings, night)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "run.json"
    _atomic_write(target, json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
    _atomic_write(folder / "index.html", render_html(summary))
    return target


def read_report(settings: Settings, night: dt.date | None) -> dict:
    path = report_dir(settings, night) / "run.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def start_report(settings: Settings, night: dt.date | None) -> dict:
    """A new run of the night: its report starts over (the old one never describes this run)."""
    summary = {"night": night.isoformat() if night else "rebuild", "outcome": "running", "started_at": _now()}
    write_report(settings, night, summary)
    return summary


def update_report(settings: Settings, night: dt.date | None, **fields) -> dict:
    """Merge `fields` into the night's report; returns the report as written."""
    summary = read_report(settings, night) or {"night": night.isoformat() if night else "rebuild"}
    summary.update(fields)
    summary["updated_at"] = _now()
    write_report(settings, night, summary)
    return summary


def activity_devices(settings: Settings, night: dt.date) -> dict | None:
    """The night's viewing-activity sessions by device class, and how many are `other` (a Device
    Type no rule of rewatch.netflix.DEVICE_RULES knows) with those Device Type strings and their
    session counts; None when the night has no viewing-activity session. Read from the raw
    partition the load wrote; a partition that cannot be read is reported, not raised (the
    report must not fail the night)."""
    from rewatch.rawzone import connect, partition_path, sql_str

    path = partition_path(settings.raw_dir, "viewing_activity", night)
    if not path.is_file():
        return None
    try:
        con = connect(settings.raw_dir)
        try:
            source = f"read_parquet({sql_str(str(path.resolve()))})"
            by_class = con.execute(
                f"select coalesce(device_type, 'other'), count(*) from {source} group by 1 order by 1"
            ).fetchall()
            unknown = con.execute(
                f"select coalesce(device_model, ''), count(*) from {source} "
                "where coalesce(device_type, 'other') = 'other' group by 1 order by 2 desc, 1"
            ).fetchall()
        finally:
            con.close()
    except duckdb.Error as exc:
        return {"error": f"{path}: {exc}"}
    if not by_class:
        return None
    classes = {device_class: sessions for device_class, sessions in by_class}
    return {
        "sessions": sum(classes.values()),
        "sessions_by_device_type": classes,
        "other_sessions": classes.get("other", 0),
        "other_device_types": {model: sessions for model, sessions in unknown},
    }


def _night_folders(settings: Settings) -> list[Path]:
    """`reports/<night>/` folders that hold a `run.json`, newest first (not `rebuild`, `logs`)."""
    if not settings.reports_dir.exists():
        return []
    return sorted(
        (p for p in settings.reports_dir.iterdir() if (p / "run.json").is_file() and p.name[:1].isdigit()),
        reverse=True,
    )


def _read_or_empty(folder: Path) -> dict:
    """A folder's `run.json`, or {} when it cannot be read (a page must not fail on it)."""
    try:
        return json.loads((folder / "run.json").read_text())
    except (OSError, ValueError):
        return {}


def read_reports(settings: Settings, last: int = 10) -> list[dict]:
    """The latest `last` nights' reports, newest first."""
    return [json.loads((p / "run.json").read_text()) for p in _night_folders(settings)[:last]]


def previous_headline(settings: Settings, night: dt.date) -> dict | None:
    """The morning headline of the latest published night before `night`, from its report."""
    for folder in _night_folders(settings):
        if folder.name >= night.isoformat():
            continue
        report = _read_or_empty(folder)
        if report.get("outcome", "").startswith("published") and (report.get("morning") or {}).get("headline"):
            return {"night": report["night"], **report["morning"]["headline"]}
    return None


def _rows(pairs) -> str:
    return "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in pairs)


def _links(summary: dict) -> list[str]:
    """The night page's links: every night, dbt's documentation of the tables, the audit's Data Docs."""
    links = ["<a href='../index.html'>every night</a>"]
    if (summary.get("dbt_docs") or {}).get("page"):
        links.append("<a href='../dbt-docs/index.html'>the tables: dbt docs (lineage, grain, every column)</a>")
    if (summary.get("audit") or {}).get("data_docs"):
        links.append("<a href='data_docs/index.html'>the audit: Great Expectations Data Docs</a>")
    return links


def render_html(summary: dict) -> str:
    """The night's page: the morning figures and charts once the night is published
    (rewatch.morning), then the engineering part: counts loaded, quarantined by reason,
    sessions, suites, decision. Self-contained: inline styles and SVG, no request elsewhere."""
    from rewatch.morning import STYLE, render_morning

    load = summary.get("load") or {}
    audit = summary.get("audit") or {}
    morning = summary.get("morning") or {}
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>rewatch {html.escape(str(summary.get('night')))}</title>",
        f"<style>{STYLE}</style>",
        "</head><body>",
        f"<h1>rewatch night {html.escape(str(summary.get('night')))}</h1>",
        "<p>" + " · ".join(_links(summary)) + "</p>",
    ]
    if (summary.get("dbt_docs") or {}).get("error"):
        parts.append(f"<p class='warning'>{html.escape(summary['dbt_docs']['error'])}</p>")
    if morning.get("error"):
        parts.append(f"<p class='warning'>{html.escape(morning['error'])}</p>")
    elif morning:
        parts.append(render_morning(morning))
    parts += [
        "<h2>The night's run</h2>",
        "<table>",
        _rows(
            [
                ("outcome", summary.get("outcome")),
                (
                    "publish decision",
                    DECISION_WORDS.get(summary.get("publish_decision"), summary.get("publish_decision", "")),
                ),
                ("events loaded", load.get("events_loaded", "")),
                ("rows quarantined", load.get("rows_quarantined", "")),
                ("sessions (warehouse)", summary.get("sessions", "")),
                ("view sessions (warehouse)", summary.get("view_sessions", summary.get("views", ""))),
                ("started", summary.get("started_at", "")),
                ("updated", summary.get("updated_at", "")),
            ]
        ),
        "</table>",
    ]
    if load.get("quarantined_by_reason"):
        parts += ["<h2>Quarantined by reason</h2><table>", _rows(load["quarantined_by_reason"].items()), "</table>"]
    devices = summary.get("viewing_activity_devices") or {}
    if devices.get("error"):
        parts.append(f"<h2>Viewing-activity devices</h2><p class='warning'>{html.escape(devices['error'])}</p>")
    elif devices:
        parts += [
            "<h2>Viewing-activity sessions by device class</h2><table>",
            _rows(devices.get("sessions_by_device_type", {}).items()),
            "</table>",
        ]
        if devices.get("other_device_types"):
            parts += [
                "<h3 class='warning'>Device Types no rule classes (<code>other</code>)</h3><table>",
                _rows((model or "(empty)", n) for model, n in devices["other_device_types"].items()),
                "</table>",
            ]
    if audit.get("suites"):
        parts.append(
            "<h2>Audit</h2><table><tr><th>suite</th><th>table</th><th>rows validated</th><th>expectations</th>"
            "<th>failed errors</th><th>failed warnings</th></tr>"
        )
        for name, suite in sorted(audit["suites"].items()):
            parts.append(
                f"<tr><td>{html.escape(name)}</td><td>{html.escape(str(suite.get('table')))}</td>"
                f"<td>{'' if suite.get('rows') is None else suite['rows']}</td><td>{suite.get('evaluated')}</td>"
                f"<td>{suite.get('failed_errors')}</td>"
                f"<td>{suite.get('failed_warnings')}</td></tr>"
            )
        parts.append("</table>")
        for kind in ("errors", "warnings"):
            if audit.get(kind):
                parts.append(f"<h3 class='{kind[:-1]}'>{kind}</h3><ul>")
                parts += [f"<li class='{kind[:-1]}'>{html.escape(line)}</li>" for line in audit[kind]]
                parts.append("</ul>")
        if audit.get("data_docs"):
            parts.append("<p><a href='data_docs/index.html'>Great Expectations Data Docs</a></p>")
    if summary.get("restatements"):
        shown = summary.get("restated") or []
        parts.append(
            f"<h2>Restated figures</h2><p>This night changed {summary['restatements']} already-published "
            "title figure row(s) of <code>rpt_title_performance</code>"
            + (f" (the first {len(shown)} below)" if len(shown) < summary["restatements"] else "")
            + "; all of them, old and new values, are in <code>rewatch_restatements</code>.</p>"
            "<table><tr><th>title</th><th>window</th><th>why</th><th>starters before</th><th>starters after</th></tr>"
        )
        for row in shown:
            parts.append(
                f"<tr><td>{html.escape(str(row['title_id']))}</td><td>{html.escape(str(row['window_name']))}</td>"
                f"<td>{html.escape(', '.join(row['reasons']))}</td><td>{row['starters_before']}</td>"
                f"<td>{'' if row['starters_after'] is None else row['starters_after']}</td></tr>"
            )
        parts.append("</table>")
    if summary.get("error"):
        parts.append(f"<h2 class='error'>Failure in {html.escape(str(summary.get('failed_task')))}</h2>")
        parts.append(f"<pre>{html.escape(str(summary['error']))}</pre>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_index(settings: Settings) -> Path:
    """`reports/index.html`: every night's report, newest first, and the headline trend."""
    from rewatch.morning import render_index

    reports = [(folder.name, _read_or_empty(folder)) for folder in _night_folders(settings)]
    target = settings.reports_dir / "index.html"
    _atomic_write(target, render_index(reports, (settings.dbt_docs_dir / "index.html").exists()))
    return target
