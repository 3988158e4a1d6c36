"""The policy engine: table tests for every rule of DESIGN.md, and properties that must hold."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import strategies as st

import cftokens as cft
from batched_cases import cases
from cftokens.model import AccountRef

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
A = "a" * 31 + "1"  # account "Acme Production"
B = "b" * 31 + "2"  # account "Acme Staging"
Z1 = "1" * 32  # example.com, in A
Z2 = "2" * 32  # shop.example.com, in A
Z3 = "3" * 32  # staging.example.com, in B
U = "c" * 31 + "9"  # the user's tag
OTHER_USER = "d" * 32
TID = "e" * 32

DIRECTORY = cft.Directory(
    accounts=[cft.Account(id=A, name="Acme Production"), cft.Account(id=B, name="Acme Staging")],
    zones=[
        cft.Zone(id=Z1, name="example.com", account=AccountRef(id=A)),
        cft.Zone(id=Z2, name="shop.example.com", account=AccountRef(id=A)),
        cft.Zone(id=Z3, name="staging.example.com", account=AccountRef(id=B)),
    ],
)

allow = cft.Policy.allow
deny = cft.Policy.deny


def token(*policies: cft.Policy, **fields: Any) -> cft.Token:
    """A token with these policies (and optional status, window, condition)."""
    return cft.Token(id=TID, name="t", policies=policies, **fields)


def raw_policy(effect: str, group: str, resources: dict[str, Any]) -> cft.Policy:
    """A policy built from wire form, bypassing the builder's scope check."""
    group_id = cft.permission_groups.get(group).id
    return cft.Policy.from_api(
        {"effect": effect, "permission_groups": [{"id": group_id}], "resources": resources}
    )


@dataclass
class Case:
    doc: str
    subject: cft.Token | cft.TokenSpec
    permission: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    allowed: bool = True
    reason: str = ""


