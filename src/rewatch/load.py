"""Load one night's export into the raw zone, exactly once.

Each night's files become one partition per raw table, plus its quarantine (rows that break
the contract, with file, line, reason) and its ledger (the night's files by sha256, with row
counts); `rewatch.rawzone` knows where they live. The files are read by `rewatch.readers`;
this module holds the loading rules: what a row must hold to be loaded, the pseudonymisation
of who watched, the forgotten households left out, and the ledger.

Every partition is written to a temporary file and moved into place with `os.replace`, the
ledger last: a night is loaded when its ledger partition exists and matches its manifest.
Re-loading a night replaces its partitions (never appends); a file whose sha256 was already
loaded from another night is recorded as a re-delivery and not loaded twice. Deduplication of
events by `event_id` across nights happens in the dbt staging layer, so it does not depend on
the order in which nights are loaded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from rewatch import faults, progress
from rewatch.contract import (
    EVENT_COLUMNS,
    EVENT_TYPES,
    SNAPSHOT_TABLES,
    ExportError,
    Manifest,
    ManifestFile,
    night_dir,
    read_manifest,
    verify_files,
)
from rewatch.privacy import Pseudonymizer, from_environment
from rewatch.rawzone import (
    HOUSEHOLD_TABLES,
    connect,
    forgotten_digests,
    partition_path,
    partitions,
    partitions_glob,
    remove_stale_temporaries,
    sql_str,
    write_partition,
)
from rewatch.readers import StagedFile, read_activity_file, stage_file
from rewatch.settings import Settings

# The viewing-activity feed's raw partition: one row per session, parsed by rewatch.netflix.
ACTIVITY_SCHEMA = (
    ("export_date", "date"),
    ("_file", "varchar"),
    ("_line", "bigint"),
    ("household_id", "varchar"),
    ("profile_id", "varchar"),
    ("profile_name", "varchar"),
    ("started_at", "timestamp"),
    ("duration_seconds", "integer"),
    ("bookmark_seconds", "integer"),
    ("latest_bookmark_seconds", "integer"),
    ("title", "varchar"),
    ("series_title", "varchar"),
    ("season_label", "varchar"),
    ("season_number", "integer"),
    ("episode_title", "varchar"),
    ("episode_number", "integer"),
    ("supplemental_type", "varchar"),
    ("is_autoplay", "boolean"),
    ("device_model", "varchar"),
    ("device_type", "varchar"),
    ("country", "varchar"),
)
# The one timestamp grammar of every format (all values arrive as text): ISO-8601 date and
# time, optional fraction, and a zone: `Z` or an offset within the ±14:00 real zones use.
ISO_UTC = (
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?"
    r"(Z|[+-](0\d|1[0-3])(:?[0-5]\d)?|[+-]14(:?00)?)$"
)

# An event as it is loaded, from its text: each value trimmed, typed and parsed once. The rules
# below check these values, and a row that passes them is loaded as they are (`_load_events`),
# in this order: night_playback_events' columns after export_date, _file and _line. NULL where
# the text does not parse. A time with a zone becomes its UTC time as microseconds since the epoch
# (`make_timestamp(epoch_us(...))`: the value `timezone('UTC', ...)` gives, at half its cost).
EVENT_VALUES = (
    ("_event_id", "trim(event_id)"),
    ("_household_id", "trim(household_id)"),
    ("_profile_id", "trim(profile_id)"),
    ("_device_id", "trim(device_id)"),
    ("_device_type", "nullif(lower(trim(device_type)), '')"),
    ("_title_id", "trim(title_id)"),
    ("_event_type", "lower(trim(event_type))"),
    ("_event_ts", "make_timestamp(epoch_us(try_cast(trim(event_ts) as timestamptz)))"),
    ("_position_seconds", "try_cast(trim(position_seconds) as double)"),
    ("_received_at", "make_timestamp(epoch_us(try_cast(trim(received_at) as timestamptz)))"),
)

# Quarantine reasons, in the order they are checked (a row gets the first that applies).
EVENT_RULES = (
    ("missing_event_id", "nullif(_event_id, '') is null"),
    ("missing_household_id", "nullif(_household_id, '') is null"),
    ("missing_profile_id", "nullif(_profile_id, '') is null"),
    ("missing_device_id", "nullif(_device_id, '') is null"),
    ("missing_title_id", "nullif(_title_id, '') is null"),
    ("unknown_event_type", f"coalesce(_event_type not in {tuple(EVENT_TYPES)!r}, true)"),
    (
        "unparseable_event_ts",
        f"not regexp_full_match(coalesce(trim(event_ts), ''), '{ISO_UTC}') or _event_ts is null",
    ),
    (
        "invalid_position",
        "_position_seconds is null or isnan(_position_seconds) or isinf(_position_seconds)",
    ),
    ("negative_position", "_position_seconds < 0"),
    (
        "unparseable_received_at",
        f"not regexp_full_match(coalesce(trim(received_at), ''), '{ISO_UTC}') or _received_at is null",
    ),
)
SNAPSHOT_RULES = {
    "titles": (
        ("missing_title_id", "nullif(trim(title_id), '') is null"),
        ("invalid_title_type", "coalesce(trim(title_type) not in ('movie', 'episode'), true)"),
        ("invalid_runtime", "coalesce(try_cast(trim(runtime_seconds) as integer) <= 0, true)"),
        (
            "invalid_credits_start",
            "nullif(trim(credits_start_seconds), '') is not null and "
            "coalesce(try_cast(trim(credits_start_seconds) as integer) < 0, true)",
        ),
        ("invalid_is_kids_title", "try_cast(trim(is_kids_title) as boolean) is null"),
        (
            "invalid_release_date",
            "nullif(trim(release_date), '') is not null and try_cast(trim(release_date) as date) is null",
        ),
    ),
    "households": (
        ("missing_household_id", "nullif(trim(household_id), '') is null"),
        ("invalid_timezone", "trim(timezone) not in (select name from pg_timezone_names()) or timezone is null"),
    ),
    "profiles": (
        ("missing_profile_id", "nullif(trim(profile_id), '') is null"),
        ("missing_household_id", "nullif(trim(household_id), '') is null"),
        ("invalid_is_kids_profile", "try_cast(trim(is_kids_profile) as boolean) is null"),
    ),
}
# The key each snapshot lists once.
SNAPSHOT_KEYS = {"titles": "title_id", "households": "household_id", "profiles": "profile_id"}
SNAPSHOT_TYPES = {
    "titles": {
        "title_id": "trim(title_id)",
        "title_name": "title_name",
        "title_type": "trim(title_type)",
        "series_title": "nullif(series_title, '')",
        "season_number": "try_cast(trim(season_number) as integer)",
        "episode_number": "try_cast(trim(episode_number) as integer)",
        "runtime_seconds": "cast(trim(runtime_seconds) as integer)",
        "credits_start_seconds": "try_cast(trim(credits_start_seconds) as integer)",
        "maturity_rating": "nullif(trim(maturity_rating), '')",
        "is_kids_title": "cast(trim(is_kids_title) as boolean)",
        "release_date": "try_cast(trim(release_date) as date)",
    },
    "households": {
        "household_id": "trim(household_id)",
        "country_code": "nullif(trim(country_code), '')",
        "timezone": "trim(timezone)",
    },
    "profiles": {
        "profile_id": "trim(profile_id)",
        "household_id": "trim(household_id)",
        "profile_name": "profile_name",
        "is_kids_profile": "cast(trim(is_kids_profile) as boolean)",
    },
}


@dataclass
class LoadResult:
    night: dt.date
    status: str  # loaded | already_loaded
    events_loaded: int = 0
    activity_sessions_loaded: int = 0
    rows_forgotten: int = 0
    rows_quarantined: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    files_skipped_as_redelivered: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "night": self.night.isoformat(),
            "status": self.status,
            "events_loaded": self.events_loaded,
            "activity_sessions_loaded": self.activity_sessions_loaded,
            "rows_forgotten": self.rows_forgotten,
            "rows_quarantined": self.rows_quarantined,
            "quarantined_by_reason": dict(self.quarantined_by_reason),
            "files_skipped_as_redelivered": list(self.files_skipped_as_redelivered),
        }


class Doing:
    """What the load is busy with, for a live display (`progress`): the load says each thing it
    starts (`now`); while it reads a file whose records the manifest counts, `text()` adds how
    far DuckDB's statement has got, as records read. Shown only while someone watches."""

    def __init__(self, con) -> None:
        self.con = con
        self.what = ""
        self.records: int | None = None

    def now(self, what: str, records: int | None = None) -> None:
        self.what, self.records = what, records
        progress.status(what)

    def text(self) -> str | None:
        if not self.records:
            return self.what or None
        done = self.con.query_progress()  # percent of the running statement; -1: none running
        if done is None or done < 0:
            return self.what
        return f"{self.what}: about {round(done / 100 * self.records):,} of {self.records:,} records"


