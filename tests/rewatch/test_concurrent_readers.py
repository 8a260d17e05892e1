"""Analysts read while nights publish: readers in other processes query the published file in
a loop (read-only) while three nights are published. Promise: no reader error, and every
query sees one published state (the sessions of exactly the nights it lists), never a mix."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap

import duckdb

from rewatch import pipeline
from rewatch.settings import get_settings
from tests.conftest import START

READER = textwrap.dedent(
    """
    import json, os, sys, time
    import duckdb
    path, stop, out = sys.argv[1:]
    queries = errors = 0
    with open(out, "w") as log:
        while not os.path.exists(stop):
            if not os.path.exists(path):
                time.sleep(0.01)
                continue
            try:
                con = duckdb.connect(path, read_only=True)
                try:
                    # One statement: one snapshot of the file this connection opened.
                    nights, sessions = con.execute(
                        "select (select list(distinct night order by night)::varchar from rewatch_runs), "
                        "(select count(*) from fct_viewing_sessions)"
                    ).fetchone()
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


def test_readers_see_one_published_night_at_a_time_and_never_fail(generated_small, tmp_path, monkeypatch):
    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(generated_small.out_dir))
    monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    settings = get_settings()
    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(settings.published_path), str(stop), str(tmp_path / f"reader{i}.log")],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    states = set()
    try:
        for night in (START + dt.timedelta(days=i) for i in range(3)):
            loaded = pipeline.load(night, settings)
            built = pipeline.build(night, settings)
            pipeline.publish(night, loaded, built, {"decision": "publish", "warnings": []}, settings)
            con = duckdb.connect(str(settings.published_path), read_only=True)
            try:
                states.add(
                    tuple(
                        con.execute(
                            "select (select list(distinct night order by night)::varchar from rewatch_runs), "
                            "(select count(*) from fct_viewing_sessions)"
                        ).fetchone()
                    )
                )
            finally:
                con.close()
    finally:
        stop.touch()
        totals = [json.loads(reader.communicate(timeout=60)[0]) for reader in readers]
    assert len(states) == 3
    seen = set()
    for i in range(2):
        for line in (tmp_path / f"reader{i}.log").read_text().splitlines():
            nights, sessions = json.loads(line)
            assert nights != "ERROR", sessions
            seen.add((nights, sessions))
    assert sum(t["errors"] for t in totals) == 0
    assert sum(t["queries"] for t in totals) > 10
    assert seen <= states  # every answer is one published state
    assert len(seen) >= 2  # and the readers did see the nights change under them
