"""Reading viewing-activity files in the Netflix account-export format (issue #6, first part).

One row per playback session: `Profile Name, Start Time, Duration, Attributes, Title,
Supplemental Video Type, Device Type, Bookmark, Latest Bookmark, Country`. Real files differ:
ISO start times (`2022-02-11 00:09:11`) or spreadsheet-resaved ones (`7/28/2022 4:22`, seconds
lost), durations with or without a leading zero, quotes and commas in titles, non-English
titles. Every parser here is strict: a value it cannot read is an error naming the value,
never a guess. Start times are UTC.

This module parses and normalises rows (the loader uses it for `viewing_activity*.csv`) and
turns a member's download into an export night (`import_download`).
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import functools
import hashlib
import io
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
# A nightly export's file of this feed: the same columns, plus who watched (export contract).
EXPORT_COLUMNS = (*COLUMNS, "household_id", "profile_id")
NOT_LATEST = "Not latest view"

ISO_START = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$")
SPREADSHEET_START = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$")
HMS = re.compile(r"^(\d{1,3}):([0-5]\d):([0-5]\d)$")


@dataclass(frozen=True)
class TitleWords:
    """How one language's export names an episode's season and number, as Netflix writes them
    (case and accents exact): `<series>: <season label>: <episode> (<episode word> <k>)`."""

    seasons: tuple[str, ...]  # the word, a space, then anything but a colon: `Season 1`
    parts: tuple[str, ...]  # the same shape: `Part 2`, `Volume 1`, `Book One`, `Chapter 3`
    limited: tuple[str, ...]  # the whole label: `Limited Series`
    episodes: tuple[str, ...]  # `(Episode 3)` after the episode's name


# The export is written in the member's language; a title is read with one language's words,
# never a mix of two (English first; where languages share a word, the one that also reads the
# episode number wins: `Temporada 1` with `(Episódio 3)` is Portuguese).
TITLE_WORDS = {
    "en": TitleWords(
        seasons=("Season", "Series"),
        parts=("Part", "Volume", "Collection", "Book", "Chapter"),
        limited=("Limited Series", "Miniseries", "Mini-Series", "Collection"),
        episodes=("Episode",),
    ),
    "es": TitleWords(
        seasons=("Temporada",),
        parts=("Parte", "Volumen", "Colección", "Libro", "Capítulo"),
        limited=("Miniserie", "Serie limitada", "Colección"),
        episodes=("Episodio", "Capítulo"),
    ),
    "pt": TitleWords(
        seasons=("Temporada",),
        parts=("Parte", "Volume", "Coleção", "Livro", "Capítulo"),
        limited=("Minissérie", "Série limitada", "Coleção"),
        episodes=("Episódio",),
    ),
    "fr": TitleWords(
        seasons=("Saison",),
        parts=("Partie", "Volume", "Collection", "Livre", "Chapitre"),
        limited=("Mini-série", "Minisérie", "Série limitée", "Collection"),
        episodes=("Épisode",),
    ),
    "de": TitleWords(
        seasons=("Staffel",),
        parts=("Teil", "Volume", "Kollektion", "Buch", "Kapitel"),
        limited=("Miniserie", "Limitierte Serie", "Kollektion"),
        episodes=("Folge", "Episode"),
    ),
    "it": TitleWords(
        seasons=("Stagione",),
        parts=("Parte", "Volume", "Collezione", "Libro", "Capitolo"),
        limited=("Miniserie", "Serie limitata", "Collezione"),
        episodes=("Episodio",),
    ),
}
# `: ` between the parts; French typography may put a (non-breaking) space before the colon.
_COLON = r"\s?:\s"


def _alternatives(words) -> str:
    return "|".join(re.escape(word) for word in sorted(set(words), key=lambda w: (-len(w), w)))


def _episode_title(words: TitleWords) -> re.Pattern:
    season = rf"(?:{_alternatives((*words.seasons, *words.parts))})\s[^:]+?|(?:{_alternatives(words.limited)})"
    return re.compile(
        rf"^(?P<series>.+?){_COLON}(?P<season>{season}){_COLON}"
        rf"(?P<episode>.+?)(?:\s\((?:{_alternatives(words.episodes)})\s(?P<number>\d+)\))?$"
    )


EPISODE_TITLES = tuple((language, _episode_title(words)) for language, words in TITLE_WORDS.items())
SEASON_NUMBER = re.compile(
    rf"^(?:{_alternatives(w for words in TITLE_WORDS.values() for w in (*words.seasons, *words.parts))})\s(\d+)$"
)

# Device Type strings name a model; the feed keeps the class the heartbeat feed uses (tv, mobile,
# tablet, web, console), `other` when no rule matches. The first rule that matches wins, so the
# specific come first: a set-top box or a TV says `Android` too, a phone app `Windows`, a
# Chromecast `Chrome`. Patterns are regular expressions searched case-insensitively;
# docs/export-contract.md lists the same rules in the same order, with examples.
DEVICE_RULES = (
    ("console", "game console", (r"xbox", r"playstation", r"\bps ?[2345]\b", r"\bps ?vita\b", r"nintendo", r"\bwii\b")),
    (
        "tv",
        "set-top box",
        (r"\bstb\b", r"set[ -]?top[ -]?box", r"\btivo\b", r"\bxfinity\b", r"directv", r"youview", r"\bsky q\b"),
    ),
    (
        "tv",
        "streaming stick or player",
        (
            r"fire ?tv",
            r"fire ?stick",
            r"\broku\b",
            r"chromecast",
            r"google tv",
            r"apple ?tv",
            r"\bshield\b",
            r"\bmi ?box\b",
            r"tv ?(?:box|stick|dongle)",
            r"streaming (?:stick|player|media)",
            r"blu-?ray",
            r"\bbdp\b",
            r"home theat(?:er|re)",
        ),
    ),
    (
        "tv",
        "smart TV",
        (
            r"\b(?:u?hd|d|smart ?)?tv\b",
            r"television",
            r"webos",
            r"tizen",
            r"netcast",
            r"vidaa",
            r"bravia",
            r"projector",
        ),
    ),
    (
        "tablet",
        "tablet",
        (
            r"ipad",
            r"tablet",
            r"\btab\b",
            r"kindle",
            r"\bfire hdx?\b",
            r"\bfire \d",
            r"mediapad",
            r"matepad",
            r"\bpad\b",
        ),
    ),
    (
        "mobile",
        "phone",
        (
            r"iphone",
            r"\bipod\b",
            r"phone",
            r"mobile",
            r"android",
            r"galaxy",
            r"pixel",
            r"oneplus",
            r"xperia",
            r"huawei",
            r"xiaomi",
            r"redmi",
            r"motorola",
            r"\bmoto\b",
            r"nokia",
            r"blackberry",
        ),
    ),
    (
        "web",
        "browser or computer",
        (
            r"cadmium",
            r"chrome",
            r"firefox",
            r"safari",
            r"\bedge\b",
            r"\bopera\b",
            r"internet explorer",
            r"\bmsie\b",
            r"\bpc\b",
            r"\bmac\b",
            r"macos",
            r"macintosh",
            r"windows",
            r"linux",
            r"browser",
            r"\bweb\b",
            r"html5",
            r"silverlight",
        ),
    ),
    (
        "tv",
        "smart TV named by its maker only",
        (
            r"vizio",
            r"hisense",
            r"\btcl\b",
            r"panasonic",
            r"philips",
            r"toshiba",
            r"insignia",
            r"\bsharp\b",
            r"sanyo",
            r"skyworth",
            r"\bfunai\b",
            r"westinghouse",
            r"\bjvc\b",
            r"grundig",
            r"\bloewe\b",
            r"\b(?:samsung|lg|sony) (?:19|20)\d\d\b",
        ),
    ),
)
DEVICE_PATTERNS = tuple(
    (device_class, re.compile("|".join(patterns), re.IGNORECASE)) for device_class, _, patterns in DEVICE_RULES
)


class ViewingActivityError(ValueError):
    """A file or value the viewing-activity reader cannot accept; `code` is the quarantine reason."""

    def __init__(self, message: str, code: str = "invalid_viewing_activity") -> None:
        super().__init__(message)
        self.code = code


def parse_start_time(text: str) -> dt.datetime:
    """`2022-02-11 00:09:11` or `7/28/2022 4:22` (month first, as US spreadsheets save it): UTC."""
    value = text.strip()
    if match := ISO_START.match(value):
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
    elif match := SPREADSHEET_START.match(value):
        month, day, year, hour, minute = (int(g) for g in match.groups()[:5])
        second = int(match.group(6) or 0)
    else:
        raise ViewingActivityError(
            f"Start Time {text!r} is neither 'YYYY-MM-DD HH:MM:SS' nor 'M/D/YYYY H:MM'", "unparseable_start_time"
        )
    try:
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    except ValueError as exc:
        raise ViewingActivityError(f"Start Time {text!r}: {exc}", "unparseable_start_time") from None


def parse_hms(text: str, column: str = "Duration") -> int:
    """`0:22:34` or `00:22:34` -> seconds."""
    match = HMS.match(text.strip())
    if not match:
        raise ViewingActivityError(f"{column} {text!r} is not H:MM:SS", f"invalid_{column.lower().replace(' ', '_')}")
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
    """`Series: Season 1: Episode (Episode 3)` into its parts, in any language of TITLE_WORDS
    (`Serie: Temporada 1: Episodio (Capítulo 3)`, `Serie: Staffel 1: Folge (Folge 3)`, ...);
    other titles are films (or clips). Languages share words (`Temporada`, `Miniserie`): the
    first language that also reads the episode number wins, else the first that reads the title."""
    text = title.strip()
    if text.count(":") < 2:  # every episode shape has two colons: a film, without trying six patterns
        return ParsedTitle(None, None, None, None, None)
    match = None
    for _, pattern in EPISODE_TITLES:
        if found := pattern.match(text):
            match = match or found
            if found.group("number"):
                match = found
                break
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


@functools.lru_cache(maxsize=4096)  # a household has a handful of models, a file thousands of rows
def normalise_device(device_type: str) -> str:
    """`Microsoft Xbox One` -> console, `Apple iPad 2 WiFi` -> tablet, ... (DEVICE_RULES, the
    first that matches); `other` when none does."""
    text = device_type.strip()
    for device_class, pattern in DEVICE_PATTERNS:
        if pattern.search(text):
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
    household_id: str | None = None
    profile_id: str | None = None

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
        raise ViewingActivityError("Profile Name is empty", "missing_profile_name")
    if not title:
        raise ViewingActivityError("Title is empty", "missing_title")
    ids = {}
    for column in ("household_id", "profile_id"):
        if column in row:
            ids[column] = (row[column] or "").strip()
            if not ids[column]:
                raise ViewingActivityError(f"{column} is empty", f"missing_{column}")
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
        **ids,
    )


def read_viewing_activity(path: Path, columns: tuple[str, ...] = COLUMNS) -> tuple[list[ViewingRow], list[Rejected]]:
    """Every row of one file: parsed rows, and rejected rows with their line and reason.

    `columns` is the member's download (COLUMNS) or a nightly export file (EXPORT_COLUMNS).
    Lines are the file's physical line numbers (the header is line 1), so a title with an
    embedded newline does not shift the numbers after it. A rejected row's reason is
    `<code>: <detail>`. A wrong header (or an undecodable file) rejects the whole file.
    """
    rows, rejected = [], []
    for line, fields in read_records(path, columns):
        parsed = parse_record(line, fields, columns)
        (rows if isinstance(parsed, ViewingRow) else rejected).append(parsed)
    return rows, rejected


def read_records(path: Path, columns: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """(physical line, fields) of every record after the header, which must be `columns`."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or tuple(h.strip() for h in header) != columns:
                raise ViewingActivityError(
                    f"{path}: the header must be exactly these columns, in this order: {', '.join(columns)} "
                    f"(found: {', '.join(header) if header else 'an empty file'})",
                    "wrong_header",
                )
            records = []
            line = reader.line_num + 1
            for fields in reader:
                records.append((line, fields))
                line = reader.line_num + 1
            return records
    except UnicodeDecodeError as exc:
        raise ViewingActivityError(f"{path}: not UTF-8 text ({exc})", "not_utf8") from None
    except csv.Error as exc:
        raise ViewingActivityError(f"{path}: unreadable CSV ({exc})", "malformed_csv") from None