def _rule_case(rules: tuple[tuple[str, str], ...]) -> str:
    whens = "\n".join(f"when {condition} then '{reason}'" for reason, condition in rules)
    return f"case {whens} end"


def _ledger_rows(raw_dir: Path) -> list[tuple]:
    if not partitions(raw_dir, "ledger"):
        return []
    con = connect(raw_dir)
    try:
        return con.execute(
            "select export_date, path, sha256, status, pseudonym_key_id "
            f"from read_parquet({sql_str(partitions_glob(raw_dir, 'ledger'))}, union_by_name = true)"
        ).fetchall()
    finally:
        con.close()


def is_loaded(ledger: list[tuple], manifest: Manifest) -> bool:
    """True when the night's ledger rows record exactly the files of this manifest."""
    wanted = {(f.path, f.sha256) for f in manifest.files}
    got = {(path, sha) for night, path, sha, *_ in ledger if night == manifest.export_date}
    return bool(got) and got == wanted


def load_night(exports_dir: Path, raw_dir: Path, night: dt.date) -> LoadResult:
    """Verify the night's manifest and files, then load them into the raw zone (idempotent)."""
    folder = night_dir(exports_dir, night)
    if not folder.is_dir():
        raise ExportError(f"{folder}: no export folder for night {night}")
    manifest = read_manifest(folder)
    progress.status(f"checking {len(manifest.files)} files against the manifest (size, sha256, gzip)")
    lines = verify_files(manifest)  # each gzip file's lines, counted while checking it decompresses
    remove_stale_temporaries(raw_dir, night)
    ledger = _ledger_rows(raw_dir)  # read once: it spans every loaded night
    pseudo = from_environment()
    _check_pseudonym_key(ledger, pseudo, night)
    if is_loaded(ledger, manifest):
        _ensure_activity_partition(raw_dir, night)
        return _summarise_loaded(raw_dir, night)

    other_nights = {sha: (n, p) for n, p, sha, status, _ in ledger if n != night and status == "loaded"}
    result = LoadResult(night=night, status="loaded")
    raw_dir.mkdir(parents=True, exist_ok=True)
    # The warehouse holds its raw zone: the night spills beyond the memory limit into its build area.
    spill = Settings(exports_dir=exports_dir, warehouse_dir=raw_dir.parent).spill_dir
    shutil.rmtree(spill, ignore_errors=True)  # what a killed load or publish left
    con = connect(folder, raw_dir, spill_to=spill, progress=progress.watching())
    shown = Doing(con)
    try:
        with progress.polled(shown.text):
            con.execute(
                "create temp table quarantine (export_date date, file varchar, line bigint, reason varchar, record varchar)"
            )
            con.execute(
                "create temp table ledger (export_date date, path varchar, sha256 varchar, rows_declared bigint, "
                "rows_loaded bigint, rows_quarantined bigint, status varchar, duplicate_of varchar, loaded_at timestamp)"
            )
            _load_events(con, manifest, other_nights, result, pseudo, lines, shown)
            _load_activity(con, manifest, other_nights, result, pseudo, shown)
            for table, columns in SNAPSHOT_TABLES.items():
                _load_snapshot(con, manifest, table, columns, pseudo, lines, shown)
            result.rows_forgotten = _drop_forgotten(con, raw_dir)
            con.execute("alter table ledger add column pseudonym_key_id varchar")
            con.execute("update ledger set pseudonym_key_id = ?", [pseudo.key_id if pseudo else None])
            reasons = con.execute("select reason, count(*) from quarantine group by 1 order by 1").fetchall()
            result.quarantined_by_reason = {r: n for r, n in reasons}
            result.rows_quarantined = sum(result.quarantined_by_reason.values())
            shown.now(f"writing the raw zone ({result.events_loaded:,} events)")
            write_partition(
                con, "select * from quarantine order by file, line", partition_path(raw_dir, "quarantine", night)
            )
            for table in ("playback_events", "viewing_activity", *SNAPSHOT_TABLES):
                write_partition(
                    con, f"select * from night_{table} order by _file, _line", partition_path(raw_dir, table, night)
                )
            # The ledger goes last: its presence is what says the night is loaded.
            faults.point("load:before_ledger")
            write_partition(con, "select * from ledger order by path", partition_path(raw_dir, "ledger", night))
    finally:
        con.close()
    return result


