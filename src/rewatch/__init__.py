"""rewatch: a nightly viewing-analytics warehouse. `rewatch.connect()` opens what is published."""

from __future__ import annotations


def connect(settings=None):
    """A read-only DuckDB connection to the published warehouse (the lake's last published night),
    with its tables as the default schema: `rewatch.connect().sql("select * from rpt_title_performance")`."""
    from rewatch.lake import open_published
    from rewatch.settings import get_settings

    return open_published(settings or get_settings())
