"""CFT-LN-04: definitions Cloudflare rejects or ignores are kept as tokens and judged, each slip
reported once (never a silently dropped token, never an impossible reading)."""

from __future__ import annotations

from typing import Any

import pytest
from audit_helpers import ACCT, ACCT2, ALL_ZONES, ZONE, allow, hits, run, token, zone

import cftokens as cft

DNS_WRITE = cft.permission_groups.get("DNS Write").id


def _ln04(audit: Any, name: str = "t") -> list[tuple[str, str]]:
    found = hits(audit, "CFT-LN-04", name)
    return [(str(s), str(e)) for s, e in zip(found["severity"], found["evidence"], strict=True)]


def test_account_token_on_all_zones_is_its_own_accounts_zones_not_every_account() -> None:
    """An account-owned token with com.cloudflare.api.account.zone.* gets LN-04 and is read as
    all zones of its own account: SC-02 ("all zones of all accounts") no longer fires."""
    audit = run(account_tokens={ACCT: [token("t", allow(["DNS Write"], ALL_ZONES))]})
    [(severity, evidence)] = _ln04(audit)
    assert severity == "medium"
    assert "account-owned token names 'com.cloudflare.api.account.zone.*'" in evidence
    assert "read as all zones of account" in evidence
    assert hits(audit, "CFT-SC-02").empty
    rk = hits(audit, "CFT-RK-01", "t")
    assert list(rk["resource"]) == ["all zones of account Acme Production"]
    assert audit.grants["resource"].astype(str).tolist() == ["all zones of account Acme Production"]


def test_account_token_flat_or_foreign_zone_keys() -> None:
    """A flat zone key, and zones nested under another account, are LN-04 on account tokens;
    the same flat key on a user token is fine."""
    foreign = {f"com.cloudflare.api.account.{ACCT2}": {"com.cloudflare.api.account.zone.*": "*"}}
    audit = run(
        token("user", allow(["DNS Write"], zone(ZONE))),
        account_tokens={
            ACCT: [
                token("flat", allow(["DNS Write"], zone(ZONE))),
                token("foreign", allow(["DNS Write"], foreign)),
            ]
        },
    )
    assert "not nested under its own account" in _ln04(audit, "flat")[0][1]
    assert f"zones of another account ({ACCT2})" in _ln04(audit, "foreign")[0][1]
    assert _ln04(audit, "user") == []


def test_condition_inside_a_policy_is_high() -> None:
    """An IP condition inside a policy has no effect: high, naming the ranges, with a fix that
    moves it to the token."""
    policy = allow(["DNS Write"], zone(ZONE))
    policy["condition"] = {"request.ip": {"in": ["203.0.113.0/24"]}}
    audit = run(token("t", policy, ip_in=[]))
    [(severity, evidence)] = _ln04(audit)
    assert severity == "high" and "203.0.113.0/24" in evidence
    tid = audit.tokens["token_id"].iloc[0]
    body = audit.fix(tid, "CFT-LN-04").body
    assert body is not None
    assert body["condition"] == {"request.ip": {"in": ["203.0.113.0/24"]}}
    assert "condition" not in body["policies"][0]


def test_policy_whose_groups_fit_none_of_its_resources() -> None:
    """Zone groups on a user key only: one LN-04 for the policy, not an LN-02 per group."""
    user_key = {"com.cloudflare.api.user." + "c1" * 16: "*"}
    audit = run(token("t", allow(["DNS Write", "Zone Read"], user_key)))
    [(severity, evidence)] = _ln04(audit)
    assert severity == "medium"
    assert "lists zone permission groups but names only user resources" in evidence
    assert hits(audit, "CFT-LN-02", "t").empty


