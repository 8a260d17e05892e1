"""Analysts read while nights publish: readers in other processes query the published file in
a loop (read-only) while three nights are published. Promise: no reader error, and every
query sees one published state (the sessions of exactly the nights it lists), never a mix."""

from __future__ import annotations

import datetime as dt

from rewatch import pipeline
from rewatch.settings import get_settings
from tests.conftest import START
from tests.readers_harness import Readers, published_state


def test_readers_see_one_published_night_at_a_time_and_never_fail(generated_small, tmp_path, monkeypatch):
    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(generated_small.out_dir))
    monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    settings = get_settings()
    readers = Readers(settings.published_path, tmp_path, 2)
    states = set()
    try:
        for night in (START + dt.timedelta(days=i) for i in range(3)):
            loaded = pipeline.load(night, settings)
            built = pipeline.build(night, settings)
            pipeline.publish(night, loaded, built, {"decision": "publish", "warnings": []}, settings)
            states.add(published_state(settings.published_path))
    finally:
        queries, errors, answers = readers.stop(timeout=60)
    assert len(states) == 3
    for nights, sessions in answers:
        assert nights != "ERROR", sessions
    seen = set(answers)
    assert errors == 0
    assert queries > 10
    assert seen <= states  # every answer is one published state
    assert len(seen) >= 2  # and the readers did see the nights change under them
