"""The viewing-activity feed end to end: import a member's download, load, build, audit,
publish, and check the published tables against an independent count of the file.

One warehouse for the module (two nights and a rebuild, ~2 min):
- night 1: both trimmed real excerpts (households hh-iso, hh-ss) and a hand-made download
  (hh-c) with a film the catalog does not know yet, its trailer, an unreadable row and a title
  whose every Bookmark is 0;
- night 2: the catalog now lists that film (runtime 6000 s), plus the full real files
  (hh-iso-full, hh-ss-full) when ../shared is present.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt

import duckdb
import pytest
from typer.testing import CliRunner

from rewatch.build import rebuild
from rewatch.cli import app
from rewatch.compare import diff_warehouses
from rewatch.load import load_night
from rewatch.netflix import COLUMNS, import_download
from rewatch.rawzone import partition_path
from rewatch.settings import Settings, get_settings
from tests.helpers import copy_published, publish_night, published_connection, write_night
from tests.rewatch.test_netflix import FIXTURES, NAMES, SHARED, independent_totals

NIGHT_1 = dt.date(2026, 3, 1)
NIGHT_2 = dt.date(2026, 3, 2)
FILM_X = ["tx", "Film X", "movie", "", "", "", "6000", "5700", "PG", "false", "2026-02-01"]
HAND_MADE = [
    ["Sam", "2026-02-27 18:00:00", "0:50:00", "", "Film X", "", "Apple iPad Air", "0:50:00", "Not latest view", "GB"],
    ["Sam", "2026-02-27 17:58:00", "0:01:30", "Autoplayed: user action: None; ", "Film X (Trailer)", "TRAILER",
     "Apple iPad Air", "0:01:30", "0:01:30", "GB"],
    ["Sam", "2026-02-28 18:00:00", "fifty minutes", "", "Film X", "", "Apple iPad Air", "0:50:00", "0:50:00", "GB"],
    ["Sam", "2/28/2026 19:00", "0:50:00", "", "Film X", "", "Sony PS4", "0:50:00", "0:50:00", "GB"],
    # Opened and never advanced: every Bookmark 0 (no runtime to estimate), 2.5 min on screen.
    ["Sam", "2026-02-28 21:00:00", "0:02:30", "", "Clip Never Advanced", "", "Sony PS4", "0:00:00", "0:00:00", "GB"],
]  # fmt: skip
# A household that lived in the US (several zones: its household zone, New York) and then in
# the UK (one zone): each row is placed by its own Country where that country has one zone.
MOVED = [
    ["Ana", "2026-02-25 02:30:00", "0:40:00", "", "Film Y", "", "Apple iPad Air", "0:40:00", "Not latest view", "US (United States)"],
    ["Ana", "2026-02-26 02:30:00", "0:40:00", "", "Film Y", "", "Apple iPad Air", "0:40:00", "Not latest view", "US (United States)"],
    ["Ana", "2026-02-28 02:30:00", "0:40:00", "", "Film Y", "", "Apple iPad Air", "0:40:00", "0:40:00", "GB (United Kingdom)"],
]  # fmt: skip
# Ties and inconsistencies. A download lists each profile's rows newest first, and a
# spreadsheet-saved Start Time has no seconds: Di's two Film T rows share 19:00, the lower line
# (the opening 2 minutes) came first, then the rest from 4:00 -> one cycle, completed. Kim's
# lines are the other way round -> the rest came first, then a restart from 0 -> two cycles.
# `Clip K` comes once as a HOOK and once without its Supplemental Video Type: a clip both times.
TIES = [
    ["Di", "2/28/2026 19:00", "0:46:00", "", "Film T", "", "Apple iPad Air", "0:50:00", "0:50:00", "GB"],
    ["Di", "2/28/2026 19:00", "0:02:00", "", "Film T", "", "Apple iPad Air", "0:02:00", "Not latest view", "GB"],
    ["Kim", "2/28/2026 19:00", "0:02:00", "", "Film T", "", "Apple iPad Air", "0:02:00", "Not latest view", "GB"],
    ["Kim", "2/28/2026 19:00", "0:46:00", "", "Film T", "", "Apple iPad Air", "0:50:00", "0:50:00", "GB"],
    ["Lee", "2/27/2026 10:00", "0:03:00", "", "Clip K", "HOOK", "Apple iPad Air", "0:03:00", "0:03:00", "GB"],
    ["Lee", "2/26/2026 10:00", "0:03:00", "", "Clip K", "", "Apple iPad Air", "0:03:00", "Not latest view", "GB"],
]  # fmt: skip


def _published(settings, sql, params=()):
    con = published_connection(settings)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def feed(tmp_path_factory):
    root = tmp_path_factory.mktemp("activity")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REWATCH_EXPORTS_DIR", str(root / "exports"))
        mp.setenv("REWATCH_WAREHOUSE_DIR", str(root / "warehouse"))
        settings = get_settings()
        exports = settings.exports_dir
        downloads = {"hh-iso": FIXTURES / NAMES[0], "hh-ss": FIXTURES / NAMES[1]}
        imports = {h: import_download(p, h, exports, night=NIGHT_1) for h, p in downloads.items()}
        hand_made = root / "hand_made.csv"
        with hand_made.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([COLUMNS, *HAND_MADE])
        imports["hh-c"] = import_download(hand_made, "hh-c", exports, night=NIGHT_1, timezone="Europe/London")
        downloads["hh-c"] = hand_made
        moved = root / "moved.csv"
        with moved.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([COLUMNS, *MOVED])
        imports["hh-moved"] = import_download(moved, "hh-moved", exports, night=NIGHT_1)
        ties = root / "ties.csv"
        with ties.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([COLUMNS, *TIES])
        imports["hh-ties"] = import_download(ties, "hh-ties", exports, night=NIGHT_1)

        night_1 = publish_night(settings, NIGHT_1)
        # The lake as night 1 left it (a warehouse directory of its own).
        after_night_1 = copy_published(settings, root / "after_night_1")

        write_night(exports, NIGHT_2, [], titles=[FILM_X], households=[], profiles=[])
        for household, name in (("hh-iso-full", NAMES[0]), ("hh-ss-full", NAMES[1])):
            if (SHARED / name).exists():
                downloads[household] = SHARED / name
                imports[household] = import_download(SHARED / name, household, exports, night=NIGHT_2)
        night_2 = publish_night(settings, NIGHT_2)
        incremental = copy_published(settings, root / "incremental")
        rebuild(settings)
        yield {
            "settings": settings,
            "downloads": downloads,
            "imports": imports,
            "reports": (night_1, night_2),
            "after_night_1": after_night_1,
            "incremental": incremental,
        }


def test_both_nights_publish(feed):
    assert [r["outcome"] for r in feed["reports"]] == ["published", "published"]
    assert feed["reports"][0]["load"]["activity_sessions_loaded"] == sum(
        feed["imports"][h].sessions for h in ("hh-iso", "hh-ss", "hh-c", "hh-moved", "hh-ties")
    )


@pytest.mark.parametrize("household", ["hh-iso", "hh-ss", "hh-iso-full", "hh-ss-full"])
def test_published_sessions_hours_views_and_supplemental_match_an_independent_count(feed, household):
    if household not in feed["downloads"]:
        pytest.skip(f"{SHARED} is absent (a fresh clone has no ../shared)")
    expected = independent_totals(feed["downloads"][household])
    rows = _published(
        feed["settings"],
        """
        select profiles.profile_name, count(*), sum(sessions.played_seconds),
               count(*) filter (where sessions.is_view),
               list(sessions.supplemental_type) filter (where sessions.supplemental_type is not null)
        from fct_viewing_sessions as sessions
        inner join dim_profiles as profiles on sessions.profile_id = profiles.profile_id
        where sessions.household_id = ? and sessions.source = 'viewing_activity'
        group by all
        """,
        [household],
    )
    assert {name: n for name, n, *_ in rows} == dict(expected["sessions"])
    assert {name: round(s / 3600, 6) for name, _, s, *_ in rows} == {
        name: round(s / 3600, 6) for name, s in expected["seconds"].items()
    }
    assert {name: v for name, _, _, v, _ in rows if v} == dict(expected["views"])
    supplemental = collections.Counter(t for *_, types in rows for t in types or [])
    assert supplemental == expected["supplemental"]


def test_supplemental_videos_are_kept_but_never_views_cycles_or_title_metrics(feed):
    settings = feed["settings"]
    trailers = _published(
        settings,
        "select session_id, title_id, is_view from fct_viewing_sessions where supplemental_type is not null",
    )
    assert trailers and not any(is_view for *_, is_view in trailers)
    ids = [session_id for session_id, *_ in trailers]
    titles = sorted({title_id for _, title_id, _ in trailers})
    assert _published(settings, "select count(*) from fct_watch_cycles where title_id in ?", [titles]) == [(0,)]
    assert _published(settings, "select count(*) from rpt_title_performance where title_id in ?", [titles]) == [(0,)]
    assert _published(settings, "select count(*) from fct_title_daily where title_id in ?", [titles]) == [(0,)]
    assert len(ids) == len(set(ids))
    assert _published(
        settings, "select distinct title_type, runtime_source from dim_titles where title_id in ?", [titles]
    ) == [("supplemental", "estimated")]


def test_a_title_the_catalog_does_not_know_gets_an_estimated_runtime_until_the_catalog_lists_it(feed):
    con = published_connection(Settings(exports_dir=feed["after_night_1"], warehouse_dir=feed["after_night_1"]))
    try:
        estimated = con.execute(
            "select title_id, runtime_seconds, runtime_source from dim_titles where title_name = 'Film X'"
        ).fetchall()
        cycles = con.execute(
            "select count(*) filter (where is_completed), count(*) from fct_watch_cycles where household_id = 'hh-c'"
        ).fetchone()
        rewatches = con.execute(
            "select rewatches from fct_household_title_rewatches where household_id = 'hh-c' and title_id = ?",
            [estimated[0][0]],
        ).fetchall()
        # No release date, no launch window: an estimated title has only its lifetime row.
        performance = con.execute(
            "select runtime_source from rpt_title_performance where title_id = ?", [estimated[0][0]]
        ).fetchall()
    finally:
        con.close()
    # Night 1: the largest bookmark (50 min) is the runtime: both watch-throughs complete it.
    assert [(runtime, source) for _, runtime, source in estimated] == [(3000, "estimated")]
    assert cycles == (2, 2) and rewatches == [(1,)]
    assert performance == [("estimated",)]
    # Night 2: the catalog lists Film X (content ends at 5700 s): the same sessions are now
    # title tx, reach 3000 s of 5700 and complete nothing; the estimated title is gone.
    settings = feed["settings"]
    assert _published(
        settings,
        "select distinct title_id from fct_viewing_sessions where household_id = 'hh-c' and supplemental_type is null "
        "and title_id not in (select title_id from dim_titles where title_name = 'Clip Never Advanced')",
    ) == [("tx",)]
    assert _published(settings, "select count(*) from dim_titles where title_id = ?", [estimated[0][0]]) == [(0,)]
    assert _published(
        settings, "select count(*), count(*) filter (where is_completed) from fct_watch_cycles where title_id = 'tx'"
    ) == [(2, 0)]


def test_a_title_never_played_past_zero_keeps_its_title_with_unknown_completion_figures(feed):
    settings = feed["settings"]
    [(title_id, runtime, source)] = _published(
        settings,
        "select title_id, runtime_seconds, runtime_source from dim_titles where title_name = ?",
        ["Clip Never Advanced"],
    )
    assert (runtime, source) == (None, "estimated")
    assert _published(
        settings,
        "select starters, completers, completion_rate, repeat_households, repeat_rate, views, round(hours_viewed * 3600) "
        "from rpt_title_performance where title_id = ?",
        [title_id],
    ) == [(1, None, None, None, None, None, 150)]
    assert _published(settings, "select count(*) from fct_watch_cycles where title_id = ?", [title_id]) == [(0,)]
    # Every session's title is in dim_titles, and starters agree between the marts.
    assert _published(
        settings, "select count(*) from fct_viewing_sessions where title_id not in (select title_id from dim_titles)"
    ) == [(0,)]
    viewed = _published(
        settings,
        "select title_id, count(distinct household_id) from fct_viewing_sessions "
        "where is_view and supplemental_type is null group by 1 order by 1",
    )
    starters = _published(
        settings,
        "select title_id, starters from rpt_title_performance where window_name = 'lifetime' and starters > 0 order by 1",
    )
    assert viewed == starters


def test_a_household_that_moved_has_each_row_in_its_countrys_zone_where_the_country_has_one(feed):
    settings = feed["settings"]
    assert feed["imports"]["hh-moved"].timezone == "America/New_York"  # the most frequent country's
    sessions = _published(
        settings,
        "select timezone_name, local_date, strftime(local_started_at, '%H:%M') from fct_viewing_sessions "
        "where household_id = 'hh-moved' order by started_at",
    )
    assert sessions == [
        ("America/New_York", dt.date(2026, 2, 24), "21:30"),  # US: several zones, the household's
        ("America/New_York", dt.date(2026, 2, 25), "21:30"),
        ("Europe/London", dt.date(2026, 2, 28), "02:30"),  # GB: one zone (New York would say 02-27 21:30)
    ]
    completed = _published(
        settings,
        "select completed_local_date from fct_watch_cycles where household_id = 'hh-moved' order by started_at",
    )
    assert completed == [(dt.date(2026, 2, 24),), (dt.date(2026, 2, 25),), (dt.date(2026, 2, 28),)]


def test_rows_with_the_same_start_are_ordered_by_their_line_newest_first(feed):
    cycles = _published(
        feed["settings"],
        """
        select profiles.profile_name, cycles.cycle_number, cycles.session_count, cycles.is_completed
        from fct_watch_cycles as cycles
        inner join dim_profiles as profiles on cycles.profile_id = profiles.profile_id
        where cycles.household_id = 'hh-ties' order by 1, 2
        """,
    )
    # Session ids are hashes: for these two profiles their order is the opposite of the lines', so
    # ordering by id instead of line would give Di two cycles and Kim one.
    assert cycles == [("Di", 1, 2, True), ("Kim", 1, 1, True), ("Kim", 2, 1, False)]


def test_a_clip_delivered_once_without_its_supplemental_type_is_still_a_clip(feed):
    settings = feed["settings"]
    [(title_id, title_type)] = _published(
        settings, "select title_id, title_type from dim_titles where title_name = 'Clip K'"
    )
    assert title_type == "supplemental"
    assert _published(
        settings, "select supplemental_type, is_view from fct_viewing_sessions where title_id = ?", [title_id]
    ) == [("hook", False), ("hook", False)]
    assert _published(settings, "select count(*) from fct_watch_cycles where title_id = ?", [title_id]) == [(0,)]


def test_the_single_zone_seed_is_what_tzdata_says():
    from rewatch.netflix import single_zone_countries
    from rewatch.settings import DBT_PROJECT_DIR

    with (DBT_PROJECT_DIR / "seeds" / "country_single_timezones.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["country_code", "timezone_name"]
    assert dict(rows[1:]) == single_zone_countries(), "regenerate: python -m rewatch.netflix --single-zone-seed"
    assert {"GB": "Europe/London", "DE": "Europe/Berlin", "IN": "Asia/Kolkata"}.items() <= dict(rows[1:]).items()
    assert not {"US", "ES", "BR", "RU", "AU", "MX", "CA", "PT"} & set(dict(rows[1:]))


def test_an_unreadable_row_is_quarantined_with_its_line_and_reason(feed):
    settings = feed["settings"]
    assert [(r.line, r.reason.split(":")[0]) for r in feed["imports"]["hh-c"].rejected] == [(4, "invalid_duration")]
    con = duckdb.connect()
    try:
        rows = con.execute(
            "select file, line, reason, record from read_parquet(?)",
            [str(partition_path(settings.raw_dir, "quarantine", NIGHT_1))],
        ).fetchall()
    finally:
        con.close()
    assert [(f, line, reason) for f, line, reason, _ in rows] == [("viewing_activity-hh-c.csv", 4, "invalid_duration")]
    assert "fifty minutes" in rows[0][3]
    assert feed["reports"][0]["load"]["quarantined_by_reason"] == {"invalid_duration": 1}


def test_incremental_nights_equal_a_rebuild(feed):
    diff = diff_warehouses(feed["incremental"], feed["settings"].warehouse_dir)
    assert diff and all(counts == (0, 0) for counts in diff.values()), diff


def test_importing_the_same_download_again_changes_nothing(feed):
    settings = feed["settings"]
    folder = settings.exports_dir / NIGHT_1.isoformat()
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    again = import_download(feed["downloads"]["hh-iso"], "hh-iso", settings.exports_dir, night=NIGHT_1)
    assert not again.changed
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()} == before
    assert load_night(settings.exports_dir, settings.raw_dir, NIGHT_1).status == "already_loaded"


def test_the_cli_imports_and_refuses_a_wrong_header(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(
        app, ["import-netflix", str(FIXTURES / NAMES[1]), "--household-id", "h1", "--out", str(tmp_path / "x")]
    )
    assert ok.exit_code == 0, ok.output
    assert "America/New_York" in ok.output and "next: rewatch run --date" in ok.output
    assert ok.output.splitlines()[0] == f"exports:   {tmp_path / 'x'}"  # the folder it writes into
    bad = tmp_path / "bad.csv"
    bad.write_text("Profile,Start\nA,2022-01-01 00:00:00\n", encoding="utf-8")
    refused = runner.invoke(app, ["import-netflix", str(bad), "--household-id", "h1", "--out", str(tmp_path / "x")])
    assert refused.exit_code == 1
    assert ", ".join(COLUMNS) in refused.output
    for household in ("../escape", "a b", ""):
        result = runner.invoke(
            app, ["import-netflix", str(FIXTURES / NAMES[1]), "--household-id", household, "--out", str(tmp_path)]
        )
        assert result.exit_code == 1 and "household id" in result.output
