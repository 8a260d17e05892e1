"""A page opened in a real browser: Debian's Chromium, headless (`make test` installs it).

`open_page` loads a local file once, for a screenshot, the browser's console and network log,
and the DOM as the browser parsed it. Chromium talks to Google's hosts on its own
(time, accounts) whatever the page is: a request counts as the page's when its network
isolation key is the page's `file://` origin.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
CONSOLE = re.compile(r":(INFO|WARNING|ERROR):CONSOLE[^\]]*\] (.*)")


@dataclass
class Opened:
    dom: str  # the document as the browser parsed it
    console: list[str]  # the page's console messages, any level
    requests: list[str]  # URLs the page asked for that are not local files
    screenshot: Path


def open_page(page: Path, out_dir: Path) -> Opened:
    chromium = shutil.which("chromium")
    assert chromium, "Chromium is missing: `make test` installs Debian's chromium (make chromium)"
    out_dir.mkdir(parents=True, exist_ok=True)
    url = page.resolve().as_uri()
    screenshot, net_log = out_dir / "screenshot.png", out_dir / "net-log.json"
    loaded = subprocess.run(
        [
            chromium,
            *FLAGS,
            f"--user-data-dir={out_dir / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            f"--log-net-log={net_log}",
            "--window-size=1200,3000",
            f"--screenshot={screenshot}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode == 0 and screenshot.stat().st_size > 0, loaded.stderr[-2000:]
    log = json.loads(net_log.read_text())
    types = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    requests = [
        event["params"]["url"]
        for event in log["events"]
        if types.get(event["type"]) == "URL_REQUEST_START_JOB"
        and str(event.get("params", {}).get("network_isolation_key", "")).startswith("file://")
        and not event["params"]["url"].startswith(("file:", "data:"))
    ]
    console = [match.group(2) for match in CONSOLE.finditer(loaded.stderr)]
    return Opened(dom=loaded.stdout, console=console, requests=requests, screenshot=screenshot)
