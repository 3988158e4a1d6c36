"""A fix removes exactly the group its finding names, even from an entry naming several.

A group entry written as text or by name only ("Logs Write") means a group in each scope of
that name (the account's and the zone's Logs Write). Each step that removes or replaces a group
(remove, downgrade, narrow, remove or replace a pair, rename, keep only) must take out that one
group and keep the others the entry meant, split into the API's object form. Checked with the
policy engine on the token as the audit reads it: its access after the step is its access
before, minus exactly what the step names (plus what it grants instead).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

import cftokens as cft
from cftokens.audit.steps import (
    Downgrade,
    DowngradeGroups,
    GroupRef,
    KeepOnlyGroups,
    NarrowGroups,
    Narrowing,
    RemoveGroups,
    RemovePair,
    RenameGroup,
    ReplacePair,
    ZonesOfAccounts,
)
from cftokens.audit.steps.base import drop_empty, entry_ids, groups_of
from cftokens.catalog import permission_groups
from cftokens.model.resources import Resource

ACCT, ACCT2 = "a1" * 16, "a2" * 16
ZONE, ZONE2 = "d1" * 16, "d2" * 16  # ZONE in ACCT, ZONE2 in ACCT2
ZONE_OF = {ZONE: ACCT, ZONE2: ACCT2}
A_KEY, A2_KEY = f"com.cloudflare.api.account.{ACCT}", f"com.cloudflare.api.account.{ACCT2}"
Z_KEY, Z2_KEY = (
    f"com.cloudflare.api.account.zone.{ZONE}",
    f"com.cloudflare.api.account.zone.{ZONE2}",
)


def group(name: str, scope: str) -> str:
    (found,) = [g for g in permission_groups.written(name) if g.scope.value.endswith(scope)]
    return found.id


LOGS_W_ACCT, LOGS_W_ZONE = group("Logs Write", ".account"), group("Logs Write", ".zone")
LOGS_R_ZONE = group("Logs Read", ".zone")
DNS_W = permission_groups.get("DNS Write").id
GIDS = (LOGS_W_ACCT, LOGS_W_ZONE, LOGS_R_ZONE, DNS_W)

# every way the lenient reader accepts an entry meaning both Logs Write groups
FORMS: list[Any] = [
    "Logs Write",
    "logs_write",
    {"name": "Logs Write"},
    {"id": "Logs Write"},
    {"id": "", "name": "Logs Write"},
]
RESOURCES = {A_KEY: "*", Z_KEY: "*", A2_KEY: "*", Z2_KEY: "*"}


def token(entry: Any, *, alone: bool = False) -> dict[str, Any]:
    """A token whose one allow policy holds ``entry`` (alone, not in a list, when asked) and
    DNS Write, on both accounts and both zones."""
    groups = entry if alone else [entry, {"id": DNS_W}]
    return {"name": "t", "policies": [{"effect": "allow", "permission_groups": groups,
                                       "resources": dict(RESOURCES)}]}  # fmt: skip


def access(body: dict[str, Any]) -> set[tuple[str, str]]:
    """(group id, resource) pairs the policy engine allows the token as the audit reads it
    (each entry as the ids it means)."""
    body = copy.deepcopy(body)
    drop_empty(body)
    policies = []
    for p in body["policies"]:
        ids = sorted(set().union(*(entry_ids(e) for e in groups_of(p))))
        policies.append({**p, "permission_groups": [{"id": i} for i in ids]})
    engine = cft.Token.from_api({"id": "1" * 32, "name": "t", "policies": policies})
    allowed = set()
    for gid in GIDS:
        if permission_groups.get(gid).scope.value.endswith(".account"):
            for account, key in ((ACCT, A_KEY), (ACCT2, A2_KEY)):
                if cft.evaluate(engine, gid, account=account).allowed:
                    allowed.add((gid, key))
            continue
        for (zone, account), key in zip(ZONE_OF.items(), (Z_KEY, Z2_KEY), strict=True):
            if cft.evaluate(engine, gid, zone=zone, account=account).allowed:
                allowed.add((gid, key))
    return allowed


def applied(step: Any, body: dict[str, Any]) -> dict[str, Any]:
    after = step.apply(copy.deepcopy(body))
    assert isinstance(after, dict)
    return after


def pairs(gid: str, *keys: str) -> set[tuple[str, str]]:
    return {(gid, k) for k in keys}


@pytest.mark.parametrize("alone", [False, True])
@pytest.mark.parametrize("entry", FORMS)
def test_removing_one_group_keeps_the_others_the_entry_named(entry: Any, alone: bool) -> None:
    """RemoveGroups of the zone's Logs Write (one policy, or every policy) keeps the
    account's."""
    body = token(entry, alone=alone)
    before = access(body)
    assert pairs(LOGS_W_ACCT, A_KEY, A2_KEY) | pairs(LOGS_W_ZONE, Z_KEY, Z2_KEY) <= before
    for policies in ((1,), None):
        step = RemoveGroups(groups=(GroupRef(LOGS_W_ZONE, "Logs Write"),), policies=(policies,))
        after = applied(step, body)
        assert access(after) == before - pairs(LOGS_W_ZONE, Z_KEY, Z2_KEY)
        assert {"id": LOGS_W_ACCT} in groups_of(after["policies"][0])


