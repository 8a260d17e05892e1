"""Run `rewatch_nightly` through Airflow for given nights (the CLI's `run` and `backfill`).

This is the one module of the package that talks to Airflow: it sets up the project-local
Airflow (SQLite metadata, dags folder, no examples), makes sure the metadata database and the
writer pool exist, and runs the real DAG with `dag.test()` one night after another.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rewatch.settings import DAG_ID, DAGS_DIR, INSTALLED, PROJECT_ROOT, WRITER_POOL, get_settings


@dataclass
class NightOutcome:
    night: dt.date
    state: str
    failed_task: str | None = None
    error: str | None = None
    summary: dict = field(default_factory=dict)


def airflow_env(quiet: bool = True) -> dict[str, str]:
    """Environment for the embedded Airflow (values already set by the user win)."""
    # A checkout keeps it at its root; an installed rewatch in the working directory (never
    # inside the installed package).
    home = Path(os.environ.get("AIRFLOW_HOME", (Path.cwd() if INSTALLED else PROJECT_ROOT) / ".airflow"))
    defaults = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "DO_NOT_TRACK": "1",
        "SCARF_ANALYTICS": "false",
        "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
        "GX_ANALYTICS_ENABLED": "False",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if quiet:
        defaults["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    env = {key: os.environ.get(key, value) for key, value in defaults.items()}
    home.mkdir(parents=True, exist_ok=True)
    return env


def prepare_airflow(quiet: bool = True) -> None:
    """Point this process at the embedded Airflow and migrate its metadata DB when needed."""
    env = airflow_env(quiet)
    os.environ.update(env)
    home = Path(env["AIRFLOW_HOME"])
    import airflow  # noqa: F401  (version for the migration stamp; cheap)
    from airflow import __version__ as airflow_version

    stamp = home / ".rewatch-migrated"
    wanted = f"{airflow_version} {env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN']}"
    if not stamp.exists() or stamp.read_text().strip() != wanted:
        airflow_cli = Path(sys.executable).with_name("airflow")
        proc = subprocess.run(
            [str(airflow_cli) if airflow_cli.exists() else "airflow", "db", "migrate"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        stamp.write_text(wanted + "\n")
    ensure_pool()


def ensure_pool() -> None:
    from airflow.models.pool import Pool

    Pool.create_or_update_pool(
        WRITER_POOL, slots=1, description="rewatch: one warehouse writer at a time", include_deferred=False
    )


def load_dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {json.dumps(bag.import_errors, indent=2)}")
    dag = bag.get_dag(DAG_ID)
    if dag is None:
        raise RuntimeError(f"DAG {DAG_ID} not found in {DAGS_DIR}")
    return dag


def logical_date_for(night: dt.date) -> dt.datetime:
    """A manual run's data interval is the one that ends at its logical date: D+1 04:00 -> night D."""
    return dt.datetime.combine(night + dt.timedelta(days=1), dt.time(4, 0), tzinfo=dt.UTC)


DAG_TEST_LOGGER = "airflow.sdk.definitions.dag"


class _OncePerRun(logging.Filter):
    """`dag.test()` logs "No tasks to run. unrunnable tasks: ..." every second while a sensor
    waits for its next poke (a 6-hour export wait: 21,600 lines). One per DAG run says it."""

    def __init__(self) -> None:
        super().__init__()
        self.said = False

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("No tasks to run"):
            return True
        said, self.said = self.said, True
        return not said


@contextmanager
def repeated_waits_said_once() -> Iterator[_OncePerRun]:
    """While the block runs a DAG run, its "No tasks to run" line is logged once."""
    logger = logging.getLogger(DAG_TEST_LOGGER)
    once = _OncePerRun()
    logger.addFilter(once)
    try:
        yield once
    finally:
        logger.removeFilter(once)


def run_nights(
    nights: Iterable[dt.date],
    on_night: Callable[[NightOutcome], None] | None = None,
    stop_on_failure: bool = True,
    quiet: bool = True,
) -> list[NightOutcome]:
    """Run the DAG for each night in order; returns one outcome per night run."""
    from functools import partial

    from rewatch import children, faults
    from rewatch.build import published_fingerprint
    from rewatch.stopping import stoppable

    settings = get_settings()
    published = partial(published_fingerprint, settings)
    # Nothing is written yet (the published warehouse cannot have changed): a signal here ends
    # the run at once too, saying so.
    with stoppable("the run's start (Airflow's database and the DAG; no night begun)"):
        faults.point("run:before_airflow")
        # dag.test runs the tasks in this thread: their dbt and audit servers import while Airflow starts.
        children.warm("dbt", "audit")
        prepare_airflow(quiet)
        dag = load_dag()
    outcomes = []
    for night in nights:
        report = settings.reports_dir / night.isoformat() / "run.json"
        if report.exists():
            report.unlink()  # a stale report must never describe this run
        # Between the steps (each has its own stop, rewatch.pipeline._writing), above all while
        # the sensor waits for the export, Airflow swallowed SIGTERM and SIGINT: a signal
        # there ends the run too, saying so.
        with (
            repeated_waits_said_once(),
            stoppable(f"night {night} (between its steps, or waiting for its export)", published),
        ):
            run = dag.test(logical_date=logical_date_for(night))
        outcome = NightOutcome(night=night, state=str(run.state))
        if report.exists():
            outcome.summary = json.loads(report.read_text())
        if outcome.state != "success":
            outcome.failed_task = outcome.summary.get("failed_task") or _failed_task(run)
            outcome.error = (
                outcome.summary.get("error")
                or "see the task's log (Airflow's output: the run's log file, or above with -v)"
            )
        elif problem := unverified(dag, run, night, settings):
            # Airflow said success, but the night's work did not all happen: never report it published.
            from rewatch.pipeline import record_failure

            outcome.state, outcome.failed_task, outcome.error = "failed", problem[0], problem[1]
            record_failure(night, problem[0], problem[1], settings)
            outcome.summary = json.loads(report.read_text()) if report.exists() else {}
        outcomes.append(outcome)
        if on_night:
            on_night(outcome)
        if outcome.state != "success" and stop_on_failure:
            break
    return outcomes


