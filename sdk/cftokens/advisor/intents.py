"""Intents: what a service needs to do, turned into concrete API requests.

An intent is any of:

- ``"METHOD /path/template"``: ``"POST /zones/{zone_id}/dns_records"``. The zone and account
  placeholders (whatever their name, in ``/zones/{…}`` and ``/accounts/{…}``) are bound from
  the ``zone=``/``account=`` arguments, once per zone or account given; other placeholders
  (``{dns_record_id}``) stay as they are.
- a concrete path: ``"PUT /zones/023e…/dns_records/372e…"``; with a directory, a zone or
  account *name* may stand for its id (``"GET /zones/example.com/dns_records"``).
- an operationId from Cloudflare's schema: ``"dns-records-for-a-zone-create-dns-record"``.
- a client method: ``client.dns_records.create`` (see :mod:`cftokens.advisor.clientmap`).
- an :class:`~cftokens.Operation`, an :class:`~cftokens.OperationMatch` or a
  ``(method, path)`` tuple.

Intents the catalogue cannot map are reported (:class:`Unmapped`), never guessed. An
*overrides* file maps them: a JSON or YAML object from ``"METHOD /path/template"`` or an
operationId to the permission groups any one of which allows it::

    {"GET /zones/{zone_id}/brand_new_endpoint": ["Zone Read"],
     "some-operation-id": ["DNS Read", "DNS Write"]}
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias

from attrs import field, frozen

from .._doc import load_document
from .._shown import text_repr
from ..catalog import operations, permission_groups
from ..catalog.groups import PermissionGroup
from ..catalog.operations import Operation, OperationMatch, Target, normalise_path
from ..errors import InvalidInput, UnknownPermissionGroup, describe, shown
from ..model._util import is_id
from ..model.directory import Directory
from .clientmap import describe_method, intent_of_method

__all__ = [
    "FREE_OPERATIONS",
    "Intent",
    "IntentKind",
    "IntentLike",
    "Overrides",
    "Unmapped",
    "resolve_intents",
]

#: One intent: ``"METHOD /path"`` (a template or a concrete path), a ``("METHOD", "/path")``
#: pair, an operationId, an :class:`~cftokens.Operation` or
#: :class:`~cftokens.OperationMatch`, or a bound client method (``client.dns_records.create``).
IntentLike: TypeAlias = "str | tuple[str, str] | Operation | OperationMatch | Callable[..., object]"

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_PLACEHOLDER = re.compile(r"\{[^}]*\}")
_WORD = re.compile(r"[A-Za-z0-9_.-]+")

# Operations any valid token may call without a permission group (Cloudflare's schema names
# none): a token verifying itself, and listing the accounts it can reach (the answer shows only
# those; the sandbox authorises both by authentication alone).
FREE_OPERATIONS = frozenset(
    {
        ("GET", "/user/tokens/verify"),
        ("GET", "/accounts/{account_id}/tokens/verify"),
        ("GET", "/accounts"),
    }
)


class IntentKind(enum.StrEnum):
    """How an intent was written."""

    TEMPLATE = "template"
    PATH = "path"
    OPERATION_ID = "operation_id"
    CLIENT_METHOD = "client_method"
    OPERATION = "operation"


def _groups(values: Iterable[PermissionGroup]) -> tuple[PermissionGroup, ...]:
    return tuple(values)


@frozen(kw_only=True)
class Intent:
    """One intent resolved to a concrete request.

    ``text`` is the intent as the caller wrote it; ``method``/``path`` the request (zone and
    account bound); ``operation`` the catalogue's operation (None when only an override maps
    it); ``zone_id``/``account_id`` the resource the path names (for a zone, ``account_id`` is
    the zone's account when a directory knows it); ``groups`` the permission groups any one of
    which allows it; ``source`` says where they come from: ``catalogue``, ``override`` or
    ``free`` (any valid token may call it).
    """

    text: str
    kind: IntentKind
    method: str
    path: str
    operation: Operation | None
    target: Target
    zone_id: str | None = None
    account_id: str | None = None
    groups: tuple[PermissionGroup, ...] = field(default=(), converter=_groups)
    source: str = "catalogue"

    @property
    def request(self) -> str:
        """``METHOD /concrete/path``."""
        return f"{self.method} {self.path}"

    @property
    def operation_id(self) -> str | None:
        """The operationId, when the catalogue knows the operation."""
        return self.operation.operation_id if self.operation is not None else None

    def __str__(self) -> str:
        return self.request


@frozen(kw_only=True)
class Unmapped:
    """An intent the advice does not cover, and why (``reason`` says what to do)."""

    intent: str
    reason: str

    @text_repr
    def __str__(self) -> str:
        return f"{self.intent}: {self.reason}"


# ---------------------------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------------------------


@frozen(kw_only=True)
class _OverrideRule:
    key: str
    method: str | None
    segments: tuple[str | None, ...] | None  # None for a placeholder segment
    operation_id: str | None
    groups: tuple[PermissionGroup, ...]


class Overrides:
    """Caller-supplied permission groups for intents the catalogue does not map (or maps
    differently). Build with :meth:`load` from a path, JSON/YAML text or a mapping."""

    def __init__(self, rules: Sequence[_OverrideRule] = ()):
        self._rules = tuple(rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __repr__(self) -> str:
        return f"<Overrides of {len(self._rules)} intents>"

    @classmethod
    def load(cls, source: str | Path | Mapping[str, Any] | Overrides | None) -> Overrides:
        """Read overrides from a ``.json``/``.yaml``/``.yml`` file, a mapping, or None."""
        if source is None:
            return cls()
        if isinstance(source, Overrides):
            return source
        if isinstance(source, Mapping):
            return cls.from_mapping(source, origin="the overrides mapping")
        path = Path(source)
        if not path.exists():
            raise InvalidInput(
                f"overrides file {shown(str(path))} does not exist; give a JSON or YAML file "
                "mapping 'METHOD /path/template' (or an operationId) to a list of permission "
                "groups"
            )
        data = load_document(path, what="overrides file")
        if not isinstance(data, Mapping):
            raise InvalidInput(
                f"overrides file {path.name} must hold an object mapping intents to lists of "
                f"permission groups, not a {type(data).__name__}"
            )
        return cls.from_mapping(data, origin=f"overrides file {path.name}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, origin: str) -> Overrides:
        """Build from ``{"METHOD /path" or operationId: [group, …]}``."""
        inner = data.get("overrides") if isinstance(data.get("overrides"), Mapping) else None
        if inner is not None:
            data = inner
        rules: list[_OverrideRule] = []
        for key, value in data.items():
            if not isinstance(key, str) or not key.strip():
                raise InvalidInput(f"{origin}: every key must be 'METHOD /path' or an operationId")
            label = shown(key, limit=80)
            names = [value] if isinstance(value, str) else value
            if not isinstance(names, list) or not names:
                raise InvalidInput(
                    f"{origin}: {label} must map to a non-empty list of permission group names, "
                    f"got {describe(value)}"
                )
            groups: list[PermissionGroup] = []
            for j, name in enumerate(names):
                if not isinstance(name, str):
                    # Checked before anything formats it: a YAML alias bomb is billions of items.
                    raise InvalidInput(
                        f"{origin}: {label}[{j}] must be a permission group name (text), got "
                        f"{describe(name)}"
                    )
                try:
                    groups.extend(permission_groups.lookup(name))
                except UnknownPermissionGroup as exc:
                    raise InvalidInput(f"{origin}: {label}: {exc}") from None
            text = key.strip()
            parts = text.split(None, 1)
            if len(parts) == 2 and parts[0].upper() in METHODS:
                path = normalise_path(parts[1])
                segments = tuple(
                    None if _PLACEHOLDER.fullmatch(s) else s for s in path.split("/") if s
                )
                rules.append(
                    _OverrideRule(
                        key=text,
                        method=parts[0].upper(),
                        segments=segments,
                        operation_id=None,
                        groups=tuple(dict.fromkeys(groups)),
                    )
                )
            elif len(parts) == 1:
                rules.append(
                    _OverrideRule(
                        key=text,
                        method=None,
                        segments=None,
                        operation_id=text,
                        groups=tuple(dict.fromkeys(groups)),
                    )
                )
            else:
                raise InvalidInput(
                    f"{origin}: {label} is neither 'METHOD /path' (METHOD one of "
                    f"{', '.join(METHODS)}) nor an operationId"
                )
        return cls(rules)

    def find(
        self, method: str, path: str, operation_id: str | None
    ) -> tuple[str, tuple[PermissionGroup, ...]] | None:
        """The (key, groups) of the first rule matching a request, or None."""
        segments = [s for s in path.split("/") if s]
        for rule in self._rules:
            if rule.operation_id is not None:
                if rule.operation_id == operation_id:
                    return rule.key, rule.groups
                continue
            if rule.method != method or rule.segments is None:
                continue
            if len(rule.segments) != len(segments):
                continue
            if all(r is None or r == s for r, s in zip(rule.segments, segments, strict=True)):
                return rule.key, rule.groups
        return None


# ---------------------------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------------------------


def _target_of_path(path: str) -> tuple[Target, str | None, str | None]:
    segments = [s for s in path.split("/") if s]
    if len(segments) > 1 and segments[0] == "zones":
        return Target.ZONE, segments[1], None
    if len(segments) > 1 and segments[0] == "accounts":
        return Target.ACCOUNT, None, segments[1]
    if segments and segments[0] == "user":
        return Target.USER, None, None
    return Target.NONE, None, None


def _display(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, tuple) and len(value) == 2:
        return f"{value[0]} {value[1]}"
    if isinstance(value, Operation):
        return str(value)
    if isinstance(value, OperationMatch):
        return f"{value.method} {value.path}"
    if callable(value):
        try:
            return describe_method(value)
        except InvalidInput:
            qualname = getattr(getattr(value, "__func__", value), "__qualname__", None)
            return str(qualname or type(value).__name__)
    return repr(value)


class _Resolver:
    def __init__(
        self,
        zones: Sequence[str],
        accounts: Sequence[str],
        directory: Directory | None,
        overrides: Overrides,
    ):
        self.zones = list(zones)
        self.accounts = list(accounts)
        self.directory = directory
        self.overrides = overrides
        self.resolved: list[Intent] = []
        self.unmapped: list[Unmapped] = []

    def add(self, raw: Any) -> None:
        text = _display(raw)
        try:
            requests = self._parse(raw)
        except InvalidInput as exc:
            self.unmapped.append(Unmapped(intent=text, reason=str(exc)))
            return
        for kind, method, template in requests:
            for path in self._bind(text, template):
                self._resolve_one(text, kind, method, path)

    # -- parsing --------------------------------------------------------------------------
    def _parse(self, raw: Any) -> list[tuple[IntentKind, str, str]]:
        if isinstance(raw, Operation):
            return [(IntentKind.OPERATION, raw.method, raw.path)]
        if isinstance(raw, OperationMatch):
            return [(IntentKind.PATH, raw.method, raw.path)]
        if isinstance(raw, tuple) and len(raw) == 2 and all(isinstance(x, str) for x in raw):
            raw = f"{raw[0]} {raw[1]}"
        if callable(raw) and not isinstance(raw, str):
            return [
                (IntentKind.CLIENT_METHOD, method, normalise_path(template))
                for method, template in intent_of_method(raw)
            ]
        if not isinstance(raw, str) or not raw.strip():
            raise InvalidInput(
                "an intent is 'METHOD /path', an operationId, or a client method such as "
                f"client.dns_records.create; got {type(raw).__name__}"
            )
        text = raw.strip()
        parts = text.split(None, 1)
        if len(parts) == 2 and parts[0].upper() in METHODS:
            path = normalise_path(parts[1].strip())
            kind = IntentKind.TEMPLATE if "{" in path else IntentKind.PATH
            return [(kind, parts[0].upper(), path)]
        if len(parts) == 1 and _WORD.fullmatch(text):
            try:
                op = operations.get(text)
            except InvalidInput:
                if self.overrides.find("", "", text) is not None:
                    raise InvalidInput(
                        f"{text!r} is mapped by the overrides but is not an operationId of "
                        "Cloudflare's schema, so its method and path are unknown; write the "
                        "override and the intent as 'METHOD /path/template'"
                    ) from None
                raise InvalidInput(
                    f"{text!r} is not an operationId of Cloudflare's schema; write the intent "
                    "as 'METHOD /path', e.g. 'GET /zones/{zone_id}/dns_records'"
                ) from None
            return [(IntentKind.OPERATION_ID, op.method, op.path)]
        if len(parts) == 2 and parts[1].startswith("/"):
            raise InvalidInput(
                f"{parts[0]!r} is not an HTTP method; use one of {', '.join(METHODS)}"
            )
        raise InvalidInput(
            "an intent is 'METHOD /path' (e.g. 'GET /zones/{zone_id}/dns_records'), an "
            "operationId, or a client method; this one is neither"
        )

    # -- binding ----------------------------------------------------------------------------
    def _bind(self, text: str, template: str) -> list[str]:
        segments = template.split("/")
        # segments[0] is '' (leading slash)
        if len(segments) > 2 and segments[1] in ("zones", "accounts"):
            what = "zone" if segments[1] == "zones" else "account"
            value = segments[2]
            if _PLACEHOLDER.fullmatch(value):
                bound = self.zones if what == "zone" else self.accounts
                if not bound:
                    self.unmapped.append(
                        Unmapped(
                            intent=text,
                            reason=(
                                f"names no {what}: pass {what}=<{what} id"
                                + (" or name" if self.directory is not None else "")
                                + f"> (or a list) to bind {value}, or write the {what} id "
                                "into the path"
                            ),
                        )
                    )
                    return []
                return ["/".join([*segments[:2], ident, *segments[3:]]) for ident in bound]
            resolved = self._resource_id(what, value)
            if resolved is None:
                hint = (
                    "it is not in the directory"
                    if self.directory is not None
                    else "pass directory= to use names"
                )
                self.unmapped.append(
                    Unmapped(
                        intent=text,
                        reason=f"{value!r} is not a {what} id ({hint})",
                    )
                )
                return []
            segments[2] = resolved
            return ["/".join(segments)]
        return [template]

    def _resource_id(self, what: str, value: str) -> str | None:
        if is_id(value):
            return value
        if self.directory is None:
            return None
        if what == "zone":
            zone = self.directory.find_zone(value)
            return zone.id if zone is not None else None
        account = self.directory.find_account(value)
        return account.id if account is not None else None

    # -- matching ---------------------------------------------------------------------------
    def _resolve_one(self, text: str, kind: IntentKind, method: str, path: str) -> None:
        found = operations.find(method, path)
        op = found.operation if found is not None else None
        override = self.overrides.find(method, path, op.operation_id if op else None)
        if op is not None:
            target = op.target
            zone_id = found.zone_id if found is not None else None
            account_id = found.account_id if found is not None else None
        else:
            target, zone_id, account_id = _target_of_path(path)
        if zone_id is not None and self.directory is not None:
            account_id = self.directory.zone_account(zone_id)
        common: dict[str, Any] = {
            "text": text,
            "kind": kind,
            "method": method,
            "path": path,
            "operation": op,
            "target": target,
            "zone_id": zone_id,
            "account_id": account_id,
        }
        if override is not None:
            self.resolved.append(Intent(**common, groups=override[1], source="override"))
            return
        if op is None:
            other = [m for m in METHODS if m != method and operations.find(m, path)]
            hint = f"; the path exists for {', '.join(other)}" if other else ""
            self.unmapped.append(
                Unmapped(
                    intent=text,
                    reason=(
                        f"no API operation matches {method} {path}{hint}; if it is a new "
                        "endpoint, map it in an overrides file"
                    ),
                )
            )
            return
        if (op.method, op.path) in FREE_OPERATIONS:
            self.resolved.append(Intent(**common, source="free"))
            return
        if not op.mapped:
            self.unmapped.append(
                Unmapped(
                    intent=text,
                    reason=(
                        f"no permission group is known for {op} ({op.operation_id}): "
                        f"{op.why_unmapped}; cftokens does not guess: map it in an overrides "
                        "file"
                    ),
                )
            )
            return
        self.resolved.append(Intent(**common, groups=_accepted(op), source="catalogue"))


@functools.lru_cache(maxsize=4096)
def _accepted(op: Operation) -> tuple[PermissionGroup, ...]:
    """An operation's accepted groups (resolved once per operation)."""
    return op.accepted_groups


def resolve_intents(
    intents: str | Iterable[IntentLike],
    *,
    zones: Sequence[str] = (),
    accounts: Sequence[str] = (),
    directory: Directory | None = None,
    overrides: Overrides | None = None,
) -> tuple[list[Intent], list[Unmapped]]:
    """Resolve intents to concrete requests; ``zones``/``accounts`` are ids binding the
    placeholders. Returns (resolved, unmapped)."""
    if isinstance(intents, str):
        intents = [intents]
    resolver = _Resolver(zones, accounts, directory, overrides or Overrides())
    for raw in intents:
        resolver.add(raw)
    return resolver.resolved, resolver.unmapped