def parse_record(line: int, fields: list[str], columns: tuple[str, ...]) -> ViewingRow | Rejected:
    """One record: the parsed row, or why it was rejected (`<code>: <detail>`)."""
    try:
        if len(fields) != len(columns):
            raise ViewingActivityError(f"expected {len(columns)} fields, found {len(fields)}", "malformed_csv_record")
        return parse_row(line, dict(zip(columns, fields, strict=True)))
    except ViewingActivityError as exc:
        return Rejected(line, f"{exc.code}: {exc}", ",".join(fields))


# --- Importing a member's download as an export night ------------------------------------

HOUSEHOLD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
COUNTRY = re.compile(r"^([A-Z]{2})\b")
KIDS_PROFILE_NAMES = ("kids", "children", "kids profile")
# A country's main zone where it has several (its most populous); others from tzdata's zone.tab.
MAIN_TIMEZONES = {
    "US": "America/New_York",
    "CA": "America/Toronto",
    "MX": "America/Mexico_City",
    "BR": "America/Sao_Paulo",
    "AR": "America/Argentina/Buenos_Aires",
    "CL": "America/Santiago",
    "AU": "Australia/Sydney",
    "NZ": "Pacific/Auckland",
    "RU": "Europe/Moscow",
    "KZ": "Asia/Almaty",
    "ID": "Asia/Jakarta",
    "CN": "Asia/Shanghai",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "DE": "Europe/Berlin",
    "UA": "Europe/Kyiv",
    "EC": "America/Guayaquil",
    "MY": "Asia/Kuala_Lumpur",
}


