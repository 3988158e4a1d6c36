"""What a member's role allows, written as a token so the policy engine can evaluate it.

A token never has more rights than its owner: a user-owned token is bounded by its user's
roles, an account-owned token by its account, and a Global API Key *is* its user's rights. The
sandbox builds that bound (the *ceiling*) as a :class:`~cftokens.Token` and asks
:func:`cftokens.policy.evaluate_request` about it, like about any token:

- Super Administrator: every account and zone permission group on the account and all its zones.
- Administrator: the same except membership management and billing (Account Settings Write,
  SCIM Provisioning, Billing Read, Billing Write), as Cloudflare describes the role.
- Administrator Read Only: the read-level groups, except Billing Read.
- Every user holds every user-scope group on their own user (profile, own tokens).
"""

from __future__ import annotations

import functools

from ..catalog import permission_groups
from ..catalog.groups import Level, PermissionGroup
from ..model.policy import Effect, PermissionGroupRef, Policy
from ..model.resources import Resource, Scope
from ..model.token import Token
from .store import Role

__all__ = ["account_ceiling", "role_allows", "role_groups", "user_ceiling"]

_ADMIN_EXCLUDED = frozenset(
    {"Account Settings Write", "SCIM Provisioning", "Billing Read", "Billing Write"}
)
_READ_ONLY_EXCLUDED = frozenset({"Billing Read"})


def role_allows(role: Role, group: PermissionGroup) -> bool:
    """True when a member with ``role`` may use (and grant) ``group`` in the account."""
    if group.scope is Scope.USER:
        return True
    if role is Role.SUPER_ADMIN:
        return True
    if role is Role.ADMIN:
        return group.name not in _ADMIN_EXCLUDED
    return group.level is Level.READ and group.name not in _READ_ONLY_EXCLUDED


@functools.lru_cache(maxsize=16)
def role_groups(role: Role, scope: Scope) -> tuple[PermissionGroupRef, ...]:
    """The groups of one scope a role allows, as references for a policy."""
    return tuple(
        PermissionGroupRef(id=g.id, name=g.name)
        for g in permission_groups
        if g.scope is scope and role_allows(role, g)
    )


@functools.lru_cache(maxsize=1)
def _user_groups() -> tuple[PermissionGroupRef, ...]:
    return tuple(
        PermissionGroupRef(id=g.id, name=g.name) for g in permission_groups.in_scope("user")
    )


def _policy(groups: tuple[PermissionGroupRef, ...], resource: Resource) -> Policy:
    return Policy(effect=Effect.ALLOW, permission_groups=groups, resources=(resource,))


def user_ceiling(user_id: str, memberships: list[tuple[str, Role]]) -> Token:
    """Everything a user may do: their roles on their accounts, and their own user."""
    policies = [_policy(_user_groups(), Resource.user(user_id))]
    for account_id, role in memberships:
        policies.append(_policy(role_groups(role, Scope.ACCOUNT), Resource.account(account_id)))
        policies.append(_policy(role_groups(role, Scope.ZONE), Resource.all_zones_of(account_id)))
    return Token(id=user_id, name="rights of the user", policies=policies)


def account_ceiling(account_id: str) -> Token:
    """Everything an account-owned token may ever do: its own account and the account's zones."""
    policies = [
        _policy(role_groups(Role.SUPER_ADMIN, Scope.ACCOUNT), Resource.account(account_id)),
        _policy(role_groups(Role.SUPER_ADMIN, Scope.ZONE), Resource.all_zones_of(account_id)),
    ]
    return Token(id=account_id, name="rights of the account", policies=policies)
