"""`make demo` (#17): the runtime only, and an output that is the story of the run.

The real target, run smaller (2 nights of 200 households instead of 7 of 2,000) into a folder
of the test's own: it generates the exports, runs the nights through Airflow with `rewatch
run`, and prints the summary an analyst needs, with nothing of the installer's or Airflow's.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from rewatch.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow
# A safety net for a broken run, never a measure of speed.
PATIENCE = 1800


def _make(*args: str) -> subprocess.CompletedProcess:
    # Nothing of this test process's settings (a fixture's warehouse) reaches the demo.
    env = {name: value for name, value in os.environ.items() if not name.startswith("REWATCH_")}
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )


def test_the_demo_installs_the_runtime_only(tmp_path):
    # What `make demo` runs when the lock has changed since the environment was installed
    # (-W: as if uv.lock were new; -n: printed, not run): its install, then the demo.
    shown = _make("-n", "-W", "uv.lock", "demo", f"DEMO_DIR={tmp_path / 'demo'}")
    assert shown.returncode == 0, shown.stderr
    commands = shown.stdout.splitlines()
    [sync] = [line for line in commands if " sync " in line]
    assert "--frozen" in sync and "--no-dev" in sync, sync
    runs = [line for line in commands if "uv run" in line]
    assert len(runs) == 3 and all("uv run --frozen --no-dev rewatch " in line for line in runs), runs


def test_the_demo_prints_the_story_of_the_run(tmp_path):
    demo = tmp_path / "demo"
    ran = _make("demo", f"DEMO_DIR={demo}", "DEMO_NIGHTS=2", "DEMO_HOUSEHOLDS=200")
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    out = ran.stdout
    warehouse = demo / "warehouse"
    story = [
        rf"generating 2 nights of exports for 200 households in {demo}/exports",
        rf"exports: +{demo}/exports",
        r"  households 200/200: [\d,]+ events, [\d,]+ sessions",
        r"wrote 2 nights, 200 households, [\d,]+ events",
        r"running nights 2026-03-02 \.\. 2026-03-03 through Airflow: rewatch run --from 2026-03-02 --to 2026-03-03",
        rf"warehouse: {warehouse}",
        rf"log: +{warehouse}/reports/logs/run-\S+\.log",
        r"  load of night 2026-03-02: done in [\d.]+s - [\d,]+ events loaded",
        r"  publish of night 2026-03-02: done",
        r"\[1/2\] 2026-03-02: published in \d+s - [\d,]+ sessions in the warehouse",
        r"\[2/2\] 2026-03-03: published in \d+s",
        r"2/2 nights published in \d+s: [\d,]+ events loaded",
        r"nights published: 2 +households: [\d,]+ +sessions: [\d,]+ +view sessions: [\d,]+ +completions: [\d,]+ "
        r"+rewatches: [\d,]+",
        r"top 10 titles by starters",
        rf"morning page: {warehouse}/reports/2026-03-03/index.html",
        rf"the tables \(dbt docs: lineage, grain, every column\): {warehouse}/reports/dbt-docs/index.html",
        r"query it read-only: ",
    ]
    at = 0
    for line in story:  # in this order
        found = re.compile(line, re.M).search(out, at)
        assert found, f"not found after position {at}: {line}\n{out[at:][:3000]}"
        at = found.end()
    assert (warehouse / "reports" / "2026-03-03" / "index.html").is_file()
    assert (warehouse / "reports" / "dbt-docs" / "index.html").is_file()
    # Not the installer's output (package lines, "Installed 181 packages"), not a make command.
    assert not re.search(r"^ *[+-] [\w.-]+==|^(Resolved|Prepared|Installed|Uninstalled) \d+ package", out, re.M)
    assert "$(" not in out and "rewatch generate --out" not in out
    assert ran.stderr == "", ran.stderr[-3000:]  # Airflow's own output went to the run's log file
