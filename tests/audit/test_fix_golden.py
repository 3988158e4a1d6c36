"""The demo company's findings and fixes, pinned: every finding (rule, token, severity,
evidence, remediation text), the request that fixes it, and each token's merged fix (its
numbered steps and a digest of its body), with and without usage data.

Restructuring the rules or the fix types must not change a word of this. After a change that
legitimately alters the output, rewrite the pinned file with
``python tests/audit/test_fix_golden.py --write`` and review the diff.
"""

from __future__ import annotations

import hashlib
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import cftokens as cft
from cftokens.audit import Audit, Remediation
from cftokens.audit.collect import AuditGapWarning

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "audit" / "demo_fixes.json"


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _request(fix: Remediation) -> dict[str, Any]:
    return {
        "method": fix.method,
        "path": fix.path,
        "steps": [s.describe() for s in fix.steps],
        "summary": fix.summary,
        "headline": fix.headline,
        "placeholders": list(fix.placeholders),
        "complete": fix.complete,
        "body": _digest(fix.body),
        "spec": fix.spec is not None,
    }


def _pin(audit: Audit) -> dict[str, Any]:
    f = audit.findings
    findings = []
    for i in range(len(f)):
        row = f.iloc[i]
        token = row["token_id"]
        findings.append(
            {
                "rule_id": str(row["rule_id"]),
                "token_id": token if isinstance(token, str) else None,
                "severity": str(row["severity"]),
                "evidence": str(row["evidence"]),
                "remediation": str(row["remediation"]),
                "fix": _request(audit.finding_fix(str(row["finding_id"]))),
            }
        )
    tokens = {}
    for tid in sorted(set(audit.tokens["token_id"].astype(str))):
        fix = audit.fix(tid)
        tokens[tid] = {"text": str(fix), **_request(fix)}
    return {"findings": findings, "tokens": tokens}


def _current() -> dict[str, Any]:
    """What ``--write`` pins: the demo company audited as the tests' shared audits are."""
    sandbox = cft.Sandbox.demo()
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AuditGapWarning)
        for label, usage in (("usage", sandbox.journal), ("no_usage", None)):
            audit = cft.run_audit(
                sandbox.client(), usage=usage, now=sandbox.clock.now(), progress=False
            )
            out[label] = _pin(audit)
    return out


@pytest.fixture(scope="module")
def current(demo_audit: Audit, demo_audit_without_usage: Audit) -> dict[str, Any]:
    """The session's shared audits of the demo company (tests/conftest.py), pinned."""
    return {"usage": _pin(demo_audit), "no_usage": _pin(demo_audit_without_usage)}


@pytest.mark.parametrize("label", ["usage", "no_usage"])
def test_demo_findings_and_fixes_are_unchanged(current: dict[str, Any], label: str) -> None:
    """Each finding and each token's fix reads exactly as pinned."""
    pinned = json.loads(GOLDEN.read_text(encoding="utf-8"))[label]
    got = current[label]
    assert len(got["findings"]) == len(pinned["findings"])
    for have, want in zip(got["findings"], pinned["findings"], strict=True):
        assert have == want
    assert sorted(got["tokens"]) == sorted(pinned["tokens"])
    for tid, want in pinned["tokens"].items():
        assert got["tokens"][tid] == want, tid


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    GOLDEN.write_text(json.dumps(_current(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")
