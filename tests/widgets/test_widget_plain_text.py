"""A displayed widget's plain-text fallback is its one-line repr, not the whole widget tree."""

from __future__ import annotations

import cftokens as cft
from cftokens.widgets import AuditExplorer, TokenBuilder


def test_token_builder_plain_text_is_its_repr(
    demo: cft.Sandbox,
) -> None:
    """TokenBuilder shows '<TokenBuilder …>' as text/plain (saved notebooks stay small)."""
    builder = TokenBuilder(demo, template="Edit zone DNS")
    bundle = builder._repr_mimebundle_()
    assert bundle["text/plain"] == repr(builder)
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_audit_explorer_plain_text_is_its_repr(demo_audit_without_usage: cft.Audit) -> None:
    """AuditExplorer shows '<AuditExplorer: n of m findings>' as text/plain."""
    explorer = AuditExplorer(demo_audit_without_usage)
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/plain"] == repr(explorer)
    assert len(bundle["text/plain"]) < 100
