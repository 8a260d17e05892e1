"""dbt's unit tests (dbt_project/models/_unit_tests.yml): one per metric rule, run for real."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from rewatch.build import SHARED_PARSE_CACHE, check_previous_state, dbt_run_dir, parse_cache_path, run_dbt
from tests.conftest import copy_of_first_night

pytestmark = pytest.mark.slow
RULES = {
    "session_gap_of_exactly_30_minutes_continues_31_splits",
    "session_stop_then_play_starts_a_new_session",
    "session_pause_inside_counts_no_playback",
    "session_seek_counts_time_not_the_jump",
    "session_late_event_merges_two_sessions",
    "session_duplicate_event_id_first_delivery_wins",
    "session_leaves_out_superseded_deliveries",
    "session_event_id_reused_at_another_time_is_another_event",
    "recompute_from_the_session_before_only_within_the_gap",
    "session_reads_published_deliveries_and_a_redelivered_night_replaces_its_own",
    "cycle_seek_to_the_end_is_not_finishing",
    "cycle_resume_on_another_device_continues_and_completes",
    "cycle_restart_after_completion_starts_a_new_cycle",
    "cycle_scene_replay_after_completion_continues_the_cycle",
    "cycle_sampling_then_starting_again_is_one_cycle",
    "cycle_title_missing_from_the_catalog_has_no_cycles",
    "titles_content_end_is_credits_or_runtime",
    "rewatches_count_completions_beyond_the_first_over_all_profiles",
    "session_local_time_and_daypart_follow_the_household_zone_or_none",
    "title_performance_counts_completers_among_the_windows_starters",
    "audience_performance_counts_each_audiences_own_views_and_completions",
    "windows_add_this_runs_sessions_and_completions_less_the_replaced",
    "window_is_complete_only_when_every_local_date_is_delivered_in_every_zone",
    "a_local_date_is_observed_when_its_night_and_both_neighbours_are_processed",
    "staying_power_counts_households_by_day_since_release_and_rolls_7_observed_days",
    "longevity_keeps_week4_against_week1_and_halves_from_the_7_day_peak",
    "habits_count_local_days_school_days_and_the_time_between_completions",
    "season_progress_completes_when_every_episode_is_and_counts_its_binge_days",
    "season_rows_change_with_a_changed_pair_or_a_changed_season",
    "season_performance_counts_starters_of_the_window_and_completers_by_its_end",
}


@pytest.fixture(scope="module")
def built_warehouse(first_night, generated_small, tmp_path_factory):
    """A lake with one generated night published: the previous state the unit tests run against
    (dbt reads the `published*` sources' column types from it)."""
    mp = pytest.MonkeyPatch()
    settings = copy_of_first_night(first_night, generated_small, tmp_path_factory.mktemp("unit") / "warehouse", mp)
    yield settings
    mp.undo()


def _unit_results(settings, extra_vars: dict) -> dict[str, str]:
    """dbt's unit tests, run as a night runs: in an empty scratch database, with the published
    lake attached read-only as `published` (the state before the run). dbt reads the inputs'
    column types from the relations, so the seeds and models are created first, empty (`--empty`)."""
    database = settings.build_dir / "unit.duckdb"
    for leftover in (database, database.with_name(database.name + ".wal")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(dbt_run_dir(database), ignore_errors=True)
    previous = check_previous_state(settings)
    nights = [dt.date(2026, 3, 2)]
    empty = run_dbt(
        settings,
        database,
        ["build", "--empty", "--resource-type", "seed", "--resource-type", "model"],
        nights,
        previous,
        vars_=extra_vars,
        parse_cache=parse_cache_path(settings),
    )
    assert empty.returncode == 0, empty.stdout[-3000:]
    proc = run_dbt(
        settings,
        database,
        ["test", "--select", "test_type:unit"],
        nights,
        previous,
        vars_=extra_vars,
        parse_cache=parse_cache_path(settings),
    )
    results = json.loads((dbt_run_dir(database) / "target" / "run_results.json").read_text())
    statuses = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in results["results"]}
    assert statuses, proc.stdout[-3000:]
    return statuses


def test_every_rule_has_a_passing_unit_test(built_warehouse):
    statuses = _unit_results(built_warehouse, {})
    assert set(statuses) >= RULES
    assert {name: status for name, status in statuses.items() if status != "pass"} == {}


def test_unit_tests_catch_a_changed_rule(built_warehouse):
    # The same tests, with the session gap shortened to 29 minutes and the bar for "unstoppable"
    # raised above the 0.875 its test title keeps: both rules must fail.
    caches = (parse_cache_path(built_warehouse), SHARED_PARSE_CACHE)
    saved_parses = [path.read_bytes() if path.exists() else None for path in caches]
    statuses = _unit_results(
        built_warehouse, {"rewatch__session_gap_minutes": 29, "rewatch__unstoppable_week4_to_week1": 0.9}
    )
    assert statuses["session_gap_of_exactly_30_minutes_continues_31_splits"] == "fail"
    assert statuses["longevity_keeps_week4_against_week1_and_halves_from_the_7_day_peak"] == "fail"
    # A run with other variables (or another database name) keeps the nights' saved parse: dbt
    # would parse the whole project again at the next night's build.
    assert [path.read_bytes() if path.exists() else None for path in caches] == saved_parses
