"""Incremental runs on hand-written nights, one scenario each: every result equals a full
rebuild (the generated-data equivalence tests are in test_incremental.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers import HOUSEHOLDS, PROFILES, TITLES, event, published_connection, write_night
from tests.rewatch.test_incremental import START, assert_equals_rebuild, run_night

pytestmark = pytest.mark.slow


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


def test_a_reused_event_id_and_a_household_a_redelivered_night_no_longer_lists_in_any_order(workdir, tmp_path):
    """Night 2 repeats night 1's event ids a day later: an event is its event_id and event_ts
    (docs/metrics.md), so both count, in any order. Night 2 also moves hh1 to Tokyo; delivered
    again without hh1 (a corrected export), it leaves night 1's New York as hh1's latest
    snapshot, read back from the raw zone (a run reads the published households and its own
    night's, not every night's: int_households_latest). One scenario for both: each run costs."""
    night1, night2 = START, START + dt.timedelta(days=1)
    write_night(workdir.exports_dir, night1, _heartbeats("e", "2026-03-02T19:00:00", 10, 0))
    night2_events = _heartbeats("e", "2026-03-03T19:00:00", 10, 0)
    write_night(workdir.exports_dir, night2, night2_events, households=[["hh1", "JP", "Asia/Tokyo"], HOUSEHOLDS[1]])
    run_night(night2)
    run_night(night1)

    def published():
        con = published_connection(workdir)
        try:
            return (
                con.execute(
                    "select household_id, timezone_name, last_seen_export_date from dim_households order by 1"
                ).fetchall(),
                con.execute("select local_date, event_count from fct_viewing_sessions order by started_at").fetchall(),
            )
        finally:
            con.close()

    # 19:00 UTC is 04:00 the next day in Tokyo, 14:00 the same day in New York.
    households, sessions = published()
    assert households[0] == ("hh1", "Asia/Tokyo", night2)
    assert sessions == [(dt.date(2026, 3, 3), 11), (dt.date(2026, 3, 4), 11)]
    write_night(workdir.exports_dir, night2, night2_events, households=[HOUSEHOLDS[1]])
    run_night(night2)
    households, sessions = published()
    assert households == [("hh1", "America/New_York", night1), ("hh2", "Asia/Tokyo", night2)]
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
