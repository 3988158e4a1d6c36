"""The operations catalogue: every API operation and the permission groups it accepts.

Built from the ``x-api-token-group`` annotations of Cloudflare's OpenAPI schema (any one
accepted group is enough). The spec's quirky names are normalised by the build script
(``scripts/build_catalog.py``: "Zone Zone Read" means "Zone Read", …). Operations the spec does
not annotate are kept with ``mapped == False``: cftokens never guesses their permissions.

``match(method, path)`` finds the operation for a concrete request path with a segment trie:
at each segment a literal beats a parameter, so the most literal template wins
(``/zones/{zone_id}/dns_records/export`` before ``/zones/{zone_id}/dns_records/{dns_record_id}``).
"""

from __future__ import annotations

import enum
import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from attrs import field, frozen

from ..errors import UnknownOperation
from ._data import load_json, records
from .groups import PermissionGroup, permission_groups

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Operation", "OperationCatalog", "OperationMatch", "Target", "normalise_path"]

_PREFIXES = ("/client/v4",)
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class Target(enum.StrEnum):
    """What a request acts on, from its path: a zone, an account, the user, or nothing named."""

    ZONE = "zone"
    ACCOUNT = "account"
    USER = "user"
    NONE = "none"


# The groups of each tuple of group names, worked out once: the policy engine asks for every
# request it decides (the catalogue never changes once loaded; a name it lacks raises, uncached).
_ACCEPTED: dict[tuple[str, ...], tuple[PermissionGroup, ...]] = {}


@frozen(kw_only=True)
class Operation:
    """One API operation: method, path template, operationId, summary, tag, accepted groups."""

    method: str
    path: str
    operation_id: str
    summary: str = ""
    tag: str = ""
    deprecated: bool = False
    group_names: tuple[str, ...] | None = None
    unmapped_reason: str = ""
    _account_index: int | None = field(default=None, eq=False, repr=False)
    _zone_index: int | None = field(default=None, eq=False, repr=False)
    _slots: tuple[tuple[int, str], ...] = field(default=(), eq=False, repr=False)
    _patterns: bool = field(default=False, eq=False, repr=False)

    @property
    def mapped(self) -> bool:
        """True when the spec says which permission groups this operation accepts."""
        return self.group_names is not None

    @property
    def why_unmapped(self) -> str:
        """Why cftokens names no group for an unmapped operation ('' for mapped ones)."""
        if self.mapped:
            return ""
        return self.unmapped_reason or "Cloudflare's schema names no permission group for it"

    @property
    def accepted_groups(self) -> tuple[PermissionGroup, ...]:
        """The catalogue groups any one of which allows the call (all scopes of each name)."""
        if not self.group_names:
            return ()
        found = _ACCEPTED.get(self.group_names)
        if found is None:
            groups: list[PermissionGroup] = []
            for name in self.group_names:
                groups.extend(permission_groups.lookup(name))
            found = tuple(groups)
            if len(_ACCEPTED) < 10_000:
                _ACCEPTED[self.group_names] = found
        return found

    @property
    def target(self) -> Target:
        """Whether the path names a zone, an account, the user, or nothing."""
        if self._zone_index is not None:
            return Target.ZONE
        if self._account_index is not None:
            return Target.ACCOUNT
        if self.path == "/user" or self.path.startswith("/user/"):
            return Target.USER
        return Target.NONE

    @property
    def is_read(self) -> bool:
        """GET and HEAD operations."""
        return self.method in ("GET", "HEAD")

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@frozen(kw_only=True)
class OperationMatch:
    """A concrete request matched to its operation, with the ids its path names."""

    operation: Operation
    path: str
    params: dict[str, str] = field(eq=False, hash=False)
    zone_id: str | None = None
    account_id: str | None = None

    @property
    def accepted_groups(self) -> tuple[PermissionGroup, ...]:
        """The groups any one of which allows this call."""
        return self.operation.accepted_groups

    @property
    def method(self) -> str:
        """The HTTP method."""
        return self.operation.method

    @property
    def target(self) -> Target:
        """What the request acts on."""
        return self.operation.target


def normalise_path(path: str) -> str:
    """Strip scheme and host, query string, the ``/client/v4`` prefix and a trailing slash."""
    if path.startswith("/client/v4/") and "?" not in path and "#" not in path:
        path = path[10:]
        return path.rstrip("/") or "/" if path.endswith("/") else path
    if "://" in path:
        path = urlsplit(path).path
    path = path.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        path = "/" + path
    for prefix in _PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            path = path[len(prefix) :] or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


