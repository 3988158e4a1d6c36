"""The columnar inventory's data: the token records an audit reads, the permission groups'
table, the :class:`Inventory` (tokens and grant rows as columns, the columns the bulk path
builds as arrays made lists when read) and the codes of scopes, levels, risk families and
statuses its columns hold.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from itertools import repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..catalog import permission_groups, risk_families
from ..catalog.groups import Level
from ..model.resources import Scope
from ._definition import DefinitionIssues

# Scope codes: 0 user, 1 account, 2 zone, 3 r2 bucket, 4 unknown (group not in the catalogue).
SCOPES: tuple[str, ...] = ("user", "account", "zone", "r2 bucket", "unknown")
S_USER, S_ACCOUNT, S_ZONE, S_R2, S_UNKNOWN = range(5)
_SCOPE_CODE = {Scope.USER: 0, Scope.ACCOUNT: 1, Scope.ZONE: 2, Scope.R2_BUCKET: 3}
# Level codes: 0 read, 1 write, 2 other, 3 unknown.
LEVELS: tuple[str, ...] = ("read", "write", "other", "unknown")
L_READ, L_WRITE, L_OTHER, L_UNKNOWN = range(4)
_LEVEL_CODE = {Level.READ: 0, Level.WRITE: 1, Level.OTHER: 2}
FAMILY_BITS: dict[str, int] = {"PE": 1, "HIJACK": 2, "EXFIL": 4, "CRED": 8, "EVASION": 16}
STATUSES: tuple[str, ...] = ("active", "disabled", "expired")
R2_PREFIX = "com.cloudflare.edge.r2.bucket."
DUPLICATE = "listed twice; the second copy was left out"


class TokenRecord:
    """One token to audit: its wire dict and who owns it (``kind`` is ``user`` or ``account``)."""

    __slots__ = ("kind", "owner_id", "owner_name", "payload")

    def __init__(
        self, payload: Mapping[str, Any], kind: str, owner_id: str | None, owner_name: str | None
    ):
        if (type(payload) is dict or isinstance(payload, Mapping)) and "value" in payload:
            payload = {k: v for k, v in payload.items() if k != "value"}  # never keep a secret
        self.payload = payload
        self.kind = kind
        self.owner_id = owner_id
        self.owner_name = owner_name


def payload_values(records: Sequence[TokenRecord], key: str) -> list[Any]:
    """``payload.get(key)`` of each record, in order (None where the payload is not a
    mapping): one C-level look-up per record when every payload is a plain dict (the API's
    and the JSON export's), else each mapping's own ``get``, as the audit reads it."""
    return payload_columns(records, (key,))[0]


def payload_columns(records: Sequence[TokenRecord], keys: Sequence[str]) -> list[list[Any]]:
    """:func:`payload_values` of several keys, the payloads and their types read once."""
    payloads = list(map(attrgetter("payload"), records))
    if set(map(type, payloads)) <= {dict}:
        return [list(map(dict.get, payloads, repeat(key))) for key in keys]
    return [[p.get(key) if isinstance(p, Mapping) else None for p in payloads] for key in keys]


@functools.cache
def _catalogue_columns() -> tuple[
    tuple[str, ...], tuple[str, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]
]:
    """The catalogue's groups as :class:`GroupTable` columns (ids, names, scope, level and
    family codes), worked out once per process: the catalogue never changes once loaded, and
    a small audit spent ~2 ms a time on it (each family set read from ``risk_families``)."""
    catalogue = list(permission_groups)
    return (
        tuple(g.id for g in catalogue),
        tuple(g.name for g in catalogue),
        tuple(_SCOPE_CODE.get(g.scope, S_UNKNOWN) for g in catalogue),
        tuple(_LEVEL_CODE.get(g.level, L_OTHER) for g in catalogue),
        tuple(
            sum(FAMILY_BITS[f] for f in risk_families.of(g.id) if f in FAMILY_BITS)
            for g in catalogue
        ),
    )


class GroupTable:
    """Permission groups by integer code: the catalogue first, unknown ids appended.

    Each table owns its lists (an audit appends the unknown groups it meets), copied from the
    catalogue's columns, which are worked out once per process."""

    def __init__(self) -> None:
        ids, names, scope, level, families = _catalogue_columns()
        self.ids: list[str] = list(ids)
        self.names: list[str] = list(names)
        self.scope: list[int] = list(scope)
        self.level: list[int] = list(level)
        self.families: list[int] = list(families)
        self.known: list[bool] = [True] * len(ids)
        self.code: dict[str, int] = dict(zip(ids, range(len(ids)), strict=True))
        self.n_catalogue = len(ids)

    def intern(self, gid: str, name: str | None) -> int:
        """The code of a group id, adding an unknown group when the catalogue lacks it."""
        code = self.code.get(gid)
        if code is None:
            code = len(self.ids)
            self.code[gid] = code
            self.ids.append(gid)
            self.names.append(name or gid)
            self.scope.append(S_UNKNOWN)
            self.level.append(L_UNKNOWN)
            self.families.append(0)
            self.known.append(False)
        return code

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Per-group numpy arrays (scope, level, families, known)."""
        return {
            "scope": np.array(self.scope, dtype=np.int8),
            "level": np.array(self.level, dtype=np.int8),
            "families": np.array(self.families, dtype=np.int16),
            "known": np.array(self.known, dtype=bool),
        }


#: The token dates the inventory keeps (``Inventory.dates``), in order.
DATE_KEYS = ("issued_on", "modified_on", "last_used_on", "not_before", "expires_on")


class _ListOfArray:
    """An :class:`Inventory` column as a list, made from its array (``Inventory.arrays``) on
    first read and kept, where the bulk path left the list out (it builds the arrays): most
    of an audit reads the arrays only (at 100,000 tokens the lists of the columns no rule
    reads cost ~10 ms)."""

    __slots__ = ("name",)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, inv: Inventory | None, owner: type | None = None) -> Any:
        if inv is None:
            return self
        values = inv.arrays[self.name].tolist()
        vars(inv)[self.name] = values
        return values


class Inventory:
    """Every token as columns, plus one row per (token, policy, group, resource atom).

    Token arrays have length ``n``; grant arrays (``g_*``) length ``m``; rows of one token are
    contiguous (``row_start[t]:row_end[t]``). ``g_effective`` marks rows in E(T). ``groups``:
    the permission groups' table (a new one, from the catalogue, when not given). The columns
    of ``_ARRAY_DTYPES`` the bulk path read are lists made from their arrays on first read
    (:meth:`_lazy_lists`).
    """

    if not TYPE_CHECKING:  # (typed as the lists __init__ makes)
        g_tok, g_pol, g_deny, g_group = (_ListOfArray() for _ in range(4))
        g_kind, g_name_mismatch, status, n_policies = (_ListOfArray() for _ in range(4))
        has_deny, row_start, row_end = (_ListOfArray() for _ in range(3))

    def __init__(self, groups: GroupTable | None = None) -> None:
        self.records: list[TokenRecord] = []
        self.ids: list[str] = []
        self.names: list[str] = []
        self.kinds: list[str] = []
        self.owner_ids: list[str | None] = []
        self.owner_names: list[str | None] = []
        self.status: list[int] = []
        self.dates: dict[str, list[Any]] = {k: [] for k in DATE_KEYS}
        # the Terraform attributes known only after apply, as written (``UNKNOWN_KEY``)
        self.unknown: list[Any] = []
        # each token's allowed and denied IP ranges
        self.ip_in: list[tuple[str, ...]] = []
        self.ip_out: list[tuple[str, ...]] = []
        self.n_policies: list[int] = []
        self.has_deny: list[bool] = []
        self.row_start: list[int] = []
        self.row_end: list[int] = []
        self.invalid: list[tuple[str, str]] = []  # (token id or position, why)
        # the records (by position in the input) read with a credential in a grant key as its
        # label (:func:`_labelled_record`): the audit keeps these, never the input's
        self.labelled: dict[int, TokenRecord] = {}
        # CFT-LN-04: parts of a definition Cloudflare rejects or ignores, read leniently
        self.ln04 = DefinitionIssues()
        self.mismatched_policies: set[tuple[int, int]] = set()  # (token, policy): LN-04's
        # grant rows
        self.g_tok: list[int] = []
        self.g_pol: list[int] = []
        self.g_deny: list[bool] = []
        self.g_group: list[int] = []
        self.g_kind: list[int] = []
        self.g_rid: list[str | None] = []
        self.g_racct: list[str | None] = []
        self.g_rkey: list[str] = []
        self.g_policy_id: list[str | None] = []
        self.g_name_mismatch: list[bool] = []
        # (token, policy, group) naming no resource of the group's scope
        self.nofit: list[tuple[int, int, int]] = []
        self.groups = groups if groups is not None else GroupTable()
        self.arrays: dict[str, npt.NDArray[Any]] = {}

    @property
    def n(self) -> int:
        """Number of tokens."""
        return len(self.ids)

    @property
    def m(self) -> int:
        """Number of grant rows."""
        rows = vars(self).get("g_tok")
        return len(rows) if rows is not None else len(self.arrays["g_tok"])

    def _lazy_lists(self) -> None:
        """Leave the columns of ``_ARRAY_DTYPES`` to be made from their arrays when read."""
        for column in _ARRAY_DTYPES:
            vars(self).pop(column, None)


def _is_map(value: Any) -> bool:
    return type(value) is dict or isinstance(value, Mapping)


# The inventory's columns as arrays (``Inventory.arrays``), with their dtypes.
_ARRAY_DTYPES: dict[str, type] = {
    "g_tok": np.int32,
    "g_pol": np.int16,
    "g_deny": np.bool_,
    "g_group": np.int32,
    "g_kind": np.int8,
    "g_name_mismatch": np.bool_,
    "status": np.int8,
    "n_policies": np.int32,
    "has_deny": np.bool_,
    "row_start": np.int64,
    "row_end": np.int64,
}
