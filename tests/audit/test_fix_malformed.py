"""Fixes of tokens whose definitions the audit reads leniently (CFT-LN-04's slips).

The audit reads a definition with slips (a group given as text or as one object, a malformed
id, odd resources...) and reports them; every other finding on such a token proposes a fix,
and asking for it must give a request, never a crash. A token the audit could not read at all
has only its CFT-LN-04 finding: its fix is "no automatic fix", and asking to explain or fix the
token says why it cannot be done.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from audit_helpers import ACCT, ACCT2, NOW, USER, ZONE, ZONE3
from test_bulk_inventory import base_token, mutations, slipped

import cftokens as cft
from cftokens.audit.steps.base import entry_ids
from cftokens.catalog import permission_groups

TOKENS_CREATE = permission_groups.get("API Tokens Write").id
DNS_WRITE = permission_groups.get("DNS Write").id


@pytest.fixture(scope="module")
def slips() -> tuple[cft.Audit, dict[str, str]]:
    tokens: list[Any] = []
    what_of: dict[str, str] = {}
    for i, (what, change) in enumerate(mutations(), start=1):
        tokens.append(slipped(i, what, change))
        what_of[f"{i:032x}"] = what
    audit = cft.Audit.from_records(
        tokens=tokens,
        accounts=[{"id": ACCT, "name": "Acme"}, {"id": ACCT2, "name": "Other"}],
        zones=[
            {"id": ZONE, "name": "example.com", "account": {"id": ACCT}},
            {"id": ZONE3, "name": "other.com", "account": {"id": ACCT2}},
        ],
        user={"id": USER, "email": "ops@example.com"},
        now=NOW,
    )
    return audit, what_of


def test_every_finding_on_a_slip_has_a_fix(slips: tuple[cft.Audit, dict[str, str]]) -> None:
    audit, what_of = slips
    failed = []
    for finding in audit.iter_findings(include_suppressed=True):
        try:
            fix = audit.finding_fix(finding.finding_id)
        except Exception as exc:
            failed.append((what_of.get(str(finding.token_id)), finding.rule_id, repr(exc)))
            continue
        assert isinstance(fix, cft.audit.Remediation)
        str(fix)
    assert not failed, failed


def test_every_readable_slip_has_a_token_fix(slips: tuple[cft.Audit, dict[str, str]]) -> None:
    audit, what_of = slips
    failed = []
    for tid in audit.tokens["token_id"]:
        try:
            str(audit.fix(tid))
            str(audit.explain(tid))
        except Exception as exc:
            failed.append((what_of.get(tid), repr(exc)))
    assert not failed, failed
    assert len(audit.tokens) > 0.8 * len(what_of)


def test_an_unreadable_token_says_why_it_has_no_fix(
    slips: tuple[cft.Audit, dict[str, str]],
) -> None:
    audit, what_of = slips
    unreadable = [t for t, w in what_of.items() if w == "policy not an object"]
    assert unreadable and unreadable[0] not in set(audit.tokens["token_id"])
    findings = audit.findings[audit.findings["token_id"] == unreadable[0]]
    assert list(findings["rule_id"]) == ["CFT-LN-04"]
    fix = audit.finding_fix(findings["finding_id"].iloc[0])
    assert fix.body is None and "could not be read" in str(fix)
    for ask in (audit.fix, audit.explain):
        with pytest.raises(cft.InvalidInput, match=r"could not be read.*definition"):
            ask(unreadable[0])


@pytest.mark.parametrize(
    ("groups", "minting"),
    [
        (["API Tokens Write"], True),
        ([TOKENS_CREATE], True),
        ({"id": TOKENS_CREATE}, True),
        ([{"name": "API Tokens Write"}], True),
        (["DNS Write"], False),
    ],
)
def test_a_group_written_loosely_is_read_as_the_audit_reads_it(groups: Any, minting: bool) -> None:
    """The fix's steps see the group the audit read: a token-minting group written as text or
    as one object still gets the minting expiry and is stripped by its id."""
    token = base_token(1)
    token["policies"][0]["permission_groups"] = groups
    token["policies"][0]["resources"] = {f"com.cloudflare.api.user.{USER}": "*"}
    token["expires_on"] = "2030-01-01T00:00:00Z"  # far enough for the minting expiry
    token["last_used_on"] = "2026-11-26T00:00:00Z"  # in use: kept, not disabled
    entries = groups if isinstance(groups, list) else [groups]
    ids = set().union(*(entry_ids(e) for e in entries))
    assert (TOKENS_CREATE in ids) is minting
    assert (DNS_WRITE in ids) is not minting
    audit = cft.Audit.from_records(tokens=[token], now=NOW)
    fix = audit.fix(token["id"])
    assert fix.body is not None
    assert ("it can create tokens" in str(fix)) is minting
    # kept for now (in use), every group it holds named, however it was written
    held = "API Tokens Write" if minting else "DNS Write"
    assert f"would remove all of them ({held} and Zone Read)" in str(fix)


@pytest.mark.parametrize("unknown", ["Mystery Group", {"name": "Mystery Group"}, {"id": "E" * 32}])
def test_an_unknown_group_written_loosely_is_removed_by_its_fix(unknown: Any) -> None:
    token = base_token(1)
    token["last_used_on"] = "2026-11-26T00:00:00Z"
    token["policies"][0]["permission_groups"] = [unknown, {"id": DNS_WRITE}]
    audit = cft.Audit.from_records(tokens=[token], now=NOW)
    f = audit.findings
    (finding,) = f.loc[f["rule_id"] == "CFT-LN-01", "finding_id"]
    fix = audit.finding_fix(finding)
    assert fix.body is not None
    assert fix.body["policies"][0]["permission_groups"] == [{"id": DNS_WRITE}]


@pytest.mark.parametrize("key", ["com.cloudflare.api.account.zone." + "d9" * 16, "not-a-key"])
def test_resources_written_as_json_text_are_fixed_as_an_object(key: str) -> None:
    """Resources given as JSON text are read decoded (a CFT-LN-04 slip); a fix that removes a
    key Cloudflare refuses (a deleted zone, an unreadable key) edits that object (it raised
    AttributeError: 'str' object has no attribute 'items') and sends it as an object."""
    token = base_token(1)
    good = f"com.cloudflare.api.account.zone.{ZONE}"
    token["policies"] = [
        {
            "effect": "allow",
            "permission_groups": [{"id": DNS_WRITE}],
            "resources": json.dumps({good: "*", key: "*"}),
        }
    ]
    audit = cft.Audit.from_records(
        tokens=[token],
        zones=[{"id": ZONE, "name": "example.com", "account": {"id": ACCT}}],
        now=NOW,
    )
    audit.to_html()
    fix = audit.fix(token["id"])
    assert fix.body is not None
    resources = fix.body["policies"][0]["resources"]
    assert resources == {good: "*"}
    for finding in audit.iter_findings(include_suppressed=True):
        str(audit.finding_fix(finding.finding_id))
