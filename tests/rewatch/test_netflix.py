"""Reading Netflix viewing-activity files: real exports (trimmed fixtures; full files when present)."""

from __future__ import annotations

import collections
import csv
import datetime as dt
from pathlib import Path

import pytest

from rewatch.netflix import (
    COLUMNS,
    ViewingActivityError,
    normalise_device,
    parse_hms,
    parse_start_time,
    parse_title,
    read_viewing_activity,
)
from rewatch.settings import PROJECT_ROOT

FIXTURES = Path(__file__).parents[1] / "fixtures" / "netflix_viewing_activity"
SHARED = PROJECT_ROOT.parent / "shared" / "samples" / "netflix_viewing_activity"
NAMES = ("us_household_iso_timestamps.csv", "us_household_spreadsheet_timestamps.csv")


def sample_files():
    for name in NAMES:
        yield pytest.param(FIXTURES / name, id=f"excerpt-{name}")
        yield pytest.param(
            SHARED / name,
            id=f"full-{name}",
            marks=pytest.mark.skipif(
                not (SHARED / name).exists(), reason=f"{SHARED} is absent (a fresh clone has no ../shared)"
            ),
        )


def independent_totals(path: Path) -> dict:
    """The same figures with plain csv and string splitting, not the module under test."""
    sessions, seconds, views, supplemental = (collections.Counter() for _ in range(4))
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            h, m, s = row["Duration"].split(":")
            duration = int(h) * 3600 + int(m) * 60 + int(s)
            sessions[row["Profile Name"]] += 1
            seconds[row["Profile Name"]] += duration
            if row["Supplemental Video Type"]:
                supplemental[row["Supplemental Video Type"].lower()] += 1
            elif duration >= 120:
                views[row["Profile Name"]] += 1
    return {"sessions": sessions, "seconds": seconds, "views": views, "supplemental": supplemental}


@pytest.mark.parametrize("path", sample_files())
def test_every_row_of_a_real_export_parses_and_matches_an_independent_count(path):
    rows, rejected = read_viewing_activity(path)
    assert rejected == []
    expected = independent_totals(path)
    assert collections.Counter(r.profile_name for r in rows) == expected["sessions"]
    seconds = collections.Counter()
    for r in rows:
        seconds[r.profile_name] += r.duration_seconds
    assert seconds == expected["seconds"]
    hours = {p: round(s / 3600, 3) for p, s in seconds.items()}
    assert hours == {p: round(s / 3600, 3) for p, s in expected["seconds"].items()}
    views = collections.Counter(
        r.profile_name for r in rows if r.supplemental_type is None and r.duration_seconds >= 120
    )
    assert views == expected["views"]
    assert collections.Counter(r.supplemental_type for r in rows if r.supplemental_type) == expected["supplemental"]
    # Every device model of a real household falls in a known class.
    assert {r.device_type for r in rows} <= {"tv", "mobile", "tablet", "web", "console"}
    assert all(0 <= r.covered_from_seconds <= r.bookmark_seconds for r in rows)


@pytest.mark.parametrize("path", sample_files())
def test_both_timestamp_styles_parse_to_the_same_instant(path):
    """Each row's start, re-saved the way a US spreadsheet does (seconds lost), is the same minute."""
    rows, _ = read_viewing_activity(path)
    for row in rows:
        at = row.started_at
        resaved = f"{at.month}/{at.day}/{at.year} {at.hour}:{at.minute:02d}"
        iso = at.strftime("%Y-%m-%d %H:%M:%S")
        assert parse_start_time(resaved) == at.replace(second=0)
        assert parse_start_time(iso) == at


def test_strict_values():
    assert parse_start_time("2022-02-11 00:09:11") == dt.datetime(2022, 2, 11, 0, 9, 11, tzinfo=dt.UTC)
    assert parse_start_time("7/28/2022 4:22") == dt.datetime(2022, 7, 28, 4, 22, tzinfo=dt.UTC)
    assert parse_hms("0:22:34") == parse_hms("00:22:34") == 1354
    for bad in ("28/7/2022 4:22", "2022-02-30 00:00:00", "yesterday", "2022-02-11T00:09:11Z", ""):
        with pytest.raises(ViewingActivityError):
            parse_start_time(bad)
    for bad in ("22:34", "0:61:00", "1:00:00.5", "-0:00:10"):
        with pytest.raises(ViewingActivityError):
            parse_hms(bad)


def test_titles_split_into_series_season_and_episode():
    parsed = parse_title("Outlander: Season 1: The Way Out (Episode 3)")
    assert (parsed.series, parsed.season_number, parsed.episode, parsed.episode_number) == (
        "Outlander",
        1,
        "The Way Out",
        3,
    )
    parsed = parse_title("Star Wars: The Clone Wars: Season 2: Holocron Heist (Episode 1)")
    assert parsed.series == "Star Wars: The Clone Wars" and parsed.season_number == 2
    parsed = parse_title("The Queen's Gambit: Limited Series: Openings (Episode 1)")
    assert parsed.season == "Limited Series" and parsed.season_number is None and parsed.episode_number == 1
    assert parse_title("Mamma Mia!").series is None
    assert parse_title("Season 1 Trailer: Heartstopper").series is None


def test_devices_are_classed():
    assert normalise_device("Microsoft Xbox One") == "console"
    assert normalise_device("Apple iPad 5th Gen (Wi-Fi) iPad") == "tablet"
    assert normalise_device("Android DefaultWidevineL3Tablet Android Tablet") == "tablet"
    assert normalise_device("Netflix Windows App - Cadmium Windows Mobile") == "mobile"
    assert normalise_device("Chrome PC (Cadmium)") == "web"
    assert normalise_device("Roku Littlefield Set Top Box") == "tv"
    assert normalise_device("Toaster 3000") == "other"


def test_a_wrong_header_names_the_expected_columns(tmp_path):
    path = tmp_path / "viewing_activity.csv"
    path.write_text("Profile,Start,Duration\nA,2022-01-01 00:00:00,0:10:00\n")
    with pytest.raises(ViewingActivityError) as refused:
        read_viewing_activity(path)
    assert ", ".join(COLUMNS) in str(refused.value)


def test_bad_rows_are_rejected_with_their_line_and_reason(tmp_path):
    path = tmp_path / "viewing_activity.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerow(
            [
                "A",
                "2022-01-01 10:00:00",
                "0:10:00",
                "",
                'A "quoted",\nmultiline title',
                "",
                "Roku",
                "0:10:00",
                "0:10:00",
                "US",
            ]
        )
        writer.writerow(["A", "2022-01-01 11:00:00", "ten minutes", "", "Film", "", "Roku", "0:10:00", "0:10:00", "US"])
        writer.writerow(
            ["B", "13/01/2022 11:00", "0:10:00", "", "Film", "", "Roku", "0:10:00", "Not latest view", "US"]
        )
        writer.writerow(["B", "2022-01-01 12:00:00", "0:10:00"])
    rows, rejected = read_viewing_activity(path)
    assert [r.line for r in rows] == [2]
    assert rows[0].title == 'A "quoted",\nmultiline title'
    assert [(r.line, r.reason.split(":")[0]) for r in rejected] == [
        (4, "invalid_duration"),
        (5, "unparseable_start_time"),
        (6, "malformed_csv_record"),
    ]
    assert "'ten minutes' is not H:MM:SS" in rejected[0].reason
