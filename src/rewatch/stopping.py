"""Stopping a run on request: SIGTERM or SIGINT ends the writing step within moments.

Airflow's task runner catches SIGTERM inside a task (it only calls the operator's `on_kill`)
and turns an exception raised from it into a retry, so neither `timeout N rewatch run` nor a
supervisor's stop could end a night. Every step that writes (`pipeline._writing`) and the
export wait run inside `stoppable()`: there, SIGTERM or SIGINT writes one line saying what
stopped and what is published, and ends the process at once (`os._exit(128 + signal)`). The dbt
and audit children die with it (`die_with_parent`). That is exactly what a crash leaves, which
the next run cleans (tests/rewatch/test_crashes.py proves it at every named point), and the
published warehouse is the old one or, when the signal came after the publish's replace, the
new one; the line says which.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rewatch import progress

SIGNALS = (signal.SIGTERM, signal.SIGINT)
PR_SET_PDEATHSIG = 1


@contextmanager
def stoppable(what: str, published: Callable[[], object] | None = None) -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT end the process, saying `what` stopped and whether
    the published warehouse changed meanwhile (`published()`: which one is in place, e.g.
    `build.published_fingerprint`). Main thread only; elsewhere a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = published() if published else None

    def stop(signum: int, frame) -> None:
        changed = published is not None and published() != before
        state = (
            "the published warehouse was replaced before the stop (the step had published)"
            if changed
            else "the published warehouse is unchanged"
        )
        line = (
            f"rewatch: stopped by {signal.Signals(signum).name} during {what}: {state}; "
            f"the next run cleans up what this one left.\n"
        )
        progress.interrupt()
        os.write(progress.user_stderr_fd(), line.encode())  # the terminal, even while Airflow logs to a file
        os._exit(128 + signum)

    previous = {sig: signal.signal(sig, stop) for sig in SIGNALS}
    _active.append(stop)
    try:
        yield
    finally:
        _active.remove(stop)
        for sig, handler in previous.items():
            # An enclosing block's stop, rather than what an Airflow task installed meanwhile.
            signal.signal(sig, _active[-1] if _active else handler)


# The stop handlers of the `stoppable` blocks in force, outermost first.
_active: list[Callable[[int, object], None]] = []


def rearm() -> None:
    """Put the innermost `stoppable` block's stop back for SIGTERM and SIGINT. Airflow's task
    runner replaces the SIGTERM handler whenever it runs a task in-process (its handler only
    calls the operator's on_kill) and never restores it: the export sensor's poke calls this,
    so that a run waiting for its export still stops on a signal."""
    if _active and threading.current_thread() is threading.main_thread():
        for sig in SIGNALS:
            signal.signal(sig, _active[-1])


def kill_with_parent(parent: int) -> None:
    """Make this process get SIGKILL when its parent (pid `parent`) dies, so that a stopped or
    crashed run never leaves a writer behind (Linux; elsewhere a no-op). When the parent is
    already gone, exit now."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl: go with it
        os._exit(1)


def die_with_parent() -> Callable[[], None]:
    """A `preexec_fn` for a child (dbt, the audit, their warm server: `rewatch.children`) that
    gets SIGKILL when this process dies (`kill_with_parent`)."""
    parent = os.getpid()
    return lambda: kill_with_parent(parent)