# Who watched, per table: column -> the kind of identifier it holds (for pseudonymisation).
IDENTIFIERS = {
    "playback_events": {"household_id": "household", "profile_id": "profile"},
    "households": {"household_id": "household"},
    "profiles": {"profile_id": "profile", "household_id": "household", "profile_name": "profile_name"},
    "titles": {},
}
WITHHELD = "(withheld: pseudonymisation is on; the line is in the export file)"


def _drop_forgotten(con, raw_dir: Path) -> int:
    """Rows of households erased with `rewatch forget` never enter the raw zone again."""
    digests = forgotten_digests(raw_dir)
    if not digests:
        return 0
    dropped = 0
    for table in HOUSEHOLD_TABLES:
        dropped += con.execute(
            f"delete from night_{table} where sha256(household_id) in (select unnest(?::varchar[]))", [digests]
        ).fetchone()[0]
    dropped += con.execute(
        "delete from quarantine where sha256(coalesce(try(json_extract_string(record, '$.household_id')), '')) "
        "in (select unnest(?::varchar[]))",
        [digests],
    ).fetchone()[0]
    return dropped


def _check_pseudonym_key(ledger: list[tuple], pseudo: Pseudonymizer | None, night: dt.date) -> None:
    """Every night of a warehouse is loaded under the same key (or none): ids must join."""
    wanted = pseudo.key_id if pseudo else None
    used = {key_id for n, _, _, status, key_id in ledger if status == "loaded" and n != night}
    if used and used != {wanted}:
        state = "without pseudonymisation" if used == {None} else "under another REWATCH_PSEUDONYMIZE_KEY"
        raise ExportError(
            f"night {night}: the warehouse's loaded nights were loaded {state}; loading this night "
            f"{'with' if pseudo else 'without'} one would mix identifiers that can never be joined. "
            "Use the same key (or none) for every night, or start a new warehouse and re-run all nights."
        )