DNS = ["DNS Write"]
DNS_REFS = allow(DNS, zones=[Z1]).permission_groups
CASES = [
    # -- resource coverage: zone groups
    Case("A zone grant covers that zone.", token(allow(DNS, zones=[Z1])), "DNS Write",
         {"zone": Z1}, True, "allowed: policy 1 allows DNS Write on zone " + Z1),
    Case("A zone grant does not cover another zone, and the reason says where it applies.",
         token(allow(DNS, zones=[Z1])), "DNS Write", {"zone": Z2}, False,
         f"it has DNS Write only on zone {Z1}"),
    Case("All zones covers a zone of any account.", token(allow(DNS, all_zones=True)),
         "DNS Write", {"zone": Z3, "account": B}, True, "all zones of all accounts"),
    Case("All zones covers a zone even when its account is unknown.",
         token(allow(DNS, all_zones=True)), "DNS Write", {"zone": Z3}, True),
    Case("All zones of account A covers a zone of A.", token(allow(DNS, all_zones_of=A)),
         "DNS Write", {"zone": Z1, "account": A}, True, f"all zones of account {A}"),
    Case("All zones of account A does not cover a zone of B.",
         token(allow(DNS, all_zones_of=A)), "DNS Write", {"zone": Z3, "account": B}, False),
    Case("All zones of account A cannot grant when the zone's account is unknown.",
         token(allow(DNS, all_zones_of=A)), "DNS Write", {"zone": Z1}, False,
         "the zone's account is unknown"),
    Case("A directory supplies the zone's account for nested grants.",
         token(allow(DNS, all_zones_of=A)), "DNS Write", {"zone": Z2, "directory": DIRECTORY},
         True, "all zones of account Acme Production"),
    Case("A bare account key does not cover the account's zones for zone groups.",
         token(raw_policy("allow", "DNS Write", {f"com.cloudflare.api.account.{A}": "*"})),
         "DNS Write", {"zone": Z1, "account": A}, False, "bare account key"),
    Case("A zone nested under its account covers it.",
         token(cft.Policy(effect="allow", permission_groups=DNS_REFS,
                          resources=[cft.Resource.zone(Z1, account_id=A)])),
         "DNS Write", {"zone": Z1, "account": A}, True),
    Case("A zone nested under another account does not cover it.",
         token(cft.Policy(effect="allow", permission_groups=DNS_REFS,
                          resources=[cft.Resource.zone(Z1, account_id=B)])),
         "DNS Write", {"zone": Z1, "account": A}, False),
    Case("An unparsed resource key covers nothing.",
         token(raw_policy("allow", "DNS Write", {"com.cloudflare.api.account.zone.example": "*"})),
         "DNS Write", {"zone": Z1, "account": A}, False),
    # -- resource coverage: account and user groups
    Case("An account grant covers that account.",
         token(allow(["Workers Scripts Write"], accounts=[A])), "Workers Scripts Write",
         {"account": A}, True),
    Case("All accounts covers any account.",
         token(allow(["Workers Scripts Write"], all_accounts=True)), "Workers Scripts Write",
         {"account": B}, True, "all accounts"),
    Case("An account grant does not cover another account.",
         token(allow(["Workers Scripts Write"], accounts=[A])), "Workers Scripts Write",
         {"account": B}, False, f"only on account {A}"),
    Case("An account group on a zone key covers nothing: groups apply to their own scope.",
         token(raw_policy("allow", "Workers Scripts Write",
                          {f"com.cloudflare.api.account.zone.{Z1}": "*"})),
         "Workers Scripts Write", {"account": A}, False, "no policy names a account resource"),
    Case("A zone group on all accounts covers no zone.",
         token(raw_policy("allow", "DNS Write", {"com.cloudflare.api.account.*": "*"})),
         "DNS Write", {"zone": Z1, "account": A}, False),
    Case("A user grant covers the token's own user when no user is named.",
         token(allow(["API Tokens Write"], user=U)), "API Tokens Write", {}, True, "the user"),
    Case("A user grant does not cover another user.",
         token(allow(["API Tokens Write"], user=U)), "API Tokens Write", {"user": OTHER_USER},
         False),
    # -- explicit deny, explicit allow, implicit deny
    Case("An explicit deny beats an allow on the same zone.",
         token(allow(DNS, all_zones=True), deny(DNS, zones=[Z1])), "DNS Write",
         {"zone": Z1, "account": A}, False, f"denied: policy 2 denies DNS Write on zone {Z1}"),
    Case("A deny on one zone leaves the allow on other zones.",
         token(allow(DNS, all_zones=True), deny(DNS, zones=[Z1])), "DNS Write",
         {"zone": Z2, "account": A}, True, "policy 1 allows"),
    Case("Policy order does not matter: a deny written first still wins.",
         token(deny(DNS, zones=[Z1]), allow(DNS, zones=[Z1])), "DNS Write", {"zone": Z1},
         False, "policy 1 denies"),
    Case("A nested deny with the zone's account unknown refuses (fail closed).",
         token(allow(DNS, zones=[Z1]), deny(DNS, all_zones_of=A)), "DNS Write", {"zone": Z1},
         False, "may cover it"),
    Case("The design's example reason names the account from the directory.",
         token(allow(DNS, all_zones=True), deny(DNS, all_zones_of=A)), "DNS Write",
         {"zone": Z1, "directory": DIRECTORY}, False,
         "denied: policy 2 denies DNS Write on all zones of account Acme Production"),
    Case("A deny of another group does not remove this one.",
         token(allow(DNS, zones=[Z1]), deny(["DNS Read"], zones=[Z1])), "DNS Write",
         {"zone": Z1}, True),
    Case("A zone-group deny on a bare account key removes nothing (same rule as allows).",
         token(allow(DNS, zones=[Z1]),
               raw_policy("deny", "DNS Write", {f"com.cloudflare.api.account.{A}": "*"})),
         "DNS Write", {"zone": Z1, "account": A}, True),
    Case("Without any grant of the group, the request is implicitly denied.",
         token(allow(["Zone Read"], zones=[Z1])), "DNS Write", {"zone": Z1}, False,
         "the token does not have this permission"),
    Case("Read does not imply write.", token(allow(["DNS Read"], zones=[Z1])), "DNS Write",
         {"zone": Z1}, False),
    Case("Write does not imply read as a group (operations accept both instead).",
         token(allow(DNS, zones=[Z1])), "DNS Read", {"zone": Z1}, False),
    Case("The second of several allow policies can be the one that grants.",
         token(allow(DNS, zones=[Z2]), allow(DNS, zones=[Z1])), "DNS Write", {"zone": Z1},
         True, "policy 2 allows"),
    # -- status and validity window
    Case("A disabled token is refused.", token(allow(DNS, zones=[Z1]), status="disabled"),
         "DNS Write", {"zone": Z1}, False, "the token is disabled"),
    Case("A token whose status is expired is refused.",
         token(allow(DNS, zones=[Z1]), status="expired"), "DNS Write", {"zone": Z1}, False,
         "has expired"),
    Case("A token is refused before not_before.",
         token(allow(DNS, zones=[Z1]), not_before=NOW + timedelta(seconds=1)), "DNS Write",
         {"zone": Z1}, False, "not valid before 2026-11-02T09:00:01Z"),
    Case("A token is usable at exactly not_before.",
         token(allow(DNS, zones=[Z1]), not_before=NOW), "DNS Write", {"zone": Z1}, True),
    Case("A token is refused at exactly expires_on.",
         token(allow(DNS, zones=[Z1]), expires_on=NOW), "DNS Write", {"zone": Z1}, False,
         "expired on 2026-11-02T09:00:00Z"),
    Case("A token is usable just before expires_on.",
         token(allow(DNS, zones=[Z1]), expires_on=NOW + timedelta(microseconds=1)), "DNS Write",
         {"zone": Z1}, True),
    # -- client IP
    Case("An IP inside the allowlist passes.",
         token(allow(DNS, zones=[Z1]), condition=cft.Condition.of(["203.0.113.0/24"])),
         "DNS Write", {"zone": Z1, "ip": "203.0.113.7"}, True),
    Case("An IP outside the allowlist is refused with the ranges named.",
         token(allow(DNS, zones=[Z1]), condition=cft.Condition.of(["203.0.113.0/24"])),
         "DNS Write", {"zone": Z1, "ip": "198.51.100.4"}, False,
         "denied: 198.51.100.4 is not in the token's allowed ranges (203.0.113.0/24)"),
    Case("An IP in a not_in range is refused even inside the allowlist.",
         token(allow(DNS, zones=[Z1]),
               condition=cft.Condition.of(["203.0.113.0/24"], ["203.0.113.0/28"])),
         "DNS Write", {"zone": Z1, "ip": "203.0.113.7"}, False, "denied range 203.0.113.0/28"),
    Case("IPv6 addresses are matched against IPv6 ranges.",
         token(allow(DNS, zones=[Z1]), condition=cft.Condition.of(["2001:db8::/32"])),
         "DNS Write", {"zone": Z1, "ip": "2001:db8::1"}, True),
    Case("An IPv4 address never matches an IPv6-only allowlist.",
         token(allow(DNS, zones=[Z1]), condition=cft.Condition.of(["2001:db8::/32"])),
         "DNS Write", {"zone": Z1, "ip": "192.0.2.1"}, False, "not in the token's allowed"),
    Case("With only a deny list, other addresses pass.",
         token(allow(DNS, zones=[Z1]), condition=cft.Condition.of([], ["192.0.2.0/24"])),
         "DNS Write", {"zone": Z1, "ip": "198.51.100.1"}, True),
    Case("ip=None skips the IP check (the decision holds inside the allowed ranges).",
         token(allow(DNS, zones=[Z1]), condition=cft.Condition.of(["203.0.113.0/24"])),
         "DNS Write", {"zone": Z1}, True),
    # -- names and specs
    Case("The dashboard's 'Edit' wording names the Write group.",
         token(allow(DNS, zones=[Z1])), "DNS Edit", {"zone": Z1}, True),
    Case("An ambiguous name resolves to the scope of the resource asked about.",
         token(allow(["Logs Read"], zones=[Z1])), "Logs Read", {"zone": Z1}, True),
    Case("An ambiguous name asked about an account uses the account group.",
         token(allow(["Logs Read"], zones=[Z1])), "Logs Read", {"account": A}, False),
    Case("A TokenSpec is evaluated like an active token.",
         cft.TokenSpec(name="s", policies=[allow(DNS, zones=[Z1])]), "DNS Write", {"zone": Z1},
         True),
    Case("Zones and accounts can be named with a directory.",
         token(allow(DNS, all_zones_of=A)), "DNS Write",
         {"zone": "shop.example.com", "directory": DIRECTORY}, True),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.doc for c in CASES])
