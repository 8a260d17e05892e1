"""Incremental runs equal a full rebuild, whatever order nights are loaded and re-run in."""

from __future__ import annotations

import datetime as dt

import pytest

from rewatch import pipeline
from rewatch.build import rebuild
from rewatch.compare import PUBLISHED_TABLES, diff_warehouses
from rewatch.settings import get_settings
from tests.helpers import HOUSEHOLDS, PROFILES, TITLES, copy_published, event, published_connection, write_night

pytestmark = pytest.mark.slow
START = dt.date(2026, 3, 2)


def run_night(night: dt.date, audit: bool = False) -> dict:
    """One nightly run without Airflow: the same step functions the DAG's tasks call.

    These tests are about incremental equivalence, so the GX audit (about 15 s a night) runs
    only where asked: on the shuffled order with re-runs, where its change-scoped batches meet
    re-deliveries. The audit itself is tested in test_audit.py.
    """
    settings = get_settings()
    loaded = pipeline.load(night, settings)
    built = pipeline.build(night, settings)
    audited = pipeline.audit(night, settings) if audit else {"decision": "publish", "warnings": []}
    return pipeline.publish(night, loaded, built, audited, settings)


def assert_equals_rebuild(tmp_path):
    """The published lake the nights made equals a full rebuild of the same nights, table by table."""
    settings = get_settings()
    incremental = copy_published(settings, tmp_path / "incremental")
    rebuild(settings)
    diffs = diff_warehouses(incremental, settings.warehouse_dir)
    assert diffs == {table: (0, 0) for table in PUBLISHED_TABLES}


@pytest.mark.parametrize(
    "order",
    [(0, 1, 2), (2, 1, 0, 1), (1, 2, 0, 2, 0)],
    ids=["in-order", "reverse-then-rerun", "shuffled-with-reruns"],
)
def test_any_load_order_and_reruns_equal_a_full_rebuild(generated_small, tmp_path, monkeypatch, order):
    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(generated_small.out_dir))
    monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    for index in order:
        run_night(START + dt.timedelta(days=index), audit=order == (1, 2, 0, 2, 0))
    assert_equals_rebuild(tmp_path)

    # ... and equal the generator's ground truth (all three nights are in).
    con = published_connection(get_settings())
    truth = generated_small.truth_dir
    only_warehouse, only_truth = con.execute(
        f"""
        with warehouse as (select household_id, title_id, completions from fct_household_title_rewatches
                           where completions > 0),
             truth as (select household_id, title_id, count(*) as completions
                       from read_parquet('{truth}/cycles/*.parquet') where is_completed group by all)
        select (select count(*) from (from warehouse except all from truth)),
               (select count(*) from (from truth except all from warehouse))
        """
    ).fetchone()
    sessions = con.execute("select count(*) from fct_viewing_sessions").fetchone()[0]
    con.close()
    assert (only_warehouse, only_truth) == (0, 0)
    assert sessions == generated_small.sessions