def _pseudonymize_staged(con, staged: StagedFile, identifiers: dict[str, str], pseudo: Pseudonymizer) -> None:
    """Replace each identifier column's non-empty values by their keyed hash, in place.

    The keys are the distinct values (thousands, not the millions of rows): hashed in
    Python, joined back in DuckDB. Malformed records keep no copy of the line.
    """
    relation = staged.records
    for column, kind in identifiers.items():
        values = [
            row[0]
            for row in con.execute(
                f'select distinct trim("{column}") from {relation} where nullif(trim("{column}"), \'\') is not null'
            ).fetchall()
        ]
        if not values:
            continue
        con.register("pseudonyms", pa.table({"value": values, "hashed": [pseudo(kind, v) for v in values]}))
        con.execute(
            f'update {relation} set "{column}" = pseudonyms.hashed from pseudonyms '
            f'where trim({relation}."{column}") = pseudonyms.value'
        )
        con.unregister("pseudonyms")
    con.execute(f"update {staged.rejects} set record = ?", [WITHHELD])


def _load_events(
    con,
    manifest: Manifest,
    other_nights: dict,
    result: LoadResult,
    pseudo: Pseudonymizer | None,
    lines: dict[Path, int],
    shown: Doing,
) -> None:
    night = manifest.export_date
    con.execute(
        "create temp table night_playback_events (export_date date, _file varchar, _line bigint, event_id varchar, "
        "household_id varchar, profile_id varchar, device_id varchar, device_type varchar, title_id varchar, "
        "event_type varchar, event_ts timestamp, position_seconds double, received_at timestamp)"
    )
    case = _rule_case(EVENT_RULES)
    typed = ", ".join(f"{expression} as {name}" for name, expression in EVENT_VALUES)
    loaded_columns = ", ".join(name for name, _ in EVENT_VALUES)
    files = manifest.event_files
    quarantined_so_far = 0
    for number, entry in enumerate(files, 1):
        if _skip_redelivered(con, night, entry, other_nights, result):
            continue
        path = manifest.resolve(entry)
        shown.now(f"reading {entry.path} (events file {number} of {len(files)})", entry.rows)
        staged = stage_file(con, path, EVENT_COLUMNS, "staged", lines.get(path))
        shown.now(f"checking {staged.read:,} records of {entry.path} against the contract")
        if pseudo:
            _pseudonymize_staged(con, staged, IDENTIFIERS["playback_events"], pseudo)
        # Each value is trimmed and parsed once: the rules check those values, a loaded row keeps them.
        con.execute(
            f"""
            create or replace temp table checked as
            select *, {case} as _reason
            from (select *, {typed} from {staged.records})
            """
        )
        con.execute(
            f"""
            insert into night_playback_events
            select ?, ?, _line, {loaded_columns}
            from checked where _reason is null
            """,
            [night, entry.path],
        )
        _quarantine_from(con, night, entry.path, EVENT_COLUMNS, "checked", staged)
        _reconcile_counts(path, entry, staged.read, staged.rejected)
        loaded, quarantined = con.execute(
            "select count(*) filter (where _reason is null), count(*) filter (where _reason is not null) from checked"
        ).fetchone()
        quarantined += staged.rejected
        result.events_loaded += loaded
        quarantined_so_far += quarantined
        shown.now(f"{result.events_loaded:,} events loaded, {quarantined_so_far:,} quarantined so far")
        _ledger(con, night, entry, loaded, quarantined, "loaded", None)


