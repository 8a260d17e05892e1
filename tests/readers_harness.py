"""Reader processes that query the published lake in a loop, as analysts do while nights
publish. Shared by tests/rewatch/test_concurrent_readers.py and bench/readers_soak.py.

Two kinds of reader:
- `reopen` (what analysts do, and what the test runs): `rewatch.connect()` for every query (a
  connection pinned to the head of the moment), one statement, close;
- `attached` (bench/readers_soak.py --attached): one connection kept open all along, the lake
  attached read-only and not pinned; each answer is one transaction of two statements (the
  nights, then the sessions). Measured with DuckLake on the SQLite catalog, such a reader
  sometimes answers a state no night published (a commit's deletes without its inserts), even
  with one statement per transaction: readers must use `rewatch.connect()` (pinned).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from rewatch.lake import open_published
from rewatch.settings import Settings

NIGHTS_SQL = "select list(distinct night order by night)::varchar from rewatch_runs"
SESSIONS_SQL = "select count(*) from fct_viewing_sessions"
# What a reader sees, in one statement (one snapshot): the nights the lake holds, its sessions.
STATE_SQL = f"select ({NIGHTS_SQL}), ({SESSIONS_SQL})"

READER = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    import rewatch
    from rewatch import lake
    from rewatch.settings import Settings
    warehouse, stop, out, mode, state_sql, nights_sql, sessions_sql, pause = sys.argv[1:]
    settings = Settings(exports_dir=Path(warehouse), warehouse_dir=Path(warehouse),
                        catalog=os.environ.get("REWATCH_LAKE_CATALOG") or None)
    EXISTS = ("select count(*) from duckdb_tables() where database_name = 'lake' "
              "and schema_name = 'main' and table_name = 'rewatch_runs'")
    queries = errors = 0
    attached = None
    seen_published = False
    with open(out, "w", buffering=1) as log:
        while not os.path.exists(stop):
            try:
                if not seen_published and lake.head_snapshot(settings) is None:
                    time.sleep(0.01)  # no lake yet: nothing to read
                    continue
                if mode == "reopen":
                    con = rewatch.connect(settings)
                    try:
                        published = con.execute(EXISTS).fetchone()[0] == 1
                        answer = con.execute(state_sql).fetchone() if published else None
                    finally:
                        con.close()
                else:
                    if attached is None:
                        attached = lake.connect(settings)
                        lake.attach(attached, lake.lake_of(settings))
                        attached.execute("use lake")
                    attached.execute("begin")
                    try:
                        published = attached.execute(EXISTS).fetchone()[0] == 1
                        if published:
                            nights = attached.execute(nights_sql).fetchone()[0]
                            sessions = attached.execute(sessions_sql).fetchone()[0]
                            answer = (nights, sessions)
                        else:
                            answer = None
                    finally:
                        attached.execute("commit")
                if answer is None:
                    # The lake exists but no night was published yet; once one was, its tables
                    # never disappear again.
                    if seen_published:
                        raise AssertionError("the published tables disappeared")
                    time.sleep(0.01)
                    continue
                seen_published = True
                queries += 1
                log.write(json.dumps(list(answer)) + "\\n")
                time.sleep(float(pause))  # an analyst's loop, not a busy spin that starves the writer
            except Exception as exc:  # every error counts
                errors += 1
                log.write(json.dumps(["ERROR", repr(exc)]) + "\\n")
    if attached is not None:
        attached.close()
    print(json.dumps({"queries": queries, "errors": errors}))
    """
)


def published_state(settings: Settings) -> tuple:
    """What a reader sees now (`rewatch.connect()`, read-only, at the head)."""
    con = open_published(settings)
    try:
        return con.execute(STATE_SQL).fetchone()
    finally:
        con.close()


class Readers:
    """`count` reader processes on the published lake of `settings`, `reopen` ones and then
    `attached` ones (`attached` of them), logging to `folder`, until `stop()`; each waits
    `pause` seconds between queries."""

    def __init__(self, settings: Settings, folder: Path, count: int, attached: int = 0, pause: float = 0.02) -> None:
        self.folder = folder
        self.stop_file = folder / "stop"
        self.modes = ["reopen"] * (count - attached) + ["attached"] * attached
        self.procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    READER,
                    str(settings.warehouse_dir),
                    str(self.stop_file),
                    str(self._log(i)),
                    mode,
                    STATE_SQL,
                    NIGHTS_SQL,
                    SESSIONS_SQL,
                    str(pause),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for i, mode in enumerate(self.modes)
        ]

    def _log(self, i: int) -> Path:
        return self.folder / f"reader{i}.log"

    def _answers(self, i: int) -> list[tuple]:
        log = self._log(i)
        # The last piece may be a line being written: only lines ended by a newline count.
        lines = log.read_text().split("\n")[:-1] if log.exists() else []
        return [tuple(json.loads(line)) for line in lines]

    def wait_until_seen(self, state: tuple, timeout: float = 300) -> None:
        """Wait until every reader has answered `state` (each is polling: it sees a new published
        night with its next query); fails at once on a reader error or a reader that ended."""
        deadline = time.monotonic() + timeout
        waiting = set(range(len(self.procs)))
        while waiting:
            for i in sorted(waiting):
                answers = self._answers(i)
                errors = [a for a in answers if a[0] == "ERROR"]
                assert not errors, f"reader {i} ({self.modes[i]}): {errors[:3]}"
                assert self.procs[i].poll() is None, f"reader {i} ({self.modes[i]}) ended"
                if state in answers:
                    waiting.discard(i)
            assert time.monotonic() < deadline, f"readers {sorted(waiting)} never saw {state}"
            if waiting:
                time.sleep(0.05)

    def stop(self, timeout: float = 120) -> tuple[int, int, list[tuple], list[set[tuple]]]:
        """Stop them; returns (queries, errors, every answer as (nights, sessions) or ("ERROR", repr),
        the distinct answers of each reader)."""
        self.stop_file.touch()
        # The last line (DuckDB may draw a progress bar on stdout before it, for a slow query).
        totals = [json.loads(proc.communicate(timeout=timeout)[0].strip().splitlines()[-1]) for proc in self.procs]
        each = [self._answers(i) for i in range(len(self.procs))]
        answers = [answer for reader in each for answer in reader]
        return (
            sum(t["queries"] for t in totals),
            sum(t["errors"] for t in totals),
            answers,
            [set(reader) for reader in each],
        )