@pytest.mark.parametrize("entry", FORMS)
def test_a_downgrade_in_place_keeps_the_other_scope(entry: Any) -> None:
    """A rule's downgrade of the zone's Logs Write to Logs Read, in place."""
    body = token(entry)
    before = access(body)
    step = DowngradeGroups.one(1, GroupRef(LOGS_W_ZONE, "Logs Write"), GroupRef(LOGS_R_ZONE, "x"))
    after = access(applied(step, body))
    assert after == (before - pairs(LOGS_W_ZONE, Z_KEY, Z2_KEY)) | pairs(LOGS_R_ZONE, Z_KEY, Z2_KEY)


@pytest.mark.parametrize("entry", FORMS)
def test_a_downgrade_from_usage_keeps_the_other_scope(entry: Any) -> None:
    """A downgrade onto the resources used (ZONE only)."""
    body = token(entry)
    before = access(body)
    used = (*Resource.from_api({Z_KEY: "*"}),)
    step = DowngradeGroups(
        items=(Downgrade(GroupRef(LOGS_W_ZONE, "x"), GroupRef(LOGS_R_ZONE, "y"), "z", used),)
    )
    after = access(applied(step, body))
    assert after == (before - pairs(LOGS_W_ZONE, Z_KEY, Z2_KEY)) | pairs(LOGS_R_ZONE, Z_KEY)


@pytest.mark.parametrize("entry", FORMS)
def test_a_narrowing_keeps_the_other_scope_everywhere(entry: Any) -> None:
    """NarrowGroups of the account's Logs Write to ACCT: the zone's stays on both zones."""
    body = token(entry)
    before = access(body)
    step = NarrowGroups(
        items=(Narrowing(GroupRef(LOGS_W_ACCT, "x"), (*Resource.from_api({A_KEY: "*"}),), "ACCT"),)
    )
    assert access(applied(step, body)) == before - pairs(LOGS_W_ACCT, A2_KEY)


@pytest.mark.parametrize("entry", FORMS)
def test_removing_a_pair_keeps_the_other_groups_on_that_resource(entry: Any) -> None:
    """RemovePair of the zone's Logs Write on ZONE; also when the entry is the policy's only
    one (the whole key used to go, with the account's Logs Write on it)."""
    for body in (token(entry), token(entry, alone=True)):
        before = access(body)
        step = RemovePair(policy=1, group_id=LOGS_W_ZONE, key=Z_KEY)
        assert access(applied(step, body)) == before - pairs(LOGS_W_ZONE, Z_KEY)
        one_key = copy.deepcopy(body)
        one_key["policies"][0]["resources"] = {A_KEY: "*"}  # a zone group on an account key
        before = access(one_key)
        step = RemovePair(policy=1, group_id=LOGS_W_ZONE, key=A_KEY)
        assert access(applied(step, one_key)) == before  # (it covered nothing there)
        assert pairs(LOGS_W_ACCT, A_KEY) <= before


