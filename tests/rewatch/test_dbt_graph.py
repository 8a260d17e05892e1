"""The dbt project's graph, checked (#13): dbt Labs' project-evaluator rules, read offline from
the `manifest.json` of `dbt parse`, plus the columns of a real build for the marts.

Each rule names every offender. A rule's known offenders are listed with the reason they are
still there; the list is strict: an entry that no longer offends fails too, so it is removed
as soon as its fix lands.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import duckdb
import pytest

from rewatch import pipeline
from rewatch.audit import AUDIT_MODELS, load_suites
from rewatch.build import candidate_path, dbt_run_dir, run_dbt
from rewatch.settings import Settings, get_settings

pytestmark = pytest.mark.slow

NIGHT = dt.date(2026, 3, 2)
GRAIN = re.compile(r"\bone row per\b", re.IGNORECASE)
DATA_NODES = ("model", "seed", "snapshot")

KNOWN_WITHOUT_GRAIN: dict[str, str] = {}
KNOWN_WITHOUT_PRIMARY_KEY: dict[str, str] = {}
KNOWN_UNUSED_SOURCES: dict[str, str] = {}
# A root model reads nothing: these make their rows from the run's variables, not a relation.
ALLOWED_ROOTS = {
    "model.rewatch.int_nights_processed": "its rows are the run's nights (var rewatch__nights)",
}

# The keys of the published rows a run replaces (models/intermediate/run/int_run_replaced__*):
# `select distinct` of a published table's key columns (macros/after_run.sql, replaced_rows), so
# their rows are distinct keys by construction; the publish step deletes the published rows
# matching them. They have no primary-key test on purpose (every night would test a
# `select distinct`).
REPLACED_KEYS_PREFIX = "int_run_replaced__"

# Ways to read a relation that dbt's graph does not see.
HIDDEN_READS = {
    "adapter.get_relation": re.compile(r"\badapter\s*\.\s*get_relation\b"),
    "previous_relation(": re.compile(r"(?<!macro )\bprevious_relation\s*\("),
    "api.Relation.create": re.compile(r"\bapi\s*\.\s*Relation\s*\.\s*create\b"),
    "-- depends_on: hint": re.compile(r"--\s*depends_on\s*:", re.IGNORECASE),
    "a file read by path": re.compile(
        r"\b(read_parquet|read_csv|read_csv_auto|read_json|read_json_auto|read_ndjson)\s*\("
    ),
}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    """dbt's manifest of the project as it is in the working tree (`dbt parse`, no warehouse)."""
    root = tmp_path_factory.mktemp("graph")
    settings = Settings(exports_dir=root / "exports", warehouse_dir=root / "warehouse")
    database = settings.build_dir / "parse.duckdb"
    database.parent.mkdir(parents=True)
    proc = run_dbt(settings, database, ["parse"], [NIGHT])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((dbt_run_dir(database) / "target" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def built_columns(generated_small, tmp_path_factory) -> dict[tuple[str, str], list[str]]:
    """The columns of every table of a real build of one generated night, by (schema, table).

    The build is `dbt build`: every data test of the project runs on the night's data too.
    """
    root = tmp_path_factory.mktemp("graph-build")
    mp = pytest.MonkeyPatch()
    mp.setenv("REWATCH_EXPORTS_DIR", str(generated_small.out_dir))
    mp.setenv("REWATCH_WAREHOUSE_DIR", str(root / "warehouse"))
    try:
        settings = get_settings()
        pipeline.load(NIGHT, settings)
        pipeline.build(NIGHT, settings)
        con = duckdb.connect(str(candidate_path(settings, NIGHT)), read_only=True)
        rows = con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where database_name = current_database() order by schema_name, table_name, column_index"
        ).fetchall()
        con.close()
    finally:
        mp.undo()
    columns: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        columns.setdefault((schema.lower(), table.lower()), []).append(column.lower())
    return columns


def _nodes(manifest: dict, *types: str) -> dict[str, dict]:
    return {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] in types}


def _where(node: dict) -> str:
    """Where to fix a node: its YAML (patch) when it has one, else its file."""
    return (node.get("patch_path") or node["original_file_path"]).split("://", 1)[-1]


def _assert_no_offenders(rule: str, offenders: dict[str, str], known: dict[str, str] | None = None) -> None:
    known = known or {}
    new = {uid: why for uid, why in offenders.items() if uid not in known}
    stale = sorted(set(known) - set(offenders))
    lines = [f"  {uid}: {why}" for uid, why in sorted(new.items())]
    if stale:
        lines.append("  listed as known offenders but no longer offending (remove them from the list):")
        lines += [f"    {uid}" for uid in stale]
    if lines:
        pytest.fail(f"{rule}:\n" + "\n".join(lines), pytrace=False)


