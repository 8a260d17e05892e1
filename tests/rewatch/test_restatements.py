"""The restatement log: every published night records the already-published title figures it
changed (rpt_title_performance rows), before and after, and why; a figure that only grows with
the night's own viewing is no restatement."""

from __future__ import annotations

import datetime as dt

from rewatch import pipeline
from rewatch.forget import forget_household
from rewatch.report import read_report
from tests.helpers import HOUSEHOLDS, PROFILES, TITLES, event, published_connection, write_night

START = dt.date(2026, 3, 2)
N1, N2, N3, N4 = (START + dt.timedelta(days=i) for i in range(4))


def _watch(prefix, start, minutes, profile, household, title):
    """A session: play, then a heartbeat a minute, received as it happens."""
    base = dt.datetime.fromisoformat(start)
    rows = []
    for i in range(minutes + 1):
        at = (base + dt.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        kind = "play" if i == 0 else "heartbeat"
        rows.append(event(f"{prefix}{i:03d}", kind, at, str(60 * i), profile, household, "dv1", title, at))
    return rows


def _log(settings) -> list[tuple]:
    con = published_connection(settings)
    try:
        return con.execute(
            "select run_kind, nights, title_id, window_name, reasons, starters_before, starters_after, "
            "hours_viewed_before < hours_viewed_after from rewatch_restatements order by restated_at, title_id, window_name"
        ).fetchall()
    finally:
        con.close()


def _run(settings, night):
    loaded = pipeline.load(night, settings)
    built = pipeline.build(night, settings)
    return pipeline.publish(night, loaded, built, {"decision": "publish", "warnings": []}, settings)


def test_each_reason_is_logged_with_the_figures_before_and_after(workdir):
    settings = workdir
    hh1 = ("pr1", "hh1")
    hh2 = ("pr3", "hh2")
    # Night 1: hh1 watches tt1 (released 2026-01-01: windows d91 and lifetime) for 10 minutes.
    write_night(settings.exports_dir, N1, _watch("a", "2026-03-02T19:00:00", 10, *hh1, "tt1"))
    _run(settings, N1)

    # Night 2: hh2's viewing of tt1 on 03-02, delivered late; hh1 starts tt2 on 03-03 (a new row,
    # nothing restated). tt1's two published rows gain a starter: restated, late events.
    late = _watch("b", "2026-03-02T20:00:00", 10, *hh2, "tt1")
    write_night(settings.exports_dir, N2, late + _watch("c", "2026-03-03T19:00:00", 10, *hh1, "tt2"))
    report = _run(settings, N2)
    assert _log(settings) == [
        ("night", [N2], "tt1", "d91", ["late_events"], 1, 2, True),
        ("night", [N2], "tt1", "lifetime", ["late_events"], 1, 2, True),
    ]
    assert report["restatements"] == 2 and [r["title_id"] for r in report["restated"]] == ["tt1", "tt1"]
    html = (settings.reports_dir / N2.isoformat() / "index.html").read_text()
    assert "Restated figures" in html and "late_events" in html

    # Night 3: hh1 watches tt1 again on its own night. tt1's hours grow, but only with the
    # night's own viewing: no restatement.
    write_night(settings.exports_dir, N3, _watch("d", "2026-03-04T19:00:00", 10, *hh1, "tt1"))
    assert _run(settings, N3)["restatements"] == 0
    assert len(_log(settings)) == 2

    # Night 3 delivered again, now with hh2 starting tt2 as well: tt2's published lifetime row
    # gains a starter (a night delivered again); tt1's figures are unchanged, so not logged.
    write_night(
        settings.exports_dir,
        N3,
        _watch("d", "2026-03-04T19:00:00", 10, *hh1, "tt1") + _watch("e", "2026-03-04T21:00:00", 10, *hh2, "tt2"),
    )
    _run(settings, N3)
    assert _log(settings)[2:] == [("night", [N3], "tt2", "lifetime", ["redelivered_night"], 1, 2, True)]

    # Night 4: no viewing, the catalog recuts tt1 (runtime 5400 -> 2700 s): its views change.
    recut = [[*TITLES[0][:6], "2700", "2600", *TITLES[0][8:]], TITLES[1]]
    write_night(settings.exports_dir, N4, [], titles=recut, households=HOUSEHOLDS, profiles=PROFILES)
    _run(settings, N4)
    con = published_connection(settings)
    recuts = con.execute(
        "select title_id, window_name, reasons, views_before, views_after from rewatch_restatements "
        "where nights = [?::date] order by window_name",
        [N4],
    ).fetchall()
    con.close()
    assert [(t, w, r) for t, w, r, *_ in recuts] == [
        ("tt1", "d91", ["catalog_recut"]),
        ("tt1", "lifetime", ["catalog_recut"]),
    ]
    assert all(after == 2 * before for *_, before, after in recuts)  # hours / runtime, the runtime halved

    # Erasure: hh2 is forgotten; the rebuild that follows restates tt1 and tt2, reason erasure.
    forget_household(settings, "hh2")
    summary = pipeline.rebuild(settings, kind="erasure")
    erased = [row for row in _log(settings) if row[0] == "erasure"]
    assert [(r[2], r[3], r[4], r[5], r[6]) for r in erased] == [
        ("tt1", "d91", ["erasure"], 2, 1),
        ("tt1", "lifetime", ["erasure"], 2, 1),
        ("tt2", "lifetime", ["erasure"], 2, 1),
    ]
    assert summary["restatements"] == 3
    assert read_report(settings, None)["outcome"] == "published"