def _load_activity(
    con, manifest: Manifest, other_nights: dict, result: LoadResult, pseudo: Pseudonymizer | None, shown: Doing
) -> None:
    """The viewing-activity feed: parsed row by row (rewatch.netflix), rejects quarantined."""
    night = manifest.export_date
    _create_activity_table(con)
    for entry in manifest.activity_files:
        if _skip_redelivered(con, night, entry, other_nights, result):
            continue
        path = manifest.resolve(entry)
        shown.now(f"reading {entry.path} (viewing activity, {entry.rows:,} rows)")
        rows, rejected = read_activity_file(path)
        _reconcile_counts(path, entry, len(rows) + len(rejected), len(rejected))
        if pseudo:
            rows = [
                dataclasses.replace(
                    r,
                    household_id=pseudo("household", r.household_id),
                    profile_id=pseudo("profile", r.profile_id),
                    profile_name=pseudo("profile_name", r.profile_name),
                )
                for r in rows
            ]
            rejected = [dataclasses.replace(r, record=WITHHELD) for r in rejected]
        table = pa.Table.from_pylist(
            [
                {
                    "_line": r.line,
                    "household_id": r.household_id,
                    "profile_id": r.profile_id,
                    "profile_name": r.profile_name,
                    "started_at": r.started_at.replace(tzinfo=None),
                    "duration_seconds": r.duration_seconds,
                    "bookmark_seconds": r.bookmark_seconds,
                    "latest_bookmark_seconds": r.latest_bookmark_seconds,
                    "title": r.title,
                    "series_title": r.parsed_title.series,
                    "season_label": r.parsed_title.season,
                    "season_number": r.parsed_title.season_number,
                    "episode_title": r.parsed_title.episode,
                    "episode_number": r.parsed_title.episode_number,
                    "supplemental_type": r.supplemental_type,
                    "is_autoplay": r.is_autoplay,
                    "device_model": r.device_model,
                    "device_type": r.device_type,
                    "country": r.country,
                }
                for r in rows
            ],
            schema=pa.schema(
                [(name, _ARROW_TYPES[kind]) for name, kind in ACTIVITY_SCHEMA if name not in ("export_date", "_file")]
            ),
        )
        con.register("activity_rows", table)
        con.execute("insert into night_viewing_activity select ?, ?, * from activity_rows", [night, entry.path])
        con.unregister("activity_rows")
        # The reason's code only (`invalid_duration: ...` -> invalid_duration); the record keeps the value.
        if rejected:
            con.executemany(
                "insert into quarantine values (?, ?, ?, ?, ?)",
                [[night, entry.path, r.line, r.reason.split(":")[0], r.record] for r in rejected],
            )
        result.activity_sessions_loaded += len(rows)
        _ledger(con, night, entry, len(rows), len(rejected), "loaded", None)