@dataclass
class ImportResult:
    night: dt.date
    folder: Path
    household_id: str
    country_code: str | None
    timezone: str
    sessions: int
    profiles: dict[str, str]  # profile name -> profile_id
    rejected: list[Rejected]
    changed: bool


def _zone_tab() -> dict[str, list[str]]:
    """tzdata's zone.tab: each country code's zones, in the file's order."""
    try:
        from importlib.resources import files

        text = files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        text = ""
    zones: dict[str, list[str]] = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and not line.startswith("#"):
            zones.setdefault(fields[0], []).append(fields[2])
    return zones


def main_timezone(country_code: str) -> str:
    """The IANA zone most of a country's households live in (MAIN_TIMEZONES, then zone.tab)."""
    if country_code in MAIN_TIMEZONES:
        return MAIN_TIMEZONES[country_code]
    if zones := _zone_tab().get(country_code):
        return zones[0]
    raise ViewingActivityError(f"no main time zone known for country {country_code!r}; pass --timezone")


def single_zone_countries(first_year: int = 2007, last_year: int = 2026) -> dict[str, str]:
    """Countries whose clocks all agree: country code -> its zone (the first zone.tab lists).

    A country has one zone when every zone tzdata lists for it had the same UTC offset at
    every mid-January and mid-July noon UTC from `first_year` to `last_year` (Germany's
    Berlin and Busingen: one; Spain's Madrid and Canary Islands: not). A viewing-activity row's
    Country places its session in that zone (dbt seed `country_single_timezones`, generated
    from this: `python -m rewatch.netflix --single-zone-seed`).
    """
    from zoneinfo import ZoneInfo

    instants = [
        dt.datetime(year, month, 15, 12, tzinfo=dt.UTC) for year in range(first_year, last_year + 1) for month in (1, 7)
    ]
    single = {}
    for country, zones in sorted(_zone_tab().items()):
        offsets = {tuple(instant.astimezone(ZoneInfo(zone)).utcoffset() for instant in instants) for zone in zones}
        if len(offsets) == 1:
            single[country] = zones[0]
    return single


