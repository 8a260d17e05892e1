"""Analysts read while nights publish: readers in other processes query the published lake in a
loop (read-only, `rewatch.connect()` per query) while three nights are published. Promise: no
reader error, every answer is one published state (the sessions of exactly the nights it
lists), never a mix, and every reader sees each new night with its next query."""

from __future__ import annotations

import datetime as dt

from rewatch import pipeline
from rewatch.settings import get_settings
from tests.conftest import START
from tests.helpers import night_commits
from tests.readers_harness import Readers, published_state


def test_readers_see_one_published_night_at_a_time_and_never_fail(generated_small, tmp_path, monkeypatch):
    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(generated_small.out_dir))
    monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    settings = get_settings()
    # Each reader opens a pinned connection per query (about 0.2 s of CPU: the extension and the
    # catalog attach); a pause of 1 s between queries leaves the writer (and the test suite's
    # other worker) most of a 2-core machine and still gives a query every second or so while
    # a night builds for tens of seconds. bench/readers_soak.py hammers harder.
    readers = Readers(settings, tmp_path, 2, pause=1.0)
    states = []
    try:
        for night in (START + dt.timedelta(days=i) for i in range(3)):
            loaded = pipeline.load(night, settings)
            built = pipeline.build(night, settings)
            pipeline.publish(night, loaded, built, {"decision": "publish", "warnings": []}, settings)
            states.append(published_state(settings))
            # Every reader sees the new night (none is stuck on an older snapshot) while the next
            # night is built and published under them.
            readers.wait_until_seen(states[-1])
    finally:
        queries, errors, answers, by_reader = readers.stop(timeout=60)
    assert len(set(states)) == 3
    # One commit per night (and perhaps its rewrite of the files it left half deleted).
    assert [c.kind for c in night_commits(settings)] == ["night"] * 3
    for nights, sessions in answers:
        assert nights != "ERROR", sessions
    assert errors == 0
    assert queries > 10
    assert set(answers) <= set(states)  # every answer is one published state, never a mix
    assert all(seen == set(states) for seen in by_reader), by_reader  # and each reader saw every night
