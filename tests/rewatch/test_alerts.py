"""Failure alerts: a JSON line in reports/alerts.jsonl, the night's report, an optional webhook."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from rewatch import pipeline
from rewatch.report import read_report

NIGHT = dt.date(2026, 3, 3)


@pytest.fixture
def webhook():
    """A local HTTP endpoint that records what is POSTed to it."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_a_failure_writes_an_alert_line_marks_the_report_and_posts_the_webhook(workdir, webhook, monkeypatch):
    url, received = webhook
    monkeypatch.setenv(pipeline.WEBHOOK_ENV, url)
    pipeline.record_failure(NIGHT, "load_raw", "playback_events.csv: sha256 does not match the manifest\nmore")

    alert = json.loads((workdir.reports_dir / "alerts.jsonl").read_text().splitlines()[-1])
    assert alert["night"] == "2026-03-03" and alert["task_id"] == "load_raw"
    report = read_report(workdir, NIGHT)
    assert report["outcome"] == "failed" and report["failed_task"] == "load_raw"
    assert len(received) == 1
    assert received[0]["task_id"] == "load_raw"
    assert received[0]["text"] == (
        "rewatch 2026-03-03 failed at load_raw: playback_events.csv: sha256 does not match the manifest"
    )


def test_a_webhook_that_is_down_does_not_hide_the_alert(workdir, monkeypatch):
    monkeypatch.setenv(pipeline.WEBHOOK_ENV, "http://127.0.0.1:9/unreachable")
    pipeline.record_failure(NIGHT, "dbt_build", "boom")
    assert "boom" in (workdir.reports_dir / "alerts.jsonl").read_text()


def test_a_non_http_webhook_is_refused(workdir):
    assert pipeline.post_webhook({"night": "2026-03-03", "task_id": "x"}, url="file:///etc/passwd") is False


def test_a_refused_night_stays_refused_in_its_report(workdir):
    from rewatch.report import start_report, update_report

    start_report(workdir, NIGHT)
    update_report(workdir, NIGHT, outcome="refused")
    pipeline.record_failure(NIGHT, "audit", "Audit refused 2026-03-03")
    assert read_report(workdir, NIGHT)["outcome"] == "refused"


def test_the_export_sensor_timeout_says_which_night_is_missing_and_what_to_do(workdir):
    message = pipeline.export_missing_message(NIGHT, dt.timedelta(hours=6), workdir)
    assert message.startswith("no export for 2026-03-03 by ")
    assert str(workdir.exports_dir / "2026-03-03" / "_manifest.json") in message
    assert "waited 6:00:00" in message and "re-run the night" in message
