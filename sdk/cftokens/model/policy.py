"""``Policy``: one allow or deny statement of a token (permission groups × resources)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from attrs import evolve, field, frozen

from .._shown import fields_shown
from ..catalog.groups import PermissionGroup, permission_groups
from ..errors import InvalidInput, ScopeMismatch
from ._util import (
    NO_EXTRA,
    FrozenDict,
    assembler,
    frozen_extra,
    group_id,
    remember,
    require_mapping,
    split_known,
)
from .resources import Names, Resource, ResourceKind, Scope

__all__ = ["Effect", "PermissionGroupRef", "Policy"]


class Effect(enum.StrEnum):
    """Whether a policy grants (``allow``) or removes (``deny``) access."""

    ALLOW = "allow"
    DENY = "deny"


@frozen(kw_only=True, field_transformer=fields_shown)
class PermissionGroupRef:
    """A permission group as a token's policy names it: ``id`` and the ``name`` the API showed.

    ``meta`` and other keys the API returns are kept in ``extra`` for the round trip. Use
    :meth:`resolve` to get the catalogue entry (scope, description, level).
    """

    id: str = field(converter=group_id)
    name: str | None = None
    extra: FrozenDict = field(factory=FrozenDict, converter=frozen_extra, repr=False)

    _KNOWN = frozenset({"id", "name"})

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> PermissionGroupRef:
        """Read ``{"id": …, "name": …, "meta": …}``."""
        payload = require_mapping(payload, "a permission group")
        name = payload.get("name")
        ident = payload.get("id")
        # the common form, {"id": …, "name": …} with strings: read once per listing (memo)
        key: tuple[str, str | None] | None = None
        if type(ident) is str and (name is None or type(name) is str) and cls is PermissionGroupRef:
            key = (ident, name)
            if cls._KNOWN.issuperset(payload):
                known = _GROUP_REFS.get(key)
                if known is not None:
                    return known
        extra = split_known(payload, cls._KNOWN)
        ref = _assemble_group_ref(
            id=group_id(ident),
            name=name if isinstance(name, str) else None,
            extra=extra,
        )
        if key is not None and extra is NO_EXTRA:
            remember(_GROUP_REFS, key, ref)
        return ref

    def to_api(self) -> dict[str, Any]:
        """The wire form (``id``, plus ``name`` and any kept keys)."""
        result: dict[str, Any] = {"id": self.id}
        if self.name is not None:
            result["name"] = self.name
        result.update(self.extra.thaw())
        return result

    def resolve(self) -> PermissionGroup | None:
        """The catalogue's entry for this id, or None when the catalogue does not know it."""
        return permission_groups.by_id(self.id)

    @property
    def label(self) -> str:
        """The catalogue name, else the name the API gave, else the id."""
        group = self.resolve()
        if group is not None:
            return group.name
        return self.name or self.id

    @classmethod
    def of(cls, group: PermissionGroup) -> PermissionGroupRef:
        """A reference to a catalogue entry."""
        return cls(id=group.id, name=group.name)


def _groups(values: Iterable[PermissionGroupRef]) -> tuple[PermissionGroupRef, ...]:
    return tuple(values)


def _resources(values: Iterable[Resource]) -> tuple[Resource, ...]:
    return tuple(values)