def test_every_model_and_seed_states_its_grain(manifest):
    offenders = {
        uid: f"description {node['description'].strip()[:60]!r} says no 'One row per ...' ({_where(node)})"
        for uid, node in _nodes(manifest, *DATA_NODES).items()
        if not GRAIN.search(node["description"] or "")
    }
    _assert_no_offenders("models and seeds whose description states no grain", offenders, KNOWN_WITHOUT_GRAIN)


NO_KEY_TESTS = {"unique": [], "not_null": [], "primary_key": []}


def _primary_key_tests(manifest: dict) -> dict[str, dict[str, list]]:
    """Per tested node: the single columns tested `unique` and `not_null`, and the column lists
    of its `primary_key` tests. Only tests that fail the build (severity error) count."""
    found: dict[str, dict[str, list]] = {}
    for test in _nodes(manifest, "test").values():
        metadata = test.get("test_metadata") or {}
        if not test.get("attached_node") or test["config"]["severity"].lower() != "error":
            continue
        tests = found.setdefault(test["attached_node"], {key: [] for key in NO_KEY_TESTS})
        if metadata.get("name") in ("unique", "not_null") and test.get("column_name"):
            tests[metadata["name"]].append(test["column_name"].lower())
        elif metadata.get("name") == "primary_key":
            tests["primary_key"].append([column.lower() for column in metadata["kwargs"]["columns"]])
    return found


THIS_RUN_TWIN_SUFFIX = "_this_run"


def _has_primary_key_test(tests: dict, uid: str) -> bool:
    found = tests.get(uid, NO_KEY_TESTS)
    return bool(found["primary_key"]) or bool(set(found["unique"]) & set(found["not_null"]))


def test_every_model_and_seed_has_a_primary_key_test(manifest):
    """The project's `primary_key` test (no null in a key column, no duplicate key: one node
    instead of 1 + n), or `unique` + `not_null` on one column."""
    tests = _primary_key_tests(manifest)
    offenders = {}
    for uid, node in _nodes(manifest, *DATA_NODES).items():
        if node["original_file_path"].startswith("models/audit/"):
            # The audit's views are this run's rows of tables dbt keys and tests whole: their key
            # is those tables' key, not tested a second time on every build (their YAML says so).
            assert GRAIN.search(node["description"] or ""), uid
            continue
        if node["name"].startswith(REPLACED_KEYS_PREFIX):
            # Distinct keys by construction (REPLACED_KEYS_PREFIX); checked to be that, not exempted blindly.
            assert node["original_file_path"].startswith("models/intermediate/run/"), uid
            assert "replaced_rows" in node["raw_code"] and "this_run" in node["tags"], uid
            assert GRAIN.search(node["description"] or ""), uid
            continue
        twin = f"{uid}{THIS_RUN_TWIN_SUFFIX}"
        if node["name"].startswith("stg_") and twin in manifest["nodes"]:
            # Every night's rows, tested night by night on the rows each run reads: the twin reads
            # this run's nights only, in the same shape (the same staging macro), and carries the key
            # test. Checked to be that, not exempted blindly.
            assert _has_primary_key_test(tests, twin), uid
            macro = node["raw_code"].split("(")[0]
            assert macro.startswith("{{ stg_") and manifest["nodes"][twin]["raw_code"].startswith(macro), uid
            assert THIS_RUN_TWIN_SUFFIX.strip("_") in (node["description"] or ""), uid
            continue
        if _has_primary_key_test(tests, uid):
            continue
        found = tests.get(uid, NO_KEY_TESTS)
        unique_only = sorted(set(found["unique"]) - set(found["not_null"]))
        why = f"unique without not_null on {unique_only}" if unique_only else ""
        offenders[uid] = f"no primary-key test{': ' + why if why else ''} ({_where(node)})"
    _assert_no_offenders("models and seeds without a primary-key test", offenders, KNOWN_WITHOUT_PRIMARY_KEY)


def test_every_mart_column_is_declared_and_described_once_in_a_doc_block(manifest, built_columns):
    marts = {
        uid: node
        for uid, node in _nodes(manifest, "model").items()
        if node["original_file_path"].startswith("models/marts/")
    }
    assert marts, "no models under dbt_project/models/marts/"
    offenders = {}
    for uid, node in marts.items():
        problems = []
        built = built_columns.get((node["schema"].lower(), node["alias"].lower()))
        if built is None:
            problems.append(f"not built as {node['schema']}.{node['alias']}")
            built = []
        declared = {name.lower(): column for name, column in node["columns"].items()}
        if missing := [name for name in built if name not in declared]:
            problems.append(f"columns not declared: {missing}")
        if extra := sorted(set(declared) - set(built)):
            problems.append(f"declared columns the model does not have: {extra}")
        if undescribed := [name for name, column in declared.items() if not (column["description"] or "").strip()]:
            problems.append(f"columns without a description: {undescribed}")
        # Column docs are written once: every description is a {{ doc('...') }} block.
        if inline := [
            name
            for name, column in declared.items()
            if (column["description"] or "").strip() and not column.get("doc_blocks")
        ]:
            problems.append(f"descriptions not from a {{% docs %}} block: {inline}")
        if problems:
            offenders[uid] = "; ".join(problems) + f" ({_where(node)})"
    _assert_no_offenders("mart columns undeclared or undescribed", offenders)