@pytest.mark.parametrize("entry", FORMS)
def test_replacing_a_pair_moves_only_that_group(entry: Any) -> None:
    """ReplacePair of the zone's Logs Write on the account key by all zones of ACCT: the
    account's Logs Write neither lost on the key nor granted on the zones."""
    body = token(entry)
    body["policies"][0]["resources"] = {A_KEY: "*"}
    before = access(body)
    assert before == pairs(LOGS_W_ACCT, A_KEY) | pairs(DNS_W)  # (zone groups cover no zone)
    step = ReplacePair(policy=1, group_id=LOGS_W_ZONE, key=A_KEY, target=ZonesOfAccounts((ACCT,)))
    assert access(applied(step, body)) == before | pairs(LOGS_W_ZONE, Z_KEY)


@pytest.mark.parametrize("entry", [{"name": "Logs Write"}, {"id": "", "name": "Logs Write"}])
def test_a_rename_keeps_the_other_groups_an_object_named(entry: Any) -> None:
    """RenameGroup of an object meaning both: the access stays the same."""
    body = token(entry)
    before = access(body)
    step = RenameGroup(policy=1, group_id=LOGS_W_ZONE, name="Logs Write")
    assert access(applied(step, body)) == before


@pytest.mark.parametrize("entry", FORMS)
def test_keeping_only_some_groups_keeps_each_of_them(entry: Any) -> None:
    body = token(entry)
    before = access(body)
    step = KeepOnlyGroups(groups=(GroupRef(LOGS_W_ACCT, "x"), GroupRef(DNS_W, "y")))
    assert access(applied(step, body)) == before - pairs(LOGS_W_ZONE, Z_KEY, Z2_KEY)


def test_an_entry_meaning_only_the_group_is_removed_as_before() -> None:
    """An entry that means only the removed group goes whole, written as it was."""
    body = token({"id": LOGS_W_ZONE, "name": "Logs Write"})
    step = RemoveGroups.one(1, GroupRef(LOGS_W_ZONE, "Logs Write"))
    assert applied(step, body)["policies"][0]["permission_groups"] == [{"id": DNS_W}]
    step2 = RemovePair(policy=1, group_id=DNS_W, key=Z_KEY)
    moved = applied(step2, body)["policies"]
    assert moved[0]["permission_groups"] == [{"id": LOGS_W_ZONE, "name": "Logs Write"}]
    assert moved[1]["permission_groups"] == [{"id": DNS_W}]


@pytest.mark.parametrize("keys", [(A_KEY,), (A_KEY, Z_KEY)])
def test_each_audit_fix_takes_only_the_group_its_finding_names(keys: tuple[str, ...]) -> None:
    """End to end: "Logs Write" written as text, on an account (and a zone). Each finding's
    fix leaves every group but the one the finding names exactly as it was."""
    payload = {
        "id": "1" * 32,
        "name": "logs",
        "status": "active",
        "expires_on": "2027-01-01T00:00:00Z",
        "last_used_on": "2026-11-30T00:00:00Z",
        "condition": {"request_ip": {"in": ["203.0.113.0/24"]}},
        "policies": [
            {
                "effect": "allow",
                "permission_groups": ["Logs Write", {"id": DNS_W}],
                "resources": dict.fromkeys(keys, "*"),
            }
        ],
    }
    audit = cft.Audit.from_records(
        tokens=[payload],
        accounts=[{"id": ACCT, "name": "Acme"}],
        zones=[{"id": ZONE, "name": "example.com", "account": {"id": ACCT}}],
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )
    before = access(payload)
    checked = set()
    findings = audit.findings
    for finding_id, rule_id, named in zip(
        findings["finding_id"], findings["rule_id"], findings["group_id"], strict=True
    ):
        fix = audit.finding_fix(finding_id)
        if fix.body is None or not isinstance(named, str):
            continue
        checked.add(rule_id)
        after = access(fix.body)
        others = {p for p in before if p[0] != named}
        assert {p for p in after if p[0] != named} == others, (rule_id, fix.body)
    assert {"CFT-RK-02", "CFT-RK-04"} <= checked
