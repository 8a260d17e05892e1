"""Export contract v1 (docs/export-contract.md) as code: names, columns, manifest checks."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import re
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from rewatch.errors import PermanentError

SCHEMA_VERSION = 1
MANIFEST_NAME = "_manifest.json"

EVENT_TYPES = ("play", "heartbeat", "pause", "resume", "seek", "stop")

# Column order as delivered; every file is read with exactly these names, as text,
# so a shifted or renamed column can never be silently coerced into another.
EVENT_COLUMNS = (
    "event_id",
    "household_id",
    "profile_id",
    "device_id",
    "device_type",
    "title_id",
    "event_type",
    "event_ts",
    "position_seconds",
    "received_at",
)
TITLE_COLUMNS = (
    "title_id",
    "title_name",
    "title_type",
    "series_title",
    "season_number",
    "episode_number",
    "runtime_seconds",
    "credits_start_seconds",
    "maturity_rating",
    "is_kids_title",
    "release_date",
)
HOUSEHOLD_COLUMNS = ("household_id", "country_code", "timezone")
PROFILE_COLUMNS = ("profile_id", "household_id", "profile_name", "is_kids_profile")

SNAPSHOT_TABLES = {
    "titles": TITLE_COLUMNS,
    "households": HOUSEHOLD_COLUMNS,
    "profiles": PROFILE_COLUMNS,
}

EVENT_FILE_RE = re.compile(r"^playback_events[^/]*\.(csv|csv\.gz|parquet|ndjson|ndjson\.gz|jsonl|jsonl\.gz)$")
# The second feed: one row per playback session, in the Netflix account-export format plus
# household_id and profile_id (src/rewatch/netflix.py reads it; columns in EXPORT_COLUMNS).
ACTIVITY_FILE_RE = re.compile(r"^viewing_activity[^/]*\.csv$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ExportError(PermanentError):
    """A night's export breaks the contract: the message names the file and what is wrong."""


# The nights rewatch processes: from the first night of streaming (Netflix began streaming in
# January 2007) up to tomorrow, UTC (a night whose export can already exist somewhere on
# Earth). The DAG's start_date is the first one, so every night has its tasks (catchup is off).
FIRST_NIGHT = dt.date(2007, 1, 1)


class NightOutOfRangeError(PermanentError, ValueError):
    """A night before FIRST_NIGHT or after tomorrow (UTC): refused before anything runs."""


def last_night(today: dt.date | None = None) -> dt.date:
    """The latest night rewatch accepts: tomorrow, UTC."""
    return (today or dt.datetime.now(dt.UTC).date()) + dt.timedelta(days=1)


def check_night(night: dt.date, today: dt.date | None = None) -> dt.date:
    """`night` itself when it is in [FIRST_NIGHT, tomorrow UTC]; else a NightOutOfRangeError."""
    last = last_night(today)
    if night < FIRST_NIGHT:
        raise NightOutOfRangeError(
            f"night {night} is before {FIRST_NIGHT}: rewatch processes nights from {FIRST_NIGHT} "
            f"(when streaming began) to {last} (tomorrow, UTC); check the date"
        )
    if night > last:
        raise NightOutOfRangeError(
            f"night {night} is in the future: rewatch processes nights from {FIRST_NIGHT} to {last} "
            f"(tomorrow, UTC); a later night cannot have been exported yet"
        )
    return night