def _create_activity_table(con) -> None:
    columns = ", ".join(f"{name} {kind}" for name, kind in ACTIVITY_SCHEMA)
    con.execute(f"create temp table night_viewing_activity ({columns})")


def _skip_redelivered(con, night: dt.date, entry: ManifestFile, other_nights: dict, result: LoadResult) -> bool:
    """A file already loaded from another night (same sha256) is recorded, not loaded again."""
    if entry.sha256 not in other_nights:
        return False
    first_night, first_path = other_nights[entry.sha256]
    _ledger(con, night, entry, 0, 0, "redelivered", f"{first_night}/{first_path}")
    result.files_skipped_as_redelivered.append(entry.path)
    return True


_ARROW_TYPES = {
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "varchar": pa.string(),
    "timestamp": pa.timestamp("us"),
    "boolean": pa.bool_(),
}


def _ensure_activity_partition(raw_dir: Path, night: dt.date) -> None:
    """Nights loaded before the second feed existed get its (empty) partition, so every loaded
    night has one and the models can read a run's nights without checking which exist."""
    target = partition_path(raw_dir, "viewing_activity", night)
    if target.exists():
        return
    con = connect(raw_dir)
    try:
        _create_activity_table(con)
        write_partition(con, "select * from night_viewing_activity", target)
    finally:
        con.close()


def _quarantine_from(
    con, night: dt.date, file: str, columns: tuple[str, ...], checked: str, staged: StagedFile
) -> None:
    """Quarantine a file's rows that broke a rule (`checked._reason`, as JSON records) and its
    malformed records (as delivered)."""
    record = "to_json(struct_pack(" + ", ".join(f'"{c}" := "{c}"' for c in columns) + "))::varchar"
    con.execute(
        f"insert into quarantine select ?, ?, _line, _reason, {record} from {checked} where _reason is not null",
        [night, file],
    )
    con.execute(f"insert into quarantine select ?, ?, line, reason, record from {staged.rejects}", [night, file])


