"""The report's "fix first" scores: each fixed copy's risk score is read from the copies'
audit context alone (no rule run, no frame built for them), and equals the ``risk_score``
column of that audit's tokens frame."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cftokens.audit import Audit, core
from cftokens.audit._inventory import TokenRecord
from cftokens.audit.report_html import _weighed_payload, fix_first
from cftokens.audit.synth import synthetic_inventory


def _scored_by_the_tokens_frame(audit: Audit, token_ids: list[str]) -> dict[str, float]:
    """Each token's risk score after its fix, read from a full audit of the fixed copies."""
    copies = []
    for tid in token_ids:
        fix = audit.fix(tid)
        record = audit._inv.records[audit._token(tid)]
        payload = _weighed_payload(record, fix) if fix.method != "DELETE" else None
        if payload is not None:
            copies.append(TokenRecord(payload, record.kind, record.owner_id, record.owner_name))
    again = Audit(
        copies,
        accounts=audit.directory.accounts,
        zones=audit.directory.zones,
        user=audit.user,
        now=audit.now,
        profile=audit.profile,
    )
    tokens = again.tokens
    return dict(
        zip(tokens["token_id"].astype(str), tokens["risk_score"].astype(float), strict=True)
    )


@pytest.mark.parametrize(("n_tokens", "seed"), [(3, 7), (40, 7), (60, 11)])
def test_fix_first_scores_equal_the_fixed_copies_tokens_frame(n_tokens: int, seed: int) -> None:
    audit = Audit.from_records(**synthetic_inventory(n_tokens, n_accounts=3, n_zones=15, seed=seed))
    entries = fix_first(audit, n=len(audit.tokens))
    assert entries
    full = _scored_by_the_tokens_frame(audit, [e.token_id for e in entries])
    for e in entries:
        if e.fix.method == "DELETE":
            assert e.risk_after == 0.0
        elif e.token_id in full:
            assert e.risk_after == min(full[e.token_id], e.risk_before)


def test_fix_first_runs_no_rule_for_the_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    audit = Audit.from_records(**synthetic_inventory(20, n_accounts=3, n_zones=15))
    _ = audit.tokens  # the audit's own rules and frames, before the report
    calls: list[str] = []

    def counting(name: str, step: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            return step(*args, **kwargs)

        return call

    for name in ("run_rules", "findings_frame", "tokens_frame", "build_inventory"):
        monkeypatch.setattr(core, name, counting(name, getattr(core, name)))
    assert fix_first(audit)
    assert calls == ["build_inventory"]  # the copies parsed and scored, nothing more