def test_no_source_is_unused(manifest):
    models = set(_nodes(manifest, "model"))
    offenders = {
        uid: f"no model reads it with source() ({source['original_file_path']})"
        for uid, source in manifest["sources"].items()
        if not models & set(manifest["child_map"].get(uid, []))
    }
    _assert_no_offenders("unused sources", offenders, KNOWN_UNUSED_SOURCES)


def test_no_model_outside_staging_is_a_root(manifest):
    """A model with no ref/source parent reads raw data by name (or nothing): only staging reads sources."""
    parents = set(_nodes(manifest, *DATA_NODES)) | set(manifest["sources"])
    offenders = {
        uid: f"no ref() or source() parent ({node['original_file_path']})"
        for uid, node in _nodes(manifest, "model").items()
        if not node["original_file_path"].startswith("models/staging/")
        and not parents & set(node["depends_on"]["nodes"])
    }
    _assert_no_offenders("root models outside staging", offenders, ALLOWED_ROOTS)


def _project_macros(manifest: dict, names: list[str]) -> list[dict]:
    """The project's macros that `names` call, directly or through each other."""
    seen, todo = {}, list(names)
    while todo:
        uid = todo.pop()
        macro = manifest["macros"].get(uid)
        if uid in seen or macro is None or macro["package_name"] != manifest["metadata"]["project_name"]:
            continue
        seen[uid] = macro
        todo += macro["depends_on"]["macros"]
    return list(seen.values())


def test_every_model_reads_only_through_ref_source_or_this(manifest):
    """A relation read by name (adapter.get_relation, a `-- depends_on:` hint, a literal
    schema.table of another node, a raw file path) is a dependency dbt's graph cannot see."""
    relation_names = {
        node["unique_id"]: re.compile(
            rf'(?<![\w."])"?{re.escape(node["schema"])}"?\s*\.\s*"?{re.escape(node["alias"])}"?\b', re.IGNORECASE
        )
        for node in _nodes(manifest, *DATA_NODES).values()
        if node["config"]["materialized"] != "ephemeral"
    }
    offenders = {}
    for uid, node in _nodes(manifest, "model").items():
        codes = [(node["name"], node["raw_code"])] + [
            (f"macro {macro['name']}", macro["macro_sql"])
            for macro in _project_macros(manifest, node["depends_on"]["macros"])
        ]
        found = []
        for where, code in codes:
            found += [f"{what} in {where}" for what, pattern in HIDDEN_READS.items() if pattern.search(code)]
            found += [
                f"{other.split('.')[-1]} by name in {where}"
                for other, pattern in relation_names.items()
                if other != uid and pattern.search(code)
            ]
        if found:
            offenders[uid] = f"{'; '.join(found)} ({node['original_file_path']})"
    _assert_no_offenders("models reading a relation outside ref/source/this", offenders)


def test_no_intermediate_model_reads_a_mart(manifest):
    """Layers only read downwards: staging <- intermediate <- marts <- audit. The audit's
    models (models/audit/) read marts on purpose: they are the rows the suites validate."""
    marts = {
        uid for uid, node in _nodes(manifest, "model").items() if node["original_file_path"].startswith("models/marts/")
    }
    offenders = {
        uid: f"refs {', '.join(sorted(m.split('.')[-1] for m in marts & set(node['depends_on']['nodes'])))} "
        f"({node['original_file_path']})"
        for uid, node in _nodes(manifest, "model").items()
        if node["original_file_path"].startswith("models/intermediate/") and marts & set(node["depends_on"]["nodes"])
    }
    _assert_no_offenders("intermediate models reading a mart", offenders)


