"""`rewatch` command line: generate sample exports, run nights through Airflow, show status."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from rewatch.contract import NightOutOfRangeError, check_night, parse_date
from rewatch.errors import PermanentError
from rewatch.settings import DEFAULT_MEMORY_LIMIT, Settings
from rewatch.settings import get_settings as read_settings

EPILOG = f"""\b
Examples:
  rewatch generate --out data/exports --start 2026-03-02 --nights 7
  rewatch run --date 2026-03-02      one night; --wait waits for its export
  rewatch backfill --from 2026-03-01 --to 2026-03-31
  rewatch summary                    what analysts see (read-only)
\b
Environment (default):
  REWATCH_DATA_DIR             the folder the next two default into (./data)
  REWATCH_EXPORTS_DIR          exports arrive here (./data/exports)
  REWATCH_WAREHOUSE_DIR        raw zone, lake, reports (./data/warehouse)
  REWATCH_LAKE_CATALOG         the lake's catalog (SQLite in the warehouse)
  REWATCH_EXPORT_WAIT_HOURS    how long --wait waits for an export (6)
  REWATCH_DUCKDB_MEMORY_LIMIT  DuckDB's memory per process of a night ({DEFAULT_MEMORY_LIMIT})
  REWATCH_KEEP_NIGHTS          nightly publishes time travel keeps (90)
  REWATCH_ALERT_WEBHOOK_URL    failure alerts are POSTed there (unset)
  REWATCH_PSEUDONYMIZE_KEY     ids become keyed hashes at load (unset)
  REWATCH_SCHEDULE_CRON        the nightly DAG's schedule, UTC (0 4 * * *)
  REWATCH_MAINTAIN_CRON        the upkeep DAG's schedule, UTC (0 10 * * 0)
  AIRFLOW_HOME                 the embedded Airflow's home (.airflow in the checkout; ./.airflow installed)
A .env file in the working directory can set them (the environment wins).
More in README.md and docs/operations.md."""

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=__doc__,
    epilog=EPILOG,
    pretty_exceptions_show_locals=False,
)
console = Console(highlight=False, soft_wrap=True)
if not console.is_terminal:
    console.width = 150  # logs and CI: wide enough for the summary table
err = Console(stderr=True, highlight=False, soft_wrap=True)

MAX_NIGHTS = 3660
WAIT_HELP = "If another writer holds the warehouse, wait for it instead of refusing."
RUN_WAIT_HELP = (
    "Wait instead of refusing: for another writer of the warehouse to finish, and for a night's "
    "export to arrive (up to REWATCH_EXPORT_WAIT_HOURS, 6 by default)."
)


# `run` and `backfill`: where Airflow's own output goes.
VerboseOption = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Print Airflow's own output (task logs) here instead of the run's log file under reports/logs/.",
    ),
]


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        console.print(f"rewatch {version('rewatch')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Read `.env` from the working directory (before any command reads a setting)."""
    from rewatch.settings import load_dotenv

    _from_dotenv.update(load_dotenv())


_from_dotenv: dict[str, str] = {}


def get_settings() -> Settings:
    """The settings in force; a command that reads them refuses to start when one is not valid
    (exit 2, each named, with `.env` when it came from there). Help never reads them."""
    from rewatch.settings import settings_problems

    if problems := settings_problems(_from_dotenv):
        err.print("rewatch: these settings are not valid; nothing was run:")
        for problem in problems:
            err.print(f"  {problem}")
        raise typer.Exit(2)
    return read_settings()


