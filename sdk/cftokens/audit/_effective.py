"""E(T) of the tokens with deny policies: the engine's comparisons of each allow with the
denies of its group, computed on the grant rows of the bulk path's tokens at once, and the
policy engine itself (:func:`cftokens.effective_grants`) for the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInput
from ..model.resources import ALL_ZONES_KEY, Resource
from ..model.token import Token
from ..policy import effective_grants
from ._arrays import _is_none, _starts
from ._atoms import (
    K_ACCOUNT,
    K_ALL_ACCOUNTS,
    K_ALL_ZONES,
    K_ALL_ZONES_IN,
    K_R2,
    K_UNPARSED,
    K_USER,
    K_ZONE,
    _resource,
)
from ._bulk import _ipv4_allowlist
from ._columns import Inventory


def _engine_effective(
    inv: Inventory,
    t: int,
    effective: npt.NDArray[np.bool_],
    narrowed: npt.NDArray[np.bool_],
    zone_account: Mapping[str, str],
) -> None:
    """E(T) of a token with deny policies, from :func:`cftokens.effective_grants` itself, with
    zones placed in their accounts (a flat zone grant that a deny on all zones of its account
    removes is not effective, as :func:`cftokens.evaluate` decides)."""
    token = _engine_token(inv, t)
    if token is None:
        return
    granted: dict[tuple[int, str, Resource], bool] = {}
    for grant in effective_grants(token, directory=_ZoneAccounts(zone_account)):
        granted[(grant.policy_index, grant.group_id, grant.resource)] = bool(grant.narrowed_by)
    start, end = inv.row_start[t], inv.row_end[t]
    groups = inv.groups.ids
    for row in range(start, end):
        if inv.g_deny[row]:
            effective[row] = False
            continue
        key = (inv.g_pol[row], groups[inv.g_group[row]], _wire_resource(inv, row))
        hit = granted.get(key)
        effective[row] = hit is not None
        narrowed[row] = bool(hit)


def _engine_token(inv: Inventory, t: int) -> Token | None:
    """Token ``t`` as the policy engine reads it; None when the engine refuses it (a slip the
    lenient reader accepted and reports): its denies are not applied, so its allows stay
    effective (the widest reading, never narrower)."""
    payload = inv.records[t].payload
    if payload.get("id") != inv.ids[t]:  # a definition not created yet: its stable id
        payload = {**payload, "id": inv.ids[t]}
    try:
        return Token.from_api(payload)
    except InvalidInput:
        return None


def _engine_refuses(payload: Mapping[str, Any]) -> bool:
    """Whether the policy engine refuses a token the bulk path read (:func:`_engine_token` is
    None): ``Token.from_api`` of it, without its condition when that is of the common shape
    (:func:`_ipv4_allowlist`), which the engine accepts (every range parses, no other key),
    so reading it again decides nothing (a third of the reading's cost)."""
    if _ipv4_allowlist(payload.get("condition")) is not None:
        payload = {**payload, "condition": None}
    try:
        Token.from_api(payload)
    except InvalidInput:
        return True
    return False


def _denies_applied(
    inv: Inventory,
    tokens: npt.NDArray[np.int64],
    effective: npt.NDArray[np.bool_],
    narrowed: npt.NDArray[np.bool_],
    zone_account: Mapping[str, str],
) -> list[int]:
    """:func:`_engine_effective` of tokens the bulk path read (each row is one of the token's
    wire atoms; an account-owned token's "all zones" wildcard read as its account's zones is
    compared as written, as the engine reads it), for all of them at once: each allow row is
    paired with the deny rows of its token and group, and the engine's ``_superset`` and
    ``_overlaps`` are computed on the pairs' kinds, ids and accounts (a zone named by id placed
    in its account from the directory, as ``effective_grants(directory=…)`` places it). A token
    the engine refuses keeps its allows (see :func:`_engine_token`). Returns the tokens left to
    the engine: those with an R2 bucket or an unreadable resource (compared through the model).
    ``tests/audit/test_bulk_inventory.py`` compares the two on every deny shape."""
    if not len(tokens):
        return []
    a = inv.arrays
    starts, ends = a["row_start"][tokens], a["row_end"][tokens]
    sizes = ends - starts
    rows = np.repeat(starts - _starts(sizes), sizes) + np.arange(int(sizes.sum()))
    kind = a["g_kind"][rows].astype(np.int64)
    odd = np.isin(kind, (K_R2, K_UNPARSED))
    left: list[int] = np.unique(np.repeat(tokens, sizes)[odd]).tolist()
    accepted = np.array(
        [t not in left and not _engine_refuses(inv.records[t].payload) for t in tokens.tolist()],
        bool,
    )
    pick = np.repeat(accepted, sizes)
    rows, kind = rows[pick], kind[pick]
    if not len(rows):
        return left
    row_list = rows.tolist()
    keys = list(map(inv.g_rkey.__getitem__, row_list))
    ids = list(map(inv.g_rid.__getitem__, row_list))
    accounts = list(map(inv.g_racct.__getitem__, row_list))
    all_zones = np.array([k == ALL_ZONES_KEY for k in keys], dtype=bool)
    kind[all_zones] = K_ALL_ZONES  # as written (an account-owned token's is read as its own)
    for i in np.flatnonzero(all_zones).tolist():
        accounts[i] = None
    for i in np.flatnonzero((kind == K_ZONE) & _is_none(accounts)).tolist():
        accounts[i] = zone_account.get(str(ids[i]))  # placed (None: its account unknown)
    code: dict[str | None, int] = {None: -1}
    rid = np.array([code.setdefault(x, len(code)) for x in ids], dtype=np.int64)
    acct = np.array([code.setdefault(x, len(code)) for x in accounts], dtype=np.int64)
    tok = a["g_tok"][rows].astype(np.int64)
    key = tok * len(inv.groups.ids) + a["g_group"][rows]
    is_deny = a["g_deny"][rows]
    allow = np.flatnonzero(~is_deny & a["g_scope_ok"][rows])
    deny = np.flatnonzero(is_deny & a["g_scope_ok"][rows])
    deny = deny[np.argsort(key[deny], kind="stable")]
    lo = np.searchsorted(key[deny], key[allow], side="left")
    hi = np.searchsorted(key[deny], key[allow], side="right")
    n_pairs = hi - lo
    pa = np.repeat(allow, n_pairs)
    pd_ = deny[np.repeat(lo - _starts(n_pairs), n_pairs) + np.arange(int(n_pairs.sum()))]
    ak, dk = kind[pa], kind[pd_]
    same_id, same_acct = rid[pa] == rid[pd_], acct[pa] == acct[pd_]
    zone_like = (ak == K_ZONE) | (ak == K_ALL_ZONES_IN) | (ak == K_ALL_ZONES)
    superset = (
        ((dk == K_ALL_ZONES) & zone_like)
        | ((dk == K_ALL_ZONES_IN) & ((ak == K_ALL_ZONES_IN) | (ak == K_ZONE)) & same_acct)
        | ((dk == K_ZONE) & (ak == K_ZONE) & same_id & ((acct[pd_] < 0) | same_acct))
        | ((dk == K_ALL_ACCOUNTS) & ((ak == K_ACCOUNT) | (ak == K_ALL_ACCOUNTS)))
        | ((dk == K_ACCOUNT) & (ak == K_ACCOUNT) & same_id)
        | ((dk == K_USER) & (ak == K_USER) & same_id)
    )
    overlaps = (
        superset
        | ((ak == K_ALL_ZONES) & ((dk == K_ZONE) | (dk == K_ALL_ZONES_IN)))
        | ((ak == K_ALL_ZONES_IN) & (dk == K_ZONE) & ((acct[pd_] < 0) | same_acct))
        | ((ak == K_ALL_ZONES_IN) & (dk == K_ALL_ZONES_IN) & same_acct)
        | ((ak == K_ALL_ACCOUNTS) & (dk == K_ACCOUNT))
        | ((ak == K_ZONE) & (dk == K_ZONE) & same_id)
        | ((ak == K_ZONE) & (acct[pa] < 0) & (dk == K_ALL_ZONES_IN))
    )
    removed = np.bincount(pa[superset], minlength=len(rows)) > 0
    partly = np.bincount(pa[overlaps], minlength=len(rows)) > 0
    effective[rows[allow]] = ~removed[allow]
    narrowed[rows[allow]] = ~removed[allow] & partly[allow]
    return left


def _wire_resource(inv: Inventory, row: int) -> Resource:
    """The resource as the engine parses the wire key (an account-owned token's zone wildcard is
    read as its own account's zones in the inventory: see ``_owned_atoms``)."""
    key = inv.g_rkey[row]
    if key == ALL_ZONES_KEY:
        return Resource.all_zones()
    return _resource(inv.g_kind[row], inv.g_rid[row], inv.g_racct[row], key)


class _ZoneAccounts:
    """The zone → account mapping in the shape :func:`cftokens.effective_grants` reads."""

    __slots__ = ("_mapping",)

    def __init__(self, mapping: Mapping[str, str]):
        self._mapping = mapping

    def zone_account(self, zone_id: str) -> str | None:
        return self._mapping.get(zone_id)
