"""Erasure requests: remove one household from the raw zone, the quarantine and every
published table, and keep it out of nights loaded later.

`forget_household` rewrites (atomically, partition by partition) every raw partition holding
the household's rows, drops its quarantined records, scrubs its id from the run reports, and
adds it to a registry the loader checks, so a night re-delivered later cannot bring it back.
The caller (`rewatch forget`) then rebuilds the published tables from raw, audits and
publishes them: every table is as if the household had never been delivered.

The registry holds a SHA-256 of the stored id, not the id. The export folders are the
service's deliveries and are not touched: erase there too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from rewatch.errors import PermanentError
from rewatch.privacy import from_environment
from rewatch.rawzone import (
    HOUSEHOLD_TABLES,
    connect,
    partitions,
    partitions_glob,
    register_forgotten,
    sql_str,
    write_partition,
)
from rewatch.settings import Settings

SCRUBBED = "(forgotten household)"


@dataclass
class ForgetResult:
    household_id: str
    stored_id: str
    rows_removed: dict[str, int] = field(default_factory=dict)
    reports_scrubbed: int = 0
    identifiers: list[str] = field(default_factory=list)  # the household's stored id and its profiles'


def stored_household_id(household_id: str) -> str:
    """The id as the raw zone holds it: the pseudonym when pseudonymisation is on."""
    pseudo = from_environment()
    return pseudo("household", household_id) if pseudo else household_id


def forget_household(settings: Settings, household_id: str) -> ForgetResult:
    """Remove a household from raw and quarantine, register it, scrub reports (no rebuild)."""
    stored = stored_household_id(household_id)
    result = ForgetResult(household_id=household_id, stored_id=stored)
    raw_dir = settings.raw_dir
    # Register first: if this is interrupted, re-running it finishes the job, and a night
    # loaded meanwhile already leaves the household out.
    register_forgotten(raw_dir, stored)
    con = connect(raw_dir, spill_to=settings.spill_dir)
    try:
        # The profiles of the household, so quarantined rows naming only a profile go too.
        profile_ids = set()
        if partitions(raw_dir, "profiles"):
            profiles = sql_str(partitions_glob(raw_dir, "profiles"))
            profile_ids = {
                r[0]
                for r in con.execute(
                    f"select distinct profile_id from read_parquet({profiles}) where household_id = ?", [stored]
                ).fetchall()
            }
        # The current partitions and the accepted deliveries kept beside them (rawzone.accept_night).
        for table in HOUSEHOLD_TABLES:
            for path in _partitions(raw_dir, table):
                source = f"read_parquet({sql_str(path)})"
                count = con.execute(f"select count(*) from {source} where household_id = ?", [stored]).fetchone()[0]
                if count:
                    write_partition(
                        con, f"select * from {source} where household_id is distinct from $1", path, [stored]
                    )
                    result.rows_removed[table] = result.rows_removed.get(table, 0) + count
        # Quarantined records are the rows as delivered: a JSON record names the household or
        # profile in its id fields; a raw CSV line (a malformed record) as any whole field.
        identifiers = sorted({stored, household_id, *profile_ids})
        pattern = "(^|,)(" + "|".join(re.escape(i) for i in identifiers) + ")($|,)"
        match = (
            "coalesce(case when try(json(record)) is not null "
            "then json_extract_string(record, '$.household_id') in (select unnest($2::varchar[])) "
            "or json_extract_string(record, '$.profile_id') in (select unnest($2::varchar[])) "
            "else regexp_matches(record, $1) end, false)"
        )
        for path in _partitions(raw_dir, "quarantine"):
            source = f"read_parquet({sql_str(path)})"
            params = [pattern, identifiers]
            count = con.execute(f"select count(*) from {source} where {match}", params).fetchone()[0]
            if count:
                write_partition(con, f"select * from {source} where not {match}", path, params)
                result.rows_removed["quarantine"] = result.rows_removed.get("quarantine", 0) + count
    finally:
        con.close()
    result.reports_scrubbed = _scrub_reports(settings.reports_dir, identifiers)
    result.identifiers = identifiers
    return result


class ErasureLeftTraceError(PermanentError):
    """A lake data file still holds an erased id after the history was dropped."""


def erase_from_lake(settings: Settings, result: ForgetResult) -> dict:
    """After the rebuild without the household: drop every earlier snapshot and the files only
    they referenced, then scan every remaining data file for the household's ids. Time travel
    starts again at the rebuild: no earlier snapshot can show the household."""
    from rewatch.lake import data_files, files_holding
    from rewatch.maintain import drop_history

    dropped = drop_history(settings)
    files = data_files(settings)
    traces = sorted({str(path) for value in result.identifiers for path in files_holding(settings, value)})
    if traces:
        raise ErasureLeftTraceError(
            f"household {result.household_id!r}: {len(traces)} lake data file(s) still hold its ids after the "
            f"history was dropped, e.g. {traces[0]}; run `rewatch forget` again, and report this if it persists"
        )
    return {**dropped, "data_files_scanned": len(files)}


def _partitions(raw_dir: Path, table: str) -> list[Path]:
    """Every partition of a raw table: each night's current one and its accepted delivery."""
    return sorted([*partitions(raw_dir, table), *partitions(raw_dir, table, accepted=True)])


def _scrub_reports(reports_dir: Path, identifiers: list[str]) -> int:
    """Replace the household's ids in run reports, alerts, Data Docs (audit examples) and run logs.

    Whole tokens only (`hh1` is not scrubbed out of `hh10`), and in JSON only inside string
    values, so every report stays valid JSON whatever the id looks like.
    """
    if not reports_dir.exists() or not identifiers:
        return 0
    token = re.compile(
        r"(?<![A-Za-z0-9_.-])("
        + "|".join(re.escape(i) for i in sorted(identifiers, key=len, reverse=True))
        + r")(?![A-Za-z0-9_.-])"
    )

    def scrub_json(value):
        if isinstance(value, str):
            return token.sub(SCRUBBED, value)
        if isinstance(value, list):
            return [scrub_json(v) for v in value]
        if isinstance(value, dict):
            return {scrub_json(k): scrub_json(v) for k, v in value.items()}
        return value

    scrubbed = 0
    for path in reports_dir.rglob("*"):
        if not path.is_file() or path.suffix not in (".json", ".jsonl", ".html", ".txt", ".log"):
            continue
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        if not token.search(text):
            continue
        if path.suffix == ".json":
            new = json.dumps(scrub_json(json.loads(text)), indent=2, sort_keys=True) + "\n"
        elif path.suffix == ".jsonl":
            new = "".join(
                json.dumps(scrub_json(json.loads(line)), sort_keys=True) + "\n" for line in text.splitlines() if line
            )
        else:
            new = token.sub(SCRUBBED, text)
        if new == text:
            continue
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(new, encoding="utf-8", errors="surrogateescape")
        tmp.replace(path)
        scrubbed += 1
    return scrubbed
