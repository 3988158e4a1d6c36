"""Accounts, zones and the user: the names behind the ids, and zone → account lookups."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol, TypeAlias

from attrs import field, frozen

from .._shown import field_repr
from ..errors import InvalidInput
from ._util import (
    FrozenDict,
    account_id,
    assembler,
    format_datetime,
    frozen_extra,
    parse_datetime,
    require_mapping,
    split_known,
    user_id,
    zone_id,
)

__all__ = [
    "Account",
    "AccountRef",
    "Directory",
    "DirectorySource",
    "HasDirectory",
    "User",
    "Zone",
]


@frozen(kw_only=True)
class Account:
    """A Cloudflare account (``GET /accounts``)."""

    id: str = field(converter=account_id)
    name: str = field(repr=field_repr)
    type: str | None = None
    created_on: datetime | None = None
    extra: FrozenDict = field(factory=FrozenDict, converter=frozen_extra, repr=False)

    _KNOWN = frozenset({"id", "name", "type", "created_on"})

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> Account:
        """Read an account object."""
        payload = require_mapping(payload, "an account")
        return cls(
            id=payload.get("id"),
            name=str(payload.get("name", "")),
            type=payload.get("type"),
            created_on=parse_datetime(payload.get("created_on"), "account created_on"),
            extra=split_known(payload, cls._KNOWN),
        )

    def to_api(self) -> dict[str, Any]:
        """The wire form."""
        result: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.type is not None:
            result["type"] = self.type
        if self.created_on is not None:
            result["created_on"] = format_datetime(self.created_on)
        result.update(self.extra.thaw())
        return result


@frozen(kw_only=True)
class AccountRef:
    """The ``account`` object embedded in a zone: ``id`` and ``name``."""

    id: str = field(converter=account_id)
    name: str | None = field(default=None, repr=field_repr)

    def to_api(self) -> dict[str, Any]:
        """The wire form."""
        return {"id": self.id, "name": self.name} if self.name is not None else {"id": self.id}


@frozen(kw_only=True)
class Zone:
    """A zone (``GET /zones``): id, name (the domain), status and its owning account."""

    id: str = field(converter=zone_id)
    name: str = field(repr=field_repr)
    status: str | None = None
    account: AccountRef
    extra: FrozenDict = field(factory=FrozenDict, converter=frozen_extra, repr=False)

    _KNOWN = frozenset({"id", "name", "status", "account"})

    @property
    def account_id(self) -> str:
        """The owning account's id."""
        return self.account.id

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> Zone:
        """Read a zone object (its ``account`` must carry an id)."""
        payload = require_mapping(payload, "a zone")
        account = payload.get("account")
        if not isinstance(account, Mapping) or "id" not in account:
            raise InvalidInput(
                f"zone {payload.get('name', payload.get('id'))!r} has no account id; "
                "a zone object must carry account.id"
            )
        # every value checked and converted here, in the order __init__ would (the account's
        # id, then the zone's), so the zone is assembled without running the converters a
        # second time: an MSP's directory reads tens of thousands of zones
        name = str(payload.get("name", ""))
        ref = _assemble_ref(id=account_id(account["id"]), name=account.get("name"))
        extra = split_known(payload, cls._KNOWN)
        return _assemble_zone(
            id=zone_id(payload.get("id")),
            name=name,
            status=payload.get("status"),
            account=ref,
            extra=extra,
        )

    def to_api(self) -> dict[str, Any]:
        """The wire form."""
        result: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.status is not None:
            result["status"] = self.status
        result["account"] = self.account.to_api()
        result.update(self.extra.thaw())
        return result


_assemble_ref = assembler(AccountRef)
_assemble_zone = assembler(Zone)


@frozen(kw_only=True)
class User:
    """The user behind a token (``GET /user``). ``id`` is the user tag used in resource keys."""

    id: str = field(converter=user_id)
    email: str | None = field(default=None, repr=field_repr)
    first_name: str | None = field(default=None, repr=field_repr)
    last_name: str | None = field(default=None, repr=field_repr)
    extra: FrozenDict = field(factory=FrozenDict, converter=frozen_extra, repr=False)

    _KNOWN = frozenset({"id", "email", "first_name", "last_name"})

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> User:
        """Read a user object."""
        payload = require_mapping(payload, "a user")
        return cls(
            id=payload.get("id"),
            email=payload.get("email"),
            first_name=payload.get("first_name"),
            last_name=payload.get("last_name"),
            extra=split_known(payload, cls._KNOWN),
        )

    def to_api(self) -> dict[str, Any]:
        """The wire form."""
        result: dict[str, Any] = {"id": self.id}
        for key in ("email", "first_name", "last_name"):
            value = getattr(self, key)
            if value is not None:
                result[key] = value
        result.update(self.extra.thaw())
        return result


