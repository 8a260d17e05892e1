"""Test set-up: every test writes under a temporary folder, Airflow included.

Airflow reads its configuration once per process, so its home (SQLite metadata) is set here,
before anything imports it, to a folder of this test session.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import pytest

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="rewatch-tests-"))
os.environ["AIRFLOW_HOME"] = str(_SESSION_DIR / "airflow")
os.environ.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

from rewatch.generate import generate  # noqa: E402
from rewatch.settings import get_settings  # noqa: E402

START = dt.date(2026, 3, 2)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """REWATCH_EXPORTS_DIR / REWATCH_WAREHOUSE_DIR in a fresh folder; returns the settings."""
    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(tmp_path / "exports"))
    monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    (tmp_path / "exports").mkdir()
    return get_settings()


@pytest.fixture(scope="session")
def generated_small():
    """Three generated nights for 80 households (exports and ground truth), shared read-only."""
    out = _SESSION_DIR / "generated_small"
    result = generate(out / "exports", START, 3, 80, seed=11, truth_dir=out / "truth")
    return result
