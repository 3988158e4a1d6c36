"""``audit.access``'s frame: one row per effective grant, wildcards kept symbolic
(:class:`AccessFrame`), and its builder (:meth:`SymbolicView.symbolic`, a part of
:class:`~cftokens.audit.access.AccessIndex`). It imports pandas, as :mod:`.access` does
(loaded on first use)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._compat import STR
from ._inventory import (
    K_ACCOUNT,
    K_ALL_ACCOUNTS,
    K_ALL_ZONES,
    K_ALL_ZONES_IN,
    K_R2,
    K_UNPARSED,
    K_USER,
    K_ZONE,
    LEVELS,
)

if TYPE_CHECKING:
    from .access import AccessIndex
    from .core import Audit

# pandas, typed loosely for the column builders; ``pd`` (pandas-stubs) types the frames
_pd: Any = pd

__all__ = ["SCOPE_NAMES", "AccessFrame", "SymbolicView"]


# The ``scope`` column: what one symbolic row reaches.
SCOPE_NAMES: dict[int, str] = {
    K_ZONE: "zone",
    K_ALL_ZONES_IN: "all zones of account",
    K_ALL_ZONES: "all zones",
    K_ACCOUNT: "account",
    K_ALL_ACCOUNTS: "all accounts",
    K_USER: "user",
    K_UNPARSED: "unparsed",  # never effective
    K_R2: "r2 bucket",
}
_RESOURCE_KIND = {
    K_ZONE: "zone",
    K_ALL_ZONES_IN: "zone",
    K_ALL_ZONES: "zone",
    K_ACCOUNT: "account",
    K_ALL_ACCOUNTS: "account",
    K_USER: "user",
    K_UNPARSED: "user",  # never effective: no row has it
    K_R2: "r2 bucket",
}

IntArray = npt.NDArray[np.int64]


class SymbolicView:
    """The symbolic view of :class:`~cftokens.audit.access.AccessIndex` (the index's state
    declared below is the index's own)."""

    audit: Audit
    rows: IntArray
    kind: IntArray
    tok: IntArray
    grp: IntArray
    rid: IntArray
    racct: IntArray
    zone_acct: IntArray
    zone_ids: list[str]
    account_ids: list[str]
    n_directory_zones: int
    n_directory_accounts: int

    if TYPE_CHECKING:  # the index's, read here

        def labels(self, idx: IntArray) -> list[str]: ...

    def symbolic(self) -> AccessFrame:
        """One row per effective grant (see :attr:`cftokens.audit.Audit.access`)."""
        audit = self.audit
        ctx = audit._ctx
        inv = audit._inv
        d = audit._dir
        idx = np.arange(len(self.rows), dtype=np.int64)
        kind = self.kind
        keyed = np.stack([self.tok, self.grp, kind, self.rid, self.racct])
        if len(idx):
            order = np.lexsort(keyed[::-1])
            sorted_keys = keyed[:, order]
            first = np.ones(len(idx), dtype=bool)
            first[1:] = (sorted_keys[:, 1:] != sorted_keys[:, :-1]).any(axis=0)
            idx = np.sort(order[first])
        rows = self.rows[idx]
        toks, grps, kinds = self.tok[idx], self.grp[idx], kind[idx]
        n_zones_of = np.zeros(len(self.account_ids) + 1, dtype=np.int64)
        if len(self.zone_acct):
            known = self.zone_acct[self.zone_acct >= 0]
            n_zones_of[: len(self.account_ids)] = np.bincount(
                known, minlength=len(self.account_ids)
            )[: len(self.account_ids)]
        breadth = np.ones(len(idx), dtype=np.int64)
        breadth[kinds == K_ALL_ZONES] = self.n_directory_zones
        breadth[kinds == K_ALL_ACCOUNTS] = self.n_directory_accounts
        inacct = kinds == K_ALL_ZONES_IN
        breadth[inacct] = n_zones_of[self.racct[idx][inacct]]
        labels = self.labels(idx)
        short = {text: _short(text) for text in set(labels)}
        scope_names = [SCOPE_NAMES[k] for k in range(max(SCOPE_NAMES) + 1)]
        resource_kind = ["zone", "account", "user", "r2 bucket"]
        rk = np.array([resource_kind.index(_RESOURCE_KIND[k]) for k in range(len(scope_names))])
        rid = np.array(inv.g_rid, dtype=object)[rows] if len(rows) else np.zeros(0, object)
        rid[np.isin(kinds, (K_ALL_ZONES, K_ALL_ACCOUNTS, K_ALL_ZONES_IN))] = None
        acct = np.full(len(rows), None, dtype=object)
        account_ids = np.array(self.account_ids + [None], dtype=object)
        zacct = np.array([d.zone_account.get(z) for z in self.zone_ids] + [None], dtype=object)
        z_rows = kinds == K_ZONE
        nested = self.racct[idx]
        acct[z_rows] = np.where(
            nested[z_rows] >= 0, account_ids[nested[z_rows]], zacct[self.rid[idx][z_rows]]
        )
        acct[inacct] = account_ids[nested[inacct]]
        a_rows = kinds == K_ACCOUNT
        acct[a_rows] = account_ids[self.rid[idx][a_rows]]
        ids = np.array(inv.ids, dtype=object)
        names = np.array(inv.names, dtype=object)
        denied = _deny_notes(audit, toks, grps)
        frame = AccessFrame(
            {
                "token_id": _pd.array(ids[toks] if len(ids) else [], dtype=STR),
                "token_name": _pd.array(names[toks] if len(ids) else [], dtype=STR),
                "group": _pd.array(np.array(inv.groups.names, dtype=object)[grps], dtype=STR),
                "group_id": _pd.array(np.array(inv.groups.ids, dtype=object)[grps], dtype=STR),
                "level": _pd.Categorical.from_codes(
                    ctx.row_level[rows].astype(np.int64), categories=list(LEVELS)
                ),
                "resource_kind": _pd.Categorical.from_codes(rk[kinds], categories=resource_kind),
                "scope": _pd.Categorical.from_codes(kinds, categories=scope_names),
                "resource_id": _pd.array(rid, dtype=STR),
                "resource_name": _pd.array([short[text] for text in labels], dtype=STR),
                "account_id": _pd.array(acct, dtype=STR),
                "n_resources": _pd.array(breadth, dtype="Int64"),
                "narrowed": _pd.array(inv.arrays["g_narrowed"][rows], dtype="boolean"),
                "denied": _pd.array(denied, dtype=STR),
                "policy": _pd.array(ctx.pol[rows], dtype="Int64"),
                "via": _pd.array(labels, dtype=STR),
                "live": _pd.array(ctx.live[toks], dtype="boolean"),
            }
        )
        frame._access_index = cast("AccessIndex", self)  # (the index this view is part of)
        return frame


def _short(label: str) -> str:
    """The resource in ``via`` without its kind word for single resources."""
    for prefix in ("zone ", "account "):
        if label.startswith(prefix):
            return label[len(prefix) :]
    return label


def _deny_notes(audit: Audit, toks: IntArray, grps: IntArray) -> list[str | None]:
    """For each (token, group) row: the denies of that group in the token, in words."""
    ctx = audit._ctx
    inv = audit._inv
    out: list[str | None] = [None] * len(toks)
    has_deny = inv.arrays["has_deny"]
    if not len(toks) or not has_deny[toks].any():
        return out
    notes: dict[tuple[int, int], str | None] = {}
    for k in np.flatnonzero(has_deny[toks]).tolist():
        key = (int(toks[k]), int(grps[k]))
        if key not in notes:
            texts = [
                f"policy {ctx.pol[row]} denies {ctx.resource_label(row)}"
                for row in ctx.token_rows(key[0])
                if inv.g_deny[row] and int(ctx.grp[row]) == key[1]
            ]
            notes[key] = "; ".join(texts) or None
        out[k] = notes[key]
    return out


class AccessFrame(pd.DataFrame):
    """``audit.access``: one row per effective grant, wildcards kept symbolic.

    Columns: token_id, token_name, group, group_id, level; ``resource_kind`` (zone, account,
    user: what the row reaches); ``scope`` (zone, all zones of account, all zones, account,
    all accounts, user); resource_id (None for wildcards), resource_name, account_id (the
    zone's or the account's); ``n_resources`` (how many of the directory's zones or accounts
    the row covers, before denies); ``narrowed`` and ``denied`` (a deny policy removes part of
    it, and which); policy, via (the grant in words), live. :meth:`expand` gives concrete rows.
    A filtered or transformed copy is a plain DataFrame.
    """

    _metadata: ClassVar[list[str]] = ["_access_index"]
    _access_index: AccessIndex

    def expand(
        self,
        *,
        zone: str | Sequence[str] | None = None,
        account: str | Sequence[str] | None = None,
        token: str | Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Concrete access: one row per (token, permission group, zone/account/user), after
        denies (the policy engine decides tokens with deny policies), as
        :func:`cftokens.evaluate` would answer.

        ``zone``: zone name(s) or id(s); ``account``: account name(s) or id(s): the account
        itself and each of its zones; ``token``: token id(s) or name(s), alone or with the
        others. With no argument, everything: as many rows as tokens × the zones they reach,
        which can be very large (filter with ``zone``/``account``/``token`` first).
        """
        return self._access_index.expand(zone=zone, account=account, token=token)