def _accounts(values: Iterable[Account]) -> tuple[Account, ...]:
    return tuple(values)


def _zones(values: Iterable[Zone]) -> tuple[Zone, ...]:
    return tuple(values)


@frozen(kw_only=True)
class Directory:
    """The accounts and zones a token can see, for names and zone → account lookups.

    >>> d = Directory(accounts=[...], zones=[...])            # doctest: +SKIP
    >>> d.zone("example.com").id, d.zone_account(zone_id)      # doctest: +SKIP
    """

    accounts: tuple[Account, ...] = field(default=(), converter=_accounts)
    zones: tuple[Zone, ...] = field(default=(), converter=_zones)
    _account_index: dict[str, Account] = field(init=False, eq=False, repr=False, hash=False)
    _zone_index: dict[str, Zone] = field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        accounts: dict[str, Account] = {}
        for account in self.accounts:
            accounts[account.id] = account
            accounts.setdefault(account.name.lower(), account)
        zones: dict[str, Zone] = {}
        for zone in self.zones:
            zones[zone.id] = zone
            zones.setdefault(zone.name.lower(), zone)
        object.__setattr__(self, "_account_index", accounts)
        object.__setattr__(self, "_zone_index", zones)

    @classmethod
    def from_api(
        cls, *, accounts: Iterable[Mapping[str, Any]] = (), zones: Iterable[Mapping[str, Any]] = ()
    ) -> Directory:
        """Build from API account and zone objects."""
        return cls(
            accounts=[Account.from_api(a) for a in accounts],
            zones=[Zone.from_api(z) for z in zones],
        )

    def account(self, id_or_name: str) -> Account:
        """The account with this id or (case-insensitive) name."""
        found = self.find_account(id_or_name)
        if found is None:
            names = ", ".join(sorted(a.name for a in self.accounts)) or "none"
            raise InvalidInput(f"no account {id_or_name!r} in the directory; known: {names}")
        return found

    def find_account(self, id_or_name: str) -> Account | None:
        """Like :meth:`account` but None when unknown."""
        return self._account_index.get(id_or_name) or self._account_index.get(id_or_name.lower())

    def zone(self, id_or_name: str) -> Zone:
        """The zone with this id or (case-insensitive) domain name."""
        found = self.find_zone(id_or_name)
        if found is None:
            names = ", ".join(sorted(z.name for z in self.zones)[:20]) or "none"
            raise InvalidInput(f"no zone {id_or_name!r} in the directory; known: {names}")
        return found

    def find_zone(self, id_or_name: str) -> Zone | None:
        """Like :meth:`zone` but None when unknown."""
        return self._zone_index.get(id_or_name) or self._zone_index.get(id_or_name.lower())

    def zone_account(self, zone_id: str) -> str | None:
        """The account id owning a zone, or None when the zone is unknown."""
        zone = self.find_zone(zone_id)
        return zone.account.id if zone is not None else None

    def zones_of(self, account_id: str) -> tuple[Zone, ...]:
        """The zones of one account."""
        return tuple(z for z in self.zones if z.account.id == account_id)

    def label(self, kind: str, ident: str) -> str | None:
        """The name of an ``account`` or ``zone`` id, or None when unknown."""
        if kind == "account":
            account = self._account_index.get(ident)
            return account.name if account is not None else None
        if kind == "zone":
            zone = self._zone_index.get(ident)
            return zone.name if zone is not None else None
        return None

    def __iter__(self) -> Iterator[Account | Zone]:
        yield from self.accounts
        yield from self.zones

    def __len__(self) -> int:
        return len(self.accounts) + len(self.zones)


class HasDirectory(Protocol):
    """What lists its own directory: a sync :class:`~cftokens.Client` or a
    :class:`~cftokens.Sandbox` (``directory=client``: its accounts and zones are listed)."""

    def directory(self) -> Directory: ...


#: What a ``directory=`` parameter takes: a :class:`Directory`, or a client or sandbox to list
#: one from (:class:`HasDirectory`).
DirectorySource: TypeAlias = "Directory | HasDirectory"
