"""The wheel works on its own (#17): built from this checkout, installed into a fresh virtual
environment with the locked dependencies, and run from an empty folder with no setting, it
generates two nights years before today (the turn of 2019 to 2020) and publishes both through
the real DAG, as a new user of `pip install rewatch` would; then `rewatch airflow` serves
Airflow's UI and REST API on that embedded home, where both runs are listed, and stops cleanly.

It also covers what test_any_night ran in-process before: a years-old night through `rewatch
run`, here the real command's output (a line per step, nothing of Airflow's on the terminal).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
import zipfile
from pathlib import Path

import pytest

from rewatch.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow
NIGHTS = ("2019-12-31", "2020-01-01")
# A safety net for a broken run, never a measure of speed.
PATIENCE = 1800
BUNDLED = (
    "rewatch/project/dags/rewatch_nightly.py",
    "rewatch/project/dbt_project/dbt_project.yml",
    "rewatch/project/dbt_project/profiles.yml",
    "rewatch/project/expectations/fct_viewing_sessions.json",
)


def _uv() -> str:
    path = os.environ.get("UV") or shutil.which("uv")
    assert path, "uv is needed to build and install the wheel: run the tests with `make test` (uv run)"
    return path


def _installed(tmp_path: Path) -> tuple[Path, Path]:
    """(wheel, venv): the wheel built from this checkout, installed with the locked runtime
    dependencies (uv's cache makes it a matter of seconds) into a new virtual environment."""
    uv = _uv()
    dist, venv = tmp_path / "dist", tmp_path / "venv"
    subprocess.run([uv, "build", "--wheel", "--quiet", "--out-dir", str(dist)], cwd=PROJECT_ROOT, check=True)
    [wheel] = dist.glob("rewatch-*.whl")
    locked = subprocess.run(
        [uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "--quiet"],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (tmp_path / "requirements.txt").write_text(locked)
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", python, "-r", str(tmp_path / "requirements.txt"), str(wheel)],
        check=True,
    )
    return wheel, venv


def test_the_installed_wheel_generates_and_publishes_years_old_nights_from_an_empty_folder(tmp_path):
    wheel, venv = _installed(tmp_path)
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    assert set(BUNDLED) <= in_wheel
    assert not [name for name in in_wheel if "/target/" in name or "__pycache__" in name]

    folder = tmp_path / "empty"
    folder.mkdir()
    # Nothing of this checkout or of the test's environment: no REWATCH_*, AIRFLOW_*, PYTHONPATH.
    env = {"HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}

    def rewatch(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(venv / "bin" / "rewatch"), *args],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=PATIENCE,
        )

    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import rewatch.settings as s; print(s.INSTALLED, s.PROJECT_ROOT)"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert where[0] == "True" and Path(where[1]).is_relative_to(venv), where

    generated = rewatch(
        "generate", "--out", "data/exports", "--start", NIGHTS[0], "--nights", "2", "--households", "30"
    )
    assert generated.returncode == 0, generated.stderr[-3000:]
    # Not a terminal: plain lines, the folder first, then each step of the generation.
    lines = generated.stdout.splitlines()
    assert lines[0] == "exports:   data/exports"
    assert re.match(r"  households 30/30: [\d,]+ events, [\d,]+ sessions$", lines[1]), lines
    ran = rewatch("run", "--from", NIGHTS[0], "--to", NIGHTS[1])
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert "2/2 nights published" in ran.stdout, ran.stdout
    # It says which exports and warehouse it used (the defaults, under the folder it ran in).
    assert ran.stdout.splitlines()[:2] == [
        f"exports:   {folder / 'data' / 'exports'}",
        f"warehouse: {folder / 'data' / 'warehouse'}",
    ]
    for night in NIGHTS:  # a line per step as it ends, with its result
        for step, result in (("load", " events loaded"), ("build", " dbt models"), ("audit", ": passed")):
            assert f"  {step} of night {night}: done in " in ran.stdout and result in ran.stdout, (night, step)
    assert ran.stderr == "", ran.stderr[-3000:]  # Airflow's own output went to the run's log file

    published = rewatch("sql", "select strftime(night, '%Y-%m-%d') as night from rewatch_runs order by night")
    assert published.returncode == 0, published.stderr[-3000:]
    assert [line for line in published.stdout.split() if line.startswith("20")] == list(NIGHTS)
    # Everything it wrote is in the folder it ran in; nothing in the installed package but bytecode.
    assert sorted(p.name for p in folder.iterdir()) == [".airflow", "data"]
    package = Path(where[1]).parent
    written = {
        str(p.relative_to(package.parent)) for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }
    assert written <= in_wheel, sorted(written - in_wheel)[:10]

    _served_runs_are_listed(venv, folder, env)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _served_runs_are_listed(venv: Path, folder: Path, env: dict) -> None:
    """`rewatch airflow` on the home the runs used: log in through the REST API, list the runs."""
    port = _free_port()
    served = subprocess.Popen(
        [str(venv / "bin" / "rewatch"), "airflow", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # A safety net for a broken server, never a measure of speed: the test reads its lines.
    watchdog = threading.Timer(PATIENCE, served.kill)
    watchdog.start()
    try:
        ready = next((line for line in served.stdout if line.startswith("Airflow UI and REST API:")), None)
        assert ready is not None, served.stderr.read()[-3000:]
        url, password = re.search(r"(http://\S+)\s+\(user admin, password (\S+),", ready).groups()
        assert url == f"http://127.0.0.1:{port}"

        def call(method: str, path: str, body: dict | None = None, token: str | None = None):
            request = urllib.request.Request(
                f"{url}{path}",
                data=json.dumps(body).encode() if body is not None else None,
                headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
                method=method,
            )
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read().decode())

        token = call("POST", "/auth/token", {"username": "admin", "password": password})["access_token"]
        runs = call("GET", "/api/v2/dags/rewatch_nightly/dagRuns?order_by=logical_date", token=token)
        assert [(run["data_interval_start"][:10], run["state"]) for run in runs["dag_runs"]] == [
            (night, "success") for night in NIGHTS
        ]
        dag = call("GET", "/api/v2/dags/rewatch_nightly", token=token)
        assert dag["is_paused"] is True  # nothing is scheduled until the user unpauses it
    finally:
        served.send_signal(signal.SIGTERM)
        out, err = served.communicate(timeout=PATIENCE)
        watchdog.cancel()
    assert served.returncode == 0 and "Airflow stopped" in out, err[-3000:]
    left = subprocess.run(["pgrep", "-f", str(venv / "bin" / "airflow")], capture_output=True, text=True)
    assert left.stdout == "", f"Airflow processes left running: {left.stdout}"
