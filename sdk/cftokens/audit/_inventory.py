"""The columnar token inventory: API dicts parsed straight into arrays.

Parsing every token through :class:`~cftokens.Token` costs ~35 µs, which dominates an audit of
100,000 tokens. This module reads the wire dicts directly into column lists (resource keys,
group ids and CIDRs are cached, since they repeat across tokens) and then into numpy arrays.

Semantics stay the engine's: for a token without deny policies, E(T) is exactly its allow
(group, atom) pairs whose atom has the group's scope (what :func:`cftokens.effective_grants`
computes); for a token with any deny policy, the engine's comparisons of each allow with the
denies of its group are computed on the grant rows of all such tokens at once (the engine
itself, :func:`cftokens.effective_grants`, for those the lenient reader read or that name an R2
bucket or an unreadable resource; ``tests/audit/test_effective_fast.py`` compares the two).
Zones are placed in their accounts from the directory (``effective_grants(directory=…)``): a
flat zone allow (``account.zone.<id>``) that a deny on all zones of the zone's account, or on
the zone in its nested form, removes is not in E(T), as :func:`cftokens.evaluate` refuses every
request it could serve (when the zone's account is unknown the grant stays in E(T), marked
narrowed: the audit does not assume away a risk). ``tests/audit/test_outputs.py`` checks
row for row that the columnar path agrees with the engine on generated inventories. Resource
keys are read into atoms (:mod:`._atoms`) with the same rules as
:meth:`cftokens.Resource.from_api`. The date columns are kept as the API wrote them and read
by the rules' context (:mod:`._dates`).

This module is the parse's steps (:func:`build_inventory`): the bulk path in chunks
(:func:`_read_bulk`, each chunk read by :mod:`._bulk`), the token-by-token lenient reader
(:mod:`._lenient`) for the tokens it leaves, with each credential in a grant key read as its
label (:mod:`._labels`), the two merged in record order, then the columns made arrays and E(T)
computed (:func:`_finish`, the deny comparisons in :mod:`._effective`). The inventory's data
class, its lazy columns and the codes its columns hold are :mod:`._columns`'; the names other
modules and the tests import from here are re-exported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain, repeat
from operator import add, itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from ..catalog import permission_groups as permission_groups
from ..catalog import risk_families as risk_families
from ._arrays import _any_by as _any_by
from ._arrays import _only, _starts
from ._atoms import (
    K_ACCOUNT,
    K_ALL_ACCOUNTS,
    K_ALL_ZONES,
    K_ALL_ZONES_IN,
    K_R2,
    K_UNPARSED,
    K_USER,
    K_ZONE,
    KIND_SCOPE,
    KINDS,
    AtomCodes,
    _atom_numbers,
)
from ._atoms import InvalidToken as InvalidToken
from ._atoms import _bulk_atoms as _bulk_atoms
from ._bulk import _bulk_condition as _bulk_condition
from ._bulk import _bulk_conditions as _bulk_conditions
from ._bulk import _entry_atoms as _entry_atoms
from ._bulk import _fields as _fields
from ._bulk import _read_chunk
from ._columns import (
    _ARRAY_DTYPES,
    DATE_KEYS,
    DUPLICATE,
    FAMILY_BITS,
    L_OTHER,
    L_READ,
    L_UNKNOWN,
    L_WRITE,
    LEVELS,
    S_ACCOUNT,
    S_R2,
    S_UNKNOWN,
    S_USER,
    S_ZONE,
    SCOPES,
    STATUSES,
    GroupTable,
    Inventory,
    TokenRecord,
    payload_columns,
    payload_values,
)
from ._definition import DefinitionIssues
from ._effective import _denies_applied, _engine_effective
from ._effective import _engine_refuses as _engine_refuses
from ._labels import _labelled_record, _labelled_text
from ._lenient import _add_token, _token_id
from ._lenient import parse_cidr as parse_cidr

__all__ = [  # (the resource kinds' codes are _atoms', the other codes _columns', kept here
    # for the rules)
    "DATE_KEYS",
    "DUPLICATE",
    "FAMILY_BITS",
    "KINDS",
    "K_ACCOUNT",
    "K_ALL_ACCOUNTS",
    "K_ALL_ZONES",
    "K_ALL_ZONES_IN",
    "K_R2",
    "K_UNPARSED",
    "K_USER",
    "K_ZONE",
    "LEVELS",
    "L_OTHER",
    "L_READ",
    "L_UNKNOWN",
    "L_WRITE",
    "SCOPES",
    "STATUSES",
    "S_ACCOUNT",
    "S_R2",
    "S_UNKNOWN",
    "S_USER",
    "S_ZONE",
    "GroupTable",
    "Inventory",
    "TokenRecord",
    "build_inventory",
    "payload_columns",
    "payload_values",
]


def build_inventory(
    records: Sequence[TokenRecord],
    zone_account: Mapping[str, str] | None = None,
    *,
    bulk: bool = True,
) -> Inventory:
    """Parse token records into an :class:`Inventory` (invalid tokens are listed, not raised).

    ``zone_account`` (zone id → account id, from the directory) lets E(T) drop flat zone
    grants that a deny on the zone's account removes (see the module docstring). Well-formed
    tokens go through the bulk path (``bulk=False`` reads every token one by one, the
    reference the bulk path is tested against); the result is the same.
    """
    inv = Inventory()
    numbering = AtomCodes()
    fast, fast_at = _read_bulk(records, inv.groups, numbering) if bulk else (None, [])
    fast_atoms = fast.arrays["g_atom"] if fast is not None else np.zeros(0, dtype=np.int64)
    left = np.ones(len(records), dtype=bool)
    left[fast_at] = False
    slow_at: list[int] = []
    seen: set[str] = set()
    for position in np.flatnonzero(left).tolist():  # the tokens the bulk path left
        record = _labelled_record(records[position])
        if record is not records[position]:
            inv.labelled[position] = record
        payload = record.payload
        tid = payload.get("id") if isinstance(payload, Mapping) else None
        label = _labelled_text(tid) if isinstance(tid, str) else f"#{position + 1}"
        try:  # a definition not created yet (no id) is known by its stable id
            key = _token_id(payload) if tid is None and isinstance(payload, Mapping) else tid
        except InvalidToken as exc:
            inv.invalid.append((label, str(exc)))
            continue
        if isinstance(key, str) and key in seen:
            inv.invalid.append((label, DUPLICATE))
            continue
        mark = inv.m, len(inv.nofit)
        try:
            _add_token(inv, record)
        except InvalidToken as exc:
            # roll back any rows of the half-read token
            for column in _GRANT_COLUMNS:
                del getattr(inv, column)[mark[0] :]
            del inv.nofit[mark[1] :]
            inv.mismatched_policies = {p for p in inv.mismatched_policies if p[0] < inv.n}
            inv.invalid.append((label, str(exc)))
            continue
        slow_at.append(position)
        if isinstance(key, str):
            seen.add(key)
    if fast is not None:
        labelled = inv.labelled
        inv = _merge(inv, slow_at, fast, fast_at)
        inv.labelled = labelled
    # which tokens the bulk path read (tokens are in record order: see _merge)
    read_by = np.repeat(np.array([False, True]), [len(slow_at), len(fast_at)])
    bulk_read = read_by[np.argsort(np.array(slow_at + fast_at, dtype=np.int64), kind="stable")]
    _finish(inv, zone_account or {}, bulk_read)
    inv.arrays["g_atom"], inv.arrays["g_atom_first"] = _atom_numbers(
        inv, bulk_read, fast_atoms, numbering
    )
    return inv


_GRANT_COLUMNS = (
    "g_tok",
    "g_pol",
    "g_deny",
    "g_group",
    "g_kind",
    "g_rid",
    "g_racct",
    "g_rkey",
    "g_policy_id",
    "g_name_mismatch",
)


#: Tokens read per chunk by :func:`_read_bulk` (see there).
_CHUNK = 2048


def _read_bulk(
    records: Sequence[TokenRecord], groups: GroupTable, numbering: AtomCodes | None = None
) -> tuple[Inventory, list[int]]:
    """The well-formed tokens of ``records`` as an :class:`Inventory`, and their positions
    (the others are for the token reader, :func:`_add_token`).

    The tokens are read in chunks of :data:`_CHUNK` (:func:`_read_chunk`, then joined): each of
    the reader's passes over a chunk's objects (its tokens, policies, permission groups and
    resources: ~2 MB) finds them in the CPU's caches where the previous pass left them, while a
    pass over all of an inventory's objects misses the caches at every object (the reader's
    passes cost a third less). Whether a token's id is listed twice is decided over all tokens:
    when any id is in two chunks (or is not exact text, or a token is not a plain dict), all
    tokens are read as one chunk. ``numbering``: the codes of the rows' resource atoms
    (``arrays["g_atom"]``; a new table when not given)."""
    n = len(records)
    if numbering is None:
        numbering = AtomCodes()
    if n <= _CHUNK:
        inv, positions, _ = _read_chunk(records, groups, numbering)
        return inv, positions
    starts = range(0, n, _CHUNK)
    parts = [_read_chunk(records[s : s + _CHUNK], groups, numbering) for s in starts]
    ids = _concat([part[2] for part in parts])
    if not _only(ids, str) or len(set(ids)) != n:  # (ids only of plain dicts)
        inv, positions, _ = _read_chunk(records, groups, numbering)
        return inv, positions
    return _joined([part[0] for part in parts]), list(
        chain.from_iterable(
            map(add, part[1], repeat(s)) for part, s in zip(parts, starts, strict=True)
        )
    )


def _concat(lists: list[list[Any]]) -> list[Any]:
    """The lists one after another: each appended whole by ``list.extend`` (a block copy of
    its items, ~5 times faster than ``chain``'s item-by-item iteration over a few long lists)."""
    out: list[Any] = []
    for items in lists:
        out += items
    return out


_TOKEN_LISTS = (
    "records",
    "ids",
    "names",
    "kinds",
    "owner_ids",
    "owner_names",
    "ip_in",
    "ip_out",
    "unknown",
)
_GRANT_LISTS = ("g_rid", "g_racct", "g_rkey", "g_policy_id")


def _joined(parts: list[Inventory]) -> Inventory:
    """The chunks :func:`_read_chunk` read as one inventory, tokens in order (the lists of
    its arrays made when read)."""
    inv = Inventory(parts[0].groups)
    for column in _TOKEN_LISTS + _GRANT_LISTS:
        setattr(inv, column, _concat([getattr(part, column) for part in parts]))
    for key in DATE_KEYS:
        inv.dates[key] = _concat([part.dates[key] for part in parts])
    n_of = np.array([part.n for part in parts], dtype=np.int64)
    m_of = np.array([len(part.arrays["g_tok"]) for part in parts], dtype=np.int64)
    n_before, m_before = _starts(n_of), _starts(m_of)
    done = inv.arrays
    for column in (*_ARRAY_DTYPES, "g_atom"):
        done[column] = np.concatenate([part.arrays[column] for part in parts])
    done["g_tok"] += np.repeat(n_before, m_of).astype(np.int32)
    done["row_start"] += np.repeat(m_before, n_of)
    done["row_end"] += np.repeat(m_before, n_of)
    inv._lazy_lists()
    shifts = n_before.tolist()
    for part, before in zip(parts, shifts, strict=True):
        if before:
            inv.nofit += [(t + before, p, g) for t, p, g in part.nofit]
        else:
            inv.nofit += part.nofit
    inv.ln04 = DefinitionIssues.joined([part.ln04 for part in parts], shifts)
    return inv


_TOKEN_COLUMNS = (
    "records",
    "ids",
    "names",
    "kinds",
    "owner_ids",
    "owner_names",
    "status",
    "ip_in",
    "ip_out",
    "unknown",
    "n_policies",
    "has_deny",
)


def _merge(slow: Inventory, slow_at: list[int], fast: Inventory, fast_at: list[int]) -> Inventory:
    """One inventory from the token reader's and the bulk path's, tokens in record order."""
    if not fast.n:
        return slow
    if not slow.n and not slow.invalid and not slow.ln04:
        return fast
    order = np.argsort(np.array(slow_at + fast_at, dtype=np.int64), kind="stable")
    new = np.empty(len(order), dtype=np.int64)
    new[order] = np.arange(len(order))
    pick = order.tolist()
    out = Inventory(slow.groups)
    out.invalid = slow.invalid
    for column in _TOKEN_COLUMNS:
        both = getattr(slow, column) + getattr(fast, column)
        setattr(out, column, [both[i] for i in pick])
    for key in out.dates:
        both = slow.dates[key] + fast.dates[key]
        out.dates[key] = [both[i] for i in pick]
    tok = np.concatenate(
        [
            new[np.array(slow.g_tok, dtype=np.int64)],
            new[slow.n + np.array(fast.g_tok, dtype=np.int64)],
        ]
    )
    rows = np.argsort(tok, kind="stable")
    out.g_tok = tok[rows].tolist()
    take = rows.tolist()
    for column in _GRANT_COLUMNS[1:]:
        both = getattr(slow, column) + getattr(fast, column)
        setattr(out, column, [both[i] for i in take])
    per_tok = np.bincount(tok, minlength=len(order))
    out.row_end = np.cumsum(per_tok).tolist()
    out.row_start = (np.cumsum(per_tok) - per_tok).tolist()
    shift = [int(x) for x in new[: slow.n]], [int(x) for x in new[slow.n :]]
    nofit = [(shift[0][t], p, g) for t, p, g in slow.nofit]
    nofit += [(shift[1][t], p, g) for t, p, g in fast.nofit]
    out.nofit = sorted(nofit, key=itemgetter(0))
    toks = [
        shift[part][t] if t >= 0 else t
        for part, issues in ((0, slow.ln04), (1, fast.ln04))
        for t in issues.tok
    ]
    by_tok = sorted(range(len(toks)), key=toks.__getitem__)  # stable: each token's in order
    both = DefinitionIssues.joined([slow.ln04, fast.ln04], [0, 0])
    out.ln04 = both.taken(by_tok, list(map(toks.__getitem__, by_tok)))
    out.mismatched_policies = {(shift[0][t], p) for t, p in slow.mismatched_policies}
    return out


def _finish(
    inv: Inventory, zone_account: Mapping[str, str], bulk_read: npt.NDArray[np.bool_]
) -> None:
    """Turn the lists into arrays and compute E(T) (``bulk_read``: per token, whether the
    bulk path read it, so its rows are its wire atoms: see :func:`_denies_applied`)."""
    a = inv.arrays
    for column, dtype in _ARRAY_DTYPES.items():
        if column not in a:  # the bulk path made its own from its arrays (the same values)
            a[column] = np.array(getattr(inv, column), dtype=dtype)
    ga = inv.groups.arrays()
    for key, value in ga.items():
        a["grp_" + key] = value
    gscope = ga["scope"][a["g_group"]] if inv.m else np.zeros(0, dtype=np.int8)
    kscope = KIND_SCOPE[a["g_kind"]] if inv.m else np.zeros(0, dtype=np.int8)
    scope_ok = (gscope == kscope) & ga["known"][a["g_group"]] if inv.m else np.zeros(0, bool)
    a["g_scope_ok"] = scope_ok
    effective = scope_ok & ~a["g_deny"]
    narrowed = np.zeros(inv.m, dtype=bool)
    with_deny = np.flatnonzero(a["has_deny"])
    left = _denies_applied(inv, with_deny[bulk_read[with_deny]], effective, narrowed, zone_account)
    for t in [*with_deny[~bulk_read[with_deny]].tolist(), *left]:
        _engine_effective(inv, t, effective, narrowed, zone_account)
    a["g_effective"] = effective
    a["g_narrowed"] = narrowed
