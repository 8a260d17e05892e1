"""Great Expectations' Data Docs of a night, made to work offline.

GX 1.24 renders its pages with Bootstrap, jQuery, Font Awesome and Vega from public CDNs, and
its index page is an empty table that JavaScript fills: with no network the index is blank and
every page logs script errors. The validation and suite pages are plain HTML underneath, so
`make_offline` keeps GX's pages and their local assets (`static/`), removes every script and
every stylesheet that lives on another host, points the logo at its local copy, adds a small
inline stylesheet (the status icons become ✔ / ✘ / ⚠ characters), and writes the index as a
static table of the night's suites, from the audit's own result.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", flags=re.S | re.I)
_REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref=\"https?://[^\"]*\"[^>]*>", flags=re.I)
_REMOTE_IMG = re.compile(r"(<img\b[^>]*\bsrc=)\"https?://[^\"]*\"", flags=re.I)
_REMOTE_ATTRIBUTE = re.compile(r"\b(?:src|href)=\"https?://", flags=re.I)
_REMOTE_URL = re.compile(r"url\(\s*['\"]?https?://[^)]*\)", flags=re.I)

STYLE = (
    "body{font-family:sans-serif;margin:1.5em;max-width:1200px;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}td.n{text-align:right}"
    "img{max-height:40px}.collapse{display:block}"
    ".fa-check-circle::before{content:'\\2714';color:#1a7f37}"
    ".fa-times::before{content:'\\2718';color:#b00}"
    ".fa-exclamation-triangle::before{content:'\\26A0';color:#a60}"
    "i.fas{font-style:normal;font-weight:bold}"
    ".offline{color:#555}"
)
LOGO = Path("static") / "images" / "logo-long.png"


def _offline_page(text: str, logo: str) -> str:
    text = _SCRIPT.sub("", text)
    text = _REMOTE_LINK.sub("", text)
    text = _REMOTE_IMG.sub(lambda m: f'{m.group(1)}"{logo}"', text)
    return text.replace("</head>", f"<style>{STYLE}</style></head>", 1)


def _validation_page(docs_dir: Path, suite: str) -> Path | None:
    pages = sorted((docs_dir / "validations" / suite).rglob("*.html"))
    return pages[-1] if pages else None


def _index(docs_dir: Path, night: str, suites: dict[str, dict]) -> str:
    rows = []
    for name, suite in suites.items():
        page = _validation_page(docs_dir, name)
        status = (
            "<i class='fas fa-check-circle'></i> passed"
            if suite.get("success") and not suite.get("failed_warnings")
            else "<i class='fas fa-exclamation-triangle'></i> warnings"
            if suite.get("success")
            else "<i class='fas fa-times'></i> refused"
        )
        link = (
            f"<a href='{html.escape(page.relative_to(docs_dir).as_posix())}'>{html.escape(name)}</a>"
            if page
            else html.escape(name)
        )
        expectations = docs_dir / "expectations" / f"{name}.html"
        suite_link = f"<a href='expectations/{html.escape(name)}.html'>suite</a>" if expectations.exists() else ""
        rows.append(
            f"<tr><td>{link}</td><td>{html.escape(str(suite.get('stage', '')))}</td><td>{status}</td>"
            f"<td class='n'>{'' if suite.get('rows') is None else format(suite['rows'], ',')}</td>"
            f"<td>{suite.get('evaluated', '')}</td><td>{suite.get('failed_errors', 0)}</td>"
            f"<td>{suite.get('failed_warnings', 0)}</td><td>{suite_link}</td></tr>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Data Docs: night {html.escape(night)}</title><style>{STYLE}</style></head><body>"
        f"<p><img src='{LOGO.as_posix()}' alt='Great Expectations'></p>"
        f"<h1>Data Docs: the audit of night {html.escape(night)}</h1>"
        "<p class='offline'>Great Expectations' validation results, one row per suite; each name opens GX's "
        "page of its expectations and observed values. This page and those it links load nothing from the "
        "network (GX's own index is a script-filled table from public CDNs).</p>"
        "<table><tr><th>suite (validation result)</th><th>stage</th><th>status</th><th>rows in the batch</th>"
        "<th>expectations</th><th>failed errors</th><th>failed warnings</th><th>definition</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )


def make_offline(docs_dir: Path, night: str, suites: dict[str, dict]) -> Path:
    """Rewrite the Data Docs GX rendered under `docs_dir` to load nothing from the network, and
    write their index from `suites` (the audit's per-suite result). Returns the index."""
    for page in docs_dir.rglob("*.html"):
        logo = os.path.relpath(docs_dir / LOGO, page.parent)
        page.write_text(_offline_page(page.read_text(encoding="utf-8"), Path(logo).as_posix()), encoding="utf-8")
    for sheet in docs_dir.rglob("*.css"):  # GX's own stylesheet draws a logo from S3
        sheet.write_text(_REMOTE_URL.sub("none", sheet.read_text(encoding="utf-8")), encoding="utf-8")
    index = docs_dir / "index.html"
    index.write_text(_index(docs_dir, night, suites), encoding="utf-8")
    return index


def remote_references(docs_dir: Path) -> list[str]:
    """Pages under `docs_dir` that still make the browser fetch something from another host."""
    found = []
    for page in docs_dir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"<(script|link|img)\b[^>]*>", text, flags=re.I):
            if _REMOTE_ATTRIBUTE.search(match.group(0)):
                found.append(f"{page.relative_to(docs_dir)}: {match.group(0)[:120]}")
    for sheet in docs_dir.rglob("*.css"):
        found += [f"{sheet.relative_to(docs_dir)}: {m.group(0)[:120]}" for m in _REMOTE_URL.finditer(sheet.read_text())]
    return found
