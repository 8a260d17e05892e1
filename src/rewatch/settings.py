"""Every path and environment variable rewatch reads, in one place.

Functions, not module constants: tests and the CLI change the environment
between runs, and every caller must see the value in force now.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
# An installed wheel carries the project files it runs (dags/, dbt_project/, expectations/) in
# rewatch/project/ (pyproject.toml); a checkout has them at its root, above src/.
_BUNDLED = _PACKAGE / "project"
INSTALLED = (_BUNDLED / "dbt_project" / "dbt_project.yml").is_file()
PROJECT_ROOT = _BUNDLED if INSTALLED else _PACKAGE.parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DAGS_DIR = PROJECT_ROOT / "dags"

WRITER_POOL = "warehouse_writer"
DAG_ID = "rewatch_nightly"

# The published tables analysts read: every dbt model under models/marts (dbt_project.yml
# publishes that folder to the lake's main schema), so the list has one owner, the dbt project.
# rewatch_runs (when and how each night ran) and rewatch_restatements are the run's own logs.
PUBLISHED_TABLES = tuple(sorted(path.stem for path in (DBT_PROJECT_DIR / "models" / "marts").rglob("*.sql")))


@dataclass(frozen=True)
class Settings:
    """Where the exports come from and where the warehouse lives."""

    exports_dir: Path
    warehouse_dir: Path
    # The published lake's catalog (`REWATCH_LAKE_CATALOG`): `postgres:<libpq string>` when
    # deployed; None, the embedded default, a SQLite file under the warehouse directory.
    catalog: str | None = None

    @property
    def lake_catalog(self) -> str:
        return self.catalog or f"sqlite:{self.warehouse_dir / 'lake' / 'catalog.sqlite'}"

    @property
    def raw_dir(self) -> Path:
        """The raw zone: one Parquet partition per table and night, plus ledger and quarantine."""
        return self.warehouse_dir / "raw"

    @property
    def build_dir(self) -> Path:
        """Where the next warehouse file is built and audited before it is published."""
        return self.warehouse_dir / "build"

    @property
    def spill_dir(self) -> Path:
        """Where the writer's in-memory DuckDB sessions (load, publish, forget) spill beyond their
        memory limit (one writer at a time; DuckDB removes its files when the session closes,
        and a load clears what a killed one left). A file database (dbt's scratch database, the
        audit reading it) spills beside its file, in the run's own folder."""
        return self.build_dir / "spill"

    @property
    def reports_dir(self) -> Path:
        return self.warehouse_dir / "reports"

    @property
    def dbt_docs_dir(self) -> Path:
        """dbt's documentation page of the warehouse (index.html), kept current by each publish."""
        return self.reports_dir / "dbt-docs"


# DuckDB's memory for each process of a night (load, dbt, audit, publish): beyond it, DuckDB
# spills to a folder under the warehouse's build area instead of growing (docs/benchmarks.md,
# "One large night against the floor"). DuckDB's own default is 80% of the machine's memory per
# process, which a large night reached in two processes at once.
MEMORY_LIMIT_ENV = "REWATCH_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2GB"
_SIZE = re.compile(r"\s*\d+(\.\d+)?\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)\s*", re.IGNORECASE)


def duckdb_memory_limit() -> str:
    """`REWATCH_DUCKDB_MEMORY_LIMIT` (DuckDB's size syntax, e.g. 2GB or 1500MiB), else the default."""
    return (os.environ.get(MEMORY_LIMIT_ENV) or "").strip() or DEFAULT_MEMORY_LIMIT


def duckdb_limits(spill_to: Path | None = None) -> dict[str, str]:
    """DuckDB settings of a pipeline process: the memory limit, and where to spill beyond it."""
    limits = {"memory_limit": duckdb_memory_limit()}
    if spill_to is not None:
        limits["temp_directory"] = str(spill_to)
    return limits


def get_settings() -> Settings:
    """Read settings from the environment (defaults under ./data/)."""
    data = Path(os.environ.get("REWATCH_DATA_DIR", Path.cwd() / "data"))
    exports = Path(os.environ.get("REWATCH_EXPORTS_DIR", data / "exports"))
    warehouse = Path(os.environ.get("REWATCH_WAREHOUSE_DIR", data / "warehouse"))
    catalog = os.environ.get("REWATCH_LAKE_CATALOG") or None
    return Settings(exports_dir=exports.resolve(), warehouse_dir=warehouse.resolve(), catalog=catalog)


