"""The audit of write-audit-publish: Great Expectations suites over the night and the candidate.

Suites live in `expectations/<suite>.json` (GX 1.x JSON). Each names, in `meta.rewatch.asset`,
the batch it validates (`ASSET_QUERIES`): a dbt model of the candidate warehouse
(`AUDIT_MODELS`, schema `audit`, dbt_project/models/audit/: lineage covers them and a renamed
model fails dbt, not the night), or for the load's own bookkeeping a query over the exports
manifest and the raw ledger. Batches hold the night's raw rows and the rows this run rewrote,
so the audit's cost grows with the night, not with history. Every expectation carries
`meta.severity`: `error` blocks publishing, `warning` publishes and is reported.

Validation runs inside DuckDB through GX's SQL datasource (duckdb-engine); `buffer_duckdb_results`
works around the upstream cursor bug (see its docstring).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from rewatch import children, contract, faults, progress
from rewatch.contract import MANIFEST_NAME, night_dir
from rewatch.datadocs import make_offline
from rewatch.errors import PermanentError
from rewatch.rawzone import partition_path, partitions_glob, set_run_variables, sql_str
from rewatch.settings import PROJECT_ROOT, Settings, duckdb_limits

SUITES_DIR = PROJECT_ROOT / "expectations"
SEVERITIES = ("error", "warning")
EXAMPLES = 3


class AuditError(PermanentError):
    """An error-severity expectation failed: the night is refused and the published file kept."""


@dataclass(frozen=True)
class Scope:
    """What one audit looks at: a night (None for a full rebuild) and where its data lives."""

    night: dt.date | None
    candidate: Path
    settings: Settings

    @property
    def raw_night(self) -> dt.date:
        """The night a raw-stage asset reads; a rebuild has none (it audits the output stage only)."""
        if self.night is None:
            raise ValueError(
                "a raw-stage asset reads one night's raw partitions, and a rebuild audits no night: "
                "run the rebuild's audit with the output stage only"
            )
        return self.night

    def raw_partition(self, table: str) -> str:
        return sql_str(partition_path(self.settings.raw_dir, table, self.raw_night))

    @property
    def night_sql(self) -> str:
        return f"date '{self.raw_night.isoformat()}'"


# --- The batches the suites validate --------------------------------------------------------
# The night's raw rows and the rows of the candidate this run rewrote (the streams in
# `int_run_changed_streams` from their recompute point, the (profile, title) pairs in
# `int_run_changed_pairs` from theirs; a full rebuild's changes are everything) are dbt models,
# built with the candidate: the one place an asset is mapped to its model.
AUDIT_MODELS = {
    "raw_playback_events": "audit_raw_playback_events",
    "raw_playback_events_schema": "audit_raw_playback_events_schema",
    "fct_viewing_sessions": "audit_fct_viewing_sessions",
    "run_streams": "audit_run_streams",
    "fct_watch_cycles": "audit_fct_watch_cycles",
    "fct_household_title_rewatches": "audit_fct_household_title_rewatches",
    "rpt_title_performance": "audit_rpt_title_performance",
}


def _audit_model(model: str):
    def batch(scope: Scope) -> str:
        return f"select * from audit.{model}"

    return batch


# The load's own bookkeeping stays here: the exporter's manifest (outside the raw zone, which
# dbt never reads) against the loader's ledger, and the ledger's history of nights. No dbt
# model makes or reads either, and the paths come from the code that writes them.


def _raw_night_files(scope: Scope) -> str:
    manifest = sql_str(night_dir(scope.settings.exports_dir, scope.raw_night) / MANIFEST_NAME)
    return f"""
        with manifest as (
            select unnest(files, recursive := true)
            from read_json({manifest}, columns = {{files: 'STRUCT(path VARCHAR, "rows" BIGINT, sha256 VARCHAR)[]'}})
        ),
        ledger as (
            select * from read_parquet({scope.raw_partition("ledger")})
        )
        select
            coalesce(manifest.path, ledger.path) as path,
            manifest.sha256 as manifest_sha256,
            ledger.sha256 as loaded_sha256,
            manifest.rows as manifest_rows,
            ledger.rows_loaded + ledger.rows_quarantined as rows_read,
            ledger.status
        from manifest
        full outer join ledger
            on manifest.path = ledger.path
    """


def _raw_night_totals(scope: Scope) -> str:
    ledgers = sql_str(partitions_glob(scope.settings.raw_dir, "ledger"))
    return f"""
        with ledger as (
            select * from read_parquet({ledgers}, hive_partitioning = false)
            where export_date <= {scope.night_sql}
        ),
        nights as (
            select
                export_date,
                sum(rows_loaded + rows_quarantined) filter (where status = 'loaded') as rows_received,
                sum(rows_quarantined) filter (where status = 'loaded') as rows_quarantined,
                coalesce(sum(rows_loaded) filter (where path like 'playback_events%'), 0) as events_loaded
            from ledger
            group by export_date
        ),
        history as (
            select median(events_loaded) as trailing_median_events, count(*) as trailing_nights
            from (
                select events_loaded from nights
                where export_date < {scope.night_sql}
                order by export_date desc
                limit 7
            )
        )
        select
            nights.export_date,
            nights.rows_received,
            nights.rows_quarantined,
            coalesce(nights.rows_quarantined / nullif(nights.rows_received, 0), 0) as quarantine_share,
            nights.events_loaded,
            history.trailing_median_events,
            history.trailing_nights,
            case when history.trailing_nights >= 3
                then nights.events_loaded / nullif(history.trailing_median_events, 0)
            end as events_vs_trailing_median
        from nights, history
        where nights.export_date = {scope.night_sql}
    """


ASSET_QUERIES = {
    **{asset: _audit_model(model) for asset, model in AUDIT_MODELS.items()},
    "raw_night_files": _raw_night_files,
    "raw_night_totals": _raw_night_totals,
}


# --- Suites ---------------------------------------------------------------------------------


def load_suites(folder: Path = SUITES_DIR) -> list[dict]:
    """Every suite file, checked: a known asset, a stage, and a severity on each expectation."""
    suites = []
    for path in sorted(folder.glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        rewatch_meta = suite.get("meta", {}).get("rewatch", {})
        asset, stage = rewatch_meta.get("asset"), rewatch_meta.get("stage")
        if asset not in ASSET_QUERIES or stage not in ("raw", "output"):
            raise ValueError(f"{path}: meta.rewatch needs an asset of {sorted(ASSET_QUERIES)} and a stage raw|output")
        for expectation in suite["expectations"]:
            severity = expectation.get("meta", {}).get("severity")
            if severity not in SEVERITIES:
                raise ValueError(f"{path}: {expectation['type']} has no meta.severity of {SEVERITIES}")
            expectation["kwargs"] = {k: _from_contract(path, v) for k, v in expectation["kwargs"].items()}
        suites.append(suite)
    return suites


def _from_contract(path: Path, value):
    """`"contract:NAME"` in a suite is the export contract's own value (rewatch.contract.NAME):
    a rule the loader owns is checked again on the raw zone without a second copy of it."""
    if not (isinstance(value, str) and value.startswith("contract:")):
        return value
    name = value.removeprefix("contract:")
    if not name.isupper() or not hasattr(contract, name):
        raise ValueError(f"{path}: {value!r} names nothing in rewatch.contract")
    found = getattr(contract, name)
    return list(found) if isinstance(found, tuple) else found


# --- The GX 1.24 / DuckDB shim ----------------------------------------------------------------

_SHIM_INSTALLED = False


def buffer_duckdb_results() -> None:
    """Make GX's SQL engine read DuckDB results before it closes the connection.

    GX 1.24's `SqlAlchemyExecutionEngine.execute_query` runs a query in `with
    get_connection()` and returns the live cursor result after the connection has closed;
    duckdb-engine's cursor is gone by then, so every metric comes back empty and every
    expectation fails with an empty result (upstream great_expectations#10738, #11579). The
    shim wraps the one method that executes, and for DuckDB connections only returns a
    buffered copy (`Result.freeze()()`: same rows, same keys) taken while the connection is
    open. Other dialects are untouched. Idempotent.
    """
    global _SHIM_INSTALLED
    if _SHIM_INSTALLED:
        return
    from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine

    original = SqlAlchemyExecutionEngine._execute_query_with_recovery

    def execute_buffered(connection, query):
        result = original(connection, query)
        if connection.dialect.name == "duckdb" and result.returns_rows:
            return result.freeze()()
        return result

    SqlAlchemyExecutionEngine._execute_query_with_recovery = staticmethod(execute_buffered)
    _SHIM_INSTALLED = True


def import_gx():
    """Import great_expectations with analytics off, and the DuckDB shim in place."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    buffer_duckdb_results()
    return gx


# --- Running the audit ----------------------------------------------------------------------


@dataclass
class Finding:
    suite: str
    table: str
    expectation: str
    severity: str
    summary: str
    examples: list = field(default_factory=list)

    def line(self) -> str:
        text = f"[{self.severity}] {self.suite}: {self.expectation} on {self.table}: {self.summary}"
        if self.examples:
            text += "; e.g. " + "; ".join(json.dumps(e, default=str, sort_keys=True) for e in self.examples)
        return text


@dataclass
class AuditResult:
    night: dt.date | None
    suites: dict[str, dict] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    data_docs: str | None = None
    seconds: float = 0.0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def decision(self) -> str:
        if self.errors:
            return "refused"
        return "publish_with_warnings" if self.warnings else "publish"

    def as_dict(self) -> dict:
        """The report's view: decision, per-suite results, findings as lines."""
        return {
            "decision": self.decision,
            "suites": self.suites,
            "errors": [f.line() for f in self.errors],
            "warnings": [f.line() for f in self.warnings],
            "data_docs": self.data_docs,
            "seconds": round(self.seconds, 2),
        }

    def to_dict(self) -> dict:
        """Everything, for the child process to hand back (`from_dict` reads it)."""
        return {
            "night": self.night.isoformat() if self.night else None,
            "suites": self.suites,
            "findings": [vars(f) for f in self.findings],
            "data_docs": self.data_docs,
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, data: dict) -> AuditResult:
        return cls(
            night=dt.date.fromisoformat(data["night"]) if data["night"] else None,
            suites=data["suites"],
            findings=[Finding(**f) for f in data["findings"]],
            data_docs=data["data_docs"],
            seconds=data["seconds"],
        )

    def error_message(self) -> str:
        label = self.night.isoformat() if self.night else "the rebuild"
        lines = [
            f"Audit refused {label}: {len(self.errors)} error expectation(s) failed; "
            "the published warehouse is unchanged and the raw zone keeps the night's last accepted delivery. "
            "Fix the export and re-run the night."
        ]
        lines += [f"- {f.line()}" for f in self.errors]
        if self.data_docs:
            lines.append(f"Data Docs: {self.data_docs}")
        return "\n".join(lines)


def _describe(config) -> str:
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "result_format")}
    if config.type == "unexpected_rows_expectation":
        return f"unexpected_rows_expectation({config.description or 'custom SQL'})"
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"{config.type}({args})"


def _raised(info) -> str | None:
    """GX reports an exception either flat or per metric; the first message, if any."""
    if not info:
        return None
    if "raised_exception" in info:
        return info.get("exception_message") if info.get("raised_exception") else None
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message")).splitlines()[0]
    return None


def _summary_and_examples(result, asset_sql: str, engine) -> tuple[str, list]:
    """One line on what failed, and up to EXAMPLES offending rows (or values) to show."""
    config = result.expectation_config
    data = result.result or {}
    raised = _raised(result.exception_info)
    if raised:
        return f"could not be evaluated: {raised}", []
    if config.type == "unexpected_rows_expectation":
        query = config.kwargs["unexpected_rows_query"].replace("{batch}", f"({asset_sql}) as batch")
        with engine.connect() as connection:
            # Driver SQL as written: no bind-parameter parsing of the query's colons.
            rows = connection.exec_driver_sql(f"select * from ({query}) as offending limit {EXAMPLES}")
            examples = [dict(row) for row in rows.mappings().fetchall()]
        return f"{data.get('observed_value')} offending row(s)", examples
    if "unexpected_count" in data:
        examples = data.get("partial_unexpected_index_list") or data.get("partial_unexpected_list") or []
        return (
            f"{data['unexpected_count']} of {data.get('element_count')} row(s) unexpected",
            list(examples)[:EXAMPLES],
        )
    return f"observed {data.get('observed_value')!r}", []


def _reset_dir(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def audit(settings: Settings, night: dt.date | None, candidate: Path, docs_dir: Path) -> AuditResult:
    """Validate the night's raw load (skipped for a rebuild) and the candidate's rewritten rows.

    Runs in a child process, like dbt: GX's SQL datasource opens a new SQLAlchemy engine as
    assets are added and keeps its pooled connections, which would hold the candidate open
    (read-only) in this process and stop `publish` from writing to it. The child's exit
    closes them all, and its memory goes with it. The child is forked from a server that has
    imported GX once (`rewatch.children`): the import alone takes 4-5 s.
    """
    docs_dir.mkdir(parents=True, exist_ok=True)
    out = docs_dir.parent / ".audit-result.json"
    out.unlink(missing_ok=True)
    args = {
        "exports_dir": str(settings.exports_dir),
        "warehouse_dir": str(settings.warehouse_dir),
        "night": night.isoformat() if night else None,
        "candidate": str(candidate),
        "docs_dir": str(docs_dir),
        "out": str(out),
    }
    env = {**os.environ}
    with progress.child_watched(docs_dir.parent / ".audit-progress.txt", env, "audit: starting"):
        proc = children.run("audit", "rewatch.audit:_main", [json.dumps(args)], env=env)
    if proc.returncode != 0 or not out.exists():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"the audit could not run (exit {proc.returncode}):\n{tail}")
    result = AuditResult.from_dict(json.loads(out.read_text()))
    out.unlink()
    return result


def _main(raw_args: str) -> None:
    args = json.loads(raw_args)
    settings = Settings(exports_dir=Path(args["exports_dir"]), warehouse_dir=Path(args["warehouse_dir"]))
    night = dt.date.fromisoformat(args["night"]) if args["night"] else None
    result = audit_in_process(settings, night, Path(args["candidate"]), Path(args["docs_dir"]))
    out = Path(args["out"])
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(result.to_dict(), default=str), encoding="utf-8")
    os.replace(tmp, out)
    faults.point("audit:result_written")


def audit_in_process(
    settings: Settings,
    night: dt.date | None,
    candidate: Path,
    docs_dir: Path,
    stages: tuple[str, ...] = ("raw", "output"),
    render_docs: bool = True,
) -> AuditResult:
    """The audit itself (see `audit`, which runs this in a child process); `stages` narrows it,
    and without `render_docs` no Data Docs page is written (the tests that only read the verdict)."""
    started = time.monotonic()
    gx = import_gx()
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    scope = Scope(night=night, candidate=candidate, settings=settings)
    if night is None:
        stages = tuple(s for s in stages if s == "output")  # a rebuild's nights were audited when loaded
    suites = [s for s in load_suites() if s["meta"]["rewatch"]["stage"] in stages]
    _reset_dir(docs_dir)

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    for site in list(context.list_data_docs_sites()):  # the ephemeral default writes under /tmp
        context.delete_data_docs_site(site)
    context.add_data_docs_site(
        "night",
        {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    # The scratch database's views of the raw zone read the run's DuckDB variables (as dbt's
    # connections do): every connection GX opens to it gets them.
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def set_variables(dbapi_connection, _record) -> None:
        set_run_variables(dbapi_connection, settings.raw_dir, [night] if night else [])

    event.listen(Engine, "connect", set_variables)
    datasource = context.data_sources.add_sql(
        name="candidate",
        connection_string=f"duckdb:///{candidate}",
        # The memory limit; beyond it, DuckDB spills beside the candidate, in the run's folder.
        kwargs={"connect_args": {"read_only": True, "config": duckdb_limits()}},
    )
    result = AuditResult(night=night)
    try:
        for suite_dict in suites:
            meta = suite_dict["meta"]["rewatch"]
            # GX wants a plain SELECT; the asset queries use CTEs and table functions.
            asset_sql = f"select * from ({ASSET_QUERIES[meta['asset']](scope)}) as asset"
            asset = datasource.add_query_asset(name=suite_dict["name"], query=asset_sql)
            batch_definition = asset.add_batch_definition_whole_table("night")
            suite = context.suites.add(
                ExpectationSuite(
                    name=suite_dict["name"],
                    expectations=[ExpectationConfiguration(**e).to_domain_obj() for e in suite_dict["expectations"]],
                    meta=suite_dict.get("meta", {}),
                )
            )
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=suite_dict["name"], data=batch_definition, suite=suite)
            )
            checkpoint = context.checkpoints.add(
                gx.Checkpoint(
                    name=suite_dict["name"],
                    validation_definitions=[definition],
                    result_format={
                        "result_format": "SUMMARY",
                        "partial_unexpected_count": EXAMPLES,
                        "unexpected_index_column_names": meta.get("key", []),
                    },
                )
            )
            run = checkpoint.run()
            validation = next(iter(run.run_results.values()))
            failed = {"error": 0, "warning": 0}
            for expectation_result in validation.results:
                if expectation_result.success:
                    continue
                config = expectation_result.expectation_config
                severity = config.meta.get("severity", "error")
                failed[severity] += 1
                summary, examples = _summary_and_examples(
                    expectation_result, asset_sql, datasource.get_execution_engine().engine
                )
                result.findings.append(
                    Finding(
                        suite=suite_dict["name"],
                        table=meta.get("table", meta["asset"]),
                        expectation=_describe(config),
                        severity=severity,
                        summary=summary,
                        examples=examples,
                    )
                )
            # Rows in the batch (e.g. the sessions this run built), as GX counted them.
            counts = [(r.result or {}).get("element_count") for r in validation.results]
            result.suites[suite_dict["name"]] = {
                "table": meta.get("table", meta["asset"]),
                "stage": meta["stage"],
                "rows": max((c for c in counts if c is not None), default=None),
                "evaluated": len(validation.results),
                "failed_errors": failed["error"],
                "failed_warnings": failed["warning"],
                "success": failed["error"] == 0,
            }
            faults.point(f"audit:after_suite:{suite_dict['name']}")
            progress.tell(f"audit: {len(result.suites)} of {len(suites)} suites checked, last {suite_dict['name']}")
        if render_docs:
            progress.tell("audit: writing the Data Docs page")
        # Data Docs once, for every suite: as a checkpoint action the site was re-rendered after
        # each suite (GX compiles its page templates anew each time), most of the audit's time.
        if render_docs:
            context.build_data_docs(site_names=["night"])
            make_offline(docs_dir, night.isoformat() if night else "rebuild", result.suites)
    finally:
        datasource.get_execution_engine().close()
        event.remove(Engine, "connect", set_variables)
    index = docs_dir / "index.html"
    result.data_docs = str(index) if index.exists() else None
    result.seconds = time.monotonic() - started
    return result


if __name__ == "__main__":
    _main(sys.argv[1])
