"""The policy engine: the one place that decides whether a token may do something.

Semantics (the sandbox enforces exactly these):

1. A token is usable when its status is ``active``, ``not_before <= at < expires_on`` (each
   optional) and the client IP passes its condition: with an ``in`` list the IP must be in one
   of its ranges; an IP in a ``not_in`` range is refused. IPv4 and IPv6. ``ip=None`` skips the
   IP check (the decision then holds for requests from the allowed ranges).
2. A request needs one permission group (any of the operation's accepted groups) on one
   resource. An explicit deny that covers (group, resource) refuses; else an allow that covers
   it grants; else the request is refused (implicit deny).
3. A group covers only resources of its own scope. User groups: ``com.cloudflare.api.user.<tag>``.
   Account groups: ``account.<id>`` or ``account.*``. Zone groups: ``account.zone.<id>``,
   ``account.zone.*``, or the nested "all zones of account A" form, which needs the zone's
   account (pass ``account=`` or a ``directory``).
4. A bare ``account.<id>: "*"`` key does **not** cover that account's zones for zone groups.
   Cloudflare does not document it; cftokens chooses "not covering" and the audit flags it.
5. When the zone's account is unknown, a nested allow cannot grant, and a nested deny that may
   cover refuses (fail closed).

Requests (:func:`evaluate_request`) pick their resource from the path: ``/zones/{id}/…`` acts
on the zone (zone groups on the zone, account groups on its account), ``/accounts/{id}/…`` on
the account, ``/user/…`` on the user. Where a path names no resource of a group's scope (e.g.
``GET /zones`` with "Zone Read", or ``/user/billing`` with the account group "Billing Read"),
the group counts when the token holds it on at least one resource that no deny removes.
User groups always apply to the token's own user.

Reasons are sentences a person can act on: ``"denied: policy 2 denies DNS Write on all zones
of account Acme Production"``, ``"denied: 198.51.100.4 is not in the token's allowed ranges
(203.0.113.0/24)"``.

The engine's inputs and answers (:class:`RequestTarget`, :class:`Decision`,
:class:`EffectiveGrant`) are :mod:`.types`'; a token's policies compiled for it,
:mod:`._compiled`'s.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from .._exports import export
from ..catalog import operations, permission_groups
from ..catalog.groups import PermissionGroup
from ..catalog.operations import Operation, OperationMatch, Target
from ..errors import ScopeMismatch
from ..model._util import aware, format_datetime
from ..model.condition import IPAddress
from ..model.directory import Directory
from ..model.resources import Resource, ResourceKind, Scope
from ..model.token import TokenStatus
from ._compiled import _atom_covers as _atom_covers
from ._compiled import _Compiled, _compiled
from .types import (
    Decision,
    EffectiveGrant,
    RequestTarget,
    ZoneAccounts,
)
from .types import Subject as Subject
from .types import check_subject as check_subject

__all__ = [
    "Decision",
    "EffectiveGrant",
    "RequestTarget",
    "ZoneAccounts",
    "check_token",
    "effective_grants",
    "evaluate",
    "evaluate_request",
]

# --------------------------------------------------------------------------------------------
# Token-level checks: status, validity window, client IP.
# --------------------------------------------------------------------------------------------


def _now(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    if at.tzinfo is None:
        return aware(at, "at")
    return at


def _token_refusal(
    subject: Subject, compiled: _Compiled, at: datetime | None, ip: str | IPAddress | None
) -> str | None:
    status = subject.status if subject.status is not None else TokenStatus.ACTIVE
    if status is TokenStatus.DISABLED:
        return "denied: the token is disabled; set its status to active to use it again"
    if status is TokenStatus.EXPIRED:
        return "denied: the token has expired; create a new one or extend expires_on"
    now = _now(at)
    if subject.not_before is not None and now < subject.not_before:
        return f"denied: the token is not valid before {format_datetime(subject.not_before)}"
    if subject.expires_on is not None and now >= subject.expires_on:
        return f"denied: the token expired on {format_datetime(subject.expires_on)}"
    if ip is not None:
        condition = compiled.condition
        if not condition.empty:
            ok, why = condition.check(ip)
            if not ok:
                return f"denied: {why}"
    return None


# --------------------------------------------------------------------------------------------
# Deciding one group on one target.
# --------------------------------------------------------------------------------------------


def _decide_group(
    compiled: _Compiled,
    group: PermissionGroup,
    target: RequestTarget,
    directory: Directory | None,
) -> Decision:
    scope = group.scope
    any_mode = (scope is Scope.ZONE and target.zone is None) or (
        scope is Scope.ACCOUNT and target.account is None
    )
    if any_mode:
        return _decide_anywhere(compiled, group, directory)
    for entry in compiled.deny.get(group.id, ()):
        covered = entry.covers(scope, target)
        if covered is None or covered:
            atom = entry.matching_atom(scope, target)
            where = atom.describe(directory) if atom is not None else "this resource"
            suffix = (
                " (the zone's account is unknown, so it may cover it; pass account=)"
                if covered is None
                else ""
            )
            return Decision(
                allowed=False,
                reason=f"denied: policy {entry.index} denies {group.name} on {where}{suffix}",
                policy=entry.policy,
                policy_index=entry.index,
                group=group,
                resource=atom,
            )
    unknown_account = False
    for entry in compiled.allow.get(group.id, ()):
        covered = entry.covers(scope, target)
        if covered:
            atom = entry.matching_atom(scope, target)
            where = atom.describe(directory) if atom is not None else "it"
            return Decision(
                allowed=True,
                reason=f"allowed: policy {entry.index} allows {group.name} on {where}",
                policy=entry.policy,
                policy_index=entry.index,
                group=group,
                resource=atom,
            )
        if covered is None:
            unknown_account = True
    return Decision(
        allowed=False,
        reason=_no_allow_reason(compiled, group, target, directory, unknown_account),
        group=group,
    )


def _no_allow_reason(
    compiled: _Compiled,
    group: PermissionGroup,
    target: RequestTarget,
    directory: Directory | None,
    unknown_account: bool,
) -> str:
    wanted = target.describe(group.scope, directory)
    base = f"denied: no policy allows {group.name} on {wanted}"
    entries = compiled.allow.get(group.id, ())
    if unknown_account:
        return base + (
            "; a policy grants it on all zones of an account, but the zone's account is "
            "unknown: pass account= or directory="
        )
    if not entries:
        return base + "; the token does not have this permission"
    elsewhere: list[str] = []
    bare_accounts: list[str] = []
    for entry in entries:
        for atom in entry.atoms:
            if atom.scope is group.scope:
                elsewhere.append(atom.describe(directory))
            elif group.scope is Scope.ZONE and atom.kind is ResourceKind.ACCOUNT:
                bare_accounts.append(atom.describe(directory))
    if bare_accounts:
        return base + (
            f"; policy names {', '.join(bare_accounts)}, but a zone permission on a bare "
            "account key does not cover the account's zones (use all zones of the account)"
        )
    if elsewhere:
        return base + f"; it has {group.name} only on {', '.join(dict.fromkeys(elsewhere))}"
    return base + f"; no policy names a {group.scope.label} resource for it"


def _superset(deny: Resource, allow: Resource) -> bool:
    """True when the deny atom removes every resource the allow atom names."""
    d, a = deny.kind, allow.kind
    if d is ResourceKind.ALL_ZONES:
        return a in (ResourceKind.ZONE, ResourceKind.ALL_ZONES_IN, ResourceKind.ALL_ZONES)
    if d is ResourceKind.ALL_ZONES_IN:
        if a is ResourceKind.ALL_ZONES_IN:
            return deny.account_id == allow.account_id
        return a is ResourceKind.ZONE and allow.account_id == deny.account_id
    if d is ResourceKind.ZONE:
        return (
            a is ResourceKind.ZONE
            and allow.id == deny.id
            and (deny.account_id is None or deny.account_id == allow.account_id)
        )
    if d is ResourceKind.ALL_ACCOUNTS:
        return a in (ResourceKind.ACCOUNT, ResourceKind.ALL_ACCOUNTS)
    if d is ResourceKind.ACCOUNT:
        return a is ResourceKind.ACCOUNT and allow.id == deny.id
    if d is ResourceKind.USER:
        return a is ResourceKind.USER and allow.id == deny.id
    if d is ResourceKind.R2_BUCKET:
        return a is ResourceKind.R2_BUCKET and (
            allow.account_id,
            allow.jurisdiction,
            allow.id,
        ) == (deny.account_id, deny.jurisdiction, deny.id)
    return False


def _overlaps(deny: Resource, allow: Resource, directory: ZoneAccounts | None = None) -> bool:
    """True when the deny atom removes some of what the allow atom names. A flat zone deny
    counts against "all zones of A" when the zone is in A, or when its account is unknown."""
    if _superset(deny, allow):
        return True
    d, a = deny.kind, allow.kind
    if a is ResourceKind.ALL_ZONES:
        return d in (ResourceKind.ZONE, ResourceKind.ALL_ZONES_IN)
    if a is ResourceKind.ALL_ZONES_IN:
        if d is ResourceKind.ZONE:
            account = deny.account_id
            if account is None and directory is not None:
                account = directory.zone_account(str(deny.id))
            return account in (None, allow.account_id)
        return d is ResourceKind.ALL_ZONES_IN and deny.account_id == allow.account_id
    if a is ResourceKind.ALL_ACCOUNTS:
        return d is ResourceKind.ACCOUNT
    if a is ResourceKind.ZONE and d is ResourceKind.ZONE:
        return allow.id == deny.id
    # A zone whose account is unknown may be removed by "all zones of" some account.
    return a is ResourceKind.ZONE and allow.account_id is None and d is ResourceKind.ALL_ZONES_IN


def _decide_anywhere(
    compiled: _Compiled, group: PermissionGroup, directory: Directory | None
) -> Decision:
    """A group asked about no particular resource: allowed if some grant survives the denies."""
    scope = group.scope
    denies = [
        (entry, atom, _placed(atom, directory))
        for entry in compiled.deny.get(group.id, ())
        for atom in entry.atoms
        if atom.scope is scope
    ]
    for entry in compiled.allow.get(group.id, ()):
        for atom in entry.atoms:
            if atom.scope is not scope:
                continue
            placed = _placed(atom, directory)
            if not any(_superset(d_placed, placed) for _, _, d_placed in denies):
                return Decision(
                    allowed=True,
                    reason=(
                        f"allowed: policy {entry.index} allows {group.name} on "
                        f"{atom.describe(directory)}"
                    ),
                    policy=entry.policy,
                    policy_index=entry.index,
                    group=group,
                    resource=atom,
                )
    if denies and compiled.allow.get(group.id):
        entry, atom, _ = denies[0]
        return Decision(
            allowed=False,
            reason=(
                f"denied: policy {entry.index} denies {group.name} on "
                f"{atom.describe(directory)}, removing every grant of it"
            ),
            policy=entry.policy,
            policy_index=entry.index,
            group=group,
            resource=atom,
        )
    return Decision(
        allowed=False,
        reason=f"denied: no policy allows {group.name} on any {scope.label}",
        group=group,
    )


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _candidates(permission: str) -> tuple[PermissionGroup, ...]:
    return tuple(permission_groups.lookup(permission))


def _resolve_group(
    permission: str | PermissionGroup, zone: str | None, account: str | None, user: str | None
) -> PermissionGroup:
    if isinstance(permission, PermissionGroup):
        return permission
    candidates = _candidates(permission)
    if len(candidates) == 1:
        return candidates[0]
    wanted = (
        Scope.ZONE
        if zone is not None
        else Scope.ACCOUNT
        if account is not None
        else Scope.USER
        if user is not None
        else None
    )
    for group in candidates:
        if group.scope is wanted:
            return group
    scopes = " and ".join(g.scope.label for g in candidates)
    raise ScopeMismatch(
        f"{candidates[0].name!r} exists for {scopes} resources; pass zone= or account= to say "
        "which one you mean"
    )


def _target(
    zone: str | None, account: str | None, user: str | None, directory: Directory | None
) -> RequestTarget:
    if zone is not None and directory is not None:
        found = directory.find_zone(zone)
        if found is not None:
            zone = found.id
            account = account or found.account.id
    if account is not None and directory is not None:
        found_account = directory.find_account(account)
        if found_account is not None:
            account = found_account.id
    return RequestTarget(zone=zone, account=account, user=user)


def evaluate(
    token: Subject,
    permission: str | PermissionGroup,
    *,
    zone: str | None = None,
    account: str | None = None,
    user: str | None = None,
    ip: str | IPAddress | None = None,
    at: datetime | None = None,
    directory: Directory | None = None,
    bucket: str | None = None,
    jurisdiction: str = "default",
) -> Decision:
    """May ``token`` use ``permission`` on a resource, from ``ip``, at time ``at``?

    ``permission``: a group name ("DNS Write", "DNS Edit"), id, or catalogue entry.
    The resource: ``zone`` (with ``account``, or a ``directory`` to find it, for nested
    grants), ``account`` for account groups, ``user`` for user groups (None: the token's own
    user). With a ``directory``, zones and accounts may be given by name. ``bucket`` (with
    ``account`` and ``jurisdiction``, default "default") for the R2 bucket-scoped groups.

    >>> import cftokens as cft
    >>> zid, other = "0" * 31 + "1", "0" * 31 + "2"
    >>> spec = cft.TokenSpec(name="dns", policies=[cft.Policy.allow(["DNS Write"], zones=[zid])])
    >>> cft.evaluate(spec, "DNS Write", zone=zid).allowed
    True
    >>> cft.evaluate(spec, "DNS Read", zone=zid).reason.split("; ")[1]
    'the token does not have this permission'
    """
    target = _target(zone, account, user, directory)
    if bucket is not None:
        target = RequestTarget(
            zone=target.zone,
            account=target.account,
            user=target.user,
            bucket=bucket,
            jurisdiction=jurisdiction,
        )
    group = _resolve_group(permission, target.zone, target.account, user)
    scope = group.scope
    if scope is Scope.ZONE and target.zone is None:
        raise ScopeMismatch(
            f"{group.name} is a zone permission; pass zone=<zone id> (and account= for grants "
            "on all zones of an account)"
        )
    if scope is Scope.ACCOUNT and target.account is None:
        raise ScopeMismatch(f"{group.name} is an account permission; pass account=<account id>")
    if scope is Scope.R2_BUCKET and (target.bucket is None or target.account is None):
        raise ScopeMismatch(
            f"{group.name} is an R2 bucket permission; pass bucket=<bucket name> and "
            "account=<account id> (and jurisdiction= when not default)"
        )
    compiled = _compiled(token)
    refusal = _token_refusal(token, compiled, at, ip)
    if refusal is not None:
        return Decision(allowed=False, reason=refusal, group=group)
    return _decide_group(compiled, group, target, directory)


def evaluate_request(
    token: Subject,
    method: str,
    path: str,
    *,
    zone_account: str | None = None,
    user: str | None = None,
    ip: str | IPAddress | None = None,
    at: datetime | None = None,
    directory: Directory | None = None,
    match: OperationMatch | None = None,
) -> Decision:
    """May ``token`` call ``METHOD path``? The operation's accepted groups, any one on the
    resource the path names (see the module docstring), after the token-level checks.

    ``zone_account`` is the account owning the path's zone (or give a ``directory``).
    Raises :class:`~cftokens.UnknownOperation` when no operation matches.
    """
    if match is None:
        match = operations.match(method, path)
    op = match.operation
    compiled = _compiled(token)
    refusal = _token_refusal(token, compiled, at, ip)
    if refusal is not None:
        return Decision(allowed=False, reason=refusal, operation=op)
    if not op.mapped:
        return Decision(
            allowed=False,
            reason=(
                f"denied: no permission group is known for {op} ({op.why_unmapped}), so "
                "cftokens cannot decide it"
            ),
            operation=op,
        )
    zone = match.zone_id
    account = match.account_id
    if zone is not None:
        account = zone_account or (directory.zone_account(zone) if directory else None)
    target = RequestTarget(zone=zone, account=account, user=user)
    refusals: list[Decision] = []
    for group in op.accepted_groups:
        if group.scope is Scope.R2_BUCKET:
            continue
        if group.scope is Scope.ZONE and op.target is Target.ACCOUNT:
            continue  # a zone group cannot act on an account path
        if group.id not in compiled.groups:
            continue
        if group.scope is Scope.ACCOUNT and op.target is Target.ZONE and account is None:
            continue  # needs the zone's account, which is unknown
        decision = _decide_group(compiled, group, target, directory)
        if decision.allowed:
            return Decision(
                allowed=True,
                reason=decision.reason,
                policy=decision.policy,
                policy_index=decision.policy_index,
                group=decision.group,
                resource=decision.resource,
                operation=op,
            )
        refusals.append(decision)
    explicit = [d for d in refusals if d.policy is not None]
    if explicit:
        first = explicit[0]
        return Decision(
            allowed=False,
            reason=first.reason,
            policy=first.policy,
            policy_index=first.policy_index,
            group=first.group,
            resource=first.resource,
            operation=op,
        )
    needed = _needed(op, target, directory)
    held = [d.reason.split("; ", 1)[1] for d in refusals if "; it has " in d.reason]
    extra = f"; {held[0]}" if held else ""
    return Decision(allowed=False, reason=f"denied: {op} needs {needed}{extra}", operation=op)


def check_token(
    token: Subject, *, at: datetime | None = None, ip: str | IPAddress | None = None
) -> Decision:
    """Only the token-level checks of :func:`evaluate`: status, validity window and (when
    ``ip`` is given) the client-IP condition. ``allowed`` when the token is usable at ``at``.

    The sandbox uses it to tell an unusable token (status or window: "Invalid access token")
    from one refused at this IP ("Cannot use the access token from location").
    """
    refusal = _token_refusal(token, _compiled(token), at, ip)
    if refusal is not None:
        return Decision(allowed=False, reason=refusal)
    return Decision(allowed=True, reason="allowed: the token is usable")


def _needed(op: Operation, target: RequestTarget, directory: Directory | None) -> str:
    """``one of DNS Read, DNS Write on zone example.com`` (grouped by the resource needed)."""
    by_place: dict[str, list[str]] = {}
    for group in op.accepted_groups:
        if group.scope is Scope.ZONE and op.target is Target.ACCOUNT:
            continue
        if group.scope is Scope.R2_BUCKET:
            continue
        place = target.describe(group.scope, directory)
        names = by_place.setdefault(place, [])
        if group.name not in names:
            names.append(group.name)
    parts = []
    for place, names in by_place.items():
        head = names[0] if len(names) == 1 else "one of " + ", ".join(names)
        parts.append(f"{head} on {place}")
    return " or ".join(parts) if parts else "a permission group the schema does not list"


def effective_grants(
    token: Subject, *, directory: ZoneAccounts | None = None
) -> tuple[EffectiveGrant, ...]:
    """E(T): every (group, resource atom) an allow grants that no deny removes entirely.

    Grants whose atom is of another scope than the group (a zone group on an account key)
    are not effective and are left out; denies that remove part of a grant are listed in
    ``narrowed_by``. A ``directory`` places zones in their accounts, as :func:`evaluate` does
    with ``account=``: a zone granted by id and denied through "all zones of its account" is
    then removed. Without one, such a deny may or may not apply, and is listed in
    ``narrowed_by`` (``evaluate`` without the zone's account refuses: fail closed).
    Token-level state (status, window, IPs) is not considered here.
    """
    compiled = _compiled(token)
    result: list[EffectiveGrant] = []
    for group_id, entries in compiled.allow.items():
        group = permission_groups.by_id(group_id)
        denies = [
            (d.index, atom, _placed(atom, directory))
            for d in compiled.deny.get(group_id, ())
            for atom in d.atoms
            if group is None or atom.scope is group.scope
        ]
        for entry in entries:
            for atom in entry.atoms:
                if group is None or atom.scope is not group.scope:
                    continue
                placed = _placed(atom, directory)
                if any(_superset(d_placed, placed) for _, _, d_placed in denies):
                    continue
                partial = tuple(
                    (i, d) for i, d, d_placed in denies if _overlaps(d_placed, placed, directory)
                )
                result.append(
                    EffectiveGrant(
                        group_id=group_id,
                        resource=atom,
                        policy_index=entry.index,
                        narrowed_by=partial,
                    )
                )
    return tuple(result)


def _placed(atom: Resource, directory: ZoneAccounts | None) -> Resource:
    """A zone given by id, with its account from the directory (for comparisons only)."""
    if atom.kind is ResourceKind.ZONE and atom.account_id is None and directory is not None:
        account = directory.zone_account(str(atom.id))
        if account is not None:
            return Resource(kind=ResourceKind.ZONE, id=atom.id, account_id=account)
    return atom


export(__name__)  # the exported classes report cftokens as their module