def test_evaluate_table(case: Case) -> None:
    """Each case decides as its one-line description says, with the expected reason."""
    kwargs = {"at": NOW, **case.kwargs}
    decision = cft.evaluate(case.subject, case.permission, **kwargs)
    assert decision.allowed is case.allowed, decision.reason
    assert bool(decision) is case.allowed
    assert case.reason in decision.reason
    assert decision.reason.startswith("allowed: " if case.allowed else "denied: ")


@dataclass
class RequestCase:
    doc: str
    subject: cft.Token
    method: str
    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    allowed: bool = True
    reason: str = ""


REQUESTS = [
    RequestCase("Listing DNS records accepts DNS Write as well as DNS Read.",
                token(allow(DNS, zones=[Z1])), "GET", f"/zones/{Z1}/dns_records", {}, True,
                "allows DNS Write"),
    RequestCase("A DNS token cannot read firewall rules; the reason names what is needed.",
                token(allow(DNS, zones=[Z1])), "GET", f"/zones/{Z1}/firewall/rules", {}, False,
                f"needs one of Firewall Services Write, Firewall Services Read on zone {Z1}"),
    RequestCase("A DNS token for one zone cannot create records in another.",
                token(allow(DNS, zones=[Z1])), "POST", f"/zones/{Z2}/dns_records", {}, False,
                "only on zone"),
    RequestCase("An explicit deny is reported for the request.",
                token(allow(DNS, all_zones=True), deny(DNS, zones=[Z2])), "POST",
                f"/zones/{Z2}/dns_records", {"zone_account": A}, False, "policy 2 denies"),
    RequestCase("A zone path accepting an account group is allowed via the zone's account.",
                token(allow(["Workers Scripts Write"], accounts=[A])), "GET", f"/zones/{Z1}",
                {"zone_account": A}, True, f"account {A}"),
    RequestCase("An account group on a zone path needs the zone's account.",
                token(allow(["Workers Scripts Write"], accounts=[A])), "GET", f"/zones/{Z1}",
                {}, False),
    RequestCase("A zone group never applies to an account path.",
                token(allow(["Access: Apps and Policies Read"], all_zones=True)), "GET",
                f"/accounts/{A}/access/apps", {}, False),
    RequestCase("Account API Tokens Write on account A allows minting there.",
                token(allow(["Account API Tokens Write"], accounts=[A])), "POST",
                f"/accounts/{A}/tokens", {}, True),
    RequestCase("Account API Tokens Write on account A does not allow minting in B.",
                token(allow(["Account API Tokens Write"], accounts=[A])), "POST",
                f"/accounts/{B}/tokens", {}, False),
    RequestCase("User token listing is allowed by the user group API Tokens Read.",
                token(allow(["API Tokens Read"], user=U)), "GET", "/user/tokens", {"user": U},
                True),
    RequestCase("A path naming no zone is allowed when the group is held on some zone.",
                token(allow(["Zone Read"], zones=[Z1])), "GET", "/zones", {}, True),
    RequestCase("A path naming no zone is refused when a deny removes every grant.",
                token(allow(["Zone Read"], zones=[Z1]), deny(["Zone Read"], all_zones=True)),
                "GET", "/zones", {}, False, "removing every grant"),
    RequestCase("Operations the schema does not annotate are not decided by guess.",
                token(allow(DNS, all_zones=True)), "GET", "/user/tokens/verify", {}, False,
                "names no permission group"),
    RequestCase("Token-level refusals come before permissions.",
                token(allow(DNS, zones=[Z1]), expires_on=NOW - timedelta(days=1)), "GET",
                f"/zones/{Z1}/dns_records", {}, False, "expired on"),
    RequestCase("The client IP is checked for requests too.",
                token(allow(DNS, zones=[Z1]), condition=cft.Condition.of(["203.0.113.0/24"])),
                "GET", f"/zones/{Z1}/dns_records", {"ip": "198.51.100.4"}, False,
                "198.51.100.4 is not in the token's allowed ranges"),
    RequestCase("Zone names come from the directory in request reasons.",
                token(allow(DNS, zones=[Z2])), "GET", f"/zones/{Z1}/dns_records",
                {"directory": DIRECTORY}, False, "on zone example.com"),
]  # fmt: skip