def parse_date(value: str | dt.date) -> dt.date:
    """Parse an ISO date strictly (YYYY-MM-DD); anything else is an error, never passed on."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not DATE_RE.match(text):
        raise ValueError(f"not a date: {value!r} (expected YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not a date: {value!r} ({exc})") from None


def night_dir(exports_dir: Path, night: dt.date) -> Path:
    return exports_dir / night.isoformat()


def file_format(path: str) -> str:
    """The reader a file needs, from its name: csv, parquet or ndjson."""
    name = path.lower()
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")):
        return "ndjson"
    raise ExportError(f"{path}: unsupported file type (expected .csv, .csv.gz, .parquet, .ndjson or .ndjson.gz)")


@dataclass(frozen=True)
class ManifestFile:
    path: str
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    export_date: dt.date
    schema_version: int
    files: tuple[ManifestFile, ...]
    folder: Path

    def resolve(self, entry: ManifestFile) -> Path:
        return self.folder / entry.path

    @property
    def event_files(self) -> tuple[ManifestFile, ...]:
        return tuple(f for f in self.files if EVENT_FILE_RE.match(f.path))

    @property
    def activity_files(self) -> tuple[ManifestFile, ...]:
        return tuple(f for f in self.files if ACTIVITY_FILE_RE.match(f.path))

    def snapshot_file(self, table: str) -> ManifestFile:
        for entry in self.files:
            if entry.path == f"{table}.csv":
                return entry
        raise ExportError(
            f"{self.folder / MANIFEST_NAME}: no entry for {table}.csv (every night carries a full snapshot)"
        )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _confined(folder: Path, relative: str, manifest_path: Path) -> str:
    """A manifest may only name plain files inside its own night's folder."""
    if not isinstance(relative, str) or not relative or "\x00" in relative:
        raise ExportError(f"{manifest_path}: file path {relative!r} is not a valid name")
    candidate = Path(relative)
    if candidate.is_absolute() or ".." in candidate.parts or len(candidate.parts) != 1:
        raise ExportError(
            f"{manifest_path}: file path {relative!r} is outside the night's folder; "
            "a manifest may only name files directly inside it"
        )
    if len(relative.encode()) > 255:
        raise ExportError(f"{manifest_path}: file path {relative[:60]!r}... is not a valid name (too long)")
    full = folder / candidate
    try:
        is_link = full.is_symlink()
    except OSError as exc:
        raise ExportError(f"{manifest_path}: file path {relative!r} is not a valid name ({exc.strerror})") from None
    if is_link:
        raise ExportError(f"{full}: is a symbolic link; the export must deliver real files")
    return relative


def read_manifest(folder: Path) -> Manifest:
    """Read and check `_manifest.json` (structure only; see verify_files for contents)."""
    manifest_path = folder / MANIFEST_NAME
    if not manifest_path.is_file():
        raise ExportError(f"{manifest_path}: missing; the night is not complete until its manifest is written")
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportError(
            f"{manifest_path}: not valid JSON ({exc}); ask the exporter to re-deliver the night"
        ) from None
    if not isinstance(data, dict):
        raise ExportError(f"{manifest_path}: expected a JSON object")
    missing = [k for k in ("export_date", "schema_version", "files") if k not in data]
    if missing:
        raise ExportError(f"{manifest_path}: missing key(s) {', '.join(missing)}")
    try:
        export_date = parse_date(data["export_date"])
    except ValueError as exc:
        raise ExportError(f"{manifest_path}: export_date {exc}") from None
    if export_date.isoformat() != folder.name:
        raise ExportError(f"{manifest_path}: export_date {export_date} does not match the folder name {folder.name}")
    if data["schema_version"] != SCHEMA_VERSION:
        raise ExportError(
            f"{manifest_path}: schema_version {data['schema_version']!r} is not supported (this rewatch reads {SCHEMA_VERSION})"
        )
    if not isinstance(data["files"], list):
        raise ExportError(f"{manifest_path}: 'files' must be a list")
    entries = []
    seen = set()
    for i, item in enumerate(data["files"]):
        if not isinstance(item, dict) or not {"path", "rows", "bytes", "sha256"} <= item.keys():
            raise ExportError(f"{manifest_path}: files[{i}] needs path, rows, bytes and sha256")
        path = _confined(folder, item["path"], manifest_path)
        if path in seen:
            raise ExportError(f"{manifest_path}: {path} is listed twice")
        seen.add(path)
        rows, size, sha = item["rows"], item["bytes"], item["sha256"]
        if not (isinstance(rows, int) and rows >= 0 and isinstance(size, int) and size >= 0):
            raise ExportError(f"{manifest_path}: files[{i}] ({path}): rows and bytes must be non-negative integers")
        if not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha)):
            raise ExportError(f"{manifest_path}: files[{i}] ({path}): sha256 must be 64 lower-case hex digits")
        if path != MANIFEST_NAME and not (
            EVENT_FILE_RE.match(path) or ACTIVITY_FILE_RE.match(path) or path[:-4] in SNAPSHOT_TABLES
        ):
            raise ExportError(f"{manifest_path}: {path} is not a file the export contract knows")
        entries.append(ManifestFile(path=path, rows=rows, bytes=size, sha256=sha))
    manifest = Manifest(export_date=export_date, schema_version=SCHEMA_VERSION, files=tuple(entries), folder=folder)
    for table in SNAPSHOT_TABLES:
        manifest.snapshot_file(table)
    listed = {e.path for e in entries} | {MANIFEST_NAME}
    extra = sorted(p.name for p in folder.iterdir() if p.name not in listed and not p.name.startswith("."))
    if extra:
        raise ExportError(
            f"{folder}: file(s) not in the manifest: {', '.join(extra)}; "
            "either the manifest is stale or the files do not belong to this night"
        )
    return manifest


