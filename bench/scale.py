"""Benchmark: one large night against the floor of what it must do, with every process's memory.

    uv run python bench/scale.py [--households 20000] [--out DIR]

Generates two nights (one of history, then the timed one), runs the history night, then the
timed night through the step functions the DAG's tasks call (load, dbt build, audit, publish),
in this process and the children they start. Then runs the floor on the same night's files, in
a child process of this one: plain DuckDB SQL that reads the gzip CSV as text, drops the rows
that break the export contract (a missing id, an unknown event type, an unreadable time, a
negative or NaN position), keeps the first delivery of each event (`event_id`, `event_ts`),
and sessionizes with the same gap and played-seconds rules (docs/metrics.md, rules 1-4).

Prints per-step seconds, the peak resident memory of every process of the run (sampled every
0.1 s from /proc: VmHWM, the kernel's high-water mark of each process), events per second,
and the pipeline / floor ratio. With `--out DIR` the exports are kept and reused.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from nightly_scaling import timed_night  # the same timed steps (bench/ is this script's folder)

START = dt.date(2026, 3, 2)
SEED = 2026

FLOOR = r"""
import sys, time, duckdb
files, out = sys.argv[1:-1], sys.argv[-1]
con = duckdb.connect()
con.execute("set enable_progress_bar = false")
began = time.perf_counter()
con.execute(f'''
create table sessions as
with raw as (
    select *, filename as source_file
    from read_csv({files!r}, all_varchar = true, header = true, filename = true, compression = 'gzip')
), typed as (
    select event_id, profile_id, device_id, title_id, event_type,
        try_cast(event_ts as timestamptz) as event_ts,
        try_cast(position_seconds as double) as position_seconds,
        household_id, source_file
    from raw
), valid as (
    select * from typed
    where event_id is not null and household_id is not null and profile_id is not null
      and device_id is not null and title_id is not null and event_ts is not null
      and event_type in ('play', 'pause', 'resume', 'seek', 'heartbeat', 'stop')
      and position_seconds >= 0 and not isnan(position_seconds)
), first_delivery as (
    select * from valid
    qualify row_number() over (partition by event_id, event_ts order by source_file) = 1
), ordered as (
    select *,
        lag(event_ts) over stream as previous_ts,
        lag(event_type) over stream as previous_type,
        lead(event_ts) over stream as next_ts,
        lead(position_seconds) over stream as next_position
    from first_delivery
    window stream as (partition by profile_id, device_id, title_id order by event_ts, event_id)
), starts as (
    select *,
        case when previous_ts is null or event_ts - previous_ts > interval 30 minute
            or previous_type = 'stop' then 1 else 0 end as is_start
    from ordered
), numbered as (
    select *, sum(is_start) over (partition by profile_id, device_id, title_id
        order by event_ts, event_id rows unbounded preceding) as session_number,
        lead(is_start) over (partition by profile_id, device_id, title_id order by event_ts, event_id) as next_is_start
    from starts
)
select profile_id, device_id, title_id, session_number,
    min(event_ts) as started_at, max(event_ts) as ended_at, max(position_seconds) as max_position_seconds,
    sum(case when event_type in ('play', 'heartbeat', 'resume', 'seek') and next_ts is not null
             and next_is_start = 0
        then least(epoch(next_ts) - epoch(event_ts), greatest(next_position - position_seconds, 0))
        else 0 end) as played_seconds
from numbered
group by all
''')
seconds = time.perf_counter() - began
count, hours = con.execute("select count(*), sum(played_seconds) / 3600 from sessions").fetchone()
con.execute(f"copy sessions to '{out}' (format parquet)")
print(f"{seconds:.2f} {count} {hours:.1f}")
"""


class Peaks:
    """The peak resident memory (VmHWM) of every process under this one, sampled from /proc."""

    def __init__(self) -> None:
        self.peaks: dict[int, tuple[int, str]] = {}
        self._stop = threading.Event()

    @staticmethod
    def _read(pid: int) -> tuple[int, int, str] | None:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return None
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if "VmHWM" not in fields:
            return None
        return int(fields["PPid"]), int(fields["VmHWM"].split()[0]) * 1024, cmdline.strip()

    def _sample(self) -> None:
        me = os.getpid()
        table = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (read := self._read(int(entry))):
                table[int(entry)] = read
        below = {me}
        changed = True
        while changed:  # every descendant of this process
            changed = False
            for pid, (ppid, _, _) in table.items():
                if ppid in below and pid not in below:
                    below.add(pid)
                    changed = True
        for pid in below:
            if pid in table:
                _, hwm, cmdline = table[pid]
                parent = table.get(table[pid][0], (0, 0, ""))[2]
                label = _label(pid, me, cmdline, parent)
                if hwm > self.peaks.get(pid, (0, ""))[0]:
                    self.peaks[pid] = (hwm, label)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            time.sleep(0.1)

    def __enter__(self) -> Peaks:
        # VmHWM is a process's peak since it started: reset it for this process and its
        # long-lived servers, so that the peaks are this step's (clear_refs 5, Linux >= 4.0).
        for pid in [os.getpid(), *(int(p) for p in os.listdir("/proc") if p.isdigit())]:
            read = self._read(pid)
            if read and (pid == os.getpid() or read[0] == os.getpid()):
                with contextlib.suppress(OSError):
                    Path(f"/proc/{pid}/clear_refs").write_text("5")
        self.peaks.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._stop.clear()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._sample()
        self._stop.set()
        self._thread.join()

    def by_label(self) -> dict[str, int]:
        peaks: dict[str, int] = {}
        for hwm, label in self.peaks.values():
            peaks[label] = max(peaks.get(label, 0), hwm)
        return peaks


def _label(pid: int, me: int, cmdline: str, parent: str) -> str:
    if pid == me:
        return "this process (load, publish)"
    if "rewatch.children" in cmdline:
        kind = next((k for k in ("dbt", "audit") if k in cmdline), "?")
        # A child is forked from its server (no exec): same command line as its parent.
        return (
            f"{kind} child (the {'build' if kind == 'dbt' else 'audit'})"
            if cmdline == parent
            else f"{kind} server (imports only)"
        )
    if "read_csv" in cmdline:
        return "floor"
    if "resource_tracker" in cmdline:
        return "multiprocessing's resource tracker"
    return cmdline[:60]


def _exports(root: Path, households: int) -> Path:
    exports = root / "exports"
    marker = root / "generated.txt"
    wanted = f"{households} households, 2 nights, seed {SEED}, from {START}\n"
    if marker.exists() and marker.read_text() == wanted:
        print(f"reusing {exports} ({wanted.strip()})", flush=True)
        return exports
    shutil.rmtree(exports, ignore_errors=True)
    began = time.perf_counter()
    # In a child process: the generator's numpy and pandas memory stays with this process after
    # it returns (2.4 GiB resident after 60,000 households), and was counted as the load's peak
    # (3.99 and 4.24 GiB when generated here, 2.36 and 2.53 GiB when reused).
    command = ["generate", "--out", str(exports), "--start", START.isoformat(), "--nights", "2"]
    generated = subprocess.run(
        [sys.executable, "-m", "rewatch.cli", *command, "--households", str(households), "--seed", str(SEED)],
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"{generated.stdout.strip().splitlines()[-1]} ({time.perf_counter() - began:.0f} s)", flush=True)
    marker.write_text(wanted)
    return exports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=20000)
    parser.add_argument("--out", type=Path, default=None, help="work folder; the exports are kept and reused")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="rewatch-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB,"
        f" {platform.machine()}, Python {platform.python_version()}",
        flush=True,
    )
    exports = _exports(root, args.households)
    warehouse = root / "warehouse"
    shutil.rmtree(warehouse, ignore_errors=True)
    os.environ["REWATCH_EXPORTS_DIR"] = str(exports)
    os.environ["REWATCH_WAREHOUSE_DIR"] = str(warehouse)
    history, night = START, START + dt.timedelta(days=1)
    began = time.perf_counter()
    timed_night(history)
    print(f"history night {history}: {time.perf_counter() - began:.1f} s", flush=True)

    with Peaks() as pipeline_peaks:
        t = timed_night(night)
    files = sorted(str(p) for p in (exports / night.isoformat()).glob("playback_events*.csv*"))
    with Peaks() as floor_peaks:
        floor = subprocess.run(
            [sys.executable, "-c", FLOOR, *files, str(root / "floor-sessions.parquet")],
            capture_output=True,
            text=True,
            check=True,
        )
    floor_seconds, floor_sessions, floor_hours = floor.stdout.strip().splitlines()[-1].split()
    floor_s = float(floor_seconds)

    print(f"\n{args.households:,} households, night {night}: {t['events']:,} events on top of one night of history")
    print("step      seconds")
    for step in ("load", "build", "audit", "publish", "total"):
        print(f"{step:<9} {t[step + '_s']:7.1f}")
    print(f"events per second (whole night): {t['events'] / t['total_s']:,.0f}")
    print(f"floor: {floor_s:.1f} s ({int(floor_sessions):,} playback sessions, {float(floor_hours):,.0f} hours played)")
    print(f"pipeline / floor: {t['total_s'] / floor_s:.1f} (load / floor: {t['load_s'] / floor_s:.1f})")
    print("peak resident memory (VmHWM), by process:")
    for label, peak in sorted(pipeline_peaks.by_label().items(), key=lambda item: -item[1]):
        print(f"  {peak / 2**30:6.2f} GiB  {label}")
    for label, peak in floor_peaks.by_label().items():
        if label == "floor":
            print(f"  {peak / 2**30:6.2f} GiB  the floor's process")
    slowest = sorted(t["dbt_nodes"].items(), key=lambda item: -item[1])[:8]
    print("slowest dbt nodes: " + ", ".join(f"{uid.split('.')[2]} {s:.1f} s" for uid, s in slowest))
    if args.out is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