@frozen(kw_only=True, field_transformer=fields_shown)
class Policy:
    """One policy: an ``effect``, the permission groups it names, the resources it names.

    Build with :meth:`allow` or :meth:`deny`, which resolve group names through the catalogue
    and refuse a group whose scope fits none of the resources::

        Policy.allow(["DNS Write"], zones=[zone_id])
        Policy.deny(["DNS Write"], all_zones_of=production_account_id)

    ``id`` is the server's policy id (None on policies not yet sent).
    """

    effect: Effect = field(converter=Effect)
    permission_groups: tuple[PermissionGroupRef, ...] = field(converter=_groups)
    resources: tuple[Resource, ...] = field(converter=_resources)
    id: str | None = None
    extra: FrozenDict = field(factory=FrozenDict, converter=frozen_extra, repr=False)

    _KNOWN = frozenset({"id", "effect", "permission_groups", "resources"})

    def __attrs_post_init__(self) -> None:
        _check_keys(self.resources)

    # -- building -----------------------------------------------------------------------
    @classmethod
    def allow(
        cls,
        groups: str | PermissionGroup | Iterable[str | PermissionGroup],
        *,
        zones: Iterable[str] = (),
        accounts: Iterable[str] = (),
        all_zones_of: str | Iterable[str] = (),
        all_zones: bool = False,
        all_accounts: bool = False,
        user: str | None = None,
    ) -> Policy:
        """An allow policy. ``groups``: names (``"DNS Write"``, ``"DNS Edit"``), ids or
        catalogue entries. Resources: zone ids, account ids, ``all_zones_of`` account ids,
        the wildcards, and/or the ``user`` tag. Each group must fit some chosen resource."""
        return cls._build(
            Effect.ALLOW, groups, zones, accounts, all_zones_of, all_zones, all_accounts, user
        )

    @classmethod
    def deny(
        cls,
        groups: str | PermissionGroup | Iterable[str | PermissionGroup],
        *,
        zones: Iterable[str] = (),
        accounts: Iterable[str] = (),
        all_zones_of: str | Iterable[str] = (),
        all_zones: bool = False,
        all_accounts: bool = False,
        user: str | None = None,
    ) -> Policy:
        """A deny policy (same arguments as :meth:`allow`): removes access an allow gives."""
        return cls._build(
            Effect.DENY, groups, zones, accounts, all_zones_of, all_zones, all_accounts, user
        )

    @classmethod
    def _build(
        cls,
        effect: Effect,
        groups: str | PermissionGroup | Iterable[str | PermissionGroup],
        zones: Iterable[str],
        accounts: Iterable[str],
        all_zones_of: str | Iterable[str],
        all_zones: bool,
        all_accounts: bool,
        user: str | None,
    ) -> Policy:
        if isinstance(groups, str | PermissionGroup):
            groups = [groups]
        zones = [zones] if isinstance(zones, str) else list(zones)
        accounts = [accounts] if isinstance(accounts, str) else list(accounts)
        nested = [all_zones_of] if isinstance(all_zones_of, str) else list(all_zones_of)
        atoms: list[Resource] = []
        atoms += [Resource.zone(z) for z in zones]
        atoms += [Resource.all_zones_of(a) for a in nested]
        if all_zones:
            atoms.append(Resource.all_zones())
        atoms += [Resource.account(a) for a in accounts]
        if all_accounts:
            atoms.append(Resource.all_accounts())
        if user is not None:
            atoms.append(Resource.user(user))
        if not atoms:
            raise InvalidInput(
                "a policy needs at least one resource: pass zones=, accounts=, all_zones_of=, "
                "all_zones=True, all_accounts=True or user="
            )
        scopes = {a.scope for a in atoms}
        resolved: list[PermissionGroup] = []
        for item in groups:
            if isinstance(item, PermissionGroup):
                resolved.append(item)
                continue
            candidates = permission_groups.lookup(item)
            fitting = [g for g in candidates if g.scope in scopes]
            if not fitting:
                where = ", ".join(sorted(a.describe() for a in atoms))
                kinds = " or ".join(sorted({g.scope.label for g in candidates}))
                raise ScopeMismatch(
                    f"{candidates[0].name} is a {kinds} permission and cannot apply to {where}; "
                    f"choose {kinds} resources for it (for example "
                    f"{_example_argument(candidates[0].scope)}) or put it in another policy"
                )
            resolved.append(fitting[0])
        if not resolved:
            raise InvalidInput("a policy needs at least one permission group")
        for group in resolved:
            if group.scope not in scopes:
                where = ", ".join(sorted(a.describe() for a in atoms))
                raise ScopeMismatch(
                    f"{group.name} is a {group.scope.label} permission and cannot apply to "
                    f"{where}; choose {group.scope.label} resources for it "
                    f"(for example {_example_argument(group.scope)})"
                )
        unique = list(dict.fromkeys(resolved))
        return cls(
            effect=effect,
            permission_groups=[PermissionGroupRef.of(g) for g in unique],
            resources=list(dict.fromkeys(atoms)),
        )

    # -- reading ------------------------------------------------------------------------
    @property
    def allows(self) -> bool:
        """True for an allow policy."""
        return self.effect is Effect.ALLOW

    def group_ids(self) -> tuple[str, ...]:
        """The permission-group ids, in order."""
        return tuple(g.id for g in self.permission_groups)

    def with_resources(self, resources: Sequence[Resource]) -> Policy:
        """A copy with other resources (the policy id is dropped: it is a new policy)."""
        return evolve(self, resources=tuple(resources), id=None)

    def describe(self, directory: Names | None = None) -> str:
        """One sentence: ``allows DNS Write on zone example.com``."""
        verb = "allows" if self.allows else "denies"
        groups = ", ".join(g.label for g in self.permission_groups) or "no permission group"
        where = _join(r.describe(directory) for r in self.resources) or "no resource"
        return f"{verb} {groups} on {where}"

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> Policy:
        """Read one policy of a token payload; unknown keys are kept."""
        payload = require_mapping(payload, "a policy")
        effect = payload.get("effect")
        if effect not in ("allow", "deny"):
            raise InvalidInput(f'a policy\'s effect must be "allow" or "deny", got {effect!r}')
        groups = payload.get("permission_groups")
        if not isinstance(groups, list):
            raise InvalidInput("a policy's permission_groups must be a list of {id: …} objects")
        resources = payload.get("resources")
        if resources is None:
            resources = {}
        policy_id = payload.get("id")
        refs = tuple([PermissionGroupRef.from_api(g) for g in groups])
        key = _resources_key(resources)
        atoms = _RESOURCES.get(key) if key is not None else None
        if atoms is None:
            atoms = Resource.from_api(resources)
            _check_keys(atoms)
            if key is not None:
                remember(_RESOURCES, key, atoms)
        extra = split_known(payload, cls._KNOWN)
        # checked and converted above: assembled without the converters (see Token.from_api)
        return _assemble_policy(
            effect=Effect.ALLOW if effect == "allow" else Effect.DENY,
            permission_groups=refs,
            resources=atoms,
            id=policy_id if isinstance(policy_id, str) else None,
            extra=extra,
        )

    def to_api(self) -> dict[str, Any]:
        """The wire form: ``{"id"?, "effect", "permission_groups", "resources"}``."""
        result: dict[str, Any] = {}
        if self.id is not None:
            result["id"] = self.id
        result["effect"] = self.effect.value
        result["permission_groups"] = [g.to_api() for g in self.permission_groups]
        result["resources"] = Resource.to_api(self.resources)
        result.update(self.extra.thaw())
        return result


