"""A token's policies compiled for the engine: indexed by permission group id, computed once per
token or spec object and kept beside it (not on it: the model does not know the engine)."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Sequence
from typing import Any

from ..model.condition import Condition
from ..model.policy import Effect, Policy
from ..model.resources import Resource, ResourceKind, Scope
from .types import RequestTarget, Subject, check_subject

# --------------------------------------------------------------------------------------------
# Compilation: a token's policies indexed by group id, computed once per token object.
# --------------------------------------------------------------------------------------------


class _Entry:
    """One policy's resources, pre-split into sets for O(1) coverage checks."""

    __slots__ = (
        "account_ids",
        "all_accounts",
        "all_zones",
        "atoms",
        "buckets",
        "index",
        "nested_zone",
        "policy",
        "users",
        "zone_accounts",
        "zone_ids",
    )

    def __init__(self, index: int, policy: Policy):
        self.index = index
        self.policy = policy
        self.atoms = policy.resources
        zone_ids: set[str] = set()
        nested_zone: dict[str, set[str]] = {}
        zone_accounts: set[str] = set()
        account_ids: set[str] = set()
        users: set[str] = set()
        buckets: set[tuple[str | None, str | None, str | None]] = set()
        self.all_zones = False
        self.all_accounts = False
        for atom in policy.resources:
            kind = atom.kind
            if kind is ResourceKind.ZONE:
                if atom.account_id is None:
                    zone_ids.add(str(atom.id))
                else:
                    nested_zone.setdefault(str(atom.id), set()).add(atom.account_id)
            elif kind is ResourceKind.ALL_ZONES_IN:
                zone_accounts.add(str(atom.account_id))
            elif kind is ResourceKind.ALL_ZONES:
                self.all_zones = True
            elif kind is ResourceKind.ACCOUNT:
                account_ids.add(str(atom.id))
            elif kind is ResourceKind.ALL_ACCOUNTS:
                self.all_accounts = True
            elif kind is ResourceKind.USER:
                users.add(str(atom.id))
            elif kind is ResourceKind.R2_BUCKET:
                buckets.add((atom.account_id, atom.jurisdiction, atom.id))
        self.buckets = frozenset(buckets)
        self.zone_ids = frozenset(zone_ids)
        self.nested_zone = {k: frozenset(v) for k, v in nested_zone.items()}
        self.zone_accounts = frozenset(zone_accounts)
        self.account_ids = frozenset(account_ids)
        self.users = frozenset(users)

    def covers(self, scope: Scope, target: RequestTarget) -> bool | None:
        """True if this policy's resources cover the target for a group of ``scope``, False if
        not, None if it depends on the zone's account, which is unknown."""
        if scope is Scope.ZONE:
            zone = target.zone
            if zone is None:
                return False
            if self.all_zones or zone in self.zone_ids:
                return True
            account = target.account
            unknown = False
            nested = self.nested_zone.get(zone)
            if nested is not None:
                if account is None:
                    unknown = True
                elif account in nested:
                    return True
            if self.zone_accounts:
                if account is None:
                    unknown = True
                elif account in self.zone_accounts:
                    return True
            return None if unknown else False
        if scope is Scope.ACCOUNT:
            account = target.account
            if account is None:
                return False
            return self.all_accounts or account in self.account_ids
        if scope is Scope.USER:
            if not self.users:
                return False
            return target.user is None or target.user in self.users
        if scope is Scope.R2_BUCKET:
            return (target.account, target.jurisdiction, target.bucket) in self.buckets
        return False

    def matching_atom(self, scope: Scope, target: RequestTarget) -> Resource | None:
        """The atom that covers (or may cover) the target, for the reason sentence."""
        for atom in self.atoms:
            if atom.scope is not scope:
                continue
            if _atom_covers(atom, target) is not False:
                return atom
        return None

    def has_scope(self, scope: Scope) -> bool:
        """True if the policy names any resource of ``scope``."""
        if scope is Scope.ZONE:
            return bool(self.all_zones or self.zone_ids or self.nested_zone or self.zone_accounts)
        if scope is Scope.ACCOUNT:
            return self.all_accounts or bool(self.account_ids)
        if scope is Scope.USER:
            return bool(self.users)
        if scope is Scope.R2_BUCKET:
            return bool(self.buckets)
        return False


def _atom_covers(atom: Resource, target: RequestTarget) -> bool | None:
    kind = atom.kind
    if kind is ResourceKind.ALL_ZONES:
        return target.zone is not None
    if kind is ResourceKind.ZONE:
        if target.zone != atom.id:
            return False
        if atom.account_id is None:
            return True
        return None if target.account is None else target.account == atom.account_id
    if kind is ResourceKind.ALL_ZONES_IN:
        if target.zone is None:
            return False
        return None if target.account is None else target.account == atom.account_id
    if kind is ResourceKind.ALL_ACCOUNTS:
        return target.account is not None
    if kind is ResourceKind.ACCOUNT:
        return target.account == atom.id
    if kind is ResourceKind.USER:
        return target.user is None or target.user == atom.id
    if kind is ResourceKind.R2_BUCKET:
        return (target.account, target.jurisdiction, target.bucket) == (
            atom.account_id,
            atom.jurisdiction,
            atom.id,
        )
    return False


class _Compiled:
    __slots__ = ("allow", "condition", "deny", "groups")

    def __init__(self, policies: Sequence[Policy], condition: Condition):
        self.condition = condition
        allow: dict[str, list[_Entry]] = {}
        deny: dict[str, list[_Entry]] = {}
        for index, policy in enumerate(policies, start=1):
            entry = _Entry(index, policy)
            table = allow if policy.effect is Effect.ALLOW else deny
            for group_id in dict.fromkeys(policy.group_ids()):
                table.setdefault(group_id, []).append(entry)
        self.allow = allow
        self.deny = deny
        self.groups = frozenset(allow) | frozenset(deny)


# The compiled form of each token or spec lives here, beside it and not on it (the model does
# not know the policy engine): keyed by the subject's identity, checked through a weak
# reference (an id can be reused once its object is gone), dropped when the subject is collected.
_COMPILED: dict[int, tuple[weakref.ref[Any], _Compiled]] = {}


def _forget(key: int, ref: weakref.ref[Any]) -> None:
    entry = _COMPILED.get(key)
    if entry is not None and entry[0] is ref:
        _COMPILED.pop(key, None)


def _compiled(subject: Subject) -> _Compiled:
    key = id(subject)
    entry = _COMPILED.get(key)
    if entry is not None and entry[0]() is subject:
        return entry[1]
    check_subject(subject)
    compiled = _Compiled(subject.policies, subject.condition)
    _COMPILED[key] = (weakref.ref(subject, functools.partial(_forget, key)), compiled)
    return compiled