def verify_files(manifest: Manifest) -> dict[Path, int]:
    """Every listed file exists with the listed size and sha256, and gzip files decompress.

    Returns the lines of each gzip file (`physical_lines`), counted while its decompression is
    checked: the loader needs them and would otherwise decompress the file once more.

    The files are checked on as many threads as the machine has cores (hashing and
    decompressing release the GIL): a night's two event files took 3.6 s one after the other.
    Every file is checked; the first failure in the manifest's order is raised, as before.
    """
    paths = [manifest.resolve(entry) for entry in manifest.files]
    with ThreadPoolExecutor(max_workers=min(len(paths), os.cpu_count() or 1) or 1) as pool:
        checks = [pool.submit(_verify_file, path, entry) for path, entry in zip(paths, manifest.files, strict=True)]
    lines: dict[Path, int] = {}
    for path, check in zip(paths, checks, strict=True):
        counted = check.result()  # raises the file's ExportError, in the manifest's order
        if counted is not None:
            lines[path] = counted
    return lines


def _verify_file(path: Path, entry: ManifestFile) -> int | None:
    """One file of `verify_files`: its lines if it is a gzip file."""
    if not path.is_file():
        raise ExportError(f"{path}: listed in the manifest but missing")
    size = path.stat().st_size
    if size != entry.bytes:
        raise ExportError(f"{path}: {size} bytes, the manifest says {entry.bytes}; the file is incomplete or changed")
    digest = sha256_of(path)
    if digest != entry.sha256:
        raise ExportError(f"{path}: sha256 {digest} does not match the manifest ({entry.sha256})")
    if not path.name.endswith(".gz"):
        return None
    try:
        with gzip.open(path, "rb") as handle:
            return physical_lines(handle)
    except (OSError, EOFError, zlib.error) as exc:
        raise ExportError(f"{path}: unreadable gzip ({exc}); ask the exporter to re-deliver it") from None


def physical_lines(handle: BinaryIO) -> int:
    """The lines of an open binary file's content, read to its end, as a text editor counts
    them: a last line without a newline counts."""
    count, last = 0, b"\n"
    while chunk := handle.read(1 << 20):
        count, last = count + chunk.count(b"\n"), chunk[-1:]
    return count + (last != b"\n")


def write_manifest(folder: Path, export_date: dt.date, rows_by_file: dict[str, int]) -> Path:
    """Write `_manifest.json` last, for the files given (used by the generator and importers)."""
    files = []
    for name in sorted(rows_by_file):
        path = folder / name
        files.append(
            {"path": name, "rows": rows_by_file[name], "bytes": path.stat().st_size, "sha256": sha256_of(path)}
        )
    manifest = {"export_date": export_date.isoformat(), "schema_version": SCHEMA_VERSION, "files": files}
    target = folder / MANIFEST_NAME
    tmp = folder / f".{MANIFEST_NAME}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(target)
    return target