_assemble_group_ref = assembler(PermissionGroupRef)
_assemble_policy = assembler(Policy)

# What readers built from repeated wire values (see ``_util.remember``).
_GROUP_REFS: dict[tuple[str, str | None], PermissionGroupRef] = {}
_RESOURCES: dict[
    tuple[tuple[str, str | tuple[tuple[str, str], ...]], ...], tuple[Resource, ...]
] = {}


def _resources_key(
    resources: object,
) -> tuple[tuple[str, str | tuple[tuple[str, str], ...]], ...] | None:
    """A memo key for a policy's ``resources`` map made only of strings (flat, or nested one
    level, in wire order), or None for any other map (read every time)."""
    if type(resources) is not dict:
        return None
    key: list[tuple[str, str | tuple[tuple[str, str], ...]]] = []
    for outer, value in resources.items():
        if type(outer) is not str:
            return None
        if type(value) is str:
            key.append((outer, value))
        elif type(value) is dict:
            inner = tuple(value.items())
            if not all(type(k) is str and type(v) is str for k, v in inner):
                return None
            key.append((outer, inner))
        else:
            return None
    return tuple(key)


def _check_keys(resources: Sequence[Resource]) -> None:
    """Refuse a policy naming one account both flat and with zones nested under it."""
    if len(resources) < 2:
        return
    flat: set[str] = set()
    nested: set[str] = set()
    for atom in resources:
        is_nested = atom.kind is ResourceKind.ALL_ZONES_IN or (
            atom.kind is ResourceKind.ZONE and atom.account_id is not None
        )
        (nested if is_nested else flat).add(atom.wire_key)
    clash = flat & nested
    if clash:
        key = sorted(clash)[0]
        raise InvalidInput(
            f"one policy cannot name {key} both as an account and as zones nested under it "
            "(the wire format has one value per key); put them in separate policies"
        )


def _example_argument(scope: Scope) -> str:
    return {
        Scope.ZONE: "zones=[zone_id] or all_zones_of=account_id",
        Scope.ACCOUNT: "accounts=[account_id]",
        Scope.USER: "user=user_tag",
        Scope.R2_BUCKET: "an R2 bucket resource",
    }[scope]


def _join(parts: Iterable[str]) -> str:
    items = list(parts)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
