"""The nightly pipeline's steps, one function per DAG task (no Airflow imports here).

Each step takes the night and returns a JSON-able dict (the task's XCom), so the DAG file is
only wiring, and every step can be called and tested without Airflow.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from rewatch.contract import MANIFEST_NAME, night_dir, parse_date
from rewatch.settings import Settings, get_settings


def night_of(data_interval_start: dt.datetime | dt.date | str) -> dt.date:
    """The export night a run processes: the UTC date its data interval starts on."""
    if isinstance(data_interval_start, dt.datetime):
        return data_interval_start.astimezone(dt.UTC).date()
    return parse_date(data_interval_start)


def export_ready(night: dt.date, settings: Settings | None = None) -> bool:
    """The night is complete once its manifest exists (the exporter writes it last)."""
    settings = settings or get_settings()
    return (night_dir(settings.exports_dir, night) / MANIFEST_NAME).is_file()


def load(night: dt.date, settings: Settings | None = None) -> dict:
    from rewatch.load import load_night

    settings = settings or get_settings()
    return load_night(settings.exports_dir, settings.raw_dir, night).as_dict()


def build(night: dt.date, settings: Settings | None = None) -> dict:
    from rewatch.build import build_night

    settings = settings or get_settings()
    result = build_night(settings, night)
    return {"night": night.isoformat(), "dbt_nodes": result.nodes, "dbt_seconds": round(result.seconds, 2)}


def publish(night: dt.date, load_summary: dict, build_summary: dict, settings: Settings | None = None) -> dict:
    """Move the built file into place and write the night's report."""
    from rewatch.build import publish as publish_file
    from rewatch.report import warehouse_counts, write_report

    settings = settings or get_settings()
    summary = {"night": night.isoformat(), "load": load_summary, "build": build_summary}
    path = publish_file(settings, night, summary)
    summary.update(warehouse_counts(path))
    summary["published_path"] = str(path)
    summary["outcome"] = "published"
    write_report(settings, night, summary)
    return summary


def record_failure(night: dt.date, task_id: str, error: str, settings: Settings | None = None) -> Path:
    """Append a structured alert (one JSON line) and mark the night's report as failed."""
    from rewatch.report import write_report

    settings = settings or get_settings()
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    alert = {
        "night": night.isoformat(),
        "task_id": task_id,
        "error": error,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    alerts = settings.reports_dir / "alerts.jsonl"
    with alerts.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(alert, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    write_report(
        settings, night, {"night": night.isoformat(), "outcome": "failed", "failed_task": task_id, "error": error}
    )
    return alerts
