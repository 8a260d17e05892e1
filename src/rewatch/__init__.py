"""rewatch: a nightly viewing-analytics warehouse. `rewatch.connect()` opens what is published."""

from __future__ import annotations


def connect(settings=None, *, as_of=None):
    """A read-only DuckDB connection to the published warehouse, its tables as the default schema:
    `rewatch.connect().sql("select * from rpt_title_performance")`. Pinned to the last published
    night; `as_of="2026-03-05"`: the tables as the last publish of that night left them."""
    from rewatch.lake import open_published
    from rewatch.settings import Settings, get_settings

    if settings is not None and not isinstance(settings, Settings):
        raise TypeError('rewatch.connect(settings=None, *, as_of=None): pass the night as as_of="YYYY-MM-DD"')
    return open_published(settings or get_settings(), as_of=as_of)