@pytest.mark.parametrize("case", REQUESTS, ids=[c.doc for c in REQUESTS])
def test_evaluate_request_table(case: RequestCase) -> None:
    """Each request case decides as its one-line description says, with the expected reason."""
    decision = cft.evaluate_request(case.subject, case.method, case.path, at=NOW, **case.kwargs)
    assert decision.allowed is case.allowed, decision.reason
    assert case.reason in decision.reason
    assert decision.operation is not None


def test_at_least_forty_table_cases() -> None:
    """The tables hold at least forty documented cases."""
    assert len(CASES) + len(REQUESTS) >= 40
    assert all(c.doc.endswith(".") for c in [*CASES, *REQUESTS])


def test_unknown_request_path_raises() -> None:
    """A request no operation matches raises UnknownOperation."""
    with pytest.raises(cft.UnknownOperation):
        cft.evaluate_request(token(allow(DNS, zones=[Z1])), "GET", "/nothing")


def test_caller_errors_raise_instead_of_deciding() -> None:
    """A zone permission without a zone, or an account one without an account, is a caller error."""
    subject = token(allow(DNS, zones=[Z1]))
    with pytest.raises(cft.ScopeMismatch, match="pass zone="):
        cft.evaluate(subject, "DNS Write")
    with pytest.raises(cft.ScopeMismatch, match="pass account="):
        cft.evaluate(subject, "Workers Scripts Write")
    with pytest.raises(cft.ScopeMismatch, match="exists for account and zone"):
        cft.evaluate(subject, "Logs Read")
    with pytest.raises(cft.InvalidInput, match="takes a Token or TokenSpec"):
        cft.evaluate({"id": "x"}, "DNS Write", zone=Z1)  # type: ignore[arg-type]
    with pytest.raises(cft.InvalidInput, match="timezone-aware"):
        cft.evaluate(subject, "DNS Write", zone=Z1, at=datetime(2026, 1, 1))
    with pytest.raises(cft.InvalidInput, match="not an IP address"):
        cft.evaluate(
            token(allow(DNS, zones=[Z1]), condition=cft.Condition.of(["10.0.0.0/8"])),
            "DNS Write",
            zone=Z1,
            ip="localhost",
        )


