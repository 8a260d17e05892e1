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


# The files that build and publish many nights, longest first: `make test` hands whole files to
# its two workers in collection order (`--no-loadscope-reorder`: by default pytest-xdist sends
# the files with the most tests first, which left two one-test files of 4 minutes each for the
# end), so starting the long ones first keeps both workers busy to the end instead of leaving
# one file running alone. Order only: every file runs as it is.
LONGEST_FIRST = (  # measured with `--durations` from a fresh clone, 2026-11-27
    "tests/rewatch/test_incremental.py",
    "tests/rewatch/test_concurrent_readers.py",
    "tests/integration/test_real_airflow.py",
    "tests/rewatch/test_crashes.py",
    "tests/rewatch/test_forget.py",
    "tests/rewatch/test_stopping.py",
    "tests/rewatch/test_audit.py",
    "tests/rewatch/test_writer_lock.py",
    "tests/rewatch/test_restatements.py",
    "tests/rewatch/test_timezones.py",
    "tests/test_end_to_end.py",
    "tests/rewatch/test_viewing_activity_feed.py",
    "tests/test_any_night.py",
    "tests/rewatch/test_maintain.py",
    "tests/rewatch/test_lake.py",
    "tests/rewatch/test_this_run.py",
    "tests/rewatch/test_bad_input.py",
    "tests/rewatch/test_access.py",
    "tests/rewatch/test_dbt_unit_tests.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    root = Path(str(config.rootpath))
    items.sort(key=lambda item: rank.get(Path(str(item.path)).relative_to(root).as_posix(), len(rank)))
