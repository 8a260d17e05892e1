"""Reading viewing-activity files in the Netflix account-export format (issue #6, first part).

One row per playback session: `Profile Name, Start Time, Duration, Attributes, Title,
Supplemental Video Type, Device Type, Bookmark, Latest Bookmark, Country`. Real files differ:
ISO start times (`2022-02-11 00:09:11`) or spreadsheet-resaved ones (`7/28/2022 4:22`, seconds
lost), durations with or without a leading zero, quotes and commas in titles, non-English
titles. Every parser here is strict: a value it cannot read is an error naming the value,
never a guess. Start times are UTC.

This module parses and normalises rows; turning them into export nights and sessions is the
feed's next part.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

COLUMNS = (
    "Profile Name",
    "Start Time",
    "Duration",
    "Attributes",
    "Title",
    "Supplemental Video Type",
    "Device Type",
    "Bookmark",
    "Latest Bookmark",
    "Country",
)
NOT_LATEST = "Not latest view"

ISO_START = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$")
SPREADSHEET_START = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$")
HMS = re.compile(r"^(\d{1,3}):([0-5]\d):([0-5]\d)$")
EPISODE_TITLE = re.compile(
    r"^(?P<series>.+?): "
    r"(?P<season>(?:Season|Series|Part|Volume|Collection|Book|Chapter) [^:]+|Limited Series|Miniseries|Collection): "
    r"(?P<episode>.+?)(?: \(Episode (?P<number>\d+)\))?$"
)
SEASON_NUMBER = re.compile(r"^(?:Season|Series|Part|Volume|Collection|Book|Chapter) (\d+)$")

# Device Type strings name a model; the feed keeps the class the heartbeat feed uses.
DEVICE_RULES = (
    ("console", ("xbox", "playstation", "ps4", "ps5", "nintendo", "wii")),
    ("tablet", ("ipad", "tablet", "kindle fire")),
    ("mobile", ("iphone", "phone", "mobile", "android")),
    ("web", ("chrome", "firefox", "safari", "edge", " pc", "mac", "windows", "web browser")),
    ("tv", ("tv", "roku", "firetv", "fire tv", "chromecast", "set top box", "apple tv", "smart")),
)


class ViewingActivityError(ValueError):
    """A file or value the viewing-activity reader cannot accept."""


def parse_start_time(text: str) -> dt.datetime:
    """`2022-02-11 00:09:11` or `7/28/2022 4:22` (month first, as US spreadsheets save it): UTC."""
    value = text.strip()
    if match := ISO_START.match(value):
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
    elif match := SPREADSHEET_START.match(value):
        month, day, year, hour, minute = (int(g) for g in match.groups()[:5])
        second = int(match.group(6) or 0)
    else:
        raise ViewingActivityError(f"Start Time {text!r} is neither 'YYYY-MM-DD HH:MM:SS' nor 'M/D/YYYY H:MM'")
    try:
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    except ValueError as exc:
        raise ViewingActivityError(f"Start Time {text!r}: {exc}") from None


def parse_hms(text: str, column: str = "Duration") -> int:
    """`0:22:34` or `00:22:34` -> seconds."""
    match = HMS.match(text.strip())
    if not match:
        raise ViewingActivityError(f"{column} {text!r} is not H:MM:SS")
    hours, minutes, seconds = (int(g) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def latest_bookmark_seconds(text: str) -> int | None:
    """The title's latest playhead, or None for `Not latest view`."""
    return None if text.strip() == NOT_LATEST else parse_hms(text, "Latest Bookmark")


@dataclass(frozen=True)
class ParsedTitle:
    series: str | None
    season: str | None
    season_number: int | None
    episode: str | None
    episode_number: int | None


def parse_title(title: str) -> ParsedTitle:
    """`Series: Season 1: Episode (Episode 3)` into its parts; other titles are films (or clips)."""
    match = EPISODE_TITLE.match(title.strip())
    if not match:
        return ParsedTitle(None, None, None, None, None)
    season = match.group("season")
    season_number = SEASON_NUMBER.match(season)
    return ParsedTitle(
        series=match.group("series"),
        season=season,
        season_number=int(season_number.group(1)) if season_number else None,
        episode=match.group("episode"),
        episode_number=int(match.group("number")) if match.group("number") else None,
    )


def normalise_device(device_type: str) -> str:
    """`Microsoft Xbox One` -> console, `Apple iPad 2 WiFi` -> tablet, ... ; else `other`."""
    text = f" {device_type.strip().lower()} "
    for device_class, needles in DEVICE_RULES:
        if any(needle in text for needle in needles):
            return device_class
    return "other"


def is_autoplay(attributes: str) -> bool:
    return "autoplayed:" in attributes.lower()


def supplemental_type(value: str) -> str | None:
    """`TRAILER`, `HOOK`, `RECAP`, ... lower-cased; None for the feature itself."""
    text = value.strip().lower()
    return text or None


@dataclass(frozen=True)
class ViewingRow:
    line: int
    profile_name: str
    started_at: dt.datetime
    duration_seconds: int
    bookmark_seconds: int
    latest_bookmark_seconds: int | None
    title: str
    parsed_title: ParsedTitle
    supplemental_type: str | None
    is_autoplay: bool
    device_model: str
    device_type: str
    country: str

    @property
    def covered_from_seconds(self) -> int:
        """The session covered [Bookmark - Duration, Bookmark] of the title (never below 0)."""
        return max(self.bookmark_seconds - self.duration_seconds, 0)


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str
    record: str


def parse_row(line: int, row: dict[str, str]) -> ViewingRow:
    profile = (row.get("Profile Name") or "").strip()
    title = (row.get("Title") or "").strip()
    if not profile:
        raise ViewingActivityError("Profile Name is empty")
    if not title:
        raise ViewingActivityError("Title is empty")
    return ViewingRow(
        line=line,
        profile_name=profile,
        started_at=parse_start_time(row["Start Time"]),
        duration_seconds=parse_hms(row["Duration"]),
        bookmark_seconds=parse_hms(row["Bookmark"], "Bookmark"),
        latest_bookmark_seconds=latest_bookmark_seconds(row["Latest Bookmark"]),
        title=title,
        parsed_title=parse_title(title),
        supplemental_type=supplemental_type(row.get("Supplemental Video Type") or ""),
        is_autoplay=is_autoplay(row.get("Attributes") or ""),
        device_model=(row.get("Device Type") or "").strip(),
        device_type=normalise_device(row.get("Device Type") or ""),
        country=(row.get("Country") or "").strip(),
    )


def read_viewing_activity(path: Path) -> tuple[list[ViewingRow], list[Rejected]]:
    """Every row of one file: parsed rows, and rejected rows with their line and reason.

    Lines are the file's physical line numbers (the header is line 1), so a title with an
    embedded newline does not shift the numbers after it. A wrong header rejects the file.
    """
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            raise ViewingActivityError(
                f"{path}: the header must be exactly these columns, in this order: {', '.join(COLUMNS)} "
                f"(found: {', '.join(header) if header else 'an empty file'})"
            )
        rows, rejected = [], []
        line = reader.line_num + 1
        for record in reader:
            if len(record) != len(COLUMNS):
                rejected.append(
                    Rejected(line, f"expected {len(COLUMNS)} fields, found {len(record)}", ",".join(record))
                )
            else:
                try:
                    rows.append(parse_row(line, dict(zip(COLUMNS, record, strict=True))))
                except (ViewingActivityError, KeyError) as exc:
                    rejected.append(Rejected(line, str(exc), ",".join(record)))
            line = reader.line_num + 1
    return rows, rejected