def import_download(
    path: Path,
    household_id: str,
    out: Path,
    timezone: str | None = None,
    kids_profiles: tuple[str, ...] = (),
    night: dt.date | None = None,
) -> ImportResult:
    """Turn one member's download into an export night of the viewing-activity feed.

    A download is one delivery: every row goes into one night, by default the UTC date of its
    latest session (`night` overrides it). The night's folder gets
    `viewing_activity-<household>.csv` (the rows as downloaded, plus household_id and
    profile_id), the household and its profiles merged into households.csv / profiles.csv,
    titles.csv kept (or an empty catalog), and a new manifest. Files are only rewritten when
    their content changes, so importing the same download twice changes nothing. Rows that
    cannot be read are still written: the loader quarantines them with their line and reason.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from rewatch.contract import (
        HOUSEHOLD_COLUMNS,
        MANIFEST_NAME,
        PROFILE_COLUMNS,
        TITLE_COLUMNS,
        NightOutOfRangeError,
        check_night,
        read_manifest,
        write_manifest,
    )

    if not HOUSEHOLD_ID.match(household_id):
        raise ViewingActivityError(
            f"household id {household_id!r}: use 1-64 letters, digits, '.', '_' or '-' (it names a file)"
        )
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ViewingActivityError(f"--timezone {timezone!r} is not an IANA time zone name") from None
    parsed = [(fields, parse_record(line, fields, COLUMNS)) for line, fields in read_records(path, COLUMNS)]
    rejected = [p for _, p in parsed if isinstance(p, Rejected)]
    rows = [p for _, p in parsed if isinstance(p, ViewingRow)]
    if not rows:
        raise ViewingActivityError(f"{path}: no readable rows to import")

    countries = collections.Counter(m.group(1) for r in rows if (m := COUNTRY.match(r.country)))
    country_code = countries.most_common(1)[0][0] if countries else None
    if timezone is None:
        if country_code is None:
            raise ViewingActivityError(f"{path}: no Country to take a time zone from; pass --timezone")
        timezone = main_timezone(country_code)
    kids = {name.casefold() for name in kids_profiles} | set(KIDS_PROFILE_NAMES)
    names = sorted({fields[0].strip() for fields, _ in parsed if fields and fields[0].strip()})
    profiles = {name: f"{household_id}-{hashlib.sha256(name.encode()).hexdigest()[:12]}" for name in names}
    night = night or max(r.started_at for r in rows).date()
    try:
        check_night(night)
    except NightOutOfRangeError as exc:
        raise ViewingActivityError(f"{path}: {exc}", "night_out_of_range") from None

    folder = out / night.isoformat()
    existing = {}
    if folder.exists():
        if not (folder / MANIFEST_NAME).is_file():
            raise ViewingActivityError(f"{folder}: exists without a manifest; finish or remove that night first")
        existing = {entry.path: entry.rows for entry in read_manifest(folder).files}
    folder.mkdir(parents=True, exist_ok=True)

    activity_name = f"viewing_activity-{household_id}.csv"
    activity_rows = [
        [*fields, household_id, profiles.get(fields[0].strip(), "") if fields else ""] for fields, _ in parsed
    ]
    households = _merge_rows(
        folder / "households.csv", HOUSEHOLD_COLUMNS, "household_id", [[household_id, country_code or "", timezone]]
    )
    profile_rows = [
        [profile_id, household_id, name, "true" if name.casefold() in kids else "false"]
        for name, profile_id in profiles.items()
    ]
    profile_table = _merge_rows(folder / "profiles.csv", PROFILE_COLUMNS, "profile_id", profile_rows)
    changed = False
    changed |= _write_if_changed(folder / activity_name, EXPORT_COLUMNS, activity_rows)
    changed |= _write_if_changed(folder / "households.csv", HOUSEHOLD_COLUMNS, households)
    changed |= _write_if_changed(folder / "profiles.csv", PROFILE_COLUMNS, profile_table)
    if not (folder / "titles.csv").exists():
        changed |= _write_if_changed(folder / "titles.csv", TITLE_COLUMNS, [])
    if changed or not existing:
        counts = dict(existing)
        counts.update(
            {
                activity_name: len(activity_rows),
                "households.csv": len(households),
                "profiles.csv": len(profile_table),
            }
        )
        counts.setdefault("titles.csv", 0)
        write_manifest(folder, night, counts)
    return ImportResult(
        night=night,
        folder=folder,
        household_id=household_id,
        country_code=country_code,
        timezone=timezone,
        sessions=len(rows),
        profiles=profiles,
        rejected=rejected,
        changed=changed or not existing,
    )


def _merge_rows(path: Path, columns: tuple[str, ...], key: str, rows: list[list[str]]) -> list[list[str]]:
    """A snapshot file's rows with `rows` upserted by `key`, sorted by key (deterministic)."""
    merged = {}
    if path.exists():
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or tuple(h.strip() for h in header) != columns:
                raise ViewingActivityError(f"{path}: expected columns {', '.join(columns)}; not merging into it")
            for fields in reader:
                merged[fields[columns.index(key)]] = fields
    for fields in rows:
        merged[fields[columns.index(key)]] = fields
    return [merged[k] for k in sorted(merged)]


def _write_if_changed(path: Path, columns: tuple[str, ...], rows: list[list[str]]) -> bool:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    content = buffer.getvalue().encode("utf-8")
    if path.exists() and path.read_bytes() == content:
        return False
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content)
    tmp.replace(path)
    return True


if __name__ == "__main__":  # pragma: no cover - regenerates the dbt seed
    import sys

    if sys.argv[1:] != ["--single-zone-seed"]:
        sys.exit("usage: python -m rewatch.netflix --single-zone-seed > dbt_project/seeds/country_single_timezones.csv")
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(("country_code", "timezone_name"))
    writer.writerows(single_zone_countries().items())
