"""Steps 4 and 5 of an advice: grants become policies (one per set of resources, each listing
the groups granted on exactly those resources; never wildcards unless
``allow_broad_scope=True``), the token gets its lifetime and the notes name every audit rule
(PE, LC-01, NW-01 …) it would still trip and why."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..catalog.groups import Level, PermissionGroup, permission_groups
from ..errors import InvalidInput
from ..model._util import aware
from ..model.directory import Directory
from ..model.policy import Effect, PermissionGroupRef, Policy
from ..model.resources import Resource, ResourceKind, Scope
from ..model.token import MAX_NAME_LENGTH, MINTING_GROUP_IDS
from .advice import Grant
from .choose import _element_key, resource_key
from .intents import Intent
from .requirements import Element, _names

__all__ = ["DEFAULT_TTL", "MINTING_TTL", "assemble", "caution_notes", "lifetime"]

DEFAULT_TTL = timedelta(days=90)
MINTING_TTL = timedelta(days=30)
_SCOPE_ORDER = {Scope.ZONE: 0, Scope.ACCOUNT: 1, Scope.USER: 2, Scope.R2_BUCKET: 3}


def assemble(
    chosen: set[Element],
    needing: Sequence[Intent],
    requirements: Sequence[frozenset[Element]],
    *,
    directory: Directory | None = None,
    notes: list[str] | None = None,
) -> tuple[list[Policy], list[Grant]]:
    """Policies and grants from the chosen (group, resource) elements.

    Groups with identical resource sets share a policy. With a ``directory`` (broad scope
    allowed), a group granted on every zone of an account gets "all zones of the account"
    instead, and ``notes`` says so.
    """
    if notes is None:
        notes = []
    served: dict[Element, list[tuple[int, Intent]]] = {e: [] for e in chosen}
    for intent, opts in sorted(
        zip(needing, requirements, strict=True), key=lambda pair: len(pair[1])
    ):
        for element in opts & chosen:
            served[element].append((len(opts), intent))
    by_group: dict[str, list[Resource]] = {}
    for gid, resource in sorted(chosen, key=_element_key):
        by_group.setdefault(gid, []).append(resource)
    merged_from: dict[tuple[str, Resource], list[Element]] = {
        (gid, r): [(gid, r)] for gid, r in chosen
    }
    if directory is not None:
        for gid, resources in by_group.items():
            zone_ids = {r.id for r in resources if r.kind is ResourceKind.ZONE}
            for acct in directory.accounts:
                own = {z.id for z in directory.zones_of(acct.id)}
                if own and own <= zone_ids:
                    atoms = [r for r in resources if r.kind is ResourceKind.ZONE and r.id in own]
                    wide = Resource.all_zones_of(acct.id)
                    merged_from[(gid, wide)] = [e for a in atoms for e in merged_from.pop((gid, a))]
                    resources[:] = [r for r in resources if r not in atoms] + [wide]
                    group = permission_groups.by_id(gid)
                    notes.append(
                        f"allow_broad_scope: {group.name if group else gid} is granted on all "
                        f"zones of account {acct.name}, since the intents touch every one of "
                        "them; this includes zones added later"
                    )
    by_resources: dict[tuple[Resource, ...], list[str]] = {}
    for gid, resources in by_group.items():
        key = tuple(sorted(set(resources), key=resource_key))
        by_resources.setdefault(key, []).append(gid)

    def _policy_order(item: tuple[tuple[Resource, ...], list[str]]) -> tuple[Any, ...]:
        resources, gids = item
        groups = [permission_groups.by_id(g) for g in gids]
        scope = min(_SCOPE_ORDER[g.scope] for g in groups if g is not None)
        return (scope, [resource_key(r) for r in resources])

    policies: list[Policy] = []
    grants: list[Grant] = []
    for index, (policy_atoms, gids) in enumerate(
        sorted(by_resources.items(), key=_policy_order), start=1
    ):
        groups = sorted(
            (g for g in (permission_groups.by_id(x) for x in gids) if g is not None),
            key=lambda g: (g.name, g.id),
        )
        policies.append(
            Policy(
                effect=Effect.ALLOW,
                permission_groups=[PermissionGroupRef.of(g) for g in groups],
                resources=policy_atoms,
            )
        )
        for group in groups:
            for resource in policy_atoms:
                origins = merged_from.get((group.id, resource), [(group.id, resource)])
                pairs = sorted((p for e in origins for p in served.get(e, [])), key=lambda p: p[0])
                grants.append(
                    Grant(
                        group=group,
                        resource=resource,
                        intents=tuple(dict.fromkeys(i for _, i in pairs)),
                        policy_index=index,
                        only_for=tuple(dict.fromkeys(i for n, i in pairs if n == 1)),
                        options=max((n for n, _ in pairs), default=1),
                    )
                )

    return policies, grants


def _needed_by(group: PermissionGroup, grants: Sequence[Grant]) -> str:
    """``"POST /user/tokens accepts"`` / ``"A, B, C … accept"``: the requests a granted
    group serves, for the notes."""
    needers = sorted({i.request for g in grants if g.group == group for i in g.intents})
    more = " …" if len(needers) > 3 else ""
    verb = "accepts" if len(needers) == 1 else "accept"
    return f"{', '.join(needers[:3])}{more} {verb}"


def _cidrs(values: str | Iterable[str] | None) -> tuple[str, ...]:
    """IP ranges as given: one string is one range (not its characters)."""
    if values is None:
        return ()
    return (values,) if isinstance(values, str) else tuple(values)


def _default_name(grants: Sequence[tuple[PermissionGroup, Resource]]) -> str:
    groups = list(dict.fromkeys(g.name for g, _ in grants))
    kinds = {r.kind for _, r in grants}
    zones = {r.id for _, r in grants if r.kind is ResourceKind.ZONE}
    wide = {r.account_id for _, r in grants if r.kind is ResourceKind.ALL_ZONES_IN}
    accounts = {r.id for _, r in grants if r.kind is ResourceKind.ACCOUNT}
    where = []
    if zones:
        where.append(f"{len(zones)} zone{'s' if len(zones) > 1 else ''}")
    if wide:
        where.append(f"all zones of {len(wide)} account{'s' if len(wide) > 1 else ''}")
    if ResourceKind.ALL_ZONES in kinds:
        where.append("all zones")
    if accounts:
        where.append(f"{len(accounts)} account{'s' if len(accounts) > 1 else ''}")
    if ResourceKind.ALL_ACCOUNTS in kinds:
        where.append("all accounts")
    head = ", ".join(groups[:3]) + (f" +{len(groups) - 3}" if len(groups) > 3 else "")
    name = f"least-privilege: {head}" + (f" on {' and '.join(where)}" if where else "")
    return name[:MAX_NAME_LENGTH]


def lifetime(
    held: Sequence[PermissionGroup],
    *,
    ttl: timedelta | None,
    not_before: datetime | None,
    now: datetime,
    notes: list[str],
) -> tuple[datetime | None, datetime, datetime | None]:
    """``(not_before, start, expires_on)``: the start checked, the lifetime counted from
    ``not_before`` (or ``now``); 30 days for tokens that can mint tokens unless ``ttl`` is
    chosen; ``notes`` name the lifetime rules (CFT-PE-03, CFT-LC-01, CFT-LC-02) it trips."""
    minting = [g for g in dict.fromkeys(held) if g.id in MINTING_GROUP_IDS]
    writes = any(g.level is not Level.READ for g in held)
    if not_before is not None:
        not_before = aware(not_before, "not_before")
    start = not_before if not_before is not None else now
    expires_on: datetime | None = None
    if ttl is not None:
        if not isinstance(ttl, timedelta) or ttl <= timedelta(0):
            raise InvalidInput("ttl must be a positive timedelta (or None for no expiry)")
        lifetime = ttl
        if minting and ttl is DEFAULT_TTL:
            lifetime = MINTING_TTL
            notes.append(
                "the token can mint tokens, so its lifetime is cut to 30 days, as CFT-PE-03 asks "
                "(pass ttl= to choose another)"
            )
        elif minting and ttl > MINTING_TTL:
            notes.append(
                f"CFT-PE-03: the token can mint tokens and lives {ttl.days} days (ttl=); "
                "keep minting tokens to 30 days or less"
            )
        expires_on = start + lifetime
        if writes and lifetime > timedelta(days=90):
            notes.append(
                f"CFT-LC-02: a token with write access living {lifetime.days} days exceeds the "
                "90-day policy (ttl=)"
            )
        elif lifetime > timedelta(days=366):
            notes.append(f"CFT-LC-02: a lifetime of {lifetime.days} days exceeds 366 days (ttl=)")
    else:
        notes.append(
            "CFT-LC-01: no expiry because ttl=None; the token works until revoked (pass ttl= "
            "to bound it)"
        )
    return not_before, start, expires_on


def caution_notes(
    grants: Sequence[Grant],
    *,
    ips: Sequence[str],
    free: Sequence[Intent],
    notes: list[str],
) -> None:
    """Add to ``notes`` the audit rules the token would still trip through its groups and IP
    condition (CFT-NW-01, CFT-RK, CFT-PE), and the intents that need no group."""
    held = [g.group for g in grants]
    minting = [g for g in dict.fromkeys(held) if g.id in MINTING_GROUP_IDS]
    escalating = [g for g in dict.fromkeys(held) if "PE" in g.families]
    if not ips:
        rule = "CFT-PE-03" if minting else "CFT-NW-01"
        notes.append(
            f"{rule}: no IP allowlist because allow_ips was not given; the token works from any "
            "address if it leaks (pass allow_ips=['203.0.113.0/24', …])"
        )
        risky = [g for g in dict.fromkeys(held) if g.families & {"HIJACK", "EXFIL"}]
        if risky:
            notes.append(
                f"CFT-RK: without an IP allowlist the risky group(s) {_names(risky)} count as "
                "exposed (the RK rules exempt named zones behind an allowlist); pass allow_ips="
            )
    for group in dict.fromkeys(held):
        if group.families & {"CRED", "EVASION"} and "PE" not in group.families:
            family = "returns secrets" if "CRED" in group.families else "can weaken defences"
            notes.append(
                f"CFT-RK: {group.name} {family}; it is granted because "
                f"{_needed_by(group, grants)} no less-risky group"
            )
    for group in escalating:
        returns = " and returns secrets (CFT-RK-03)" if "CRED" in group.families else ""
        notes.append(
            f"CFT-PE: {group.name} lets the token escalate privilege{returns}; it is granted "
            f"because {_needed_by(group, grants)} no less-privileged group"
        )
    if minting and len(set(held)) > len(minting):
        notes.append(
            "CFT-PE-03: the token mints tokens and holds other groups; put "
            f"{_names(minting)} in a token of its own (advise the two intent lists separately)"
        )
    if free:
        notes.append(
            f"{len(free)} intent(s) need no permission group (any valid token may call them): "
            + ", ".join(dict.fromkeys(i.request for i in free))
        )