def test_decision_names_the_policy_group_and_resource() -> None:
    """A decision carries the deciding policy (1-based index), group and matching atom."""
    subject = token(allow(["Zone Read"], zones=[Z1]), allow(DNS, all_zones_of=A))
    decision = cft.evaluate(subject, "DNS Write", zone=Z2, account=A)
    assert decision.policy_index == 2
    assert decision.policy == subject.policies[1]
    assert decision.group == cft.permission_groups.get("DNS Write")
    assert decision.resource == cft.Resource.all_zones_of(A)


def test_effective_grants_drop_shadowed_and_misscoped_grants() -> None:
    """E(T) keeps surviving grants, drops wholly denied and wrongly scoped ones, notes narrowing."""
    dns = cft.permission_groups.get("DNS Write").id
    subject = token(
        allow(DNS, zones=[Z1, Z2], all_zones_of=B),
        deny(DNS, zones=[Z1]),
        deny(DNS, zones=[Z3]),
        raw_policy("allow", "DNS Write", {f"com.cloudflare.api.account.{A}": "*"}),
    )
    grants = cft.effective_grants(subject)
    atoms = {(g.group_id, g.resource) for g in grants}
    assert atoms == {(dns, cft.Resource.zone(Z2)), (dns, cft.Resource.all_zones_of(B))}
    nested = next(g for g in grants if g.resource.kind is cft.ResourceKind.ALL_ZONES_IN)
    # without a directory, Z1's account is unknown: it may narrow "all zones of B" too
    assert nested.narrowed_by == ((2, cft.Resource.zone(Z1)), (3, cft.Resource.zone(Z3)))
    exact = cft.effective_grants(subject, directory=DIRECTORY)
    nested = next(g for g in exact if g.resource.kind is cft.ResourceKind.ALL_ZONES_IN)
    assert nested.narrowed_by == ((3, cft.Resource.zone(Z3)),)


