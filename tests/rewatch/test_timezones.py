"""Published tables do not depend on the machine's or DuckDB's time zone, and local days of
23 and 25 hours (DST changes in the household's zone) are handled by the household's zone."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from rewatch import pipeline
from rewatch.compare import diff_warehouses
from rewatch.settings import PUBLISHED_TABLES, get_settings
from tests.helpers import event, published_connection, write_night

SPRING = dt.date(2026, 3, 8)  # New York: 02:00 EST -> 03:00 EDT, a 23-hour day
AUTUMN = dt.date(2026, 11, 1)  # New York: 02:00 EDT -> 01:00 EST, a 25-hour day


def _session(prefix, start_utc: str, minutes=10):
    base = dt.datetime.fromisoformat(start_utc)
    rows = []
    for i in range(minutes + 1):
        at = (base + dt.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(event(f"{prefix}{i:02d}", "play" if i == 0 else "heartbeat", at, str(60 * i), received=at))
    return rows


def _nights(exports):
    # Spring: 06:30 UTC is 01:30 EST, 07:30 UTC is 03:30 EDT (02:xx never happens that day).
    write_night(exports, SPRING, _session("s1", "2026-03-08T06:30:00") + _session("s2", "2026-03-08T07:30:00"))
    # Autumn: 05:30 UTC is 01:30 EDT, 06:30 UTC is 01:30 EST: the same local hour twice.
    write_night(exports, AUTUMN, _session("a1", "2026-11-01T05:30:00") + _session("a2", "2026-11-01T06:30:00"))


@pytest.fixture
def restore_tz(monkeypatch):
    yield monkeypatch
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("zones", [("America/New_York", "Asia/Kolkata")])
def test_published_tables_are_the_same_in_any_machine_time_zone(tmp_path, restore_tz, zones):
    monkeypatch = restore_tz
    published = []
    for zone in zones:
        monkeypatch.setenv("TZ", zone)  # the machine's zone, and DuckDB's default session zone
        time.tzset()
        monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(tmp_path / zone / "exports"))
        monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(tmp_path / zone / "warehouse"))
        settings = get_settings()
        _nights(settings.exports_dir)
        for night in (SPRING, AUTUMN):
            loaded = pipeline.load(night, settings)
            built = pipeline.build(night, settings)
            pipeline.publish(night, loaded, built, {"decision": "publish", "warnings": []}, settings)
        published.append(settings.warehouse_dir)
        con = published_connection(settings)
        try:
            local = con.execute(
                "select local_started_at, local_date, daypart from fct_viewing_sessions order by started_at"
            ).fetchall()
        finally:
            con.close()
        assert local == [
            (dt.datetime(2026, 3, 8, 1, 30), SPRING, "overnight"),
            (dt.datetime(2026, 3, 8, 3, 30), SPRING, "overnight"),
            (dt.datetime(2026, 11, 1, 1, 30), AUTUMN, "overnight"),
            (dt.datetime(2026, 11, 1, 1, 30), AUTUMN, "overnight"),
        ], zone
    assert diff_warehouses(*published) == {table: (0, 0) for table in PUBLISHED_TABLES}
