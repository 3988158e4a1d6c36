"""Gap warnings point at the line that called ``cft.run_audit``, not at asyncio's internals."""

from __future__ import annotations

import asyncio
import warnings

import cftokens as cft
from cftokens.audit.collect import AuditGapWarning


def _audit_here(sb: cft.Sandbox) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AuditGapWarning)
        cft.run_audit(sb.client(), now=sb.clock.now(), progress=False)
    return [w for w in caught if issubclass(w.category, AuditGapWarning)]


def test_gap_warning_names_the_callers_file(
    demo_company: cft.Sandbox,
) -> None:
    """A gap in the demo company (Acme Web's tokens) warns at this test file's line."""
    sb = demo_company.copy(rate_limit=None)
    caught = _audit_here(sb)
    assert caught, "the demo company's deliberate gap should warn"
    assert all(w.filename == __file__ for w in caught)


def test_gap_warning_names_the_caller_inside_a_running_loop(
    demo_company: cft.Sandbox,
) -> None:
    """Inside a running event loop (as in Jupyter) the warning still names the caller."""
    sb = demo_company.copy(rate_limit=None)

    async def main() -> list[warnings.WarningMessage]:
        return _audit_here(sb)

    caught = asyncio.run(main())
    assert caught and all(w.filename == __file__ for w in caught)


def test_ignored_gap_warnings_stay_ignored(
    demo_company: cft.Sandbox,
) -> None:
    """A caller's filter that ignores AuditGapWarning still silences it."""
    sb = demo_company.copy(rate_limit=None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore", AuditGapWarning)
        audit = cft.run_audit(sb.client(), now=sb.clock.now(), progress=False)
    assert not [w for w in caught if issubclass(w.category, AuditGapWarning)]
    assert len(audit.gaps) >= 1