def test_a_zone_denied_through_its_account_is_not_effective() -> None:
    """A zone granted by id and denied through "all zones of its account" is removed from E(T)
    when a directory places the zone, and listed as possibly narrowed without one."""
    subject = token(allow(DNS, zones=[Z1, Z3]), deny(DNS, all_zones_of=A))
    placed = {g.resource for g in cft.effective_grants(subject, directory=DIRECTORY)}
    assert placed == {cft.Resource.zone(Z3)}
    unplaced = {g.resource: g.narrowed_by for g in cft.effective_grants(subject)}
    assert unplaced[cft.Resource.zone(Z1)] == ((2, cft.Resource.all_zones_of(A)),)
    assert not cft.evaluate(subject, "DNS Write", zone=Z1, directory=DIRECTORY, at=NOW).allowed
    assert cft.evaluate(subject, "DNS Write", zone=Z3, directory=DIRECTORY, at=NOW).allowed


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

ZONES = {Z1: A, Z2: A, Z3: B}
GROUPS = ["DNS Write", "DNS Read", "Zone Read", "Workers Scripts Write", "API Tokens Write"]
ZONE_GROUPS = ["DNS Write", "DNS Read", "Zone Read"]

zone_atoms = st.sampled_from(
    [cft.Resource.zone(z) for z in ZONES]
    + [cft.Resource.zone(z, account_id=a) for z, a in ZONES.items()]
    + [cft.Resource.zone(Z1, account_id=B)]
    + [cft.Resource.all_zones_of(A), cft.Resource.all_zones_of(B), cft.Resource.all_zones()]
    + [cft.Resource.account(A), cft.Resource.unparsed("com.cloudflare.api.account.zone.x")]
)
account_atoms = st.sampled_from(
    [cft.Resource.account(A), cft.Resource.account(B), cft.Resource.all_accounts()]
)
user_atoms = st.sampled_from([cft.Resource.user(U), cft.Resource.user(OTHER_USER)])


