"""What a running night is doing, for the person watching it: its steps as they start and end.

The pipeline's writing steps (`rewatch.pipeline._writing`: load, build, audit, publish, rebuild)
each run inside `step()`, which tells the installed reporter when the step starts and when it
ends, with its time and a one-line result (`detail()`: "1,159 events loaded, 0 quarantined").
Inside a step, `status()` updates what the step is busy with (the load's file and rows, by
`polled()`; the build's dbt nodes, by `watch_file()`).

Only the CLI installs a reporter (`rewatch.cli`: a live line in a terminal, plain lines
otherwise). Without one, in the scheduler's tasks and in tests, steps only log (logger
`rewatch.progress`), which is what a task log shows.

The CLI also sends Airflow's own output to a log file (`airflow_output_to`) while it runs
nights: the reporter writes to the terminal the command started with, not to whatever
stdout and stderr are meanwhile.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

log = logging.getLogger("rewatch.progress")
# Set for a dbt child whose nodes someone watches: the file it appends a line to per node.
PROGRESS_FILE_VAR = "REWATCH_PROGRESS_FILE"


class Reporter(Protocol):
    """What `rewatch.cli` installs (it may also have `close()`, called by `interrupt()`)."""

    def started(self, what: str) -> None: ...
    def status(self, what: str, text: str) -> None: ...
    def finished(self, what: str, seconds: float, detail: str | None, failed: bool) -> None: ...
    def note(self, text: str) -> None: ...


@dataclass
class _Step:
    what: str
    detail: str | None = None
    began: float = field(default_factory=time.monotonic)


_reporter: Reporter | None = None
_steps: list[_Step] = []
# Where a line for the user goes when stdout and stderr are a log file (`airflow_output_to`).
_user_stderr_fd: int = 2


def install(reporter: Reporter | None) -> Reporter | None:
    """Make `reporter` the one steps report to (None: none); returns the previous one."""
    global _reporter
    previous, _reporter = _reporter, reporter
    return previous


@contextlib.contextmanager
def step(what: str) -> Iterator[None]:
    """A step of a night ("load of night 2026-03-02"): reported when it starts and ends."""
    current = _Step(what)
    _steps.append(current)
    if _reporter is not None:
        _reporter.started(what)
    failed = True
    try:
        yield
        failed = False
    finally:
        _steps.remove(current)
        seconds = time.monotonic() - current.began
        log.info(
            "%s %s in %.1fs%s",
            what,
            "failed" if failed else "done",
            seconds,
            f": {current.detail}" if current.detail else "",
        )
        if _reporter is not None:
            _reporter.finished(what, seconds, current.detail, failed)


def detail(text: str) -> None:
    """The innermost step's result, shown when it ends ("1,159 events loaded")."""
    if _steps:
        _steps[-1].detail = text


def status(text: str) -> None:
    """What the innermost step is busy with now (a live display shows it; plain lines do not)."""
    if _steps and _reporter is not None:
        _reporter.status(_steps[-1].what, text)


def note(text: str) -> None:
    """A line for the person watching, outside any step ("night 2026-03-02: waiting for its
    export"); a log line otherwise."""
    log.info(text)
    if _reporter is not None:
        _reporter.note(text)


def watching() -> bool:
    """Whether anyone shows `status()` (worth the cost of watching a child's progress file)."""
    return _reporter is not None and bool(_steps)


@contextlib.contextmanager
def polled(text: Callable[[], str | None], every: float = 0.5) -> Iterator[None]:
    """While the block runs, show what `text()` returns (None: nothing new) as the step's status,
    asked every `every` seconds (a display refresh: nothing depends on its timing)."""
    if not watching():
        yield
        return
    done = threading.Event()

    def follow() -> None:
        shown = None
        while not done.wait(every):
            with contextlib.suppress(Exception):  # a display refresh never fails the step
                if (current := text()) is not None and current != shown:
                    shown = current
                    status(shown)

    thread = threading.Thread(target=follow, name="rewatch-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def watch_file(path: Path, every: float = 0.5) -> contextlib.AbstractContextManager[None]:
    """While the block runs, show the last line a child appends to `path` as the step's status."""

    def last_line() -> str | None:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        return lines[-1] if lines else None

    return polled(last_line, every)


def interrupt() -> None:
    """The process is about to end at once (a stop signal): let the reporter restore the
    terminal (a live line hides the cursor) before the last line is written."""
    close = getattr(_reporter, "close", None)
    if close is not None:
        with contextlib.suppress(Exception):
            close()


@contextlib.contextmanager
def child_watched(progress_file: Path, env: dict[str, str], starting: str) -> Iterator[None]:
    """Around a child process (dbt, the audit) started with `env`: when someone watches, show
    `starting`, give the child `progress_file` to `tell()` into, and show each line it appends."""
    progress_file.unlink(missing_ok=True)
    if watching():
        env[PROGRESS_FILE_VAR] = str(progress_file)
        status(starting)
    try:
        with watch_file(progress_file):
            yield
    finally:
        progress_file.unlink(missing_ok=True)


def tell(line: str) -> None:
    """In a child under `child_watched`: append `line` to its progress file (no-op otherwise)."""
    if path := os.environ.get(PROGRESS_FILE_VAR):
        with open(path, "a", encoding="utf-8") as out:
            out.write(line + "\n")


def user_stderr_fd() -> int:
    """The file descriptor of the stderr the command started with (for a last line on a stop)."""
    return _user_stderr_fd


@dataclass
class UserStreams:
    out: IO[str]
    err: IO[str]
    log_path: Path | None


def _log_line(text: str) -> str:
    return f"[{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}] rewatch: {text}\n"


@contextlib.contextmanager
def airflow_output_to(log_path: Path) -> Iterator[UserStreams]:
    """Send everything written to this process's stdout and stderr (file descriptors 1 and 2:
    Airflow's logs and warnings, tracebacks, children that inherit them) to `log_path` while
    the block runs; the block writes to the user through the streams it is given.

    The file starts with a line naming the command and ends with one when it is done, so a run
    in which Airflow said nothing leaves a file that says so, not an empty one.

    Where stdout is not file descriptor 1 (a test's captured output), nothing is redirected
    and the streams are the current ones.
    """
    global _user_stderr_fd
    try:
        redirect = sys.stdout.fileno() == 1 and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        redirect = False
    if not redirect:
        yield UserStreams(sys.stdout, sys.stderr, None)
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    user_out = os.fdopen(os.dup(saved_out), "w", buffering=1, encoding="utf-8", errors="replace")
    user_err = os.fdopen(os.dup(saved_err), "w", buffering=1, encoding="utf-8", errors="replace")
    target = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.write(target, _log_line(f"{' '.join(sys.argv)} (pid {os.getpid()}): Airflow's own output follows").encode())
    previous_fd = _user_stderr_fd
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        _user_stderr_fd = user_err.fileno()
        yield UserStreams(user_out, user_err, log_path)
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        _user_stderr_fd = previous_fd
        with contextlib.suppress(OSError):
            os.write(target, _log_line("end of the run's output").encode())
        for fd in (saved_out, saved_err, target):
            os.close(fd)
        user_out.close()
        user_err.close()
