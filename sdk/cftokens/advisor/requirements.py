"""Step 2 of an advice: each resolved request becomes a *requirement*, the (permission group,
resource) grants any one of which lets the policy engine allow it.

A zone path is met by a zone group on that zone or by an account group on the zone's account
(known only with a directory); an account path only by an account group on that account (zone
groups never apply to account paths); user groups on the user; a path naming no resource
(``GET /zones``) by the group on any zone or account the intents touch. When nothing can meet
a request, the reason says what to pass or change.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

from attrs import define, field

from ..catalog.groups import PermissionGroup
from ..catalog.operations import Target
from ..errors import InvalidInput
from ..model.directory import Directory
from ..model.resources import Resource, Scope
from .intents import Intent, Unmapped

__all__ = ["Element", "GroupOnResource", "requirements_of"]

Element = tuple[str, Resource]  # (permission group id, resource atom)
GroupOnResource = tuple[PermissionGroup, Resource]


class _Context:
    """What the requirement builder needs to know about the token being designed."""

    def __init__(
        self,
        *,
        owner: str,
        owner_account: str | None,
        user: str | None,
        zones: Sequence[str],
        accounts: Sequence[str],
        directory: Directory | None,
        allow_broad_scope: bool,
    ):
        self.owner = owner
        self.owner_account = owner_account
        self.user = user
        self.zones = list(dict.fromkeys(zones))
        self.accounts = list(dict.fromkeys(accounts))
        self.directory = directory
        self.allow_broad_scope = allow_broad_scope


@functools.lru_cache(maxsize=65536)
def _zone_atom(zone_id: str) -> Resource:
    return Resource.zone(zone_id)


@functools.lru_cache(maxsize=65536)
def _account_atom(account_id: str) -> Resource:
    return Resource.account(account_id)


def _names(groups: Iterable[PermissionGroup]) -> str:
    return ", ".join(dict.fromkeys(g.name for g in groups))


@define
class _Misses:
    """Why the groups an intent accepts gave no grant, collected group by group."""

    skipped_user: list[PermissionGroup] = field(factory=list)
    missing_user: list[PermissionGroup] = field(factory=list)
    needs_account: list[PermissionGroup] = field(factory=list)
    anywhere: list[PermissionGroup] = field(factory=list)
    zone_on_account: list[PermissionGroup] = field(factory=list)
    wrong_account: bool = False


def _options(intent: Intent, ctx: _Context) -> tuple[frozenset[Element], str]:
    """The grants any one of which allows the intent; when none, the reason why."""
    options: set[Element] = set()
    misses = _Misses()
    for group in intent.groups:
        options.update(_group_options(group, intent, ctx, misses))
    if options:
        return frozenset(options), ""
    return frozenset(), _refusal(intent, ctx, misses)


def _group_options(
    group: PermissionGroup, intent: Intent, ctx: _Context, misses: _Misses
) -> Iterable[Element]:
    """The grants of one accepted group that allow the intent (none: ``misses`` says why)."""
    scope = group.scope
    if scope is Scope.R2_BUCKET:
        return ()
    if scope is Scope.USER:
        return _user_options(group, ctx, misses)
    if intent.target is Target.ZONE:
        return _zone_path_options(group, intent, ctx, misses)
    if intent.target is Target.ACCOUNT:
        return _account_path_options(group, intent, ctx, misses)
    return _pathless_options(group, ctx, misses)


def _user_options(group: PermissionGroup, ctx: _Context, misses: _Misses) -> Iterable[Element]:
    if ctx.owner == "account":
        misses.skipped_user.append(group)
    elif ctx.user is None:
        misses.missing_user.append(group)
    else:
        return ((group.id, Resource.user(ctx.user)),)
    return ()


def _zone_path_options(
    group: PermissionGroup, intent: Intent, ctx: _Context, misses: _Misses
) -> Iterable[Element]:
    zone = intent.zone_id
    assert zone is not None
    account = intent.account_id
    if ctx.owner == "account" and account is not None and account != ctx.owner_account:
        misses.wrong_account = True
        return ()
    if group.scope is Scope.ZONE:
        return ((group.id, _zone_atom(zone)),)
    if account is not None:
        return ((group.id, _account_atom(account)),)
    misses.needs_account.append(group)
    return ()


def _account_path_options(
    group: PermissionGroup, intent: Intent, ctx: _Context, misses: _Misses
) -> Iterable[Element]:
    account = intent.account_id
    assert account is not None
    if group.scope is not Scope.ACCOUNT:
        misses.zone_on_account.append(group)  # zone groups never apply to account paths
        return ()
    if ctx.owner == "account" and account != ctx.owner_account:
        misses.wrong_account = True
        return ()
    return ((group.id, _account_atom(account)),)


def _pathless_options(group: PermissionGroup, ctx: _Context, misses: _Misses) -> Iterable[Element]:
    """A path naming no zone or account: the group on any resource of its scope."""
    account_token = ctx.owner == "account"
    if group.scope is Scope.ZONE:
        if ctx.zones:
            return [(group.id, _zone_atom(z)) for z in ctx.zones]
        if ctx.allow_broad_scope:
            if account_token and ctx.owner_account is not None:
                return ((group.id, Resource.all_zones_of(ctx.owner_account)),)
            return ((group.id, Resource.all_zones()),)
        misses.anywhere.append(group)
    elif group.scope is Scope.ACCOUNT:
        if ctx.accounts:
            return [(group.id, _account_atom(a)) for a in ctx.accounts]
        if ctx.allow_broad_scope and not account_token:
            return ((group.id, Resource.all_accounts()),)
        misses.anywhere.append(group)
    return ()


def _refusal(intent: Intent, ctx: _Context, misses: _Misses) -> str:
    """Why no grant allows the intent, and what to pass or change."""
    reasons: list[str] = []
    if misses.wrong_account:
        reasons.append(
            f"it acts on another account than {_label(ctx, 'account', ctx.owner_account)}, the "
            "only account an account-owned token can reach; use owner='user' or a token per account"
        )
    if misses.skipped_user:
        reasons.append(
            f"it needs a user-scoped group ({_names(misses.skipped_user)}), which account-owned "
            "tokens cannot hold; use owner='user'"
        )
    if misses.missing_user:
        reasons.append(
            f"it needs {_names(misses.missing_user)} on your user: pass user=<your user tag> "
            "(client.user.get().id)"
        )
    if misses.needs_account:
        reasons.append(
            f"it accepts only account-scoped groups ({_names(misses.needs_account)}) granted on "
            "the zone's account, which is unknown: pass directory= so the zone's account is known"
        )
    if misses.zone_on_account:
        reasons.append(
            f"it lists only zone-scoped groups ({_names(misses.zone_on_account)}), and a zone "
            "group never applies to an account path; map it in an overrides file if Cloudflare "
            "documents an account group for it"
        )
    if misses.anywhere:
        kinds = sorted({g.scope.label for g in misses.anywhere})
        reasons.append(
            f"it needs {_names(misses.anywhere)} on at least one {' or '.join(kinds)} and no "
            f"intent names one: pass {'zone' if 'zone' in kinds else 'account'}= (or "
            "allow_broad_scope=True to grant it on all of them)"
        )
    if not reasons:
        reasons.append(
            f"none of the groups it accepts ({_names(intent.groups) or 'none'}) can be granted "
            "for this path"
        )
    return "; ".join(reasons)


def _with_request(intent: Intent, why: str) -> str:
    """``why``, led by the concrete request when the intent was written otherwise (a
    template, an operationId, a client method)."""
    return why if intent.text == intent.request else f"{intent.request}: {why}"


def _label(ctx: _Context, kind: str, ident: str | None) -> str:
    if ident is None:
        return "its account"
    if ctx.directory is not None:
        name = ctx.directory.label(kind, ident)
        if name:
            return f"{name} ({ident})"
    return ident


def requirements_of(
    resolved: Sequence[Intent], ctx: _Context, unmapped: list[Unmapped]
) -> tuple[list[frozenset[Element]], list[Intent], list[Intent]]:
    """``(requirements, needing, free)``: the options of each intent that needs a grant, those
    intents, and the intents any valid token may call. Intents nothing can meet go to
    ``unmapped`` with the reason; when no intent is left, :class:`~cftokens.InvalidInput`."""
    requirements: list[frozenset[Element]] = []
    needing: list[Intent] = []
    free: list[Intent] = []
    for intent in resolved:
        if intent.source == "free":
            free.append(intent)
            continue
        opts, why = _options(intent, ctx)
        if not opts:
            unmapped.append(Unmapped(intent=intent.text, reason=_with_request(intent, why)))
            continue
        requirements.append(opts)
        needing.append(intent)
    if not requirements:
        reasons = "; ".join(str(u) for u in unmapped) or "every intent is callable by any token"
        raise InvalidInput(f"no intent needs or could get a permission group: {reasons}")
    return requirements, needing, free
