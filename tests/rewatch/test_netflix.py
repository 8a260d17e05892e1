"""Reading Netflix viewing-activity files: real exports (trimmed fixtures; full files when present)."""

from __future__ import annotations

import collections
import csv
import datetime as dt
import re
from pathlib import Path

import pytest

from rewatch.netflix import (
    COLUMNS,
    DEVICE_RULES,
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
    views = collections.Counter(
        r.profile_name for r in rows if r.supplemental_type is None and r.duration_seconds >= 120
    )
    assert views == expected["views"]
    assert collections.Counter(r.supplemental_type for r in rows if r.supplemental_type) == expected["supplemental"]
    # Every device model of a real household falls in a known class.
    assert {r.device_type for r in rows} <= {"tv", "mobile", "tablet", "web", "console"}
    assert all(0 <= r.covered_from_seconds <= r.bookmark_seconds for r in rows)


@pytest.mark.parametrize("path", sample_files())
def test_each_start_time_is_the_instant_the_file_says(path):
    """Each row's start equals the file's own text read with a fixed format, not with the
    parser under test: ISO (`2022-02-11 00:09:11`) or a US spreadsheet's re-save
    (`7/28/2022 4:22`, seconds lost), both UTC as Netflix writes them."""
    rows, rejected = read_viewing_activity(path)
    assert rejected == []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        texts = [row["Start Time"] for row in csv.DictReader(handle)]
    expected = [
        dt.datetime.strptime(text, "%m/%d/%Y %H:%M" if "/" in text else "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
        for text in texts
    ]
    assert [row.started_at for row in rows] == expected


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


DEVICES = {
    "console": (
        "Microsoft Xbox One",
        "Microsoft Xbox 360",
        "Microsoft Xbox Series X",
        "Sony PS3",
        "Sony PS4 Pro",
        "Sony PlayStation 5",
        "Sony PS Vita",
        "Nintendo Switch",
        "Nintendo Wii U",
    ),
    "tv": (
        # set-top boxes, Android inside or not
        "Netflix Android STB",
        "Comcast X1 STB",
        "Roku Littlefield Set Top Box",
        "ARRIS VIP5662W Set-Top Box",
        "Virgin Media TiVo",
        "DIRECTV Genie HR54",
        "Sky Q",
        # sticks and players
        "FireTV Stick 2016",
        "Amazon Fire TV Cube",
        "Amazon Fire Stick 4K",
        "Roku Express",
        "Google Chromecast",
        "Chromecast with Google TV",
        "Apple TV 3 (revised)",
        "Apple TV 4K",
        "NVIDIA Shield Android TV",
        "Xiaomi Mi Box S",
        "Sony BDP-S3700",
        "LG Blu-ray Player",
        # smart TVs
        "Amazon TVAFTKM Smart TV",
        "Amazon FTVET31HDRAV12020 Smart TV",
        "Roku Longview HDR10 Smart TV",
        "Vizio MG186 MT5597DV CAST/HYBRID INX Smart TV",
        "Samsung 2015 UHD TV",
        "Samsung 2015 Ruby NT14U DTV Smart TV",
        "LG webOS 2018",
        "Sony Android TV",
        "Hisense VIDAA U5",
        "TCL Android TV",
        "Philips 2019 Android TV",
        "Worlds Best TV",
        "Panasonic 2013 MN2 DTV",
        # named by the maker only
        "Vizio 2016 SoC",
        "TCL 2019 R617",
        "LG 2016 M16P",
        "Samsung 2014 NT14M",
        "Insignia Fire Edition",
    ),
    "tablet": (
        "Apple iPad 2 WiFi",
        "Apple iPad 5th Gen (Wi-Fi) iPad",
        "Apple iPad Air 2",
        "Android DefaultWidevineL3Tablet Android Tablet",
        "Android Tablet",
        "Samsung Galaxy Tab S6",
        "Amazon Kindle Fire HDX 7",
        "Amazon Kindle Fire (2nd Gen)",
        "Amazon Fire HD 10",
        "Amazon Fire 7 (2019)",
        "Huawei MediaPad M5",
        "Xiaomi Pad 5",
        "Safari iPad (Cadmium)",
    ),
    "mobile": (
        "iPhone 12",
        "Apple iPhone 8 Plus (GSM)",
        "Apple iPod Touch 6th Gen",
        "Netflix Android Phone",
        "Android DefaultWidevineL3Phone Android Phone",
        "Samsung Galaxy S7 Edge",
        "Google Pixel 6",
        "OnePlus 9 Pro",
        "Motorola Moto G",
        "Windows Phone",
        "Netflix Windows App - Cadmium Windows Mobile",
        "Chrome Android (Cadmium)",
    ),
    "web": (
        "Chrome PC (Cadmium)",
        "Chrome OS (Cadmium)",
        "Chrome MAC (Cadmium)",
        "Safari MAC (Cadmium)",
        "Internet Explorer (Cadmium)",
        "Edge OSS",
        "Microsoft Edge (Cadmium)",
        "Firefox",
        "Firefox PC (Cadmium)",
        "Opera (Cadmium)",
        "Netflix Windows App - Cadmium Windows",
        "Linux Web Browser",
    ),
    "other": ("Toaster 3000", "", "   ", "Unknown Device"),
}


@pytest.mark.parametrize(
    ("device_type", "device_class"), [(d, c) for c, devices in DEVICES.items() for d in devices], ids=repr
)
def test_devices_are_classed(device_type, device_class):
    assert normalise_device(device_type) == device_class
    assert normalise_device(device_type.upper()) == normalise_device(device_type.lower()) == device_class


def test_every_device_class_is_one_the_pipeline_knows():
    """The events feed's classes (generate.DEVICE_TYPES), plus `other` for unknown models."""
    from rewatch.generate import DEVICE_TYPES

    assert {device_class for device_class, _, _ in DEVICE_RULES} == set(DEVICE_TYPES)


def test_the_device_table_of_the_export_contract_is_the_code():
    """docs/export-contract.md lists DEVICE_RULES in order, and its examples are classed as it says."""
    text = (PROJECT_ROOT / "docs" / "export-contract.md").read_text(encoding="utf-8")
    section = text.split("### Device Type → device class", 1)[1].split("\n#", 1)[0]
    rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| ") and "`" in line]
    documented = [(cells[1].strip("`"), cells[2]) for cells in rows]
    assert documented == [(c, what) for c, what, _ in DEVICE_RULES] + [("other", "nothing above matches")]
    for cells in rows:
        examples = re.findall(r"`([^`]*)`", cells[4])
        assert examples, cells
        for example in examples:
            assert normalise_device(example) == cells[1].strip("`"), example


def test_no_device_of_the_real_exports_is_other():
    devices = set()
    for path in [FIXTURES / name for name in NAMES] + [SHARED / name for name in NAMES if (SHARED / name).exists()]:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            devices |= {row["Device Type"] for row in csv.DictReader(handle)}
    assert devices and {d for d in devices if normalise_device(d) == "other"} == set()


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


def test_the_nights_report_counts_sessions_on_devices_no_rule_knows(workdir, tmp_path):
    """Loading a night puts its viewing-activity sessions by device class, and the Device Types
    that fell to `other`, in the night's run.json and index.html."""
    from rewatch.netflix import import_download
    from rewatch.pipeline import load
    from rewatch.report import read_report, report_dir

    download = tmp_path / "ViewingActivity.csv"
    devices = ["Netflix Android STB", "Toaster 3000", "iPhone 12", "Toaster 3000", "Fridge <Mk II>"]
    with download.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for i, device in enumerate(devices):
            writer.writerow(
                ["A", f"2022-08-01 1{i}:00:00", "0:10:00", "", "Film", "", device, "0:10:00", "0:10:00", "US"]
            )
    night = import_download(download, "hh-1", workdir.exports_dir, timezone="UTC").night
    load(night, workdir)
    counted = read_report(workdir, night)["viewing_activity_devices"]
    assert counted == {
        "sessions": 5,
        "sessions_by_device_type": {"mobile": 1, "other": 3, "tv": 1},
        "other_sessions": 3,
        "other_device_types": {"Toaster 3000": 2, "Fridge <Mk II>": 1},
    }
    page = (report_dir(workdir, night) / "index.html").read_text(encoding="utf-8")
    assert "Toaster 3000" in page and "Fridge &lt;Mk II&gt;" in page


def test_a_night_without_viewing_activity_reports_no_devices(workdir):
    from rewatch.report import activity_devices

    assert activity_devices(workdir, dt.date(2022, 8, 1)) is None