_PARAM = re.compile(r"\{([^}]+)\}")


class _Node:
    __slots__ = ("literal", "operation", "param", "patterns")

    def __init__(self) -> None:
        self.literal: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.patterns: list[tuple[re.Pattern[str], tuple[str, ...], _Node]] = []
        self.operation: Operation | None = None


class OperationCatalog:
    """Every operation, loaded on first use; ``match`` finds one from a method and path."""

    def __init__(self, operations: list[Operation] | None = None):
        self._operations = operations
        self._roots: dict[str, _Node] = {}
        self._by_id: dict[str, Operation] = {}
        self._by_template: dict[tuple[str, str], Operation] = {}
        self._lock = threading.Lock()
        if operations is not None:
            self._index(operations)

    def _load(self) -> list[Operation]:
        operations = self._operations
        if operations is None:
            with self._lock:
                if self._operations is None:
                    data = records(load_json("operations.json")["operations"])
                    loaded = [_make_operation(o) for o in data]
                    self._index(loaded)
                    self._operations = loaded
                operations = self._operations
        return operations

    def _index(self, operations: list[Operation]) -> None:
        roots: dict[str, _Node] = {}
        for op in operations:
            node = roots.setdefault(op.method, _Node())
            for segment in _segments(op.path):
                if _PARAM.fullmatch(segment):
                    if node.param is None:
                        node.param = _Node()
                    node = node.param
                elif "{" in segment:
                    names = tuple(_PARAM.findall(segment))
                    regex = re.compile(
                        "".join(
                            "(.+?)" if i % 2 else re.escape(part)
                            for i, part in enumerate(_PARAM.split(segment))
                        )
                    )
                    for pattern, _names, child in node.patterns:
                        if pattern.pattern == regex.pattern:
                            node = child
                            break
                    else:
                        child = _Node()
                        node.patterns.append((regex, names, child))
                        node = child
                else:
                    node = node.literal.setdefault(segment, _Node())
            node.operation = op
        self._roots = roots
        self._by_id = {op.operation_id: op for op in operations if op.operation_id}
        self._by_template = {(op.method, op.path): op for op in operations}

    # -- matching -------------------------------------------------------------------------
    def find(self, method: str, path: str) -> OperationMatch | None:
        """Like :meth:`match`, but None when nothing matches."""
        self._load()
        method = method.upper()
        root = self._roots.get(method)
        if root is None:
            return None
        clean = normalise_path(path)
        segments = _segments(clean)
        op = _greedy(root, segments) or _walk(root, segments, 0)
        if op is None:
            return None
        params = {name: segments[i] for i, name in op._slots}
        if op._patterns:
            params.update(_params(op.path, segments))
        zone_id = segments[op._zone_index] if op._zone_index is not None else None
        account_id = segments[op._account_index] if op._account_index is not None else None
        return OperationMatch(
            operation=op, path=clean, params=params, zone_id=zone_id, account_id=account_id
        )

    def match(self, method: str, path: str) -> OperationMatch:
        """The operation a request calls, and the ``account_id``/``zone_id`` in its path.

        ``path`` may be concrete (``/zones/023e…/dns_records``), a template, a full URL, carry
        the ``/client/v4`` prefix or a query string. Raises :class:`UnknownOperation`.
        """
        found = self.find(method, path)
        if found is None:
            method_u = method.upper()
            if method_u not in _METHODS:
                raise UnknownOperation(
                    f"{method!r} is not an HTTP method of Cloudflare's API; use one of "
                    + ", ".join(_METHODS)
                )
            clean = normalise_path(path)
            other = [m for m in _METHODS if m != method_u and self.find(m, clean)]
            hint = f"; the path exists for {', '.join(other)}" if other else ""
            raise UnknownOperation(
                f"no API operation matches {method_u} {clean}{hint}. "
                "Paths are relative to /client/v4, e.g. /zones/<zone_id>/dns_records"
            )
        return found

    def get(self, operation_id: str) -> Operation:
        """The operation with this operationId."""
        self._load()
        op = self._by_id.get(operation_id)
        if op is None:
            raise UnknownOperation(f"no operation has operationId {operation_id!r}")
        return op

    def template(self, method: str, path: str) -> Operation | None:
        """The operation with exactly this method and path template."""
        self._load()
        return self._by_template.get((method.upper(), path))

    def unmapped(self) -> list[Operation]:
        """Operations the spec does not annotate with permission groups."""
        return [op for op in self._load() if not op.mapped]

    def using(self, group: PermissionGroup | str) -> list[Operation]:
        """Operations that accept a permission group (by entry or name)."""
        name = group.name if isinstance(group, PermissionGroup) else group
        return [op for op in self._load() if op.group_names and name in op.group_names]

    def __iter__(self) -> Iterator[Operation]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        if self._operations is None:
            return "<OperationCatalog (not loaded yet)>"
        return f"<OperationCatalog of {len(self._operations)} operations>"

    def as_frame(self) -> pd.DataFrame:
        """A DataFrame: method, path, operation_id, summary, tag, target, mapped, groups,
        unmapped_reason."""
        import pandas as pd

        ops = self._load()
        return pd.DataFrame(
            {
                "method": pd.Categorical([o.method for o in ops], categories=list(_METHODS)),
                "path": [o.path for o in ops],
                "operation_id": [o.operation_id for o in ops],
                "summary": [o.summary for o in ops],
                "tag": pd.Categorical([o.tag for o in ops]),
                "target": pd.Categorical([o.target.value for o in ops]),
                "mapped": pd.array([o.mapped for o in ops], dtype="boolean"),
                "groups": [", ".join(o.group_names or ()) for o in ops],
                "unmapped_reason": [o.why_unmapped for o in ops],
            }
        )


