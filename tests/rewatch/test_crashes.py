"""Crashes: a nightly run SIGKILLed in each phase (load, dbt build, audit, publish), then
re-run. The published file always opens and shows the old night or the new one, never half;
the re-run equals an uninterrupted run; no temporary file is left; ledger and quarantine
agree. bench/crash_soak.py does the same for as many random kills as asked."""

from __future__ import annotations

import datetime as dt
import random
import shutil

import pytest

from rewatch import pipeline
from rewatch.settings import get_settings
from tests.conftest import START
from tests.crash_harness import PHASES, published_state, trial

NIGHT = START + dt.timedelta(days=1)


def _publish(settings, night):
    loaded = pipeline.load(night, settings)
    built = pipeline.build(night, settings)
    pipeline.publish(night, loaded, built, {"decision": "publish", "warnings": []}, settings)


@pytest.fixture(scope="module")
def published_once(generated_small, tmp_path_factory):
    """`base`: night 1 published; `reference`: base + night 2, uninterrupted."""
    root = tmp_path_factory.mktemp("crashes")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REWATCH_EXPORTS_DIR", str(generated_small.out_dir))
        mp.setenv("REWATCH_WAREHOUSE_DIR", str(root / "base"))
        _publish(get_settings(), START)
        shutil.copytree(root / "base", root / "reference")
        mp.setenv("REWATCH_WAREHOUSE_DIR", str(root / "reference"))
        _publish(get_settings(), NIGHT)
    old = published_state(root / "base" / "rewatch.duckdb")
    new = published_state(root / "reference" / "rewatch.duckdb")
    assert old != new
    return root, generated_small.out_dir, old, new


@pytest.mark.parametrize("phase", PHASES)
def test_a_run_killed_in_any_phase_recovers_to_the_uninterrupted_result(published_once, phase):
    root, exports, old, new = published_once
    result = trial(
        root / "base",
        root / f"work-{phase}",
        exports,
        NIGHT,
        phase,
        random.Random(phase),
        {old, new},
        root / "reference" / "rewatch.duckdb",
    )
    assert result.survived, result.problems
    # The kill landed in the phase asked for (publish is a split second: it may finish first).
    assert result.killed_in == phase or (phase == "publish" and result.killed_in == "finished")
    if phase in ("load", "build", "audit"):
        assert result.state_after_kill == old  # nothing new is published before the audit passed