# `.env` in the working directory: read by the CLI before anything else (values already in the
# environment win), so a project folder can keep its settings beside its data.
DOTENV_NAME = ".env"


def load_dotenv(folder: Path | None = None) -> dict[str, str]:
    """Set rewatch's variables (`REWATCH_*`, `AIRFLOW_HOME`) from `<folder>/.env` (default: the
    working directory) where the environment does not already set them; returns those it set.
    Other names are left alone: the same file may hold docker compose's settings (.env.example),
    which are not the embedded Airflow's. python-dotenv's syntax: `KEY=value` lines, `#`
    comments, quotes, `export ` prefixes."""
    path = (folder or Path.cwd()) / DOTENV_NAME
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    values = {
        key: value
        for key, value in dotenv_values(path).items()
        if value is not None and (key.startswith("REWATCH_") or key == "AIRFLOW_HOME")
    }
    applied = {key: value for key, value in values.items() if key not in os.environ}
    os.environ.update(applied)
    return applied


def _hours(value: str) -> str | None:
    try:
        ok = float(value) > 0
    except ValueError:
        ok = False
    return None if ok else "not a number of hours above 0; e.g. 6 or 0.5"


def whole_nights(value: str) -> str | None:
    """`REWATCH_KEEP_NIGHTS`: what `int()` reads, at least 1 (rewatch.maintain reads it so)."""
    try:
        ok = int(value) >= 1
    except ValueError:
        ok = False
    return None if ok else "not a whole number of nights, at least 1; e.g. 90"


def _cron(value: str) -> str | None:
    from croniter import croniter

    return None if croniter.is_valid(value) else "not a cron expression; e.g. '0 4 * * *' (04:00 UTC every day)"


def _catalog(value: str) -> str | None:
    """The catalogs rewatch.lake opens: `postgres:<libpq string>` or `sqlite:<file>`."""
    kind, _, where = value.partition(":")
    if kind in ("postgres", "sqlite") and where.strip():
        return None
    return (
        "not a catalog; give postgres:<libpq connection string> (e.g. 'postgres:dbname=rewatch host=db') "
        "or sqlite:<file>, or unset it"
    )


def _size(value: str) -> str | None:
    return None if _SIZE.fullmatch(value) else "not a size DuckDB reads; e.g. 2GB, 1500MB or 4GiB"


def _url(value: str) -> str | None:
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    return None if parts.scheme in ("http", "https") and parts.netloc else "not an http(s) URL"


def _key(value: str) -> str | None:
    from rewatch.privacy import MIN_KEY_LENGTH  # the pseudonymizer's own rule

    return None if len(value) >= MIN_KEY_LENGTH else f"shorter than {MIN_KEY_LENGTH} characters; use a random secret"


def _folder(value: str) -> str | None:
    path = Path(value)  # as get_settings reads it
    return "is a file, not a folder" if path.exists() and not path.is_dir() else None


# Each setting a user gives and what makes it valid (None: fine; else what is wrong with it).
CHECKS = {
    "REWATCH_DATA_DIR": _folder,
    "REWATCH_EXPORTS_DIR": _folder,
    "REWATCH_WAREHOUSE_DIR": _folder,
    "REWATCH_LAKE_CATALOG": _catalog,
    "REWATCH_EXPORT_WAIT_HOURS": _hours,
    "REWATCH_SCHEDULE_CRON": _cron,
    "REWATCH_MAINTAIN_CRON": _cron,
    "REWATCH_KEEP_NIGHTS": whole_nights,
    MEMORY_LIMIT_ENV: _size,
    "REWATCH_ALERT_WEBHOOK_URL": _url,
    "REWATCH_PSEUDONYMIZE_KEY": _key,
}


def settings_problems(from_dotenv: dict[str, str] | None = None) -> list[str]:
    """What is wrong with the settings in the environment, one line per variable (never a
    secret's value), naming `.env` when the value came from there."""
    problems = []
    for name, check in CHECKS.items():
        value = os.environ.get(name)
        if value is None or (value == "" and name == "REWATCH_LAKE_CATALOG"):  # the default
            continue
        if (wrong := "empty; unset it for the default" if not value.strip() else check(value)) is not None:
            shown = "<hidden>" if name == "REWATCH_PSEUDONYMIZE_KEY" else repr(value)
            where = f" (from {Path.cwd() / DOTENV_NAME})" if from_dotenv and name in from_dotenv else ""
            problems.append(f"{name}={shown}{where}: {wrong}")
    return problems