def _segments(path: str) -> list[str]:
    parts = path.split("/")
    if "" in parts[1:]:
        return [s for s in parts if s]
    return parts[1:] if parts[0] == "" else parts


def _greedy(node: _Node, segments: list[str]) -> Operation | None:
    """The common case in one pass: literal if any, else the parameter; None if stuck."""
    for segment in segments:
        child = node.literal.get(segment)
        if child is None:
            child = node.param
            if child is None or node.patterns:
                return None
        node = child
    return node.operation


def _walk(node: _Node, segments: list[str], index: int) -> Operation | None:
    """Depth-first: literal child, then mid-segment patterns, then the parameter child."""
    if index == len(segments):
        return node.operation
    segment = segments[index]
    child = node.literal.get(segment)
    if child is not None:
        found = _walk(child, segments, index + 1)
        if found is not None:
            return found
    for pattern, _names, sub in node.patterns:
        if pattern.fullmatch(segment):
            found = _walk(sub, segments, index + 1)
            if found is not None:
                return found
    if node.param is not None:
        return _walk(node.param, segments, index + 1)
    return None


def _params(template: str, segments: list[str]) -> dict[str, str]:
    """The template's mid-segment parameters (``{scan_id}.png``) bound to the segments."""
    params: dict[str, str] = {}
    for pattern_segment, value in zip(_segments(template), segments, strict=True):
        if "{" not in pattern_segment:
            continue
        if _PARAM.fullmatch(pattern_segment):
            continue
        parts = _PARAM.split(pattern_segment)
        regex = "".join("(.+?)" if i % 2 else re.escape(p) for i, p in enumerate(parts))
        m = re.fullmatch(regex, value)
        if m:
            params.update(zip(parts[1::2], m.groups(), strict=True))
    return params


def _make_operation(data: dict[str, Any]) -> Operation:
    path = data["path"]
    segments = _segments(path)
    account_index = zone_index = None
    # Only /accounts/{id}/… and /zones/{id}/… name the resource a request acts on.
    if len(segments) > 1 and _PARAM.fullmatch(segments[1]):
        if segments[0] == "accounts":
            account_index = 1
        elif segments[0] == "zones":
            zone_index = 1
    groups = data["groups"]
    slots = tuple((i, m.group(1)) for i, seg in enumerate(segments) if (m := _PARAM.fullmatch(seg)))
    patterns = any("{" in seg and not _PARAM.fullmatch(seg) for seg in segments)
    return Operation(
        method=data["method"],
        path=path,
        operation_id=data["operation_id"],
        summary=data["summary"],
        tag=data["tag"],
        deprecated=data["deprecated"],
        group_names=None if groups is None else tuple(groups),
        unmapped_reason=data.get("unmapped_reason", ""),
        account_index=account_index,
        zone_index=zone_index,
        slots=slots,
        patterns=patterns,
    )