def test_the_audit_reads_its_batches_as_dbt_models_and_nothing_else_reads_them(manifest):
    """Each model in src/rewatch/audit.py's AUDIT_MODELS is a view in schema `audit` under
    models/audit/, and every model there is one: a renamed model fails here, not in a night's
    audit. A batch that reads the published lake (a `published*` source, e.g. through
    after_run) is a table instead: the audit opens the scratch database without the lake
    attached, so such a view could not be read there. Nothing else reads them: the audit layer
    is the graph's last."""
    audit_models = {
        node["name"]: node
        for node in _nodes(manifest, "model").values()
        if node["original_file_path"].startswith("models/audit/")
    }
    assert set(AUDIT_MODELS.values()) == set(audit_models)

    def materialization(node: dict) -> str:
        reads_lake = any(parent.startswith("source.rewatch.published") for parent in node["depends_on"]["nodes"])
        return "table" if reads_lake else "view"

    offenders = {
        node["unique_id"]: f"schema {node['schema']}, materialized {node['config']['materialized']}, "
        f"expected audit, {materialization(node)} ({_where(node)})"
        for node in audit_models.values()
        if (node["schema"], node["config"]["materialized"]) != ("audit", materialization(node))
    }
    audit_ids = {node["unique_id"] for node in audit_models.values()}
    offenders |= {
        uid: f"refs the audit's {', '.join(sorted(m.split('.')[-1] for m in audit_ids & set(node['depends_on']['nodes'])))} "
        f"({node['original_file_path']})"
        for uid, node in _nodes(manifest, "model").items()
        if uid not in audit_ids and audit_ids & set(node["depends_on"]["nodes"])
    }
    _assert_no_offenders(
        "audit models not in schema audit as views (tables when they read the lake), or read by other models", offenders
    )


def test_the_suites_read_their_batch_and_nothing_else():
    """A suite's SQL expectation reads its batch (`{batch}`, a dbt model of models/audit/) and
    the CTEs it defines, never a relation by name: a column the check needs from another table
    is a column of the batch's model, so lineage shows it and a renamed model fails dbt, not
    a night's audit."""
    read = re.compile(r"\b(?:from|join)\s+([^\s(),]+)", re.IGNORECASE)
    defined = re.compile(r"\b(\w+)\s+as\s+(?:not\s+materialized\s+)?\(", re.IGNORECASE)
    offenders = {}
    for suite in load_suites():
        for expectation in suite["expectations"]:
            query = expectation["kwargs"].get("unexpected_rows_query")
            if query is None:
                continue
            query = re.sub(r"\bdistinct\s+from\b", "distinct_from", query, flags=re.IGNORECASE)  # a comparison
            ctes = set(defined.findall(query))
            names = {name for name in read.findall(query) if name != "{batch}" and name not in ctes}
            if names:
                offenders[f"{suite['name']}: {expectation.get('description', query[:60])}"] = ", ".join(sorted(names))
    assert "{batch}" in json.dumps([s["expectations"] for s in load_suites()])
    _assert_no_offenders("suite queries reading a relation other than their batch", offenders)


def test_the_exposures_name_every_table_the_morning_page_and_the_summary_read(manifest):
    """_exposures.yml declares what the morning page and `rewatch summary` read, so dbt's
    lineage reaches them: the tables their SQL names (`main.<table>`) are exactly those."""
    import inspect

    from rewatch import morning, report

    read = set(re.findall(r"\bmain\.(\w+)", inspect.getsource(morning) + inspect.getsource(report)))
    read -= {"rewatch_runs", "rewatch_restatements"}  # the publish step's own logs, not dbt models
    exposures = manifest["exposures"]
    assert {e["name"] for e in exposures.values()} == {"morning_page", "rewatch_summary"}
    exposed = {node.split(".")[-1] for e in exposures.values() for node in e["depends_on"]["nodes"]}
    assert exposed == read


def test_every_applied_table_has_the_keys_it_replaces_and_nothing_else_does(manifest):
    """The publish step (src/rewatch/build.py) deletes, for each model with meta
    `rewatch_publish: apply`, the published rows matching `int_run_replaced__<model>`: that
    model must exist (else the publish fails after the audit), and a replaced-keys model whose
    table is not applied is never used."""
    models = _nodes(manifest, "model")
    applied = {
        node["alias"]
        for node in models.values()
        if (node["config"].get("meta") or {}).get("rewatch_publish") == "apply"
    }
    replaced = {
        node["name"].removeprefix(REPLACED_KEYS_PREFIX): node
        for node in models.values()
        if node["name"].startswith(REPLACED_KEYS_PREFIX)
    }
    assert applied, "no model has meta rewatch_publish: apply"
    offenders = {
        f"model.rewatch.{name}": f"rewatch_publish: apply without a model {REPLACED_KEYS_PREFIX}{name}"
        for name in sorted(applied - set(replaced))
    }
    offenders |= {
        node["unique_id"]: f"no model {name} with meta rewatch_publish: apply ({node['original_file_path']})"
        for name, node in sorted(replaced.items())
        if name not in applied
    }
    _assert_no_offenders("applied tables and the keys they replace", offenders)