@st.composite
def policies(draw: st.DrawFn, effect: str | None = None) -> cft.Policy:
    group = draw(st.sampled_from(GROUPS))
    resolved = cft.permission_groups.get(group)
    pool = {
        cft.Scope.ZONE: zone_atoms,
        cft.Scope.ACCOUNT: account_atoms,
        cft.Scope.USER: user_atoms,
    }[resolved.scope]
    extra = st.one_of(zone_atoms, account_atoms, user_atoms)
    atoms = draw(st.lists(st.one_of(pool, pool, extra), min_size=1, max_size=3))
    flat = {a.wire_key for a in atoms if a.kind is not cft.ResourceKind.ALL_ZONES_IN
            and not (a.kind is cft.ResourceKind.ZONE and a.account_id)}  # fmt: skip
    atoms = [
        a
        for a in atoms
        if not (
            (a.kind is cft.ResourceKind.ALL_ZONES_IN
             or (a.kind is cft.ResourceKind.ZONE and a.account_id))
            and a.wire_key in flat
        )
    ] or [draw(pool)]  # fmt: skip
    return cft.Policy(
        effect=effect or draw(st.sampled_from(["allow", "deny"])),
        permission_groups=[cft.PermissionGroupRef(id=resolved.id, name=resolved.name)],
        resources=list(dict.fromkeys(atoms)),
    )


