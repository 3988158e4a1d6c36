"""The vocabulary the demo company is declared in: one frozen definition per account, zone,
user and token, with symbolic policies and usage history (:mod:`.company` holds the
definitions, :mod:`.builder` turns them into sandbox state)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attrs import field, frozen

from ..store import Role

__all__ = [
    "AccountDef",
    "PolicyDef",
    "TokenDef",
    "Usage",
    "UserDef",
    "ZoneDef",
    "allow",
    "deny",
]


@frozen(kw_only=True)
class AccountDef:
    """An account: a key used in the other definitions, its name, its age."""

    key: str
    name: str
    created_days_ago: int


@frozen(kw_only=True)
class ZoneDef:
    """A zone of an account (by key), with a few DNS records."""

    name: str
    account: str
    plan: str = "free"
    created_days_ago: int = 900
    records: tuple[tuple[str, str, str], ...] = ()  # (type, name, content)


@frozen(kw_only=True)
class UserDef:
    """A user and their roles (account key -> role)."""

    key: str
    email: str
    first_name: str
    last_name: str
    roles: dict[str, Role]
    created_days_ago: int = 1200


@frozen(kw_only=True)
class PolicyDef:
    """One policy, symbolically.

    ``groups``: names (``"DNS Write"``, ``"Logs Read@account"`` for a scope), or
    ``"id:<32 hex>=<name>"`` to store an exact id and name (unknown or renamed groups).
    ``resources``: ``"user"`` (the owner), ``"user:<key>"``, ``"account:<key>"``,
    ``"zones_of:<key>"``, ``"zone:<name>"``, ``"all_accounts"``, ``"all_zones"``,
    ``"missing_zone"`` (an id no zone has) or ``"raw:<key>"`` (stored verbatim).
    """

    groups: tuple[str, ...]
    resources: tuple[str, ...]
    effect: str = "allow"


def allow(groups: Sequence[str], *resources: str) -> PolicyDef:
    """An allow policy definition."""
    return PolicyDef(groups=tuple(groups), resources=resources)


def deny(groups: Sequence[str], *resources: str) -> PolicyDef:
    """A deny policy definition."""
    return PolicyDef(groups=tuple(groups), resources=resources, effect="deny")


@frozen(kw_only=True)
class Usage:
    """Journal history for a token: ``ops`` ("METHOD /path") spread over ``days`` days.

    Path placeholders: ``{zone}`` (one of ``zones``), ``{account}`` (one of ``accounts``),
    ``{record}``, ``{script}``, ``{tunnel}``, ``{token:<name>}`` (another demo token's id).
    ``per_day`` requests a day on average; ``on_days`` gives exact days ago instead.
    """

    ops: tuple[str, ...]
    zones: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    days: int = 30
    per_day: float = 2.0
    on_days: tuple[int, ...] = ()
    ips: tuple[str, ...] = ("203.0.113.10",)
    agents: tuple[str, ...] = ("curl/8.4.0",)
    status: int = 200


def _rules(value: str | Sequence[str]) -> tuple[str, ...]:
    return tuple(value.split()) if isinstance(value, str) else tuple(value)


@frozen(kw_only=True)
class TokenDef:
    """One demo token. ``owner``: ``"user:<key>"`` or ``"account:<key>"``.

    Days are relative to now: ``issued`` days ago, ``expires``/``not_before`` days ahead
    (negative: in the past), ``last_used`` days ago (default: the latest usage, or never).
    ``check=False`` stores the policies as written (unknown groups, unparsed keys, …).
    ``rules`` lists the audit rules the token trips (space-separated ids, e.g. "PE-01 LC-01"):
    the planted ones first; documentation and tests read it.
    """

    name: str
    owner: str
    policies: tuple[PolicyDef, ...]
    issued: int
    allow_ips: tuple[str, ...] = ()
    deny_ips: tuple[str, ...] = ()
    expires: int | None = None
    not_before: int | None = None
    modified: int | None = None
    rolled: int | None = None
    last_used: int | None = None
    status: str = "active"
    usage: tuple[Usage, ...] = ()
    legacy_secret: bool = False
    check: bool = True
    bootstrap: bool = False
    rules: tuple[str, ...] = field(default=(), converter=_rules)
    extra: dict[str, Any] = field(factory=dict)
