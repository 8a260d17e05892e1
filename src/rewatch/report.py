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