def _date(value: str | dt.date) -> dt.date:
    """A command line date: YYYY-MM-DD, strictly (`contract.parse_date`); shown as <date> in --help."""
    if isinstance(value, dt.date):
        return value
    try:
        return parse_date(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _night(night: dt.date, option: str) -> dt.date:
    """A night to process: a date in [FIRST_NIGHT, tomorrow UTC]."""
    try:
        return check_night(night)
    except NightOutOfRangeError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _nights(date: dt.date | None, start: dt.date | None, end: dt.date | None) -> list[dt.date]:
    if date and (start or end):
        raise typer.BadParameter("give either --date or --from/--to, not both")
    if date:
        return [_night(date, "--date")]
    if not (start and end):
        raise typer.BadParameter("give --date D, or --from D1 --to D2")
    first, last = _night(start, "--from"), _night(end, "--to")
    if last < first:
        raise typer.BadParameter(f"--to {last} is before --from {first}")
    count = (last - first).days + 1
    if count > MAX_NIGHTS:
        raise typer.BadParameter(f"{count} nights is more than {MAX_NIGHTS}; split the range")
    return [first + dt.timedelta(days=i) for i in range(count)]


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Exports folder to write nights into.")],
    start: Annotated[dt.date, typer.Option("--start", parser=_date, help="First night, YYYY-MM-DD.")],
    nights: Annotated[int, typer.Option("--nights", min=1, max=MAX_NIGHTS)] = 7,
    households: Annotated[int, typer.Option("--households", min=1)] = 2000,
    seed: Annotated[int, typer.Option("--seed")] = 42,
    truth: Annotated[
        Path | None, typer.Option("--truth", help="Ground-truth folder (default: <out>_truth beside it).")
    ] = None,
    events_format: Annotated[str, typer.Option("--format", help="csv.gz, csv, parquet or ndjson.gz")] = "csv.gz",
) -> None:
    """Write deterministic sample exports (and the ground truth of what was simulated)."""
    from rewatch.generate import generate as run_generate

    began = time.monotonic()
    console.print(f"exports:   {out}")
    with console.status("generating...") as status:
        # In a terminal a live line; otherwise (a log, a pipe) a plain line per step.
        shown = (lambda msg: status.update(f"generating: {msg}")) if console.is_terminal else _plain_line
        result = run_generate(out, start, nights, households, seed, truth, events_format, progress=shown)
    seconds = time.monotonic() - began
    console.print(
        f"wrote {result.nights} nights, {result.households:,} households, {result.events:,} events "
        f"({result.sessions:,} sessions) to {result.out_dir} in {seconds:.1f}s "
        f"({result.events / max(seconds, 1e-9) * 60 / 1e6:.1f}M events/min); ground truth in {result.truth_dir}"
    )


def _plain_line(text: str) -> None:
    console.print(f"  {text}", highlight=False)


@app.command("import-netflix")
def import_netflix(
    file: Annotated[Path, typer.Argument(help="A member's ViewingActivity.csv (Netflix account download).")],
    household_id: Annotated[str, typer.Option("--household-id", help="The household the download belongs to.")],
    out: Annotated[Path, typer.Option("--out", help="Exports folder to write the night into.")],
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="IANA zone (default: the main zone of the rows' Country).")
    ] = None,
    kids_profile: Annotated[
        list[str] | None, typer.Option("--kids-profile", help="A profile name that is a kids profile (repeatable).")
    ] = None,
    night: Annotated[
        dt.date | None,
        typer.Option("--night", parser=_date, help="Night to deliver it in (default: date of its latest session)."),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help=WAIT_HELP)] = False,
) -> None:
    """Turn one member's viewing-activity download into an export night, ready for `rewatch run`.

    Writing into the exports folder the warehouse reads ($REWATCH_EXPORTS_DIR), it takes the
    warehouse's writer lock: it never rewrites a night while a run is loading it.
    """
    from contextlib import nullcontext

    from rewatch.lock import WarehouseBusyError
    from rewatch.netflix import ViewingActivityError, import_download

    if not file.is_file():
        raise typer.BadParameter(f"{file}: no such file", param_hint="FILE")
    settings = get_settings()
    feeds_warehouse = out.resolve() == settings.exports_dir.resolve()
    console.print(f"exports:   {out}" + (" (the warehouse's: REWATCH_EXPORTS_DIR)" if feeds_warehouse else ""))
    try:
        with _writer("rewatch import-netflix", wait) if feeds_warehouse else nullcontext():
            result = import_download(
                file,
                household_id,
                out,
                timezone=timezone,
                kids_profiles=tuple(kids_profile or ()),
                night=_night(night, "--night") if night is not None else None,
            )
    except (ViewingActivityError, WarehouseBusyError) as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    console.print(
        f"{'imported' if result.changed else 'already imported (nothing changed)'}: {result.sessions:,} sessions "
        f"of {len(result.profiles)} profile(s), household {result.household_id} "
        f"({result.country_code or 'no country'}, {result.timezone}) -> {result.folder}"
    )
    for rejected in result.rejected:
        err.print(f"  line {rejected.line}: {rejected.reason} (delivered anyway; the load quarantines it)")
    console.print(f"next: rewatch run --date {result.night}")


