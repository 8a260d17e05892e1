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

from rewatch.errors import PermanentError
from rewatch.settings import DBT_PROJECT_DIR, Settings


class BuildError(PermanentError):
    """dbt failed: the message names the failing nodes; the published file is untouched."""


@dataclass(frozen=True)
class BuildResult:
    night: dt.date
    candidate_path: Path
    seconds: float
    nodes: int


def candidate_path(settings: Settings, night: dt.date) -> Path:
    return settings.build_dir / f"next-{night.isoformat()}.duckdb"


def _remove_database(path: Path) -> None:
    for suffix in ("", ".wal"):
        target = Path(str(path) + suffix)
        if target.exists():
            target.unlink()


def dbt_executable() -> str:
    """The dbt of this environment (next to the running interpreter), not whatever is on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_env(settings: Settings, database: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "REWATCH_DBT_DATABASE": str(database),
            "REWATCH_RAW_DIR": str(settings.raw_dir),
            "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        }
    )
    return env


def run_dbt(
    settings: Settings, database: Path, args: list[str], vars_: dict | None = None
) -> subprocess.CompletedProcess:
    """Run a dbt command against `database` in a child process (isolated memory and crashes)."""
    run_dir = database.parent / f"dbt-{database.stem}"
    cmd = [
        dbt_executable(),
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
    return subprocess.run(cmd, env=dbt_env(settings, database), capture_output=True, text=True, check=False)


def _failures(run_dir: Path) -> list[str]:
    results = run_dir / "target" / "run_results.json"
    if not results.exists():
        return []
    data = json.loads(results.read_text())
    failed = []
    for result in data.get("results", []):
        if result.get("status") in ("error", "fail", "runtime error"):
            message = (result.get("message") or "").strip().splitlines()
            failed.append(f"{result.get('unique_id')}: {result.get('status')}: {message[0] if message else ''}")
    return failed


def build_night(settings: Settings, night: dt.date, full_refresh: bool = False) -> BuildResult:
    """Copy the published file (or start empty) and `dbt build` the next warehouse in it."""
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    candidate = candidate_path(settings, night)
    _remove_database(candidate)
    if settings.published_path.exists() and not full_refresh:
        tmp = candidate.with_suffix(".copying")
        shutil.copyfile(settings.published_path, tmp)
        os.replace(tmp, candidate)
    started = time.monotonic()
    args = ["build", "--fail-fast"]
    if full_refresh:
        args.append("--full-refresh")
    proc = run_dbt(settings, candidate, args, {"rewatch__run_date": night.isoformat()})
    if proc.returncode != 0:
        failures = _failures(candidate.parent / f"dbt-{candidate.stem}")
        tail = "\n".join(proc.stdout.strip().splitlines()[-25:])
        _remove_database(candidate)
        detail = "\n".join(failures) if failures else tail
        raise BuildError(f"dbt build failed for night {night}; the published warehouse is unchanged.\n{detail}")
    data = json.loads((candidate.parent / f"dbt-{candidate.stem}" / "target" / "run_results.json").read_text())
    return BuildResult(
        night=night, candidate_path=candidate, seconds=time.monotonic() - started, nodes=len(data["results"])
    )


def publish(settings: Settings, night: dt.date, summary: dict) -> Path:
    """Record the run in the candidate, checkpoint it, and move it over the published file."""
    candidate = candidate_path(settings, night)
    if not candidate.exists():
        raise FileNotFoundError(f"{candidate}: no built warehouse to publish for night {night}; run the build first")
    con = duckdb.connect(str(candidate))
    try:
        con.execute("create table if not exists main.rewatch_runs (night date, published_at timestamp, summary json)")
        con.execute("delete from main.rewatch_runs where night = ?", [night])
        con.execute(
            "insert into main.rewatch_runs values (?, cast(now() at time zone 'UTC' as timestamp), ?)",
            [night, json.dumps(summary, sort_keys=True, default=str)],
        )
        con.execute("checkpoint")
    finally:
        con.close()
    if Path(str(candidate) + ".wal").exists():
        raise RuntimeError(f"{candidate}.wal still exists after checkpoint; not publishing a file without its log")
    os.replace(candidate, settings.published_path)
    run_dir = candidate.parent / f"dbt-{candidate.stem}"
    shutil.rmtree(run_dir, ignore_errors=True)
    return settings.published_path
