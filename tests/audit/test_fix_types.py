"""Fixes are typed steps: each kind one class with ``describe()`` and ``apply(body)``; a plan
merges them through their own ``merge``, so a new kind of fix is one class and no dispatch code
changes."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from attrs import frozen
from audit_helpers import ACCT, ZONE, ZONE2, allow, good, run, token, zone

from cftokens.audit import RULES, Severity
from cftokens.audit.remediation import Names, plan_fix
from cftokens.audit.rules import Hits, Rule
from cftokens.audit.steps import (
    BodyStep,
    CreateScopedToken,
    DeleteToken,
    Disable,
    DowngradeGroups,
    GroupRef,
    LimitMinting,
    MoveCondition,
    MoveToAccount,
    NamedAccounts,
    NamedZones,
    NarrowResources,
    Recreate,
    RemoveGroups,
    RemovePair,
    RemovePolicy,
    RemoveResource,
    RenameGroup,
    ReplaceFirst,
    ReplacePair,
    RestrictZones,
    RollSecret,
    SetAllowlist,
    SetExpiry,
    SplitToken,
    Step,
    ZonesOfAccounts,
)

DNS_WRITE = "4755a26eedb94da69e1066d98aa820be"
DNS_READ = "82e64a83756745bbbb1c9c2701bf816b"
ZONE_KEY = f"com.cloudflare.api.account.zone.{ZONE}"


@frozen
class SetComment(BodyStep):
    """A kind of fix the package does not have: only ``describe`` and ``apply``."""

    text: str

    def describe(self) -> str:
        return f"note {self.text!r} in the token's name"

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        body["name"] = f"{body['name']} ({self.text})"
        return body


def _payload() -> dict[str, Any]:
    return token("ci-dns", allow(["DNS Write"], zone(ZONE)), expires=None)


def test_a_new_fix_class_runs_through_plan_fix() -> None:
    """A class defined here joins the plan with the package's own fixes, once, in the PUT."""
    fixes = [SetComment("owned by ci"), SetExpiry(expires_on="2027-01-01T00:00:00Z")]
    fix = plan_fix(_payload(), [*fixes, SetComment("owned by ci")], kind="user", owner_id=None)
    assert fix.method == "PUT"
    assert fix.put_body is not None
    assert fix.put_body["name"] == "ci-dns (owned by ci)"
    assert fix.put_body["expires_on"] == "2027-01-01T00:00:00Z"
    assert [type(s) for s in fix.steps] == [SetComment, SetExpiry]
    assert "1. note 'owned by ci' in the token's name" in str(fix)