def _writer(what: str, wait: bool):
    """The warehouse's writer lock for a command; refusal is a clear message and exit 1."""
    from rewatch.lock import writer_lock

    return writer_lock(get_settings().warehouse_dir, what, wait=None if wait else 0)


def _missing_exports(nights: list[dt.date]) -> str | None:
    """What to tell the user when nights have no export yet (no `_manifest.json`), else None."""
    from rewatch.contract import MANIFEST_NAME, night_dir
    from rewatch.pipeline import export_ready

    settings = get_settings()
    missing = [night for night in nights if not export_ready(night, settings)]
    if not missing:
        return None
    count = f"{len(missing)} of {len(nights)} nights" if len(nights) > 1 else str(missing[0])
    if not settings.exports_dir.is_dir():
        looked = (
            f"the exports folder {settings.exports_dir} does not exist (REWATCH_EXPORTS_DIR says where exports arrive)"
        )
    elif len(missing) == 1:
        looked = f"{night_dir(settings.exports_dir, missing[0]) / MANIFEST_NAME} does not exist"
    else:
        shown = ", ".join(str(n) for n in missing[:5]) + (", ..." if len(missing) > 5 else "")
        looked = f"{shown} have no {MANIFEST_NAME} under {settings.exports_dir}"
    return (
        f"no export for {count}: {looked}. The exporter writes a night's files, then its manifest, "
        "in <exports>/<night>/. Deliver them and re-run, or add --wait to wait for them "
        "(up to REWATCH_EXPORT_WAIT_HOURS hours)."
    )


def _run(nights: list[dt.date], verbose: bool, wait: bool = False, what: str = "rewatch run") -> int:
    from rewatch.lock import WarehouseBusyError

    if not wait and (missing := _missing_exports(nights)):
        # Fail in seconds: without --wait, a missing export is not worth hours of waiting.
        err.print(missing)
        return 1
    try:
        with _writer(f"{what} {nights[0]}..{nights[-1]}", wait):
            return _run_locked(nights, verbose)
    except WarehouseBusyError as exc:
        err.print(str(exc))
        return 1


class _StepLines:
    """A night's steps for `rewatch run` (`rewatch.progress` reporter): a line as each ends, with
    its time and result; in a terminal also a live line for the running step (its time so far,
    and what it is busy with, e.g. the build's dbt nodes)."""

    def __init__(self, out: Console) -> None:
        self.out = out
        self.live = None
        self.running: list[str] = []
        self.text = ""
        self.began = time.monotonic()

    def __rich__(self) -> Text:
        what = self.running[-1] if self.running else ""
        line = f"{what} - {time.monotonic() - self.began:.0f}s" + (f" - {self.text}" if self.text else "")
        return Text(line, no_wrap=True, overflow="ellipsis")

    def started(self, what: str) -> None:
        self.running.append(what)
        self.text = ""
        if len(self.running) == 1:
            self.began = time.monotonic()
            if self.out.is_terminal:
                self.live = self.out.status(self)
                self.live.start()

    def status(self, what: str, text: str) -> None:
        self.text = text

    def finished(self, what: str, seconds: float, detail: str | None, failed: bool) -> None:
        if self.running == [what] and self.live is not None:
            self.live.stop()
            self.live = None
        if what in self.running:
            self.running.remove(what)
        self.out.print(
            f"  {what}: {'FAILED' if failed else 'done'} in {seconds:.1f}s" + (f" - {detail}" if detail else ""),
            highlight=False,
        )

    def note(self, text: str) -> None:
        self.out.print(text, highlight=False)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