@pytest.mark.parametrize(
    ("key", "hole"),
    [
        ("com.cloudflare.api.account.<ACCOUNT_ID>", "<ACCOUNT_ID>"),
        ("com.cloudflare.api.account.zone.${ZONE_ID}", "${ZONE_ID}"),
        ("com.cloudflare.api.account.@CF_ACCOUNT_ID@", "@CF_ACCOUNT_ID@"),
    ],
)
def test_placeholders_left_in_resource_keys(key: str, hole: str) -> None:
    """A placeholder never filled in is LN-04 (medium), and not also an LN-02 'unparsed key'."""
    audit = run(token("t", allow(["DNS Write", "Account Settings Read"], {key: "*"})))
    [(severity, evidence)] = _ln04(audit)
    assert severity == "medium" and f"the placeholder {hole} was never filled in" in evidence
    assert hits(audit, "CFT-LN-02", "t").empty


def test_group_names_as_strings_are_read_and_judged() -> None:
    """permission_groups: ["DNS Write"] keeps the token, reads the group by name (so RK-01 and
    LC-01 judge it) and reports LN-04; today the token was a gap row only."""
    body = token(
        "t",
        allow(
            ["DNS Write"],
            {f"com.cloudflare.api.account.{ACCT}": {"com.cloudflare.api.account.zone.*": "*"}},
        ),
        ip_in=[],
        expires=None,
    )
    body["policies"][0]["permission_groups"] = ["DNS Write"]
    audit = run(body)
    assert len(audit.tokens) == 1 and audit.gaps[audit.gaps["kind"] == "input"].empty
    [(severity, evidence)] = _ln04(audit)
    assert severity == "medium" and "names the group 'DNS Write' as a string" in evidence
    assert not hits(audit, "CFT-RK-01", "t").empty and not hits(audit, "CFT-LC-01", "t").empty
    assert audit.failed("high")


def test_non_hex_ids() -> None:
    """A group id that is not 32 lower-case hex is read by name or case; a zone named by its
    domain is LN-04 (not a vague LN-02)."""
    upper = allow(["DNS Write"], {"com.cloudflare.api.account.zone.example.com": "*"})
    upper["permission_groups"] = [{"id": DNS_WRITE.upper()}]
    named = allow(["DNS Read"], zone(ZONE))
    named["permission_groups"] = [{"id": "DNS_WRITE"}]
    audit = run(token("upper", upper), token("named", named))
    upper_ev = [e for _, e in _ln04(audit, "upper")]
    assert any("is not 32 lower-case hex" in e for e in upper_ev)
    assert any("'example.com' is not an id" in e for e in upper_ev)
    assert [e for _, e in _ln04(audit, "named")] == [
        "policy 1 gives permission group id 'DNS_WRITE', which is not 32 lower-case hex characters"
    ]
    named_id = audit.tokens.set_index("name").loc["named", "token_id"]
    grants = audit.grants[audit.grants["token_id"] == named_id]
    assert grants["group"].astype(str).tolist() == ["DNS Write"]
    assert hits(audit, "CFT-LN-01").empty and hits(audit, "CFT-LN-02").empty


def test_aws_style_fields() -> None:
    """An AWS IAM statement pasted as a policy: LN-04, the token is kept."""
    audit = run(token("t", {"Effect": "Allow", "Action": ["dns:*"], "Resource": "*"}))
    [(severity, evidence)] = _ln04(audit)
    assert severity == "medium" and "AWS IAM-style fields ('Action', 'Resource', 'Effect')" in (
        evidence
    )
    assert len(audit.tokens) == 1


def test_ln04_findings_reach_the_ci_gate() -> None:
    """A body Cloudflare rejects fails a --fail-on medium gate; before, it was only a gap row."""
    body = token("t", allow(["DNS Read"], zone(ZONE)))
    body["policies"][0]["permission_groups"] = ["DNS Read"]
    assert run(body).failed("medium")


def test_unreadable_token_is_a_gap_and_a_finding_and_hides_no_other() -> None:
    """A token whose policies cannot be read becomes one gap row naming it and one LN-04
    finding; the other tokens are audited."""
    broken = token("broken", allow(["DNS Read"], zone(ZONE)))
    broken["policies"] = "all of them"
    audit = run(broken, token("fine", allow(["DNS Write"], zone(ZONE))))
    assert audit.tokens["name"].tolist() == ["fine"]
    gap = audit.gaps[audit.gaps["kind"] == "input"]
    assert gap["subject"].tolist() == [broken["id"]]
    finding = hits(audit, "CFT-LN-04")
    assert finding["token_id"].tolist() == [broken["id"]]
    assert "could not be read: policies must be a list" in finding["evidence"].iloc[0]