def unverified(dag, run, night: dt.date, settings) -> tuple[str, str] | None:
    """(task, message) naming what did not happen in a run Airflow reports as a success, or None.

    Every task of the DAG must have run and succeeded (a run with no task instances at all is
    what Airflow makes for a night before the DAG's start_date), and the published warehouse's
    `rewatch_runs` must now hold the night.
    """
    from rewatch.build import published_nights
    from rewatch.lake import lake_of

    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    if not states:
        return (
            "(no task)",
            f"Airflow ran no task for night {night} (DAG run {run.run_id} has no task instances; "
            f"is the night before the DAG's start_date {dag.start_date:%Y-%m-%d}?): nothing was loaded or published",
        )
    if not_done := [task for task in dag.task_ids if states.get(task) != "success"]:
        return (
            not_done[0],
            f"night {night}: DAG run {run.run_id} ended '{run.state}' but these tasks did not succeed: "
            + ", ".join(f"{task} ({states.get(task, 'never created')})" for task in not_done),
        )
    if night not in (published_nights(settings) or []):
        return (
            "publish",
            f"night {night}: every task reported success, but the published warehouse "
            f"lake {lake_of(settings).describe()} does not record the night in rewatch_runs; it was not published",
        )
    return None


def _failed_task(run) -> str | None:
    try:
        for ti in run.get_task_instances():
            if str(ti.state) in ("failed", "upstream_failed"):
                return ti.task_id
    except Exception:
        return None
    return None


# `rewatch airflow`: Airflow's own processes on the embedded home, as `airflow standalone`
# runs them (LocalExecutor on SQLite: for one person's machine, not a deployment).
SERVED_PROCESSES = {
    "api-server": ["api-server"],
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "dag-processor": ["dag-processor"],
}
ADMIN = "admin"


@dataclass
class Served:
    """The processes `serve()` started, where they log, and how to log in."""

    url: str
    home: Path
    passwords_file: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def password(self) -> str | None:
        """The admin's password, once the API server has written it (SimpleAuthManager)."""
        try:
            return json.loads(self.passwords_file.read_text()).get(ADMIN)
        except (OSError, ValueError):
            return None

    def exited(self) -> dict[str, int]:
        return {name: proc.returncode for name, proc in self.processes.items() if proc.poll() is not None}

    def stop(self, timeout: float = 30) -> None:
        import signal
        import time

        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def serve(host: str = "127.0.0.1", port: int = 8080) -> Served:
    """Start Airflow's API server (UI and REST API), scheduler and DAG processor on the embedded
    home `rewatch run` uses, so its runs can be browsed and new runs triggered; each in its own
    process group, logging to `<AIRFLOW_HOME>/logs/<process>.log`. The caller stops them."""
    import secrets

    from rewatch.stopping import die_with_parent

    prepare_airflow(quiet=True)
    env = airflow_env(quiet=True)
    home = Path(env["AIRFLOW_HOME"])
    settings = get_settings()
    url = f"http://{host}:{port}"
    # A signing key per home, kept, so a browser's session survives a restart.
    secret_file = home / "api-jwt-secret"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(32))
        secret_file.chmod(0o600)
    passwords = home / "simple_auth_manager_passwords.json"
    env = {
        **os.environ,
        **env,
        "REWATCH_EXPORTS_DIR": str(settings.exports_dir),
        "REWATCH_WAREHOUSE_DIR": str(settings.warehouse_dir),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__API__HOST": host,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secret_file.read_text().strip(),
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
    }
    env.pop("AIRFLOW__LOGGING__LOGGING_LEVEL", None)
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    airflow_cli = Path(sys.executable).with_name("airflow")
    served = Served(url=url, home=home, passwords_file=passwords)
    try:
        for name, args in SERVED_PROCESSES.items():
            with (logs / f"{name}.log").open("a") as log:
                served.processes[name] = subprocess.Popen(
                    [str(airflow_cli) if airflow_cli.exists() else "airflow", *args],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # stop() ends each process's whole group
                    preexec_fn=die_with_parent(),  # and a killed `rewatch airflow` leaves none behind
                )
    except BaseException:
        served.stop()
        raise
    return served


def healthy(url: str) -> bool:
    """Whether the API server answers its health check."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