@contextlib.contextmanager
def _showing_steps(out: Console | None = None):
    """Show the pipeline's steps on `out` (default: the console) while the block runs."""
    from rewatch import progress

    steps = _StepLines(out or console)
    previous = progress.install(steps)
    try:
        yield
    finally:
        progress.install(previous)
        steps.close()


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _console(file) -> Console:
    out = Console(file=file, highlight=False, soft_wrap=True)
    if not out.is_terminal:
        out.width = 150
    return out


def _run_locked(nights: list[dt.date], verbose: bool) -> int:
    from contextlib import nullcontext

    from rewatch import progress

    settings = get_settings()
    if verbose:
        streams = nullcontext(progress.UserStreams(sys.stdout, sys.stderr, None))
    else:
        # Airflow's own logs, warnings and tracebacks go to a file; the terminal gets the story.
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        streams = progress.airflow_output_to(settings.reports_dir / "logs" / f"run-{stamp}-{os.getpid()}.log")
    with streams as user:
        out, errors = _console(user.out), _console(user.err)
        with _showing_steps(out):
            return _run_nights_to(settings, nights, verbose, out, errors, user.log_path)


def _run_nights_to(
    settings: Settings, nights: list[dt.date], verbose: bool, console: Console, err: Console, log_path: Path | None
) -> int:
    import warnings

    from rewatch.orchestrate import run_nights

    if not verbose and log_path is None:
        # Output that is not sent to a log file (a test's captured streams): Airflow's deprecation
        # chatter is not the user's business. With a log file, warnings go there with the rest.
        warnings.filterwarnings("ignore")

    console.print(f"exports:   {settings.exports_dir}\nwarehouse: {settings.warehouse_dir}")
    if log_path is not None:
        console.print(f"log:       {log_path} (Airflow's own output; -v shows it here instead)")
    began = time.monotonic()
    started = {"t": time.monotonic()}

    def on_night(outcome) -> None:
        took = time.monotonic() - started["t"]
        started["t"] = time.monotonic()
        index = nights.index(outcome.night) + 1
        if outcome.state == "success":
            warnings = (outcome.summary.get("audit") or {}).get("warnings") or []
            console.print(
                f"[{index}/{len(nights)}] {outcome.night}: {outcome.summary.get('outcome', 'published')} "
                f"in {took:.0f}s - {outcome.summary.get('sessions', 0):,} sessions in the warehouse"
            )
            for warning in warnings:
                console.print(f"    warning: {warning}")
        else:
            err.print(f"[{index}/{len(nights)}] {outcome.night}: FAILED at {outcome.failed_task}: {outcome.error}")
            err.print("the published warehouse is unchanged; fix the export and re-run this night")
            err.print(f"report: {settings.reports_dir / outcome.night.isoformat() / 'index.html'}")
            if log_path is not None:
                err.print(f"Airflow's log of the run: {log_path}")

    outcomes = run_nights(nights, on_night=on_night, quiet=not verbose)
    ok = [o for o in outcomes if o.state == "success"]
    failed = [o for o in outcomes if o.state != "success"]
    events = sum(o.summary.get("load", {}).get("events_loaded", 0) for o in ok)
    quarantined = sum(o.summary.get("load", {}).get("rows_quarantined", 0) for o in ok)
    console.print(
        f"\n{len(ok)}/{len(nights)} nights published in {time.monotonic() - began:.0f}s: "
        f"{events:,} events loaded, {_plural(quarantined, 'row')} quarantined"
        + (f"; stopped at {failed[0].night} (failed)" if failed else "")
    )
    return 1 if failed else 0


