"""Resource scopes of a policy: the atoms a policy's ``resources`` map is made of.

On the wire a policy's resources are a map from resource keys to ``"*"``, flat or nested::

    # one zone
    {"com.cloudflare.api.account.zone.22b1de5f1c0e4b3ea97bb1e963b06a43": "*"}
    # all zones of account A
    {"com.cloudflare.api.account.eb78d65290b24279ba6f44721b3ea3c4":
        {"com.cloudflare.api.account.zone.*": "*"}}

:class:`Resource` is one atom of such a map. ``Resource.from_api(map)`` returns the atoms and
``Resource.to_api(atoms)`` rebuilds the map, so a round trip keeps flat and nested forms.
Keys cftokens does not understand are kept verbatim as ``UNPARSED`` atoms (they cover nothing).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from attrs import field, frozen

from .._ids import Scope, is_id
from .._shown import field_repr
from ..errors import InvalidInput
from ._util import FrozenDict, assembler

__all__ = ["Resource", "ResourceKind", "Scope"]

USER_PREFIX = "com.cloudflare.api.user."
ACCOUNT_PREFIX = "com.cloudflare.api.account."
ZONE_PREFIX = "com.cloudflare.api.account.zone."
ALL_ACCOUNTS_KEY = "com.cloudflare.api.account.*"
ALL_ZONES_KEY = "com.cloudflare.api.account.zone.*"
# R2 bucket keys: com.cloudflare.edge.r2.bucket.<account id>_<jurisdiction>_<bucket name> (the
# form Cloudflare's dashboard writes for bucket-scoped R2 tokens; jurisdiction "default", "eu",
# "fedramp"; bucket names are lower-case letters, digits and hyphens, so "_" separates).
R2_BUCKET_PREFIX = "com.cloudflare.edge.r2.bucket."
_R2_KEY = re.compile(r"([0-9a-f]{32})_([a-z0-9]+)_([a-z0-9][a-z0-9-]{1,61}[a-z0-9])")


class ResourceKind(enum.StrEnum):
    """The kinds of resource atom (the audit catalogue's notation in brackets)."""

    USER = "user"  # USER(u)
    ACCOUNT = "account"  # ACCOUNT(a)
    ALL_ACCOUNTS = "all_accounts"  # ALL_ACCOUNTS
    ZONE = "zone"  # ZONE(z)
    ALL_ZONES_IN = "all_zones_in"  # ALL_ZONES_IN(a)
    ALL_ZONES = "all_zones"  # ALL_ZONES
    UNPARSED = "unparsed"  # UNPARSED(key)
    R2_BUCKET = "r2_bucket"  # BUCKET(a, j, b): one R2 bucket of account a, jurisdiction j

    @property
    def scope(self) -> Scope | None:
        """The permission-group scope this kind of resource belongs to."""
        return _KIND_SCOPE.get(self)

    @property
    def wildcard(self) -> bool:
        """True for kinds that name every resource of a set rather than one resource."""
        return self in (
            ResourceKind.ALL_ACCOUNTS,
            ResourceKind.ALL_ZONES_IN,
            ResourceKind.ALL_ZONES,
        )


_WILDCARDS = frozenset(
    {ResourceKind.ALL_ACCOUNTS, ResourceKind.ALL_ZONES_IN, ResourceKind.ALL_ZONES}
)
_KIND_SCOPE = {
    ResourceKind.USER: Scope.USER,
    ResourceKind.ACCOUNT: Scope.ACCOUNT,
    ResourceKind.ALL_ACCOUNTS: Scope.ACCOUNT,
    ResourceKind.ZONE: Scope.ZONE,
    ResourceKind.ALL_ZONES_IN: Scope.ZONE,
    ResourceKind.ALL_ZONES: Scope.ZONE,
    ResourceKind.R2_BUCKET: Scope.R2_BUCKET,
}


def _freeze_value(value: Any) -> Any:
    return FrozenDict(value) if isinstance(value, Mapping) else value


class Names(Protocol):
    """What names resources in descriptions: a :class:`~cftokens.Directory` (its ``label``)."""

    def label(self, kind: str, ident: str) -> str | None:
        """The name of an ``account`` or ``zone`` id, or None when unknown."""
        ...


@frozen(kw_only=True)
class Resource:
    """One resource atom of a policy.

    ``id`` is the user tag, account id or zone id (None for wildcards); ``account_id`` is the
    enclosing account for nested forms (``ALL_ZONES_IN`` always, ``ZONE`` when written nested);
    ``key``/``value`` keep an ``UNPARSED`` entry verbatim. An ``R2_BUCKET`` atom has the
    bucket's name as ``id``, its ``account_id`` and ``jurisdiction``. Build atoms with the
    class methods.
    """

    kind: ResourceKind
    id: str | None = field(default=None, repr=field_repr)
    account_id: str | None = field(default=None, repr=field_repr)
    key: str | None = field(default=None, repr=field_repr)
    value: Any = field(default="*", converter=_freeze_value, repr=field_repr)
    jurisdiction: str | None = field(default=None, repr=False)

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def user(cls, user_tag: str) -> Resource:
        """The user with this tag (``com.cloudflare.api.user.<tag>``)."""
        return _assemble(cls, kind=ResourceKind.USER, id=_check(user_tag, "user tag"))

    @classmethod
    def account(cls, account_id: str) -> Resource:
        """One account (``com.cloudflare.api.account.<id>``)."""
        return _assemble(cls, kind=ResourceKind.ACCOUNT, id=_check(account_id, "account id"))

    @classmethod
    def all_accounts(cls) -> Resource:
        """Every account the user can reach (``com.cloudflare.api.account.*``)."""
        return _assemble(cls, kind=ResourceKind.ALL_ACCOUNTS)

    @classmethod
    def zone(cls, zone_id: str, *, account_id: str | None = None) -> Resource:
        """One zone; with ``account_id`` it is written nested under that account."""
        return _assemble(
            cls,
            kind=ResourceKind.ZONE,
            id=_check(zone_id, "zone id"),
            account_id=None if account_id is None else _check(account_id, "account id"),
        )

    @classmethod
    def all_zones_of(cls, account_id: str) -> Resource:
        """Every zone of one account (the nested form)."""
        return _assemble(
            cls, kind=ResourceKind.ALL_ZONES_IN, account_id=_check(account_id, "account id")
        )

    @classmethod
    def all_zones(cls) -> Resource:
        """Every zone of every account (``com.cloudflare.api.account.zone.*``)."""
        return _assemble(cls, kind=ResourceKind.ALL_ZONES)

    @classmethod
    def r2_bucket(cls, account_id: str, bucket: str, jurisdiction: str = "default") -> Resource:
        """One R2 bucket (``com.cloudflare.edge.r2.bucket.<account>_<jurisdiction>_<bucket>``),
        for the bucket-scoped groups (Workers R2 Storage Bucket Item Read/Write)."""
        key = f"{_check(account_id, 'account id')}_{jurisdiction}_{bucket}"
        if not _R2_KEY.fullmatch(key):
            raise InvalidInput(
                f"R2 bucket {bucket!r} (jurisdiction {jurisdiction!r}) is not a valid bucket: "
                "names are 3-63 lower-case letters, digits and hyphens"
            )
        return cls(
            kind=ResourceKind.R2_BUCKET, id=bucket, account_id=account_id, jurisdiction=jurisdiction
        )

    @classmethod
    def unparsed(cls, key: str, value: Any = "*") -> Resource:
        """A resource key cftokens does not understand, kept verbatim; it covers nothing."""
        return cls(kind=ResourceKind.UNPARSED, key=key, value=value)

    # -- properties ---------------------------------------------------------------------
    @property
    def scope(self) -> Scope | None:
        """The scope a permission group needs to apply to this atom (None if unparsed)."""
        return self.kind.scope

    @property
    def wildcard(self) -> bool:
        """True for ALL_ACCOUNTS, ALL_ZONES_IN and ALL_ZONES."""
        return self.kind.wildcard

    @property
    def wire_key(self) -> str:
        """The flat resource key (for nested forms, the outer account key)."""
        kind = self.kind
        if kind is ResourceKind.USER:
            return USER_PREFIX + str(self.id)
        if kind is ResourceKind.ACCOUNT:
            return ACCOUNT_PREFIX + str(self.id)
        if kind is ResourceKind.ALL_ACCOUNTS:
            return ALL_ACCOUNTS_KEY
        if kind is ResourceKind.ALL_ZONES:
            return ALL_ZONES_KEY
        if kind is ResourceKind.ALL_ZONES_IN:
            return ACCOUNT_PREFIX + str(self.account_id)
        if kind is ResourceKind.ZONE:
            if self.account_id is not None:
                return ACCOUNT_PREFIX + self.account_id
            return ZONE_PREFIX + str(self.id)
        if kind is ResourceKind.R2_BUCKET:
            return f"{R2_BUCKET_PREFIX}{self.account_id}_{self.jurisdiction}_{self.id}"
        return str(self.key)

    def describe(self, directory: Names | None = None) -> str:
        """Plain English, with names from a :class:`~cftokens.Directory` when given."""
        kind = self.kind
        if kind is ResourceKind.USER:
            return "the user"
        if kind is ResourceKind.ALL_ACCOUNTS:
            return "all accounts"
        if kind is ResourceKind.ALL_ZONES:
            return "all zones of all accounts"
        if kind is ResourceKind.ACCOUNT:
            return f"account {_name(directory, 'account', self.id)}"
        if kind is ResourceKind.ALL_ZONES_IN:
            return f"all zones of account {_name(directory, 'account', self.account_id)}"
        if kind is ResourceKind.ZONE:
            return f"zone {_name(directory, 'zone', self.id)}"
        if kind is ResourceKind.R2_BUCKET:
            return r2_label(
                str(self.id), self.jurisdiction, _name(directory, "account", self.account_id)
            )
        return f"the unrecognised resource {self.key!r}"

    def __str__(self) -> str:
        return self.describe()

    # -- wire format --------------------------------------------------------------------
    @classmethod
    def from_api(cls, resources: Mapping[str, Any]) -> tuple[Resource, ...]:
        """Parse a policy's ``resources`` map (flat or nested) into atoms, in wire order."""
        if type(resources) is not dict and not isinstance(resources, Mapping):
            raise InvalidInput(
                "a policy's resources must be a JSON object mapping resource keys to '*', "
                f"got {type(resources).__name__}"
            )
        atoms: list[Resource] = []
        for key, value in resources.items():
            if not isinstance(key, str):
                atoms.append(cls.unparsed(str(key), value))
            elif type(value) is dict or isinstance(value, Mapping):
                atoms.extend(_parse_nested(key, value))
            else:
                atoms.append(_parse_flat(key, value))
        return tuple(atoms)

    @staticmethod
    def to_api(atoms: Iterable[Resource]) -> dict[str, Any]:
        """Build the wire ``resources`` map; nested atoms are grouped under their account."""
        result: dict[str, Any] = {}
        for atom in atoms:
            kind = atom.kind
            nested_inner: str | None = None
            if kind is ResourceKind.ALL_ZONES_IN:
                nested_inner = ALL_ZONES_KEY
            elif kind is ResourceKind.ZONE and atom.account_id is not None:
                nested_inner = ZONE_PREFIX + str(atom.id)
            elif kind is ResourceKind.UNPARSED and isinstance(atom.value, Mapping):
                outer = result.setdefault(str(atom.key), {})
                if isinstance(outer, dict):
                    outer.update(
                        atom.value.thaw() if isinstance(atom.value, FrozenDict) else atom.value
                    )
                continue
            if nested_inner is not None:
                outer = result.setdefault(atom.wire_key, {})
                if isinstance(outer, dict):
                    outer[nested_inner] = atom.value
                continue
            result[atom.wire_key] = atom.value
        return result


def _assemble(cls: type[Resource], **values: Any) -> Resource:
    # The constructors above check every value; the only converter (``value``) has nothing
    # to freeze in them ("*"). Subclasses go through their own __init__.
    return _assemble_resource(**values) if cls is Resource else cls(**values)


_assemble_resource = assembler(Resource)


def _check(value: str, what: str) -> str:
    if not is_id(value):
        raise InvalidInput(
            f"{what} must be 32 lower-case hex characters, got {value!r}; "
            "copy it from the dashboard's overview page or from the API"
        )
    return value


def r2_label(bucket: str, jurisdiction: str | None, account: str) -> str:
    """``R2 bucket logs (jurisdiction eu) of account Acme``: a bucket shown by its name."""
    where = f" (jurisdiction {jurisdiction})" if jurisdiction not in (None, "default") else ""
    return f"R2 bucket {bucket}{where} of account {account}"


def parse_r2_key(key: str) -> tuple[str, str, str] | None:
    """(account id, jurisdiction, bucket) of an R2 bucket key, or None if it is not one."""
    if not key.startswith(R2_BUCKET_PREFIX):
        return None
    found = _R2_KEY.fullmatch(key[len(R2_BUCKET_PREFIX) :])
    if found is None:
        return None
    return found.group(1), found.group(2), found.group(3)


def _parse_flat(key: str, value: Any) -> Resource:
    if value != "*":
        return Resource.unparsed(key, value)
    r2 = parse_r2_key(key)
    if r2 is not None:
        return Resource.r2_bucket(r2[0], r2[2], r2[1])
    if key == ALL_ACCOUNTS_KEY:
        return Resource.all_accounts()
    if key == ALL_ZONES_KEY:
        return Resource.all_zones()
    if key.startswith(ZONE_PREFIX):
        tail = key[len(ZONE_PREFIX) :]
        return Resource.zone(tail) if is_id(tail) else Resource.unparsed(key, value)
    if key.startswith(ACCOUNT_PREFIX):
        tail = key[len(ACCOUNT_PREFIX) :]
        return Resource.account(tail) if is_id(tail) else Resource.unparsed(key, value)
    if key.startswith(USER_PREFIX):
        tail = key[len(USER_PREFIX) :]
        return Resource.user(tail) if is_id(tail) else Resource.unparsed(key, value)
    return Resource.unparsed(key, value)


def _parse_nested(key: str, inner: Mapping[str, Any]) -> list[Resource]:
    tail = key[len(ACCOUNT_PREFIX) :] if key.startswith(ACCOUNT_PREFIX) else ""
    if len(inner) == 1 and inner.get(ALL_ZONES_KEY) == "*" and is_id(tail):
        # the common form, all zones of one account, read directly
        return [_assemble_resource(kind=ResourceKind.ALL_ZONES_IN, account_id=tail)]
    understood = (
        is_id(tail)
        and bool(inner)
        and all(v == "*" and k.startswith(ZONE_PREFIX) for k, v in inner.items())
    )
    if not understood:
        return [Resource.unparsed(key, dict(inner))]
    atoms: list[Resource] = []
    for inner_key in inner:
        if inner_key == ALL_ZONES_KEY:
            atoms.append(Resource.all_zones_of(tail))
        else:
            zone_id = inner_key[len(ZONE_PREFIX) :]
            if not is_id(zone_id):
                return [Resource.unparsed(key, dict(inner))]
            atoms.append(Resource.zone(zone_id, account_id=tail))
    return atoms


def _name(directory: Names | None, kind: str, ident: str | None) -> str:
    if directory is not None and ident is not None:
        label: str | None = directory.label(kind, ident)
        if label:
            return label
    return str(ident)