def _heartbeats(prefix, start, minutes, first_position, device="dv1", step=60):
    base = dt.datetime.fromisoformat(start)
    rows = []
    for i in range(minutes + 1):
        at = base + dt.timedelta(seconds=step * i)
        kind = "play" if i == 0 else "heartbeat"
        rows.append(
            event(
                f"{prefix}{i:03d}",
                kind,
                at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                str(first_position + step * i),
                device=device,
                received=at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        )
    return rows


def test_a_late_event_merging_two_sessions_replaces_both(workdir, tmp_path):
    night1, night2 = START, START + dt.timedelta(days=1)
    # Night 1: 19:00-19:20 and 20:00-20:20 on one stream, a 40-minute gap: two sessions.
    first = _heartbeats("a", "2026-03-02T19:00:00", 20, 0)
    second = _heartbeats("c", "2026-03-02T20:00:00", 20, 3600)
    write_night(workdir.exports_dir, night1, first + second)
    # Night 2 delivers, late, the heartbeats of 19:21-19:59 (offline viewing): one session now.
    gap = _heartbeats("b", "2026-03-02T19:21:00", 38, 1260)
    gap[0][6] = "heartbeat"  # the player was already playing
    write_night(workdir.exports_dir, night2, gap)

    run_night(night1)
    con = published_connection(workdir)
    assert con.execute("select count(*) from fct_viewing_sessions").fetchone()[0] == 2
    con.close()
    run_night(night2)
    con = published_connection(workdir)
    rows = con.execute("select started_at, ended_at, played_seconds, event_count from fct_viewing_sessions").fetchall()
    daily = con.execute("select local_date, sessions from fct_title_daily").fetchall()
    con.close()
    assert rows == [(dt.datetime(2026, 3, 2, 19), dt.datetime(2026, 3, 2, 20, 20), 80 * 60.0, 81)]
    assert daily == [(dt.date(2026, 3, 2), 1)]
    assert_equals_rebuild(tmp_path)


def test_a_redelivered_event_with_other_content_first_delivery_wins_in_any_order(workdir, tmp_path):
    night1, night2 = START, START + dt.timedelta(days=1)
    original = _heartbeats("e", "2026-03-02T19:00:00", 10, 0)
    # The same event ids re-delivered a night later on another device: the first delivery wins.
    redelivered = _heartbeats("e", "2026-03-02T19:00:00", 10, 0, device="dv9")
    write_night(workdir.exports_dir, night1, original)
    write_night(workdir.exports_dir, night2, redelivered)
    run_night(night2)
    run_night(night1)
    con = published_connection(workdir)
    devices = con.execute("select distinct device_id from fct_viewing_sessions").fetchall()
    con.close()
    assert devices == [("dv1",)]
    assert_equals_rebuild(tmp_path)


def test_a_late_event_joins_the_session_before_it_within_the_gap_and_not_beyond(workdir, tmp_path):
    """Night 2 delivers late events 30 and 31 minutes after a published session's last event
    (19:20): the first continues that session (exactly the gap continues), the second starts its
    own. The run recomputes a stream from the session before the change only when that session
    ends within the gap of it (int_run_changes); both must equal a rebuild."""
    night1, night2 = START, START + dt.timedelta(days=1)
    write_night(
        workdir.exports_dir,
        night1,
        _heartbeats("a", "2026-03-02T19:00:00", 20, 0) + _heartbeats("b", "2026-03-02T19:00:00", 20, 0, device="dv2"),
    )
    late = [
        event("a-late", "heartbeat", "2026-03-02T19:50:00Z", "1260", received="2026-03-03T08:00:00Z"),
        event("b-late", "heartbeat", "2026-03-02T19:51:00Z", "1260", device="dv2", received="2026-03-03T08:00:00Z"),
    ]
    write_night(workdir.exports_dir, night2, late)
    run_night(night1)
    run_night(night2)
    con = published_connection(workdir)
    sessions = con.execute(
        "select device_id, started_at, event_count from fct_viewing_sessions order by device_id, started_at"
    ).fetchall()
    con.close()
    assert sessions == [
        ("dv1", dt.datetime(2026, 3, 2, 19), 22),
        ("dv2", dt.datetime(2026, 3, 2, 19), 21),
        ("dv2", dt.datetime(2026, 3, 2, 19, 51), 1),
    ]
    assert_equals_rebuild(tmp_path)


def test_an_event_id_reused_at_another_time_is_another_event_in_any_order(workdir, tmp_path):
    night1, night2 = START, START + dt.timedelta(days=1)
    # The same event ids a day later: an event is its event_id and event_ts (docs/metrics.md).
    write_night(workdir.exports_dir, night1, _heartbeats("e", "2026-03-02T19:00:00", 10, 0))
    write_night(workdir.exports_dir, night2, _heartbeats("e", "2026-03-03T19:00:00", 10, 0))
    run_night(night2)
    run_night(night1)
    con = published_connection(workdir)
    sessions = con.execute("select local_date, event_count from fct_viewing_sessions order by started_at").fetchall()
    con.close()
    assert sessions == [(dt.date(2026, 3, 2), 11), (dt.date(2026, 3, 3), 11)]
    assert_equals_rebuild(tmp_path)


def test_a_recut_a_moved_household_and_a_kids_flag_re_derive_what_they_describe(workdir, tmp_path):
    """Night 2 delivers no viewing of its own, only changed snapshots: a recut of tt1 (credits
    from 5100 s to 4000 s), household hh1 moved to Tokyo, profile pr1 now a kids profile. The
    sessions and cycles of night 1 they describe must change, and equal a rebuild."""
    night1, night2 = START, START + dt.timedelta(days=1)
    # 19:00 UTC: 14:00 in New York, 04:00 next day in Tokyo. 75 minutes to 4500 s: not the
    # whole film at credits 5100 (coverage 4500 < 90 % of 5100), the whole film at 4000.
    write_night(workdir.exports_dir, night1, _heartbeats("k", "2026-03-02T19:00:00", 75, 0))
    recut = [[*TITLES[0][:7], "4000", *TITLES[0][8:]], TITLES[1]]
    moved = [["hh1", "JP", "Asia/Tokyo"], HOUSEHOLDS[1]]
    kids = [["pr1", "hh1", "Alex", "true"], *PROFILES[1:]]
    write_night(workdir.exports_dir, night2, [], titles=recut, households=moved, profiles=kids)

    def published():
        con = published_connection(workdir)
        try:
            return (
                con.execute("select local_date, daypart, is_kids_profile from fct_viewing_sessions").fetchall(),
                con.execute(
                    "select content_end_seconds, is_completed, completed_local_date from fct_watch_cycles"
                ).fetchall(),
            )
        finally:
            con.close()

    run_night(night1)
    assert published() == ([(dt.date(2026, 3, 2), "school_hours", False)], [(5100, False, None)])
    run_night(night2)
    sessions, cycles = published()
    assert sessions == [(dt.date(2026, 3, 3), "overnight", True)]
    assert cycles == [(4000, True, dt.date(2026, 3, 3))]
    assert_equals_rebuild(tmp_path)