@app.command()
def run(
    date: Annotated[dt.date | None, typer.Option("--date", parser=_date, help="One night, YYYY-MM-DD.")] = None,
    start: Annotated[dt.date | None, typer.Option("--from", parser=_date, help="First night of a range.")] = None,
    end: Annotated[
        dt.date | None, typer.Option("--to", parser=_date, help="Last night of a range (inclusive).")
    ] = None,
    verbose: VerboseOption = False,
    wait: Annotated[bool, typer.Option("--wait", help=RUN_WAIT_HELP)] = False,
) -> None:
    """Run the nightly DAG through Airflow for one night or a range, one night after another."""
    raise typer.Exit(_run(_nights(date, start, end), verbose, wait))


@app.command()
def backfill(
    start: Annotated[dt.date, typer.Option("--from", parser=_date, help="First night, YYYY-MM-DD.")],
    end: Annotated[dt.date, typer.Option("--to", parser=_date, help="Last night (inclusive).")],
    verbose: VerboseOption = False,
    wait: Annotated[bool, typer.Option("--wait", help=RUN_WAIT_HELP)] = False,
) -> None:
    """Re-run a range of nights through Airflow, one after another (each replaces its night)."""
    raise typer.Exit(_run(_nights(None, start, end), verbose, wait, "rewatch backfill"))


@app.command()
def rebuild(wait: Annotated[bool, typer.Option("--wait", help=WAIT_HELP)] = False) -> None:
    """Rebuild every table from the published nights' raw data (a full refresh), audit, publish."""
    from rewatch.lake import lake_of
    from rewatch.pipeline import rebuild as run_rebuild

    settings = get_settings()
    console.print(f"warehouse: {settings.warehouse_dir}")
    began = time.monotonic()
    try:
        with _writer("rewatch rebuild", wait), _showing_steps():
            summary = run_rebuild(settings)
    except PermanentError as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    console.print(
        f"rebuilt {len(summary['nights'])} nights ({summary['nights'][0]} .. {summary['nights'][-1]}) "
        f"in {time.monotonic() - began:.0f}s; published to the lake {lake_of(settings).describe()}"
    )