def _reconcile_counts(path: Path, entry: ManifestFile, read: int, rejected: int) -> None:
    """Rows read (readable + malformed) must be the manifest's rows."""
    if read != entry.rows:
        raise ExportError(
            f"{path}: the manifest says {entry.rows} rows but the file holds {read} "
            f"({read - rejected} readable, {rejected} malformed); the file is cut short or the manifest is wrong"
        )


def _ledger(
    con, night, entry: ManifestFile, loaded: int, quarantined: int, status: str, duplicate_of: str | None
) -> None:
    con.execute(
        "insert into ledger values (?, ?, ?, ?, ?, ?, ?, ?, cast(now() as timestamp))",
        [night, entry.path, entry.sha256, entry.rows, loaded, quarantined, status, duplicate_of],
    )


def _load_snapshot(
    con,
    manifest: Manifest,
    table: str,
    columns: tuple[str, ...],
    pseudo: Pseudonymizer | None,
    lines: dict[Path, int],
    shown: Doing,
) -> None:
    entry = manifest.snapshot_file(table)
    path = manifest.resolve(entry)
    night = manifest.export_date
    shown.now(f"reading {entry.path}", entry.rows)
    staged = stage_file(con, path, columns, "staged", lines.get(path))
    if pseudo:
        _pseudonymize_staged(con, staged, IDENTIFIERS[table], pseudo)
    con.execute(
        f"create or replace temp table checked as "
        f"select *, {_rule_case(SNAPSHOT_RULES[table])} as _reason from {staged.records}"
    )
    # A snapshot lists each key once: the first row of a key (by line) is the night's; any later
    # row with the same key is quarantined, so no two tables can keep different copies.
    key = SNAPSHOT_KEYS[table]
    con.execute(
        f"""
        update checked set _reason = 'duplicate_{key}'
        where _line in (
            select _line from checked where _reason is null
            qualify row_number() over (partition by trim("{key}") order by _line) > 1
        )
        """
    )
    typed = ", ".join(f'{expr} as "{name}"' for name, expr in SNAPSHOT_TYPES[table].items())
    con.execute(
        f"create or replace temp table night_{table} as "
        f"select cast(? as date) as export_date, cast(? as varchar) as _file, _line, {typed} from checked where _reason is null",
        [night, entry.path],
    )
    _quarantine_from(con, night, entry.path, columns, "checked", staged)
    _reconcile_counts(path, entry, staged.read, staged.rejected)
    loaded = con.execute(f"select count(*) from night_{table}").fetchone()[0]
    quarantined = con.execute("select count(*) from checked where _reason is not null").fetchone()[0]
    quarantined += staged.rejected
    _ledger(con, night, entry, loaded, quarantined, "loaded", None)


def _summarise_loaded(raw_dir: Path, night: dt.date) -> LoadResult:
    result = LoadResult(night=night, status="already_loaded")
    con = connect(raw_dir)
    try:
        ledger = sql_str(partition_path(raw_dir, "ledger", night))
        quarantine = sql_str(partition_path(raw_dir, "quarantine", night))
        result.events_loaded, result.activity_sessions_loaded = con.execute(
            "select coalesce(sum(rows_loaded) filter (where path like 'playback_events%'), 0), "
            "coalesce(sum(rows_loaded) filter (where path like 'viewing_activity%'), 0) "
            f"from read_parquet({ledger})"
        ).fetchone()
        result.files_skipped_as_redelivered = [
            r[0]
            for r in con.execute(f"select path from read_parquet({ledger}) where status = 'redelivered'").fetchall()
        ]
        reasons = con.execute(
            f"select reason, count(*) from read_parquet({quarantine}) group by 1 order by 1"
        ).fetchall()
        result.quarantined_by_reason = {r: n for r, n in reasons}
        result.rows_quarantined = sum(result.quarantined_by_reason.values())
    finally:
        con.close()
    return result
