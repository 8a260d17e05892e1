"""Every path and environment variable rewatch reads, in one place.

Functions, not module constants: tests and the CLI change the environment
between runs, and every caller must see the value in force now.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
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
    def reports_dir(self) -> Path:
        return self.warehouse_dir / "reports"


def get_settings() -> Settings:
    """Read settings from the environment (defaults under ./data/)."""
    data = Path(os.environ.get("REWATCH_DATA_DIR", Path.cwd() / "data"))
    exports = Path(os.environ.get("REWATCH_EXPORTS_DIR", data / "exports"))
    warehouse = Path(os.environ.get("REWATCH_WAREHOUSE_DIR", data / "warehouse"))
    catalog = os.environ.get("REWATCH_LAKE_CATALOG") or None
    return Settings(exports_dir=exports.resolve(), warehouse_dir=warehouse.resolve(), catalog=catalog)