@app.command()
def forget(
    household_id: Annotated[str, typer.Option("--household-id", help="The household to erase (as exported).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    wait: Annotated[bool, typer.Option("--wait", help=WAIT_HELP)] = False,
) -> None:
    """Erase a household (erasure request): raw, quarantine, reports and every published table.

    Its rows are removed from the raw zone, the published tables are rebuilt from raw, audited
    and published, and later nights leave it out. It takes the warehouse's writer lock, so it
    never runs beside a nightly run (it refuses, or waits with --wait).
    """
    from rewatch.pipeline import rebuild as run_rebuild

    settings = get_settings()
    if not yes and not typer.confirm(f"erase household {household_id!r} from {settings.warehouse_dir}?"):
        raise typer.Exit(1)
    if yes:
        console.print(f"warehouse: {settings.warehouse_dir}")
    began = time.monotonic()
    try:
        with _writer("rewatch forget", wait):  # not the id: the lock file says who holds it
            summary = _forget(settings, household_id, run_rebuild)
    except PermanentError as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    if summary is not None:
        console.print(
            f"household {household_id!r} erased: {len(summary['nights'])} nights rebuilt and published "
            f"in {time.monotonic() - began:.0f}s"
        )


def _forget(settings, household_id: str, run_rebuild) -> dict | None:
    """Erase the household from raw and rebuild; None when the raw zone held nothing of it."""
    from rewatch.forget import erase_from_lake, forget_household

    result = forget_household(settings, household_id)
    if not result.rows_removed:
        console.print(
            f"household {household_id!r}: nothing of it in the raw zone; registered, so later nights leave it out"
        )
        return None
    removed = ", ".join(f"{n:,} {table}" for table, n in sorted(result.rows_removed.items()))
    console.print(f"removed {removed} row(s); {result.reports_scrubbed} report file(s) scrubbed; rebuilding...")
    with _showing_steps():
        summary = run_rebuild(settings, kind="erasure")
    with console.status("dropping the lake's earlier snapshots and scanning its data files..."):
        erased = erase_from_lake(settings, result)
    console.print(
        f"dropped {erased['snapshots_expired']} earlier snapshot(s); none of the {erased['data_files_scanned']} "
        "remaining data files holds the household's ids"
    )
    return summary


@app.command()
def maintain(
    keep_nights: Annotated[
        int | None,
        typer.Option(
            "--keep-nights",
            min=1,
            help="Time travel keeps the last N nightly publishes (default: $REWATCH_KEEP_NIGHTS, else 90).",
        ),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help=WAIT_HELP)] = False,
) -> None:
    """Compact the lake's files, expire snapshots older than the last N nights, remove unneeded files.

    The published tables do not change. Runs weekly from the `rewatch_maintain` DAG; it takes the
    warehouse's writer lock, so it never runs beside a nightly run (it refuses, or waits with --wait).
    """
    from rewatch.pipeline import maintain as run_maintain

    settings = get_settings()
    console.print(f"warehouse: {settings.warehouse_dir}")
    try:
        with _writer("rewatch maintain", wait), console.status("maintaining the lake..."):
            done = run_maintain(settings, keep_nights)
    except PermanentError as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    if done["compaction_snapshot"] is None:
        compacted = "no file to rewrite or merge"
    else:
        compacted = (
            f"rewrote {done['files_rewritten']:,} data files with deleted rows into {done['files_rewritten_into']:,}, "
            f"merged {done['files_merged']:,} small data files into {done['files_merged_into']:,} "
            f"(snapshot {done['compaction_snapshot']})"
        )
    console.print(
        f"{compacted}: a read of the head opens {done['head_files_before']:,} -> {done['head_files_after']:,} files "
        f"(data and delete files). Expired {done['snapshots_expired']:,} snapshot(s); removed "
        f"{done['files_removed']:,} file(s) no kept snapshot needs. On disk, with what time travel keeps: "
        f"{done['files_before']:,} files ({done['bytes_before'] / 1e6:,.1f} MB) -> "
        f"{done['files_after']:,} ({done['bytes_after'] / 1e6:,.1f} MB). "
        f"Time travel reaches {done['time_travel']}. {done['seconds']:.0f}s."
    )


@app.command("airflow")
def airflow_ui(
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="The API server's port.")] = 8080,
    host: Annotated[str, typer.Option("--host", help="The address to listen on (all: 0.0.0.0).")] = "127.0.0.1",
) -> None:
    """Airflow's own UI and REST API on the embedded Airflow: browse the nights `rewatch run`
    ran, trigger runs and backfills (Ctrl-C stops it).

    Starts the API server, scheduler and DAG processor on the SQLite home `rewatch run` uses
    (LocalExecutor: one machine, as `airflow standalone`). The DAGs stay paused until you
    unpause them; a scheduled or triggered night takes the warehouse's writer lock as any run.
    """
    import signal

    from rewatch.orchestrate import ADMIN, healthy, serve

    settings = get_settings()
    console.print(f"exports:   {settings.exports_dir}\nwarehouse: {settings.warehouse_dir}")

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    served = serve(host, port)
    logs = served.home / "logs"
    try:
        with console.status("starting Airflow's API server, scheduler and DAG processor..."):
            while not (healthy(served.url) and served.password()):
                if exited := served.exited():
                    name, code = next(iter(exited.items()))
                    err.print(f"airflow {name} exited ({code}) while starting: see {logs / (name + '.log')}")
                    raise typer.Exit(1)
                time.sleep(1)
        console.print(
            f"Airflow UI and REST API: {served.url}  (user {ADMIN}, password {served.password()}, "
            f"kept in {served.passwords_file})\n"
            f"Airflow home: {served.home} (logs in {logs}); the DAGs are paused until you unpause them.\n"
            "Ctrl-C stops it."
        )
        while not (exited := served.exited()):
            time.sleep(1)
        name, code = next(iter(exited.items()))
        err.print(f"airflow {name} exited ({code}): see {logs / (name + '.log')}; stopping the others")
        raise typer.Exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        served.stop()
        console.print("Airflow stopped")


