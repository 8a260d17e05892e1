"""The nightly pipeline's steps, one function per DAG task (no Airflow imports here).

Each step takes the night and returns a JSON-able dict (the task's XCom), so the DAG file is
only wiring, and every step can be called and tested without Airflow.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from rewatch import progress
from rewatch.contract import MANIFEST_NAME, check_night, night_dir, parse_date
from rewatch.errors import PermanentError
from rewatch.settings import Settings, get_settings
from rewatch.stopping import stoppable


@contextmanager
def _writing(settings: Settings, what: str):
    """The warehouse's writer lock for a step (waits for another writer; re-entrant under `rewatch
    run`); SIGTERM and SIGINT stop the step (`stopping.Stopped`), even inside an Airflow task."""
    from rewatch.build import published_fingerprint
    from rewatch.lock import writer_lock

    published = partial(published_fingerprint, settings)
    with progress.step(what), stoppable(what, published), writer_lock(settings.warehouse_dir, what, wait=None):
        yield


def night_of(data_interval_start: dt.datetime | dt.date | str) -> dt.date:
    """The export night a run processes: the UTC date its data interval starts on."""
    if isinstance(data_interval_start, dt.datetime):
        return data_interval_start.astimezone(dt.UTC).date()
    return parse_date(data_interval_start)


def export_ready(night: dt.date, settings: Settings | None = None) -> bool:
    """The night is complete once its manifest exists (the exporter writes it last)."""
    settings = settings or get_settings()
    return (night_dir(settings.exports_dir, night) / MANIFEST_NAME).is_file()


def poke_export(night: dt.date, settings: Settings | None = None) -> bool:
    """The export sensor's poke: `export_ready`, and at the first poke that finds no export, one
    line for the person watching saying what the run waits for (the CLI's check before a run,
    which does not wait, asks `export_ready` alone)."""
    from rewatch.stopping import rearm

    rearm()  # a signal while the run waits for the export stops it (stopping.rearm)
    settings = settings or get_settings()
    ready = export_ready(night, settings)
    if not ready and night not in _told_waiting:
        _told_waiting.add(night)
        wait = export_wait()
        manifest = night_dir(settings.exports_dir, night) / MANIFEST_NAME
        progress.note(
            f"night {night}: no export yet; waiting up to {wait} for {manifest} "
            f"(looking every {export_poke_seconds(wait):.0f}s; Ctrl-C stops)"
        )
    return ready


# The nights this process has said it waits for (once each, not at every poke).
_told_waiting: set[dt.date] = set()


def export_wait() -> dt.timedelta:
    """How long a run waits for a night's export (`REWATCH_EXPORT_WAIT_HOURS`, 6 by default)."""
    return dt.timedelta(hours=float(os.environ.get("REWATCH_EXPORT_WAIT_HOURS") or "6"))


def load(night: dt.date, settings: Settings | None = None) -> dict:
    """Load the night's export into the raw zone (the first step: it starts the night's report)."""
    from rewatch.load import load_night
    from rewatch.report import activity_devices, start_report, update_report

    settings = settings or get_settings()
    check_night(night)  # a run for a night outside [2007-01-01, tomorrow] fails here, before any write
    with _writing(settings, f"load of night {night}"):
        start_report(settings, night)
        summary = load_night(settings.exports_dir, settings.raw_dir, night).as_dict()
        progress.detail(load_detail(summary))
        # The night's viewing-activity sessions by device class (`other`: a Device Type no rule knows).
        update_report(settings, night, load=summary, viewing_activity_devices=activity_devices(settings, night))
    return summary


def load_detail(summary: dict) -> str:
    """A load's result in a few words (its summary: `LoadResult.as_dict()`)."""
    if summary.get("status") == "already_loaded":
        return "this delivery was already loaded (nothing read again)"
    activity = summary.get("activity_sessions_loaded") or 0
    quarantined = summary.get("rows_quarantined") or 0
    return (
        f"{summary.get('events_loaded', 0):,} events"
        + (f" and {activity:,} viewing-activity sessions" if activity else "")
        + f" loaded, {quarantined:,} row{'' if quarantined == 1 else 's'} quarantined"
    )


def build(night: dt.date, settings: Settings | None = None) -> dict:
    from rewatch.build import build_night
    from rewatch.rawzone import restore_accepted
    from rewatch.report import update_report

    settings = settings or get_settings()
    with _writing(settings, f"build of night {night}"):
        try:
            result = build_night(settings, night)
        except PermanentError:
            restore_accepted(settings.raw_dir, night)  # a refused delivery is never read again
            raise
        summary = {
            "night": night.isoformat(),
            "dbt_nodes": result.nodes,
            "dbt_seconds": round(result.seconds, 2),
            "published_base": result.base,  # publish refuses if another writer replaced the file meanwhile
        }
        progress.detail(f"{result.nodes} dbt models, seeds and tests")
        update_report(settings, night, build=summary)
    return summary


def audit(night: dt.date, settings: Settings | None = None) -> dict:
    """Validate the night's raw load and the built file; refuse the night on any error.

    On refusal the candidate file is removed and nothing is published; the night's last accepted
    delivery (if it was ever published) replaces the refused one in the raw zone, so no later
    build reads refused data. Re-running the night after the export is fixed publishes it.
    """
    from rewatch.audit import AuditError
    from rewatch.audit import audit as run_audit
    from rewatch.build import BuildError, candidate_path, discard_candidate
    from rewatch.rawzone import restore_accepted
    from rewatch.report import report_dir, update_report

    settings = settings or get_settings()
    with _writing(settings, f"audit of night {night}"):
        candidate = candidate_path(settings, night)
        if not candidate.exists():
            raise BuildError(
                f"{candidate}: no built warehouse to audit for night {night} (its build failed or was discarded); "
                "run the night's build again (clear its build task, or re-run the night)"
            )
        result = run_audit(settings, night, candidate, report_dir(settings, night) / "data_docs")
        summary = result.as_dict()
        update_report(settings, night, audit=summary)
        progress.detail(audit_detail(summary))
        if result.errors:
            discard_candidate(settings, night)
            # The night's last accepted delivery (if any) replaces the refused one in the raw
            # zone: no later build, incremental or rebuild, reads refused data.
            restored = restore_accepted(settings.raw_dir, night)
            update_report(
                settings, night, outcome="refused", publish_decision="refused", raw_restored_to_accepted=restored
            )
            raise AuditError(result.error_message())
    return summary


def audit_detail(summary: dict) -> str:
    """An audit's result in a few words (its summary: `AuditResult.as_dict()`)."""
    suites = summary.get("suites") or {}
    checked = sum(suite.get("evaluated") or 0 for suite in suites.values())
    errors, warnings = len(summary.get("errors") or []), len(summary.get("warnings") or [])
    verdict = (
        f"refused ({errors} error(s))" if errors else "passed" + (f" with {warnings} warning(s)" if warnings else "")
    )
    return f"{checked} expectations in {len(suites)} suites: {verdict}"


# The restated figures a night's report lists (all of them are in rewatch_restatements).
RESTATEMENTS_SHOWN = 20


def publish(
    night: dt.date,
    load_summary: dict,
    build_summary: dict,
    audit_summary: dict,
    settings: Settings | None = None,
) -> dict:
    """Move the audited file into place and complete the night's report."""
    from rewatch.audit import AuditError
    from rewatch.build import UNCHECKED
    from rewatch.build import publish as publish_file
    from rewatch.lake import open_published
    from rewatch.rawzone import accept_night
    from rewatch.report import update_report, warehouse_counts

    settings = settings or get_settings()
    if audit_summary.get("decision") not in ("publish", "publish_with_warnings"):
        raise AuditError(
            f"night {night}: the audit did not pass ({audit_summary.get('decision')}); not publishing. "
            "Fix the export and re-run the night."
        )
    summary = {
        "night": night.isoformat(),
        "load": load_summary,
        "build": build_summary,
        "audit": {k: audit_summary.get(k) for k in ("decision", "warnings", "seconds")},
    }
    base = build_summary.get("published_base", UNCHECKED)
    with _writing(settings, f"publish of night {night}"):
        # Audited: this delivery becomes the night's accepted one (before the replace, so a
        # published night always has its delivery kept).
        accept_night(settings.raw_dir, night)
        published = publish_file(settings, night, summary, base=base)
        # One read-only connection, pinned to the night just published, for its counts and its
        # morning page (each connection attaches the lake: a third of a second).
        reader = open_published(settings)
        try:
            counts = warehouse_counts(reader)
            morning = _morning(reader, settings, night)
        finally:
            reader.close()
        restated = published.restatements
        progress.detail(
            f"{counts.get('sessions', 0):,} sessions in the warehouse"
            + (f", {len(restated):,} published figures restated" if restated else "")
        )
        outcome = "published with warnings" if audit_summary["decision"] == "publish_with_warnings" else "published"
        report = update_report(
            settings,
            night,
            **counts,
            published_lake=published.lake.describe(),
            restatements=len(restated),
            restated=[{**r, "reasons": list(r["reasons"])} for r in restated[:RESTATEMENTS_SHOWN]],
            outcome=outcome,
            publish_decision=audit_summary["decision"],
            morning=morning,
            dbt_docs=_dbt_docs(settings),
        )
        _write_reports_index(settings)
        return report


def _morning(reader, settings: Settings, night: dt.date) -> dict:
    """The morning page's figures of a published night. The night is published already: a
    figure that cannot be read is reported on the page, never a failed night."""
    import duckdb

    from rewatch.morning import morning_figures
    from rewatch.report import previous_headline

    try:
        figures = morning_figures(reader, night)
    except duckdb.Error as exc:
        return {"error": f"the morning figures could not be read from the published lake: {str(exc).splitlines()[0]}"}
    figures["previous"] = previous_headline(settings, night)
    return figures


def _dbt_docs(settings: Settings) -> dict:
    """dbt's documentation page of the warehouse, generated when the project changed. The
    night is published already: a page that cannot be written is reported, never a failed night."""
    import duckdb

    from rewatch.build import publish_docs

    progress.tell("publish: dbt's documentation page (generated only when the project changed)")
    try:
        return {"page": str(publish_docs(settings))}
    except (PermanentError, OSError, duckdb.Error) as exc:
        logging.getLogger(__name__).warning("dbt docs could not be written: %s", exc)
        return {"error": f"dbt's documentation could not be written: {str(exc).strip().splitlines()[0]}"}


def _write_reports_index(settings: Settings) -> None:
    from rewatch.report import write_index

    try:
        write_index(settings)
    except OSError as exc:
        logging.getLogger(__name__).warning("the reports index could not be written: %s", exc)


def rebuild(settings: Settings | None = None, kind: str = "rebuild") -> dict:
    """Rebuild every table from the published nights' raw data, audit it, and publish it
    (`kind` erasure: after `rewatch forget`, as the restatement log records it)."""
    from rewatch.audit import AuditError
    from rewatch.audit import audit as run_audit
    from rewatch.build import rebuild as rebuild_warehouse
    from rewatch.rawzone import accept_night
    from rewatch.report import report_dir, start_report, update_report

    settings = settings or get_settings()

    def audit_candidate(candidate: Path) -> dict:
        result = run_audit(settings, None, candidate, report_dir(settings, None) / "data_docs")
        summary = result.as_dict()
        update_report(settings, None, audit=summary, publish_decision=result.decision)
        if result.errors:
            raise AuditError(result.error_message())
        return {k: summary[k] for k in ("decision", "warnings", "seconds")}

    with _writing(settings, "rebuild"):
        start_report(settings, None)
        summary = rebuild_warehouse(settings, audit=audit_candidate, kind=kind)
        for night in summary["nights"]:  # what the rebuild published is what each night accepted
            accept_night(settings.raw_dir, dt.date.fromisoformat(night))
        update_report(settings, None, outcome="published", nights=summary["nights"], dbt_docs=_dbt_docs(settings))
        progress.detail(f"{len(summary['nights']):,} nights rebuilt, audited and published")
    return summary


def maintain(settings: Settings | None = None, keep_nights: int | None = None) -> dict:
    """Compact the lake, expire snapshots beyond the last `keep_nights` nightly publishes
    (default `REWATCH_KEEP_NIGHTS`, 90) and remove unneeded files (src/rewatch/maintain.py)."""
    from rewatch.maintain import keep_nights_setting
    from rewatch.maintain import maintain as run_maintain

    settings = settings or get_settings()
    with _writing(settings, "maintenance"):
        return run_maintain(settings, keep_nights or keep_nights_setting()).as_dict()


def record_failure(night: dt.date, task_id: str, error: str, settings: Settings | None = None) -> Path:
    """Append a structured alert (one JSON line) and mark the night's report as failed."""
    from rewatch.report import read_report, update_report

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
    fields = {"failed_task": task_id, "error": error}
    if read_report(settings, night).get("outcome") != "refused":  # a refusal says more than "failed"
        fields.update(outcome="failed", publish_decision="not published")
    update_report(settings, night, **fields)
    post_webhook(alert)
    return alerts


WEBHOOK_ENV = "REWATCH_ALERT_WEBHOOK_URL"


def post_webhook(alert: dict, url: str | None = None, timeout: float = 10.0) -> bool:
    """POST the alert as JSON to `$REWATCH_ALERT_WEBHOOK_URL` when set (Slack-style `text` included).

    Best effort: the alert is already in alerts.jsonl; a webhook that is down must not hide
    the run's real error, so a failure to deliver is logged, not raised.
    """
    import logging
    import urllib.error
    import urllib.request

    url = url or os.environ.get(WEBHOOK_ENV)
    if not url:
        return False
    if not url.startswith(("https://", "http://")):
        logging.getLogger(__name__).warning("%s must be an http(s) URL; alert not posted", WEBHOOK_ENV)
        return False
    first_line = (alert.get("error") or "").splitlines()[:1]
    body = {
        **alert,
        "text": f"rewatch {alert['night']} failed at {alert['task_id']}: {first_line[0] if first_line else ''}",
    }
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError) as exc:
        logging.getLogger(__name__).warning("alert webhook %s failed: %s", url, exc)
        return False


def export_poke_seconds(wait: dt.timedelta) -> float:
    """How often the export sensor looks for a night's manifest: every 5 minutes over the
    6-hour default, a twentieth of a shorter wait (at least each second), so that a short
    wait ends when it says, not at the next 5-minute poke."""
    return min(300.0, max(1.0, wait.total_seconds() / 20))


def export_missing_message(night: dt.date, waited: dt.timedelta, settings: Settings | None = None) -> str:
    """What the export sensor says when it gives up."""
    settings = settings or get_settings()
    manifest = night_dir(settings.exports_dir, night) / MANIFEST_NAME
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"no export for {night} by {now}: waited {dt.timedelta(seconds=round(waited.total_seconds()))} "
        f"for {manifest}. Check the exporter; "
        f"once the night's files and manifest are there, re-run the night (`rewatch run --date {night}`; "
        "on a deployment, clear this task in Airflow)."
    )
