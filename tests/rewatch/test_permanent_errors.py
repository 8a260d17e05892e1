"""A step that no retry can fix fails as a PermanentError, so the DAG fails it at once (no back-off)."""

from __future__ import annotations

import datetime as dt

import pytest

from rewatch import pipeline
from rewatch.audit import Scope
from rewatch.build import publish
from rewatch.errors import PermanentError

NIGHT = dt.date(2026, 3, 3)


def test_auditing_a_night_that_was_not_built_is_permanent(workdir):
    with pytest.raises(PermanentError, match=r"no built warehouse to audit for night 2026-03-03.*build again"):
        pipeline.audit(NIGHT, workdir)


def test_publishing_a_night_that_was_not_built_is_permanent(workdir):
    with pytest.raises(PermanentError, match=r"no built warehouse to publish for 2026-03-03.*build again"):
        publish(workdir, NIGHT, {})
    with pytest.raises(PermanentError, match="no built warehouse to publish for the rebuild"):
        publish(workdir, None, {})


def test_publishing_a_night_the_audit_refused_is_permanent(workdir):
    with pytest.raises(PermanentError, match=r"the audit did not pass \(refused\).*re-run the night"):
        pipeline.publish(NIGHT, {}, {}, {"decision": "refused"}, workdir)


def test_a_rebuild_has_no_raw_night_to_audit(workdir):
    """Raw-stage assets read one night; asking one of a rebuild's scope is a clear error, not an assert."""
    scope = Scope(night=None, candidate=workdir.warehouse_dir / "candidate.duckdb", settings=workdir)
    with pytest.raises(ValueError, match="a rebuild audits no night"):
        scope.raw_partition("ledger")
    assert Scope(night=NIGHT, candidate=scope.candidate, settings=workdir).night_sql == "date '2026-03-03'"
