"""The policy engine's inputs and answers: what it evaluates (a token or a spec), what a
request acts on, a decision and an effective grant."""

from __future__ import annotations

from typing import Protocol

from attrs import frozen

from ..catalog.groups import PermissionGroup
from ..catalog.operations import Operation
from ..errors import InvalidInput
from ..model.directory import Directory
from ..model.policy import Policy
from ..model.resources import Resource, Scope, r2_label
from ..model.token import Token, TokenSpec

__all__ = [
    "Decision",
    "EffectiveGrant",
    "RequestTarget",
    "Subject",
    "ZoneAccounts",
    "check_subject",
]

Subject = Token | TokenSpec


class ZoneAccounts(Protocol):
    """Anything that tells a zone's account: a :class:`~cftokens.Directory`, or a light
    lookup built from one (the audit's columnar inventory)."""

    def zone_account(self, zone_id: str) -> str | None:
        """The account id owning ``zone_id``, or None when unknown."""


@frozen(kw_only=True)
class Decision:
    """The answer: ``allowed``, a ``reason`` sentence, and what decided it.

    ``policy``/``policy_index`` (1-based) name the policy that allowed or denied (None for an
    implicit deny or a token-level refusal), ``group`` the permission group, ``resource`` the
    matching atom, ``operation`` the API operation for :func:`evaluate_request`.
    ``bool(decision)`` is ``decision.allowed``.
    """

    allowed: bool
    reason: str
    policy: Policy | None = None
    policy_index: int | None = None
    group: PermissionGroup | None = None
    resource: Resource | None = None
    operation: Operation | None = None

    def __bool__(self) -> bool:
        return self.allowed


@frozen(kw_only=True)
class RequestTarget:
    """What a request acts on: a zone (and its account), an account, and/or the user.

    ``zone`` without ``account`` means the zone's account is unknown.
    """

    zone: str | None = None
    account: str | None = None
    user: str | None = None
    bucket: str | None = None
    jurisdiction: str = "default"

    def describe(self, scope: Scope, directory: Directory | None) -> str:
        """The resource a group of ``scope`` would need, in words."""
        if scope is Scope.R2_BUCKET and self.bucket is not None:
            return r2_label(
                self.bucket, self.jurisdiction, _label(directory, "account", str(self.account))
            )
        if scope is Scope.ZONE and self.zone is not None:
            return f"zone {_label(directory, 'zone', self.zone)}"
        if scope is Scope.ACCOUNT and self.account is not None:
            return f"account {_label(directory, 'account', self.account)}"
        if scope is Scope.USER:
            return "the user"
        return f"any {scope.label}"


@frozen(kw_only=True)
class EffectiveGrant:
    """One (group, resource) pair a token really grants: an allow not wholly removed by a deny.

    ``policy_index`` is the allowing policy (1-based); ``narrowed_by`` lists deny atoms that
    remove part of a wildcard (e.g. one zone of "all zones of account A").
    """

    group_id: str
    resource: Resource
    policy_index: int
    narrowed_by: tuple[tuple[int, Resource], ...] = ()


def _label(directory: Directory | None, kind: str, ident: str) -> str:
    if directory is not None:
        name = directory.label(kind, ident)
        if name:
            return name
    return ident


def check_subject(value: object) -> Subject:
    """Raise a clear error when something other than a Token or TokenSpec is evaluated."""
    if not isinstance(value, Token | TokenSpec):
        raise InvalidInput(
            f"evaluate() takes a Token or TokenSpec, got {type(value).__name__}; "
            "use Token.from_api(payload) for API dicts"
        )
    return value