@st.composite
def queries(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    group = draw(st.sampled_from(GROUPS))
    scope = cft.permission_groups.get(group).scope
    if scope is cft.Scope.ZONE:
        zone = draw(st.sampled_from(list(ZONES)))
        account = draw(st.sampled_from([ZONES[zone], None]))
        return group, {"zone": zone, "account": account}
    if scope is cft.Scope.ACCOUNT:
        return group, {"account": draw(st.sampled_from([A, B]))}
    return group, {"user": draw(st.sampled_from([None, U, OTHER_USER]))}


token_policies = st.lists(policies(), max_size=5)
ip_networks = st.one_of(
    st.tuples(st.ip_addresses(v=4), st.integers(0, 32)).map(
        lambda p: ipaddress.ip_network(f"{p[0]}/{p[1]}", strict=False)
    ),
    st.tuples(st.ip_addresses(v=6), st.integers(0, 128)).map(
        lambda p: ipaddress.ip_network(f"{p[0]}/{p[1]}", strict=False)
    ),
)


def properties(*strategies: st.SearchStrategy[Any]) -> Callable[[Callable[..., None]], Any]:
    """The long properties below: 300 cases of ``strategies`` (drawn together, as
    ``@given(*strategies)`` draws one example), several to a Hypothesis example
    (tests/batched_cases.py); the decorated check runs on each case."""

    def decorate(check: Callable[..., None]) -> Any:
        test = cases(st.tuples(*strategies), 300)(lambda case: check(*case))
        test.__doc__ = check.__doc__
        return test

    return decorate


def _decide(policies_: list[cft.Policy], query: tuple[str, dict[str, Any]], **kw: Any) -> bool:
    group, where = query
    return cft.evaluate(token(*policies_, **kw), group, at=NOW, **where).allowed


@pytest.mark.slow
@properties(token_policies, policies(effect="deny"), queries(), st.integers(0, 5))
def test_adding_a_deny_never_grants_more(
    base: list[cft.Policy], extra: cft.Policy, query: Any, position: int
) -> None:
    """Wherever a deny is added, it never turns a refusal into access."""
    more = base[:position] + [extra] + base[position:]
    if _decide(more, query):
        assert _decide(base, query)


@pytest.mark.slow
@properties(token_policies, policies(effect="allow"), queries(), st.integers(0, 5))
def test_adding_an_allow_never_removes_access(
    base: list[cft.Policy], extra: cft.Policy, query: Any, position: int
) -> None:
    """Adding an allow policy anywhere never takes access away."""
    more = base[:position] + [extra] + base[position:]
    if _decide(base, query):
        assert _decide(more, query)


@pytest.mark.slow
@properties(
    token_policies,
    queries(),
    st.sampled_from(["disabled", "expired", "not_yet", "past"]),
    st.integers(0, 10_000_000),
)
def test_unusable_tokens_are_never_allowed(
    policies_: list[cft.Policy], query: Any, state: str, seconds: int
) -> None:
    """A disabled, expired, not-yet-valid or past-expiry token is never allowed anything."""
    kw: dict[str, Any] = {
        "disabled": {"status": "disabled"},
        "expired": {"status": "expired"},
        "not_yet": {"not_before": NOW + timedelta(seconds=seconds + 1)},
        "past": {"expires_on": NOW - timedelta(seconds=seconds)},
    }[state]
    assert not _decide(policies_, query, **kw)


@pytest.mark.slow
@properties(
    token_policies,
    queries(),
    st.lists(ip_networks, min_size=1, max_size=3),
    st.ip_addresses(),
)
def test_an_ip_outside_the_allowlist_is_never_allowed(
    policies_: list[cft.Policy], query: Any, ranges: list[Any], ip: Any
) -> None:
    """A request from outside every `in` range is refused, whatever the policies say."""
    if any(ip.version == net.version and ip in net for net in ranges):
        return
    group, where = query
    subject = token(*policies_, condition=cft.Condition.of(ranges))
    assert not cft.evaluate(subject, group, at=NOW, ip=ip, **where).allowed


@pytest.mark.slow
@properties(token_policies, queries())
def test_allowed_decisions_rest_on_an_effective_grant(
    policies_: list[cft.Policy], query: Any
) -> None:
    """Every allowed decision is backed by an effective grant of that group on the named atom."""
    group, where = query
    subject = token(*policies_)
    decision = cft.evaluate(subject, group, at=NOW, **where)
    if decision.allowed:
        grants = {(g.group_id, g.resource) for g in cft.effective_grants(subject)}
        assert decision.group is not None and decision.resource is not None
        assert (decision.group.id, decision.resource) in grants


REQUEST_PATHS: list[tuple[str, str, str | None]] = [
    ("GET", f"/zones/{Z1}/dns_records", A),
    ("POST", f"/zones/{Z2}/dns_records", A),
    ("GET", f"/zones/{Z3}", B),
    ("GET", f"/zones/{Z1}", None),
    ("GET", "/zones", None),
    ("GET", f"/accounts/{A}/workers/scripts", None),
    ("PUT", f"/accounts/{B}/workers/scripts/s1", None),
    ("POST", "/user/tokens", None),
]


@pytest.mark.slow
@properties(token_policies, policies(), st.sampled_from(REQUEST_PATHS), st.booleans())
def test_requests_are_monotonic_in_allows_and_denies(
    base: list[cft.Policy], extra: cft.Policy, request: Any, use_user: bool
) -> None:
    """For requests too: a deny never grants more and an allow never removes access."""
    method, path, zone_account = request
    kw = {"zone_account": zone_account, "at": NOW, "user": U if use_user else None}
    before = cft.evaluate_request(token(*base), method, path, **kw).allowed
    after = cft.evaluate_request(token(*base, extra), method, path, **kw).allowed
    if extra.allows and before:
        assert after
    if not extra.allows and after:
        assert before


@pytest.mark.slow
@properties(token_policies, st.sampled_from(ZONE_GROUPS))
def test_effective_grants_agree_with_evaluate_on_every_zone(
    policies_: list[cft.Policy], group_name: str
) -> None:
    """With a directory, a zone group is allowed on a zone exactly when an effective grant
    covers the zone and none of the denies narrowing that grant covers it."""
    from cftokens.policy import RequestTarget, _atom_covers

    subject = token(*policies_)
    group = cft.permission_groups.get(group_name)
    grants = [
        g for g in cft.effective_grants(subject, directory=DIRECTORY) if g.group_id == group.id
    ]
    for zone, account in ZONES.items():
        target = RequestTarget(zone=zone, account=account)
        expected = any(
            _atom_covers(g.resource, target)
            and not any(_atom_covers(d, target) is not False for _, d in g.narrowed_by)
            for g in grants
        )
        decision = cft.evaluate(subject, group, zone=zone, account=account, at=NOW)
        assert decision.allowed is expected, (zone, decision.reason, grants)
