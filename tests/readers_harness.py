"""Reader processes that query the published file in a loop, as analysts do while nights
publish. Shared by tests/rewatch/test_concurrent_readers.py and bench/readers_soak.py."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb

# What a reader sees, in one statement (one snapshot): the nights the file holds, its sessions.
STATE_SQL = (
    "select (select list(distinct night order by night)::varchar from rewatch_runs), "
    "(select count(*) from fct_viewing_sessions)"
)

READER = textwrap.dedent(
    """
    import json, os, sys, time
    import duckdb
    path, stop, out, state_sql = sys.argv[1:]
    queries = errors = 0
    with open(out, "w") as log:
        while not os.path.exists(stop):
            if not os.path.exists(path):
                time.sleep(0.01)
                continue
            try:
                con = duckdb.connect(path, read_only=True)
                try:
                    nights, sessions = con.execute(state_sql).fetchone()
                finally:
                    con.close()
                queries += 1
                log.write(json.dumps([nights, sessions]) + "\\n")
                time.sleep(0.02)  # an analyst's loop, not a busy spin that starves the writer
            except Exception as exc:  # every error counts
                errors += 1
                log.write(json.dumps(["ERROR", repr(exc)]) + "\\n")
    print(json.dumps({"queries": queries, "errors": errors}))
    """
)


def published_state(path: Path) -> tuple:
    """What a reader sees now (opens read-only)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(STATE_SQL).fetchone()
    finally:
        con.close()


class Readers:
    """`count` reader processes on `published`, logging to `folder`, until `stop()`."""

    def __init__(self, published: Path, folder: Path, count: int) -> None:
        self.folder = folder
        self.stop_file = folder / "stop"
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-c", READER, str(published), str(self.stop_file), str(self._log(i)), STATE_SQL],
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(count)
        ]

    def _log(self, i: int) -> Path:
        return self.folder / f"reader{i}.log"

    def stop(self, timeout: float = 120) -> tuple[int, int, list[tuple]]:
        """Stop them; returns (queries, errors, every answer as (nights, sessions) or ("ERROR", repr))."""
        self.stop_file.touch()
        totals = [json.loads(proc.communicate(timeout=timeout)[0]) for proc in self.procs]
        answers = [
            tuple(json.loads(line)) for i in range(len(self.procs)) for line in self._log(i).read_text().splitlines()
        ]
        return sum(t["queries"] for t in totals), sum(t["errors"] for t in totals), answers
