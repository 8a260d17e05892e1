"""The this-run layer and its inputs (docs/incremental.md): the published warehouse is the
state a run compares with, declared as dbt sources; a stale this-run layer is never applied."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb
import pytest
from typer.testing import CliRunner

from rewatch import pipeline
from rewatch.build import BuildError, build_night, dbt_run_dir, previous_state_tables, run_dbt
from rewatch.cli import app
from rewatch.settings import get_settings

pytestmark = pytest.mark.slow
NIGHT = dt.date(2026, 3, 2)


@pytest.fixture(scope="module")
def published(generated_small, tmp_path_factory):
    """One generated night, built, audited and published."""
    root = tmp_path_factory.mktemp("this_run")
    mp = pytest.MonkeyPatch()
    mp.setenv("REWATCH_EXPORTS_DIR", str(generated_small.out_dir))
    mp.setenv("REWATCH_WAREHOUSE_DIR", str(root / "warehouse"))
    settings = get_settings()
    loaded, built = pipeline.load(NIGHT, settings), pipeline.build(NIGHT, settings)
    pipeline.publish(NIGHT, loaded, built, {"decision": "publish", "warnings": []}, settings)
    yield settings
    mp.undo()


def _dbt(settings, database, select: str):
    return run_dbt(
        settings,
        database,
        ["build", "--select", select, "--exclude-resource-type", "unit_test"],
        {"rewatch__nights": [NIGHT.isoformat()]},
        settings.published_path,
    )


def test_a_mart_built_without_its_this_run_layer_refuses_the_stale_one(published):
    database = published.build_dir / "by-hand.duckdb"
    shutil.copyfile(published.published_path, database)
    before = duckdb.connect(str(database), read_only=True)
    cycles = before.execute("select count(*) from main.fct_watch_cycles").fetchone()[0]
    before.close()

    alone = _dbt(published, database, "fct_watch_cycles")
    assert alone.returncode != 0
    assert "built by another dbt invocation" in alone.stdout
    assert "-s +fct_watch_cycles" in alone.stdout
    con = duckdb.connect(str(database), read_only=True)
    assert con.execute("select count(*) from main.fct_watch_cycles").fetchone()[0] == cycles
    con.close()

    with_ancestors = _dbt(published, database, "+fct_watch_cycles")
    assert with_ancestors.returncode == 0, with_ancestors.stdout[-3000:]
    shutil.rmtree(dbt_run_dir(database), ignore_errors=True)


def test_the_change_capture_reads_only_the_declared_published_columns(published):
    # The first night built on an empty published state holding exactly the declared columns
    # (the fixture did it); every declared one exists in what a run publishes.
    con = duckdb.connect(str(published.published_path), read_only=True)
    present = set(
        con.execute("select table_schema, table_name, column_name from information_schema.columns").fetchall()
    )
    con.close()
    declared = {(s, t, c) for (s, t), columns in previous_state_tables().items() for c, _ in columns}
    assert declared and declared <= present


def test_a_published_warehouse_from_an_older_rewatch_is_refused_with_what_to_do(published, tmp_path, monkeypatch):
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    shutil.copyfile(published.published_path, warehouse / "rewatch.duckdb")
    con = duckdb.connect(str(warehouse / "rewatch.duckdb"))
    con.execute("alter table intermediate.int_profiles_current drop column is_kids_profile")
    con.execute("checkpoint")
    con.close()
    monkeypatch.setenv("REWATCH_WAREHOUSE_DIR", str(warehouse))
    settings = get_settings()
    shutil.copytree(published.raw_dir, settings.raw_dir)
    with pytest.raises(BuildError, match=r"int_profiles_current\.is_kids_profile.*rewatch rebuild"):
        build_night(settings, NIGHT)


def test_rewatch_docs_shows_the_real_lineage(published, tmp_path):
    result = CliRunner().invoke(app, ["docs", "--out", str(tmp_path / "docs")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "docs" / "index.html").stat().st_size > 100_000  # dbt's page, data inlined
    manifest = json.loads((tmp_path / "docs" / "manifest.json").read_text())
    parents = manifest["nodes"]["model.rewatch.int_run_changes"]["depends_on"]["nodes"]
    assert "source.rewatch.published.fct_viewing_sessions" in parents
    assert "model.rewatch.int_run_delivery_changes" in parents
    catalog = json.loads((tmp_path / "docs" / "catalog.json").read_text())
    assert "started_at" in {c.lower() for c in catalog["nodes"]["model.rewatch.fct_viewing_sessions"]["columns"]}
    assert not list(published.build_dir.glob("docs*"))  # the throwaway copy is gone
