"""Incremental runs equal a full rebuild, whatever order nights are loaded and re-run in."""

from __future__ import annotations

import datetime as dt

import pytest

from rewatch import pipeline
from rewatch.build import rebuild
from rewatch.compare import PUBLISHED_TABLES, diff_warehouses
from rewatch.settings import get_settings
from tests.helpers import copy_published, published_connection

pytestmark = pytest.mark.slow
START = dt.date(2026, 3, 2)


def run_night(night: dt.date, audit: bool = False) -> dict:
    """One nightly run without Airflow: the same step functions the DAG's tasks call.

    These tests are about incremental equivalence, so the GX audit (about 15 s a night) runs
    only where asked: on the shuffled order with re-runs, where its change-scoped batches meet
    re-deliveries. The audit itself is tested in test_audit.py.
    """
    settings = get_settings()
    loaded = pipeline.load(night, settings)
    built = pipeline.build(night, settings)
    audited = pipeline.audit(night, settings) if audit else {"decision": "publish", "warnings": []}
    return pipeline.publish(night, loaded, built, audited, settings)


def assert_equals_rebuild(tmp_path):
    """The published lake the nights made equals a full rebuild of the same nights, table by table."""
    settings = get_settings()
    incremental = copy_published(settings, tmp_path / "incremental")
    rebuild(settings)
    diffs = diff_warehouses(incremental, settings.warehouse_dir)
    assert diffs == {table: (0, 0) for table in PUBLISHED_TABLES}


# In order is the nightly path every other test takes, compared with the truth there
# (test_end_to_end, test_real_airflow); here, the orders a backfill or a late delivery makes.
@pytest.mark.parametrize(
    "order",
    [(2, 1, 0, 1), (1, 2, 0, 2, 0)],
    ids=["reverse-then-rerun", "shuffled-with-reruns"],
)
def test_any_load_order_and_reruns_equal_a_full_rebuild(generated_small, tmp_path, monkeypatch, order):
    monkeypatch.setenv("REWATCH_EXPORTS_DIR", str(generated_small.out_dir))
    monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    for index in order:
        run_night(START + dt.timedelta(days=index), audit=order == (1, 2, 0, 2, 0))
    assert_equals_rebuild(tmp_path)

    # ... and equal the generator's ground truth (all three nights are in).
    con = published_connection(get_settings())
    truth = generated_small.truth_dir
    only_warehouse, only_truth = con.execute(
        f"""
        with warehouse as (select household_id, title_id, completions from fct_household_title_rewatches
                           where completions > 0),
             truth as (select household_id, title_id, count(*) as completions
                       from read_parquet('{truth}/cycles/*.parquet') where is_completed group by all)
        select (select count(*) from (from warehouse except all from truth)),
               (select count(*) from (from truth except all from warehouse))
        """
    ).fetchone()
    sessions = con.execute("select count(*) from fct_viewing_sessions").fetchone()[0]
    con.close()
    assert (only_warehouse, only_truth) == (0, 0)
    assert sessions == generated_small.sessions