def test_a_new_fix_class_runs_through_the_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule (registered for this test) proposing the new fix: ``audit.fix`` and
    ``audit.finding_fix`` apply it like any other."""

    def comment(ctx: Any, r: Rule) -> Hits:
        hits = Hits(r.id)
        hits.add(0, Severity.LOW, "no owner", "Nobody owns it.", "Name an owner.", SetComment("ci"))
        return hits

    rule = Rule(
        id="CFT-LN-99",
        title="No owner",
        severity="low",
        default=Severity.LOW,
        family="LN",
        usage=False,
        fires_when="always (test)",
        help="test",
        fn=comment,
    )
    monkeypatch.setitem(RULES, rule.id, rule)
    audit = run(good("dns"))
    found = audit.findings[audit.findings["rule_id"] == "CFT-LN-99"]
    assert len(found) == 1
    tid = str(found["token_id"].iloc[0])
    for fix in (audit.fix(tid), audit.finding_fix(str(found["finding_id"].iloc[0]))):
        assert fix.put_body is not None
        assert fix.put_body["name"] == "dns (ci)"
        assert any(isinstance(s, SetComment) for s in fix.steps)


def _body() -> dict[str, Any]:
    payload = token(
        "t",
        {
            **allow(["DNS Write", "Zone Read"], zone(ZONE)),
            "condition": {"request.ip": {"in": ["34.120.1.0/24"]}},
        },
        allow(["Account Settings Read"], {f"com.cloudflare.api.account.{ACCT}": "*"}),
    )
    return {k: v for k, v in payload.items() if k != "id"}


FIXES: list[Step] = [
    RemoveGroups.one(1, GroupRef(DNS_WRITE, "DNS Write")),
    DowngradeGroups.one(1, GroupRef(DNS_WRITE, "DNS Write"), GroupRef(DNS_READ, "DNS Read")),
    NarrowResources.one(1, ZONE_KEY, NamedZones((ZONE2,))),
    SetExpiry(expires_on="2027-01-01T00:00:00Z"),
    SetAllowlist(allow=("34.120.2.0/24",)),
    LimitMinting(expires_on="2027-01-01T00:00:00Z", allow=("34.120.2.0/24",)),
    RestrictZones(zones=(ZONE2,)),
    RemoveResource(policy=1, key=ZONE_KEY),
    RemovePolicy(policy=2),
    RemovePair(policy=1, group_id=DNS_WRITE, key=ZONE_KEY),
    ReplacePair(policy=1, group_id=DNS_WRITE, key=ZONE_KEY, target=ZonesOfAccounts((ACCT,))),
    RenameGroup(policy=1, group_id=DNS_WRITE, name="DNS Edit"),
    MoveCondition(policy=1),
    Disable(),
    RollSecret(),
    DeleteToken(),
    SplitToken(parts=(("dns", (DNS_WRITE,)),)),
    CreateScopedToken(body={"name": "scoped", "policies": []}),
    MoveToAccount(account=ACCT),
]


@pytest.mark.parametrize("fix", FIXES, ids=lambda f: type(f).__name__)
def test_every_kind_describes_itself_and_applies_to_a_body(fix: Step) -> None:
    """Each kind: one line for people, and ``apply`` returns the body it edited (request-level
    steps leave it as it was)."""
    text = fix.describe()
    assert text
    assert "None" not in text
    assert "\n" not in text
    body = _body()
    before = copy.deepcopy(body)
    assert fix.apply(body) is body
    if isinstance(fix, BodyStep):
        assert body != before, type(fix).__name__
    else:
        assert body == before


@pytest.mark.parametrize("fix", FIXES, ids=lambda f: type(f).__name__)
def test_every_kind_plans_alone(fix: Step) -> None:
    """Each kind alone makes a plan (a request, and steps that describe it)."""
    result = plan_fix(_body() | {"id": "d1" * 16}, [fix], kind="user", owner_id=None)
    assert result.method in ("PUT", "DELETE", "POST", "GET")
    assert result.summary


def test_plan_names_what_a_rule_gave_by_id() -> None:
    """Rules give ids; the plan shows names (the catalogue's, the directory's)."""
    pair = RemovePair(policy=1, group_id=DNS_WRITE, key=ZONE_KEY)
    assert DNS_WRITE in pair.describe()
    named = pair.named(Names({}, None))
    assert named == pair  # the labels are not part of what makes two fixes the same
    assert "DNS Write" in named.describe()
    assert DNS_WRITE not in named.describe()


@pytest.mark.parametrize(
    "step",
    [
        ReplaceFirst(last_used="2026-01-01", groups=("DNS Write",), usage_days=30),
        Recreate(text="x"),
    ],
)
def test_steps_of_a_plan_are_not_fixes(step: Step) -> None:
    """A step only a plan makes cannot be proposed by a rule: a clear error, not a silent
    no-op."""
    with pytest.raises(TypeError, match="not a rule's fix"):
        plan_fix(_payload(), [step], kind="user", owner_id=None)


def test_hits_add_takes_a_severity() -> None:
    hits = Hits("CFT-LN-99")
    hits.add(0, Severity.HIGH, "e", "d", "r", None)
    assert hits.sev == [Severity.HIGH.rank]
    with pytest.raises(TypeError, match="takes a Severity"):
        hits.add(0, 3, "e", "d", "r", None)  # type: ignore[arg-type]


def test_narrowing_targets_are_typed() -> None:
    """A rule's narrowing target is a class that knows its wire resources (no tag to read)."""
    assert NamedZones((ZONE,)).wire() == {ZONE_KEY: "*"}
    assert NamedAccounts((ACCT,)).wire() == {f"com.cloudflare.api.account.{ACCT}": "*"}
    assert ZonesOfAccounts((ACCT,)).wire() == {
        f"com.cloudflare.api.account.{ACCT}": {"com.cloudflare.api.account.zone.*": "*"}
    }
    assert NamedZones((ACCT,)) != NamedAccounts((ACCT,))
    wildcard = "com.cloudflare.api.account.zone.*"
    payload = token("t", allow(["DNS Write"], {wildcard: "*"}))
    needs = NarrowResources.one(1, wildcard, NamedZones(("REPLACE-WITH-ZONE-ID",)))
    fix = plan_fix(payload, [needs], kind="user", owner_id=None)
    assert fix.steps[0].describe().startswith("name the zones it needs instead of")
    assert "REPLACE-WITH-ZONE-ID" in fix.placeholders
    assert not fix.complete
