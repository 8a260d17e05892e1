"""One writer at a time per warehouse: an OS file lock under `$REWATCH_WAREHOUSE_DIR`.

DuckDB allows one writer per file, and a night's run reads the published file, builds a
candidate from it and replaces it: two runs at once would each publish a warehouse without the
other's night. Airflow's 1-slot pool serialises scheduled runs only; `rewatch run`, `backfill`,
`rebuild`, `forget`, each of the DAG's writer tasks, and `import-netflix` when it writes into
the exports folder the warehouse reads, take this lock.

The lock is `flock(2)` on `<warehouse>/.writer.lock`: the kernel releases it when its holder
exits, however it exits (SIGKILL included), so a crashed run never leaves a stale lock. The
file records who holds it (pid, command, since) for the message others see.

Re-entrant within one process tree: the holder exports `REWATCH_WRITER_LOCK=<token>` and
anything it starts (the DAG's tasks under `dag.test`, dbt, the audit) runs under its lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from rewatch.errors import PermanentError

ENV = "REWATCH_WRITER_LOCK"
LOCK_NAME = ".writer.lock"


class WarehouseBusyError(PermanentError):
    """Another writer holds the warehouse: the message names it."""


def lock_path(warehouse_dir: Path) -> Path:
    return warehouse_dir / LOCK_NAME


def holder(warehouse_dir: Path) -> dict:
    """What the lock file says of its (last) holder; {} when unknown."""
    try:
        return json.loads(lock_path(warehouse_dir).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def is_held(warehouse_dir: Path) -> bool:
    """Whether a process holds the writer lock now, asked without taking it (a probe that
    locked would make a writer starting at that moment refuse): Linux lists every flock in
    /proc/locks by device and inode; elsewhere, whether the last holder's process is alive."""
    path = lock_path(warehouse_dir)
    try:
        st = path.stat()
    except OSError:
        return False
    try:
        listed = Path("/proc/locks").read_text()
    except OSError:
        pid = holder(warehouse_dir).get("pid")
        try:
            os.kill(int(pid), 0)
        except (TypeError, ValueError, ProcessLookupError, PermissionError):
            return False
        return True
    wanted = f":{st.st_ino}"
    for line in listed.splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF": major:minor:inode
        if "FLOCK" in fields and any(
            f.endswith(wanted)
            and f.count(":") == 2
            and int(f.split(":")[0], 16) == os.major(st.st_dev)
            and int(f.split(":")[1], 16) == os.minor(st.st_dev)
            for f in fields
        ):
            return True
    return False


def _describe(info: dict) -> str:
    if not info:
        return "another process"
    return f"pid {info.get('pid')} ({info.get('what')}, since {info.get('since')}: {info.get('command')})"


@contextlib.contextmanager
def writer_lock(warehouse_dir: Path, what: str, wait: float | None = 0) -> Iterator[None]:
    """Hold the warehouse's writer lock for the block.

    `wait`: 0 refuses at once if another process holds it, None waits as long as it takes,
    a number waits that many seconds. Refusal raises WarehouseBusyError naming the holder.
    Inside a process tree that already holds it (`$REWATCH_WRITER_LOCK` matches), a no-op.
    """
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    path = lock_path(warehouse_dir)
    token = os.environ.get(ENV)
    if token and holder(warehouse_dir).get("token") == token:
        yield
        return
    handle = path.open("a+", encoding="utf-8")
    try:
        deadline = None if wait is None else time.monotonic() + wait
        announced = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not announced and wait != 0:
                    print(
                        f"waiting for {_describe(holder(warehouse_dir))} to finish writing {warehouse_dir}",
                        file=sys.stderr,
                        flush=True,
                    )
                    announced = True
                if deadline is not None and time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        f"{warehouse_dir} is being written by {_describe(holder(warehouse_dir))}; "
                        f"one writer at a time: wait for it to finish (or pass --wait), then run {what} again"
                    ) from None
                time.sleep(0.2)
        token = uuid.uuid4().hex
        info = {
            "token": token,
            "pid": os.getpid(),
            "what": what,
            "command": " ".join(sys.argv)[:300],
            "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(info))
        handle.flush()
        previous = os.environ.get(ENV)
        os.environ[ENV] = token
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop(ENV, None)
            else:
                os.environ[ENV] = previous
            handle.seek(0)
            handle.truncate()
            handle.flush()
    finally:
        handle.close()  # closing the descriptor releases the flock
