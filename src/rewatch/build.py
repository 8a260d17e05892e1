"""Build the next warehouse file with dbt, and publish it atomically.

Write-audit-publish: the published file `rewatch.duckdb` is never written in place. Each run
copies it to `build/next-<night>.duckdb` (so incremental models keep their state), runs
`dbt build` there, and only then moves it over the published file with `os.replace`:
analysts with the old file open keep reading their snapshot, new connections see the new
night, and a failed build leaves the published file byte-for-byte as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from rewatch import faults
from rewatch.errors import PermanentError
from rewatch.rawzone import partition_nights
from rewatch.settings import DBT_PROJECT_DIR, Settings
from rewatch.stopping import die_with_parent

# What change capture reads of the published warehouse (the dbt sources `published*`).
PREVIOUS_STATE_SOURCES = DBT_PROJECT_DIR / "models" / "intermediate" / "run" / "_run__sources.yml"


class BuildError(PermanentError):
    """dbt failed: the message names the failing nodes; the published file is untouched."""


class PublishConflictError(PermanentError):
    """The published warehouse changed while this run built on it: publishing would lose that change."""


@dataclass(frozen=True)
class BuildResult:
    night: dt.date | None
    nights: tuple[dt.date, ...]
    candidate_path: Path
    seconds: float
    nodes: int
    base: str | None  # the published file this build started from (published_fingerprint)


def published_fingerprint(settings: Settings) -> str | None:
    """Which published file is in place (inode, size, mtime): every publish replaces the file,
    so a different value means another writer published in between. None: nothing published."""
    try:
        st = settings.published_path.stat()
    except FileNotFoundError:
        return None
    return f"{st.st_ino}-{st.st_size}-{st.st_mtime_ns}"


def candidate_path(settings: Settings, night: dt.date | None) -> Path:
    """The file a run builds; `night=None` is the full rebuild."""
    return settings.build_dir / f"next-{night.isoformat() if night else 'rebuild'}.duckdb"


def dbt_run_dir(database: Path) -> Path:
    """Where dbt keeps its target and logs for a build of `database` (beside it)."""
    return database.parent / f"dbt-{database.stem}"


def _remove_database(path: Path) -> None:
    for suffix in ("", ".wal"):
        target = Path(str(path) + suffix)
        if target.exists():
            target.unlink()


def dbt_env(settings: Settings, database: Path, previous: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "REWATCH_DBT_DATABASE": str(database),
            "REWATCH_PUBLISHED_DATABASE": str(previous),
            "REWATCH_RAW_DIR": str(settings.raw_dir),
            "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        }
    )
    return env


def previous_state_tables() -> dict[tuple[str, str], list[tuple[str, str]]]:
    """The published tables and columns change capture reads: the `published*` dbt sources,
    as (schema, table) -> [(column, type)]."""
    spec = yaml.safe_load(PREVIOUS_STATE_SOURCES.read_text())
    return {
        (source["schema"], table["name"]): [(column["name"], column["data_type"]) for column in table["columns"]]
        for source in spec["sources"]
        for table in source["tables"]
    }


def empty_previous_state(path: Path) -> Path:
    """The state before the first night (and before a full rebuild): those tables, empty."""
    _remove_database(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        for (schema, table), columns in previous_state_tables().items():
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create table {schema}.{table} ({', '.join(f'{c} {t}' for c, t in columns)})")
        con.execute("checkpoint")
    finally:
        con.close()
    return path


def check_previous_state(published: Path) -> None:
    """Refuse to build on a published warehouse that lacks what change capture reads."""
    con = duckdb.connect(str(published), read_only=True)
    try:
        present = set(
            con.execute("select table_schema, table_name, column_name from information_schema.columns").fetchall()
        )
    finally:
        con.close()
    missing = [
        f"{schema}.{table}.{column}"
        for (schema, table), columns in previous_state_tables().items()
        for column, _ in columns
        if (schema, table, column) not in present
    ]
    if missing:
        raise BuildError(
            f"{published} was built by an older rewatch: it lacks {', '.join(missing[:5])}"
            f"{' and more' if len(missing) > 5 else ''}. Run `rewatch rebuild` once; the published warehouse is unchanged."
        )


def run_dbt(
    settings: Settings, database: Path, args: list[str], vars_: dict | None = None, previous: Path | None = None
) -> subprocess.CompletedProcess:
    """Run a dbt command against `database` in a child process (isolated memory and crashes).

    `previous` is the published warehouse the run compares with (attached read-only as
    `published`); None: an empty one (the first night, a full rebuild). The child is this
    environment's dbt through `rewatch.dbt_runner` (the build's fault points).
    """
    run_dir = dbt_run_dir(database)
    if previous is None:
        previous = empty_previous_state(run_dir / "previous-empty.duckdb")
    cmd = [
        sys.executable,
        "-m",
        "rewatch.dbt_runner",
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(run_dir / "target"),
        "--log-path",
        str(run_dir / "logs"),
    ]
    if vars_:
        cmd += ["--vars", json.dumps(vars_)]
    return subprocess.run(
        cmd,
        env=dbt_env(settings, database, previous),
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=die_with_parent(),
    )


def loaded_nights(settings: Settings) -> list[dt.date]:
    """Nights whose raw load completed (their ledger partition exists)."""
    return partition_nights(settings.raw_dir, "ledger")


def _failures(run_dir: Path) -> list[str]:
    results = run_dir / "target" / "run_results.json"
    if not results.exists():
        return []
    data = json.loads(results.read_text())
    failed = []
    for result in data.get("results", []):
        if result.get("status") in ("error", "fail", "runtime error"):
            message = " ".join(line.strip() for line in (result.get("message") or "").strip().splitlines()[:8])
            failed.append(f"{result.get('unique_id')}: {result.get('status')}: {message}")
    return failed


def build_night(
    settings: Settings, night: dt.date | None, full_refresh: bool = False, nights: list[dt.date] | None = None
) -> BuildResult:
    """Copy the published file (or start empty) and `dbt build` the next warehouse in it.

    Incremental: only what night `night` changes is recomputed. With `full_refresh`, the file
    starts empty and `nights` (default: every loaded night) are processed (`rewatch rebuild`).
    """
    if night is None and not full_refresh:
        raise ValueError("an incremental build needs a night")
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    candidate = candidate_path(settings, night)
    # A run killed before publishing leaves its candidate (and its WAL: the candidate is a
    # throwaway copy, rebuilt from the published file, so both go), a half copy or a dbt run
    # folder. The published file and its own state are never touched here.
    copying = candidate.with_suffix(".copying")
    _remove_database(candidate)
    copying.unlink(missing_ok=True)
    shutil.rmtree(dbt_run_dir(candidate), ignore_errors=True)
    base = published_fingerprint(settings)
    previous = None
    if settings.published_path.exists() and not full_refresh:
        check_previous_state(settings.published_path)
        previous = settings.published_path
        shutil.copyfile(settings.published_path, copying)
        os.replace(copying, candidate)
    faults.point("build:copied")
    started = time.monotonic()
    # Unit tests check the models' code, not the night's data: `make test` runs them.
    args = ["build", "--fail-fast", "--exclude-resource-type", "unit_test"]
    if full_refresh:
        args.append("--full-refresh")
    nights = (nights or loaded_nights(settings)) if full_refresh else [night]
    if not nights:
        raise BuildError("no loaded nights to build from; run a night first")
    proc = run_dbt(settings, candidate, args, {"rewatch__nights": [n.isoformat() for n in nights]}, previous)
    if proc.returncode != 0:
        failures = _failures(dbt_run_dir(candidate))
        tail = "\n".join(proc.stdout.strip().splitlines()[-25:])
        _remove_database(candidate)
        detail = "\n".join(failures) if failures else tail
        raise BuildError(f"dbt build failed for night {night}; the published warehouse is unchanged.\n{detail}")
    data = json.loads((dbt_run_dir(candidate) / "target" / "run_results.json").read_text())
    return BuildResult(
        night=night,
        nights=tuple(nights),
        candidate_path=candidate,
        seconds=time.monotonic() - started,
        nodes=len(data["results"]),
        base=base,
    )


UNCHECKED = object()


def publish(
    settings: Settings,
    night: dt.date | None,
    summary: dict,
    nights: list[dt.date] | None = None,
    base: str | object | None = UNCHECKED,
) -> Path:
    """Record the run in the candidate, checkpoint it, and move it over the published file.

    `nights` are the nights the run processed (default: `night`); a rebuild records them all.
    `base`: the published file the build started from (BuildResult.base); when the file in
    place is another one, another writer published meanwhile and this candidate, built without
    that change, is discarded instead of replacing it (PublishConflictError).
    """
    candidate = candidate_path(settings, night)
    if not candidate.exists():
        raise BuildError(
            f"{candidate}: no built warehouse to publish for {night or 'the rebuild'} (its build failed or was "
            "discarded); run the build again before publishing. The published warehouse is unchanged."
        )
    if base is not UNCHECKED and published_fingerprint(settings) != base:
        discard_candidate(settings, night)
        raise PublishConflictError(
            f"{settings.published_path} changed since the build of {night or 'the rebuild'} started (another "
            f"writer published meanwhile); not replacing it with a warehouse that lacks that change. "
            f"The published warehouse is unchanged: run {night or 'the rebuild'} again."
        )
    nights = nights or [night]
    con = duckdb.connect(str(candidate))
    try:
        con.execute("create table if not exists main.rewatch_runs (night date, published_at timestamp, summary json)")
        for processed in nights:
            con.execute("delete from main.rewatch_runs where night = ?", [processed])
            con.execute(
                "insert into main.rewatch_runs values (?, cast(now() at time zone 'UTC' as timestamp), ?)",
                [processed, json.dumps(summary, sort_keys=True, default=str)],
            )
        con.execute("checkpoint")
    finally:
        con.close()
    if Path(str(candidate) + ".wal").exists():
        raise RuntimeError(f"{candidate}.wal still exists after checkpoint; not publishing a file without its log")
    faults.point("publish:before_replace")
    os.replace(candidate, settings.published_path)
    faults.point("publish:after_replace")
    shutil.rmtree(dbt_run_dir(candidate), ignore_errors=True)
    return settings.published_path


def discard_candidate(settings: Settings, night: dt.date | None) -> None:
    """Remove a candidate the audit refused (and its dbt run folder): nothing half-made stays."""
    candidate = candidate_path(settings, night)
    _remove_database(candidate)
    shutil.rmtree(dbt_run_dir(candidate), ignore_errors=True)


def published_nights(settings: Settings) -> list[dt.date] | None:
    """Nights the published warehouse holds (None when nothing is published yet)."""
    if not settings.published_path.exists():
        return None
    con = duckdb.connect(str(settings.published_path), read_only=True)
    try:
        return [row[0] for row in con.execute("select distinct night from main.rewatch_runs order by 1").fetchall()]
    finally:
        con.close()


def rebuild_nights(settings: Settings) -> list[dt.date]:
    """What a rebuild processes: the loaded nights that were published.

    A night the audit refused the first time it came stays loaded in the raw zone but was never
    published; rebuilding it in would make the rebuild differ from the nightly runs. With
    nothing published yet, every loaded night.
    """
    loaded = loaded_nights(settings)
    published = published_nights(settings)
    if published is None:
        return loaded
    if missing := sorted(set(published) - set(loaded)):
        # A run killed while it put a night's accepted delivery back: never rebuild without it.
        raise BuildError(
            f"night(s) {', '.join(map(str, missing))} are published but not loaded in the raw zone (a run was "
            f"interrupted); run them again (rewatch run --date D) before rebuilding. The published warehouse is unchanged."
        )
    return [night for night in loaded if night in set(published)]


def rebuild(settings: Settings, audit=None) -> dict:
    """Rebuild every table from the published nights' raw data into a fresh file, audit, publish.

    `audit(candidate) -> dict` validates the candidate and raises to refuse it.
    """
    nights = rebuild_nights(settings)
    if not nights:
        raise BuildError("no published or loaded nights to rebuild from; run a night first")
    result = build_night(settings, None, full_refresh=True, nights=nights)
    summary = {
        "rebuild": True,
        "nights": [n.isoformat() for n in result.nights],
        "dbt_seconds": round(result.seconds, 2),
    }
    if audit is not None:
        try:
            summary["audit"] = audit(result.candidate_path)
        except Exception:
            discard_candidate(settings, None)
            raise
    publish(settings, None, summary, nights=list(result.nights), base=result.base)
    return summary


def generate_docs(settings: Settings, out_dir: Path | None = None) -> Path:
    """`dbt docs generate` for the published warehouse: one self-contained page (lineage, every
    model's grain and columns) in `out_dir` (default: <reports>/dbt-docs/index.html).

    dbt reads the column catalog from a throwaway copy of the published file (it opens its
    database for writing) and attaches the published file itself read-only, as a run does.
    """
    nights = published_nights(settings)
    if not nights:
        raise BuildError(f"{settings.published_path}: nothing published yet; run a night first")
    out_dir = out_dir or settings.reports_dir / "dbt-docs"
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    database = settings.build_dir / "docs.duckdb"
    _remove_database(database)
    shutil.copyfile(settings.published_path, database)
    try:
        proc = run_dbt(
            settings,
            database,
            ["docs", "generate", "--static"],
            {"rewatch__nights": [nights[-1].isoformat()]},
            settings.published_path,
        )
        target = dbt_run_dir(database) / "target"
        if proc.returncode != 0 or not (target / "static_index.html").exists():
            tail = "\n".join(proc.stdout.strip().splitlines()[-15:])
            raise BuildError(f"dbt docs generate failed:\n{tail}")
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target / "static_index.html", out_dir / "index.html")
        for artifact in ("manifest.json", "catalog.json"):
            shutil.copyfile(target / artifact, out_dir / artifact)
    finally:
        _remove_database(database)
        shutil.rmtree(dbt_run_dir(database), ignore_errors=True)
    return out_dir / "index.html"