@app.command()
def status(last: Annotated[int, typer.Option("--last", min=1)] = 10) -> None:
    """The last nights' outcomes, from their run reports."""
    from rewatch.lock import is_held
    from rewatch.report import read_reports

    settings = get_settings()
    reports = read_reports(settings, last)
    console.print(f"warehouse: {settings.warehouse_dir}")
    if not reports:
        console.print("no runs yet in this warehouse (REWATCH_WAREHOUSE_DIR names another)")
        return
    # The detail is the whole first line of what happened (a path in it is folded, never cut).
    table = Table(
        "night", "outcome", "events loaded", "quarantined", "sessions", "audit", Column("detail", overflow="fold")
    )
    writing = is_held(settings.warehouse_dir)
    for report in reports:
        if report.get("outcome") == "running" and not writing:
            # Its run ended without finishing the report (stopped, killed, crashed): the next run cleans up.
            report = {**report, "outcome": "stopped", "error": "no run holds the warehouse: re-run the night"}
        load = report.get("load", {})
        audit = report.get("audit", {})
        findings = audit.get("errors") or audit.get("warnings") or []
        detail = (report.get("error") or "").splitlines()[:1] or findings[:1]
        table.add_row(
            report["night"],
            report.get("outcome", "?"),
            _count(load.get("events_loaded")),
            _count(load.get("rows_quarantined")),
            _count(report.get("sessions")),
            f"{len(audit.get('errors', []))} errors, {len(audit.get('warnings', []))} warnings" if audit else "",
            detail[0] if detail else "",
        )
    console.print(table)
    console.print(f"reports: {settings.reports_dir}/<night>/index.html")


def _count(value) -> str:
    return f"{value:,}" if isinstance(value, int) else ""


@app.command()
def docs(
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for index.html (default: <reports>/dbt-docs).")
    ] = None,
) -> None:
    """Write dbt's documentation of the published warehouse: lineage, grains, columns (one HTML file).

    Each publish keeps <reports>/dbt-docs current with the project (generated when it changed);
    without --out this command does the same, and with --out it generates a fresh page there."""
    from rewatch.build import generate_docs, publish_docs
    from rewatch.lake import lake_of

    settings = get_settings()
    console.print(f"warehouse: {settings.warehouse_dir}")
    try:
        with console.status("dbt docs generate..."):
            page = generate_docs(settings, out) if out else publish_docs(settings)
    except PermanentError as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    console.print(
        f"dbt docs of the lake {lake_of(settings).describe()}: {page} (open it in a browser; it needs no server)"
    )


@app.command()
def sql(
    query: Annotated[
        str | None,
        typer.Argument(help="SQL to run. Without it: statements from stdin, or a prompt in a terminal."),
    ] = None,
    as_of: Annotated[
        dt.date | None,
        typer.Option(
            "--as-of",
            parser=_date,
            help="Time travel: the tables as the last publish of this night (YYYY-MM-DD) left them.",
        ),
    ] = None,
) -> None:
    """Query the published warehouse read-only (DuckDB SQL), pinned to the last published night.

    Example: rewatch sql "select * from rpt_title_performance where window_name = 'd7' limit 5"
    """
    import duckdb

    from rewatch.lake import open_published

    settings = get_settings()
    # On stderr: stdout is the query's result, which may be piped on.
    err.print(f"warehouse: {settings.warehouse_dir}" + (f" as of night {as_of}" if as_of else ""))
    try:
        con = open_published(settings, as_of=as_of)
    except (PermanentError, ValueError) as exc:
        err.print(str(exc))
        raise typer.Exit(1) from None
    failed = False

    def run(statement: str) -> None:
        nonlocal failed
        if not statement.strip():
            return
        try:
            relation = con.sql(statement)
        except duckdb.Error as exc:
            err.print(f"{exc}".strip())
            failed = True
            return
        if relation is not None:
            relation.show(max_width=200, max_rows=60)

    try:
        if query is not None:
            run(query)
        elif sys.stdin.isatty():
            console.print("read-only SQL on the published warehouse; end with an empty line or Ctrl-D")
            while (line := input("rewatch> ")).strip():
                run(line)
        else:
            for statement in sys.stdin.read().split(";"):
                run(statement)
    except EOFError:
        pass
    finally:
        con.close()
    raise typer.Exit(1 if failed else 0)