def test_unreadable_date_is_judged_at_worst_and_reported() -> None:
    """not_before "1-01-01T00:00:00Z" (not RFC 3339) is read as unknown (the token stays live),
    with a gap row and an LN-04 finding; numpy no longer wraps far dates into other centuries."""
    odd = token("odd", allow(["DNS Write"], zone(ZONE)))
    odd["not_before"] = "1-01-01T00:00:00Z"
    far = token("far", allow(["DNS Write"], zone(ZONE)))
    far["expires_on"] = "9999-12-31T23:59:59Z"
    far["not_before"] = "0001-01-01T00:00:00Z"
    audit = run(odd, far)
    live = dict(zip(audit.tokens["name"], audit.tokens["live"], strict=True))
    assert live == {"odd": True, "far": True}
    assert "not_before '1-01-01T00:00:00Z' is not a timestamp" in _ln04(audit, "odd")[0][1]
    assert _ln04(audit, "far") == []


def test_an_inventory_of_only_unreadable_tokens_is_audited() -> None:
    """When no token can be read the audit still runs: one gap and one finding per token."""
    audit = run({"id": "1" * 32, "name": "x", "policies": {"not": "a list"}})
    assert audit.tokens.empty and audit.gaps["subject"].tolist()[-1] == "1" * 32
    assert hits(audit, "CFT-LN-04")["token_id"].tolist() == ["1" * 32]


def test_definition_issues_hold_columns_and_give_issues_anew() -> None:
    """The inventory keeps CFT-LN-04's issues as columns: appended issues, extended ones and
    columns added read back as the same issues, in order; each issue read is a new object
    (changing it changes nothing kept); columns of unequal lengths are refused; a selection
    re-tokens its issues; joined parts move their tokens."""
    from cftokens.audit._definition import HIGH, MEDIUM, DefinitionIssue, DefinitionIssues
    from cftokens.audit.steps import RemovePolicy

    def fields(issue: DefinitionIssue) -> tuple[Any, ...]:
        return tuple(getattr(issue, name) for name in DefinitionIssues.FIELDS)

    fix = RemovePolicy(policy=2)
    made = [
        DefinitionIssue(0, 1, MEDIUM, "e0", "d0", "r0"),
        DefinitionIssue(3, 2, HIGH, "e1", "d1", "r1", fix, "k1"),
    ]
    issues = DefinitionIssues(made[:1])
    issues.append(made[1])
    issues.add_columns([5], [1], [MEDIUM], ["e2"], ["d2"], ["r2"], [None], ["k2"])
    expected = [fields(i) for i in made] + [(5, 1, MEDIUM, "e2", "d2", "r2", None, "k2")]
    assert [fields(i) for i in issues] == expected
    assert [fields(issues[i]) for i in range(len(issues))] == expected
    assert issues and len(issues) == 3 and not DefinitionIssues()
    first = issues[0]
    first.tok = 99
    assert issues.tok[0] == 0 and issues[0] is not issues[0]
    with pytest.raises(ValueError, match="one column per field"):
        issues.add_columns([1], [1], [MEDIUM], ["e"], ["d"], ["r"], [None], [])
    with pytest.raises(ValueError, match="one column per field"):
        issues.add_columns([1], [1])
    assert len(issues) == 3
    picked = issues.taken([2, 0], [7, 8])
    assert [fields(i) for i in picked] == [(7, *expected[2][1:]), (8, *expected[0][1:])]
    joined = DefinitionIssues.joined([issues, picked], [0, 10])
    assert [fields(i) for i in joined] == [
        *expected,
        (17, *expected[2][1:]),
        (18, *expected[0][1:]),
    ]
    assert joined.tok is not issues.tok  # parts keep their own columns
    assert repr(joined) == "<DefinitionIssues: 5>"
