"""Kill a nightly run with SIGKILL at a chosen point, then check what it left.

Shared by tests/rewatch/test_crashes.py (a handful of kills) and bench/crash_soak.py (as many
as asked). The run is the same step functions the DAG's tasks call (load, build, audit,
publish), in its own process group, killed as a whole, as an OOM kill or a lost worker would.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from rewatch.compare import diff_warehouses
from rewatch.contract import night_dir, read_manifest
from rewatch.load import _ledger_rows, is_loaded, partition_path
from rewatch.settings import Settings
from tests.readers_harness import published_state

RUNNER = """
import datetime as dt, sys
from rewatch import pipeline
from rewatch.settings import get_settings
night, settings = dt.date.fromisoformat(sys.argv[1]), get_settings()
loaded = pipeline.load(night, settings)
built = pipeline.build(night, settings)
audited = pipeline.audit(night, settings)
pipeline.publish(night, loaded, built, audited, settings)
"""
PHASES = ("load", "build", "audit", "publish")


def run_night(env: dict, night: dt.date, timeout: float = 600) -> None:
    """A nightly run to completion (the recovery run)."""
    subprocess.run(
        [sys.executable, "-c", RUNNER, night.isoformat()],
        env=env,
        check=True,
        timeout=timeout,
        capture_output=True,
        start_new_session=True,
    )


def _session_commands(session: int) -> list[str]:
    """Command lines of the live processes of a session (the run and its dbt / audit children)."""
    commands = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[3]) == session:
                commands.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError, ValueError):
            continue
    return commands


def run_and_kill(env: dict, night: dt.date, phase: str, rng: random.Random, timeout: float = 600) -> str:
    """Start a nightly run and SIGKILL its whole process group in `phase`.

    load: 0.5-3 s after start (imports, manifest, partitions); build: 0-6 s into the dbt
    process; audit: 0-12 s into the GX child; publish: just after the audit child exits
    (the checkpoint and the os.replace). Returns the phase killed in, or "finished".
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, night.isoformat()],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout

    def wait_for(predicate) -> bool:
        while time.monotonic() < deadline and proc.poll() is None:
            if predicate(_session_commands(proc.pid)):
                return True
            time.sleep(0.05)
        return False

    if phase == "load":
        time.sleep(rng.uniform(0.5, 3.0))
    elif phase == "build":
        if wait_for(lambda cmds: any(" build " in c and "dbt" in c for c in cmds)):
            time.sleep(rng.uniform(0, 6))
    elif phase == "audit":
        if wait_for(lambda cmds: any("rewatch.audit" in c for c in cmds)):
            time.sleep(rng.uniform(0, 12))
    elif phase == "publish":
        if wait_for(lambda cmds: any("rewatch.audit" in c for c in cmds)):
            wait_for(lambda cmds: not any("rewatch.audit" in c for c in cmds))
            time.sleep(rng.uniform(0, 0.3))
    else:
        raise ValueError(phase)
    if proc.poll() is not None:
        return "finished"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return phase


@dataclass
class Trial:
    phase: str
    killed_in: str
    state_after_kill: tuple
    problems: list[str]

    @property
    def survived(self) -> bool:
        return not self.problems


def leftovers(warehouse: Path) -> list[Path]:
    """Temporary or half-made files under the warehouse folder after a completed run."""
    found = [p for p in warehouse.rglob("*") if p.is_file() and (p.name.endswith((".tmp", ".copying")))]
    build = warehouse / "build"
    if build.exists():
        found += [p for p in build.iterdir()]
    return found


def trial(
    base: Path,
    work: Path,
    exports: Path,
    night: dt.date,
    phase: str,
    rng: random.Random,
    states: set,
    reference: Path,
) -> Trial:
    """Copy the base warehouse, kill a run of `night` in `phase`, check, recover, check again."""
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(base, work)
    env = {**os.environ, "REWATCH_EXPORTS_DIR": str(exports), "REWATCH_WAREHOUSE_DIR": str(work)}
    killed_in = run_and_kill(env, night, phase, rng)
    settings = Settings(exports_dir=exports, warehouse_dir=work)
    problems = []
    try:
        state = published_state(settings.published_path)
    except duckdb.Error as exc:  # the published file must always open
        return Trial(phase, killed_in, (), [f"published file does not open after the kill: {exc}"])
    if state not in states:
        problems.append(f"readers would see {state}, neither the old nor the new night {sorted(states)}")
    if Path(str(settings.published_path) + ".wal").exists():
        problems.append("the published file has a WAL (it is never written in place)")
    try:
        run_night(env, night)
    except subprocess.CalledProcessError as exc:
        return Trial(phase, killed_in, state, [*problems, f"re-run failed: {exc.stderr.decode()[-2000:]}"])
    diff = diff_warehouses(reference, settings.published_path)
    if any(counts != (0, 0) for counts in diff.values()):
        problems.append(f"re-run differs from an uninterrupted run: {diff}")
    if left := leftovers(work):
        problems.append(f"left behind: {[str(p.relative_to(work)) for p in left]}")
    manifest = read_manifest(night_dir(exports, night))
    if not is_loaded(_ledger_rows(settings.raw_dir), manifest):
        problems.append("the ledger does not match the night's manifest")
    con = duckdb.connect()
    try:
        quarantined = con.execute(
            "select count(*) from read_parquet(?)", [str(partition_path(settings.raw_dir, "quarantine", night))]
        ).fetchone()[0]
        declared = con.execute(
            "select sum(rows_quarantined) from read_parquet(?)",
            [str(partition_path(settings.raw_dir, "ledger", night))],
        ).fetchone()[0]
    finally:
        con.close()
    if quarantined != declared:
        problems.append(f"quarantine holds {quarantined} rows, the ledger says {declared}")
    return Trial(phase, killed_in, state, problems)