@app.command()
def summary(top: Annotated[int, typer.Option("--top", min=1)] = 10) -> None:
    """Summarise the published warehouse: totals and the top titles (starters, completers, repeats)."""
    from rewatch.lake import head_snapshot, lake_of
    from rewatch.morning import pct, warehouse_summary

    settings = get_settings()
    published = lake_of(settings)
    if head_snapshot(settings) is None:
        err.print(
            f"nothing published yet in {settings.warehouse_dir} (no lake {published.describe()}); run `rewatch run` first"
        )
        raise typer.Exit(1)
    totals, rows = warehouse_summary(settings, top)
    console.print(f"warehouse: {settings.warehouse_dir}")
    console.print(
        f"nights published: {totals['nights']}   households: {totals['households']:,}   "
        f"sessions: {totals['sessions']:,}   view sessions: {totals['view_sessions']:,}   completions: {totals['completions']:,}   "
        f"rewatches: {totals['rewatches']:,}   repeat households (household x title): {totals['repeat_households']:,}"
    )
    table = Table(
        title=f"top {top} titles by starters (lifetime)",
        caption="views: hours viewed / runtime (Netflix's views); view sessions: sessions that count as a view "
        "(docs/metrics.md)",
    )
    headers = ("title", "starters", "completers", "completion", "repeat hh", "repeat rate", "hours", "views")
    for column in (*headers, "kids", "top daypart"):
        table.add_column(column, justify="left" if column in ("title", "top daypart") else "right")
    for row in rows:
        table.add_row(
            row["title"],
            f"{row['starters']:,}",
            f"{row['completers']:,}",
            pct(row["completion_rate"]),
            f"{row['repeat_households']:,}",
            pct(row["repeat_rate"]),
            f"{row['hours_viewed']:,.0f}",
            "" if row["views"] is None else f"{row['views']:,.0f}",
            pct(row["kids_share"]),
            row["top_daypart"] or "",
        )
    console.print(table)
    console.print(_unstoppable_line(totals))
    last_night = max((p for p in settings.reports_dir.glob("[0-9]*/index.html")), default=None)
    if last_night is not None:
        console.print(f"morning page: {last_night}   (every night: {settings.reports_dir / 'index.html'})")
    if (docs_page := settings.dbt_docs_dir / "index.html").exists():
        console.print(f"the tables (dbt docs: lineage, grain, every column): {docs_page}", soft_wrap=True)
    console.print(f"published lake: {published.describe()}")
    console.print(
        f"query it read-only: REWATCH_WAREHOUSE_DIR={settings.warehouse_dir} uv run rewatch sql "
        "\"select * from rpt_title_performance where window_name = 'd7' order by starters desc limit 5\"",
        soft_wrap=True,
    )
    console.print(
        "or from Python: import rewatch; rewatch.connect().sql(...)  (rewatch.connect(as_of='YYYY-MM-DD'): as that night left it)",
        soft_wrap=True,
    )


def _unstoppable_line(totals: dict) -> str:
    """Is it unstoppable? (rpt_title_longevity): judged only once days 0-27 since release are delivered."""
    from rewatch.morning import UNSTOPPABLE_WEEK4_TO_WEEK1

    rule = f"week 4 since release keeps >= {UNSTOPPABLE_WEEK4_TO_WEEK1:.0%} of week 1's household-days"
    judged, unstoppable = totals["longevity_judged"], totals["unstoppable"]
    if not judged:
        return f"unstoppable ({rule}): no title has its first 28 days since release delivered yet (rpt_title_longevity)"
    shown = ", ".join(unstoppable[:5]) + (f" and {len(unstoppable) - 5:,} more" if len(unstoppable) > 5 else "")
    return (
        f"unstoppable ({rule}): {len(unstoppable):,} of {judged:,} titles with 28 days since release delivered"
        + (f": {shown}" if unstoppable else "")
        + " (rpt_title_longevity)"
    )


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
