"""dbt and the audit run in child processes forked from a warm server, not started from scratch.

Each night runs dbt and the audit in child processes (isolated memory, crashes and DuckDB file
handles). Started with `python -m ...`, every child spent longer importing than working on a
small night: Great Expectations takes 4-5 s to import, dbt about 3 s, even with compiled
bytecode (measured on the 2-core machine, docs/benchmarks.md). So the first child of a kind starts a server process
(`python -m rewatch.children <modules>`) that imports that kind's modules once and then forks
one child per request; the fork starts with everything imported.

What a child sees is what `subprocess.run` gave it: the environment, working directory,
arguments and exit code of the request, its own stdout and stderr (captured to files), and
stdin from /dev/null. Nothing from one child reaches the next: each is a fresh fork of a
server that only ever imported modules (it opens no file or connection). A child ends with
`os._exit` once its target returns: a target closes the files it wrote before returning.

Lifetimes, as with the plain children before: the server and each child get SIGKILL when
their parent dies (`PR_SET_PDEATHSIG`), so a stopped or killed run (`rewatch.stopping`,
`rewatch.faults`) leaves neither behind; all three share the run's process group, so a fault
point's group kill takes them all. A server is per kind and per calling thread (the kernel
ties PDEATHSIG to the thread that started the process) and restarted when found dead.

A server only ever imports. Tried and removed (docs/benchmarks.md): a dbt server that parsed
the project once itself, so that children would fork with dbt's template caches filled, made
some later children hang for ever in a full parse (a lock or pool of the server's own dbt run,
which the fork does not copy).
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path

from rewatch.stopping import die_with_parent, kill_with_parent

# What each kind of child imports before it is forked: the slow imports, nothing that opens a
# file or a connection (they do start native threads, which the fork does not copy: see _serve).
PRELOAD = {
    "dbt": ("dbt.cli.main", "dbt.adapters.duckdb", "rewatch.dbt_runner"),
    "audit": ("great_expectations", "duckdb_engine", "rewatch.audit"),
}


@dataclass(frozen=True)
class Finished:
    """A child's end, as `subprocess.CompletedProcess` reports it (returncode -N: killed by N)."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


class _Server:
    def __init__(self, kind: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rewatch.children", *PRELOAD[kind]],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=die_with_parent(),
        )
        self.kind, self.ready = kind, False

    def wait_ready(self) -> None:
        """Wait for the server to have imported its modules (at once when it already has)."""
        if self.ready:
            return
        if self.proc.stdout.readline().strip() != "ready":
            self.proc.kill()
            raise RuntimeError(f"the {self.kind} child server could not start (exit {self.proc.wait()})")
        self.ready = True

    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, request: dict) -> int:
        self.wait_ready()
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            answer = self.proc.stdout.readline()
        except BrokenPipeError:
            answer = ""
        if not answer:
            raise RuntimeError(f"the child server died (exit {self.proc.wait()}) running {request['target']}")
        return int(json.loads(answer)["returncode"])


_servers: dict[tuple[str, int, int], _Server] = {}
_lock = threading.Lock()


def _server(kind: str) -> _Server:
    key = (kind, os.getpid(), threading.get_ident())
    with _lock:
        server = _servers.get(key)
        if server is None or not server.alive():
            server = _servers[key] = _Server(kind)
        return server


def warm(*kinds: str) -> None:
    """Start this thread's servers of `kinds` now, without waiting: their imports (dbt's,
    Great Expectations') overlap the caller's own start (Airflow's) on another core, instead of
    delaying the first night's build and audit."""
    for kind in kinds:
        _server(kind)


def run(
    kind: str, target: str, args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> Finished:
    """Run `target` ("module:function", called with `args`; its return value or SystemExit code
    is the exit code) in a fresh child of the warm `kind` server, in `cwd` (default: this
    process's), and wait for it."""
    with tempfile.TemporaryDirectory(prefix="rewatch-child-") as tmp:
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        request = {
            "target": target,
            "args": args,
            "env": dict(os.environ if env is None else env),
            "cwd": str(cwd or os.getcwd()),
            "stdout": str(out),
            "stderr": str(err),
        }
        returncode = _server(kind).run(request)
        read = lambda path: path.read_text(errors="replace") if path.exists() else ""  # noqa: E731
        return Finished([target, *args], returncode, read(out), read(err))


# --- the server and its children ------------------------------------------------------------


def _child(request: dict, server: int) -> int:
    """In the forked child: become the process `subprocess.run` would have started, then run."""
    kill_with_parent(server)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(handle, fd)
        os.close(handle)
    os.close(null)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    signal.signal(signal.SIGINT, signal.default_int_handler)
    module, function = request["target"].split(":")
    try:
        code = getattr(importlib.import_module(module), function)(*request["args"])
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # a child reports any failure as its exit code, like an interpreter
        traceback.print_exc()
        code = 1
    return int(code or 0)


def _serve(modules: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the run and the child; the server goes with the run
    for module in modules:
        importlib.import_module(module)
    requests, answers = sys.stdin, sys.stdout
    answers.write("ready\n")
    answers.flush()
    for line in requests:
        request = json.loads(line)
        server = os.getpid()
        pid = os.fork()
        if pid == 0:
            # os._exit, not an interpreter's exit: the server's imports started native threads
            # (DuckDB, jemalloc) that the fork did not copy, and C++ destructors run at exit
            # abort on them. So a target closes what it wrote itself (rewatch.dbt_runner
            # closes dbt's DuckDB database, which checkpoints it).
            code = 1
            try:
                code = _child(request, server)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        returncode = os.waitstatus_to_exitcode(status)
        answers.write(json.dumps({"returncode": returncode}) + "\n")
        answers.flush()


if __name__ == "__main__":
    _serve(sys.argv[1:])
