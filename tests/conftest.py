"""Test set-up: every test writes under a temporary folder, Airflow included.

Airflow reads its configuration once per process, so its home (SQLite metadata) is set here,
before anything imports it, to a folder of this test session.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass
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

# The longest test files first (worker seconds in a fresh-clone run, 2026-11-28): `make test`
# runs one file per worker on 2 cores, and a long file handed out last keeps one core busy
# while the other waits. Longest first, the two finish close together (the Makefile passes
# --no-loadscope-reorder: by default xdist hands out files by their number of tests, which put
# the one-test wheel and real-Airflow files last). Order only: no test depends on another's.
LONGEST_FIRST = (
    "tests/rewatch/test_audit.py",  # 425 s
    "tests/rewatch/test_crashes.py",  # 355
    "tests/rewatch/test_incremental_scenarios.py",  # 255
    "tests/integration/test_real_airflow.py",  # 230
    "tests/rewatch/test_incremental.py",  # 225
    "tests/test_wheel.py",  # 170
    "tests/rewatch/test_stopping.py",  # 145
    "tests/test_end_to_end.py",  # 105
    "tests/rewatch/test_restatements.py",  # 100
    "tests/rewatch/test_writer_lock.py",  # 100
    "tests/rewatch/test_bad_input.py",  # 85
)


def pytest_collection_modifyitems(session, config, items):
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable: the rest keep their order


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


@pytest.fixture(scope="session")
def first_night(generated_small):
    """Night START of `generated_small` run step by step to its publish (the real audit), once
    per test process: `warehouse` holds it published, `stages` the warehouse before each step
    (tests.crash_harness.run_in_steps). Shared read-only: a test copies `warehouse` (or a stage)
    into a folder of its own before it writes, as `copy_of_first_night` does."""
    from tests.crash_harness import run_in_steps

    root = _SESSION_DIR / "first_night"
    stages = run_in_steps(generated_small.out_dir, None, root, START)
    return FirstNight(root / "published", stages)


@dataclass(frozen=True)
class FirstNight:
    warehouse: Path
    stages: dict


def copy_of_first_night(first_night: FirstNight, generated_small, warehouse: Path, mp: pytest.MonkeyPatch):
    """A copy of the first night's published warehouse at `warehouse`, with the environment of
    `mp` pointing at it and at the generated exports; its settings."""
    shutil.copytree(first_night.warehouse, warehouse)
    mp.setenv("REWATCH_EXPORTS_DIR", str(generated_small.out_dir))
    mp.setenv("REWATCH_WAREHOUSE_DIR", str(warehouse))
    return get_settings()
