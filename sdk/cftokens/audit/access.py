"""``audit.access``: effective access kept symbolic, expanded only where a query asks.

A grant on "all zones" is one row, not one row per zone: the view grows with tokens × grants,
never with tokens × zones, so an inventory of 100,000 tokens over 30,000 zones stays small.
:meth:`AccessFrame.expand` turns the rows into concrete (token, group, zone/account/user) rows
for the zones, accounts or tokens asked for; :class:`AccessIndex` holds the matching that
``who_can``, ``expand`` and ``access_matrix`` share.

Semantics are the policy engine's: a zone grant reaches a zone when it names the zone (flat,
or nested under the zone's own account), when it is "all zones of" the zone's account, or
"all zones"; an account grant reaches its account or every account; tokens with deny policies
are decided by :func:`cftokens.evaluate` itself for each concrete resource (denies never stay
symbolic). ``tests/audit/test_access.py`` checks every answer against :func:`cftokens.evaluate`.

This module imports pandas; :mod:`cftokens.audit.core` imports it on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._text import distinct_labels
from ..errors import InvalidInput
from ..model._util import is_id
from ..policy import evaluate
from ._compat import STR
from ._inventory import (
    K_ACCOUNT,
    K_ALL_ACCOUNTS,
    K_ALL_ZONES,
    K_ALL_ZONES_IN,
    K_R2,
    K_USER,
    K_ZONE,
    LEVELS,
)
from .access_frame import SCOPE_NAMES, AccessFrame, IntArray, SymbolicView
from .records import timeless_token
from .rules.base import distinct

if TYPE_CHECKING:
    from .core import Audit

# pandas, typed loosely for the column builders; ``pd`` (pandas-stubs) types the frames
_pd: Any = pd

__all__ = ["SCOPE_NAMES", "AccessFrame", "AccessIndex", "distinct_labels"]


_ZONE_KINDS = (K_ZONE, K_ALL_ZONES_IN, K_ALL_ZONES)
_ACCOUNT_KINDS = (K_ACCOUNT, K_ALL_ACCOUNTS)
CONCRETE_COLUMNS = (
    "token_id",
    "token_name",
    "group",
    "group_id",
    "level",
    "resource_kind",
    "resource_id",
    "resource_name",
    "account_id",
    "policy",
    "via",
    "live",
)


class AccessIndex(SymbolicView):
    """The effective grant rows of an audit with integer codes for zones and accounts.

    Zones: the directory's, then zone ids grants name that the directory does not know (their
    account is unknown: -1). Accounts: the directory's, then ids grants name.
    """

    def __init__(self, audit: Audit):
        self.audit = audit
        ctx = audit._ctx
        inv = audit._inv
        d = audit._dir
        self.rows: IntArray = np.flatnonzero(ctx.eff).astype(np.int64)
        rows = self.rows
        self.kind = ctx.kind[rows].astype(np.int64)
        self.tok = ctx.tok[rows].astype(np.int64)
        self.grp = ctx.grp[rows].astype(np.int64)
        self.zone_ids: list[str] = list(d.zone_names)
        self.account_ids: list[str] = list(d.account_names)
        self.zone_code: dict[str, int] = {z: i for i, z in enumerate(self.zone_ids)}
        self.account_code: dict[str, int] = {a: i for i, a in enumerate(self.account_ids)}
        self.n_directory_zones = len(self.zone_ids)
        self.n_directory_accounts = len(self.account_ids)
        # zones' accounts the account list lacks come next, so zone_acct is always known
        zone_acct = [self._account(d.zone_account[z]) for z in self.zone_ids]
        rid_text = _pd.Series(np.array(inv.g_rid, dtype=object)[rows], dtype=object)
        racct_text = _pd.Series(np.array(inv.g_racct, dtype=object)[rows], dtype=object)
        kind = self.kind
        rid = np.full(len(rows), -1, dtype=np.int64)
        racct = np.full(len(rows), -1, dtype=np.int64)
        zone_rows = kind == K_ZONE
        rid[zone_rows] = self._codes(rid_text[zone_rows], self._zone)
        account_rows = kind == K_ACCOUNT
        rid[account_rows] = self._codes(rid_text[account_rows], self._account)
        nested = (zone_rows | (kind == K_ALL_ZONES_IN)) & racct_text.notna().to_numpy()
        racct[nested] = self._codes(racct_text[nested], self._account)
        # an R2 bucket is one resource: its own code (by wire key), in its account
        bucket_rows = kind == K_R2
        if bucket_rows.any():
            buckets: dict[str, int] = {}
            keys = _pd.Series(np.array(inv.g_rkey, dtype=object)[rows][bucket_rows], dtype=object)
            rid[bucket_rows] = self._codes(keys, lambda k: buckets.setdefault(k, len(buckets)))
            racct[bucket_rows] = self._codes(racct_text[bucket_rows], self._account)
        self.rid = rid
        self.racct = racct
        # zones grants name that the directory does not know: account unknown
        zone_acct += [-1] * (len(self.zone_ids) - len(zone_acct))
        self.zone_acct: IntArray = np.array(zone_acct, dtype=np.int64)
        # rows the engine decides resource by resource: a deny policy removes part of them
        # (a grant no deny overlaps reaches every resource it names)
        self.engine = inv.arrays["has_deny"][self.tok] & inv.arrays["g_narrowed"][rows]
        self._tokens: dict[int, Any] = {}
        self._by_group: dict[int, IntArray] | None = None

    @staticmethod
    def _codes(values: Any, intern: Callable[[str], int]) -> IntArray:
        """Codes of ``values`` (a Series of ids), each distinct id interned once."""
        if not len(values):
            return np.zeros(0, dtype=np.int64)
        labels, uniques = _pd.factorize(values)
        codes = np.array([intern(str(u)) for u in uniques], dtype=np.int64)
        return np.asarray(codes[labels], dtype=np.int64)

    def labels(self, idx: IntArray) -> list[str]:
        """``ctx.resource_label`` of the rows at ``idx`` (index positions), computed once per
        distinct resource atom: the same "all zones" grant in 6,000 tokens is one string."""
        if not len(idx):
            return []
        key = np.stack([self.kind[idx], self.rid[idx], self.racct[idx]])
        _, first, inverse = np.unique(key, axis=1, return_index=True, return_inverse=True)
        label = self.audit._ctx.resource_label
        texts = [label(int(r)) for r in self.rows[idx[first]].tolist()]
        inverse = np.asarray(inverse).reshape(-1)
        return [texts[i] for i in inverse.tolist()]

    def _zone(self, ident: str) -> int:
        code = self.zone_code.get(ident)
        if code is None:
            code = self.zone_code[ident] = len(self.zone_ids)
            self.zone_ids.append(ident)
        return code

    def _account(self, ident: str) -> int:
        code = self.account_code.get(ident)
        if code is None:
            code = self.account_code[ident] = len(self.account_ids)
            self.account_ids.append(ident)
        return code

    # -- matching ------------------------------------------------------------------------
    def group_rows(self, group_code: int) -> IntArray:
        """Indices (into ``self.rows``) of the effective rows of one permission group."""
        if self._by_group is None:
            order = np.argsort(self.grp, kind="stable")
            groups = self.grp[order]
            bounds = np.flatnonzero(np.diff(groups)) + 1
            self._by_group = {
                int(groups[chunk[0]]): order[chunk]
                for chunk in np.split(np.arange(len(order)), bounds)
                if len(chunk)
            }
        return self._by_group.get(group_code, np.zeros(0, np.int64))

    def _zone_accounts(self, zones: IntArray) -> IntArray:
        known = len(self.zone_acct)
        if not known:
            return np.full(len(zones), -1, dtype=np.int64)
        inside = zones < known
        return np.where(inside, self.zone_acct[np.where(inside, zones, 0)], -1).astype(np.int64)

    def zone_pairs(self, sel: IntArray, zones: IntArray) -> tuple[IntArray, IntArray]:
        """(index into ``self.rows``, zone code) for every row of ``sel`` that reaches one of
        ``zones`` (codes), before denies."""
        out_i: list[IntArray] = []
        out_z: list[IntArray] = []
        zones = np.unique(zones)
        if not len(sel) or not len(zones):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        kind = self.kind[sel]
        zacct = self._zone_accounts(zones)
        # one zone named (flat, or nested under the zone's own account)
        direct = sel[kind == K_ZONE]
        if len(direct):
            rid = self.rid[direct]
            j = np.minimum(np.searchsorted(zones, rid), len(zones) - 1)
            hit = zones[j] == rid
            direct, j = direct[hit], j[hit]
            nested = self.racct[direct]
            ok = (nested == -1) | ((nested == zacct[j]) & (zacct[j] >= 0))
            out_i.append(direct[ok])
            out_z.append(zones[j[ok]])
        # all zones of an account
        inacct = sel[kind == K_ALL_ZONES_IN]
        if len(inacct):
            order = np.argsort(zacct, kind="stable")
            by_acct = zacct[order]
            acct = self.racct[inacct]
            lo = np.searchsorted(by_acct, acct, "left")
            count = np.searchsorted(by_acct, acct, "right") - lo
            count[acct < 0] = 0
            total = int(count.sum())
            if total:
                start = np.repeat(np.cumsum(count) - count, count)
                pos = np.arange(total) - start + np.repeat(lo, count)
                out_i.append(np.repeat(inacct, count))
                out_z.append(zones[order[pos]])
        # all zones: every zone asked about (the directory's, or one a grant names)
        everywhere = sel[kind == K_ALL_ZONES]
        if len(everywhere):
            out_i.append(np.repeat(everywhere, len(zones)))
            out_z.append(np.tile(zones, len(everywhere)))
        if not out_i:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(out_i), np.concatenate(out_z)

    def account_pairs(self, sel: IntArray, accounts: IntArray) -> tuple[IntArray, IntArray]:
        """(index into ``self.rows``, account code) for account-level rows of ``sel`` that
        reach one of ``accounts``, before denies."""
        out_i: list[IntArray] = []
        out_a: list[IntArray] = []
        accounts = np.unique(accounts)
        if not len(sel) or not len(accounts):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        kind = self.kind[sel]
        direct = sel[kind == K_ACCOUNT]
        if len(direct):
            rid = self.rid[direct]
            j = np.minimum(np.searchsorted(accounts, rid), len(accounts) - 1)
            hit = accounts[j] == rid
            out_i.append(direct[hit])
            out_a.append(accounts[j[hit]])
        everywhere = sel[kind == K_ALL_ACCOUNTS]
        if len(everywhere):
            out_i.append(np.repeat(everywhere, len(accounts)))
            out_a.append(np.tile(accounts, len(everywhere)))
        if not out_i:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(out_i), np.concatenate(out_a)

    def allowed(self, i: int, *, zone: int | None = None, account: int | None = None) -> bool:
        """The policy engine's decision for row ``i`` (index into ``self.rows``) on a zone or
        account code (only called for tokens with deny policies)."""
        audit = self.audit
        t = int(self.tok[i])
        token = self._tokens.get(t)
        if token is None:
            token = self._tokens[t] = timeless_token(audit._inv.records[t].payload)
        group = audit._inv.groups.ids[int(self.grp[i])]
        d = audit._dir
        if zone is not None:
            zone_id = self.zone_ids[zone]
            decision = evaluate(
                token,
                group,
                zone=zone_id,
                account=d.zone_account.get(zone_id),
                directory=d.directory,
                at=audit.now,
            )
        elif account is not None:
            decision = evaluate(
                token, group, account=self.account_ids[account], at=audit.now, directory=d.directory
            )
        else:
            decision = evaluate(token, group, at=audit.now)
        return decision.allowed

    def after_denies(self, i: IntArray, target: IntArray, what: str) -> tuple[IntArray, IntArray]:
        """Drop the (row, target) pairs the engine refuses (tokens with deny policies only)."""
        if not len(i):
            return i, target
        check = np.flatnonzero(self.engine[i])
        if not len(check):
            return i, target
        keep = np.ones(len(i), dtype=bool)
        cache: dict[tuple[int, int, int], bool] = {}
        for k in check.tolist():
            row, code = int(i[k]), int(target[k])
            key = (int(self.tok[row]), int(self.grp[row]), code)
            verdict = cache.get(key)
            if verdict is None:
                if what == "zone":
                    verdict = self.allowed(row, zone=code)
                elif what == "account":
                    verdict = self.allowed(row, account=code)
                else:
                    verdict = self.allowed(row)
                cache[key] = verdict
            keep[k] = verdict
        return i[keep], target[keep]

    # -- resolution ----------------------------------------------------------------------
    def zone_codes(self, zones: str | Iterable[str]) -> IntArray:
        """Codes of zones given by name or id (a name not in the directory raises)."""
        d = self.audit.directory
        return self._resolve(
            zones, d.find_zone, self.zone_code, self._zone, "zone", self.audit._dir.zone_names
        )

    def account_codes(self, accounts: str | Iterable[str]) -> IntArray:
        """Codes of accounts given by name or id (a name not in the directory raises)."""
        d = self.audit.directory
        names = self.audit._dir.account_names
        return self._resolve(
            accounts, d.find_account, self.account_code, self._account, "account", names
        )

    @staticmethod
    def _resolve(
        given: str | Iterable[str],
        find: Callable[[str], Any],
        known: Mapping[str, int],
        new: Callable[[str], int],
        what: str,
        names: Mapping[str, str],
    ) -> IntArray:
        article = "an" if what == "account" else "a"
        out = []
        for item in [given] if isinstance(given, str) else list(given):
            found = find(item)
            if found is not None:
                out.append(known[found.id])
            elif is_id(item):
                out.append(new(item))
            else:
                raise InvalidInput(
                    f"no {what} {item!r} in the audit's directory; give {article} {what} id or "
                    "one of: " + ", ".join(sorted(names.values())[:10])
                )
        return np.array(out, dtype=np.int64)

    def zones_of_accounts(self, accounts: IntArray) -> IntArray:
        """Codes of the directory zones that belong to ``accounts``."""
        if not len(self.zone_acct):
            return np.zeros(0, np.int64)
        return np.flatnonzero(np.isin(self.zone_acct, accounts)).astype(np.int64)

    # -- expansion -----------------------------------------------------------------------
    def expand(
        self,
        *,
        zone: str | Sequence[str] | None = None,
        account: str | Sequence[str] | None = None,
        token: str | Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Concrete rows (see :meth:`AccessFrame.expand`)."""
        audit = self.audit
        sel = np.arange(len(self.rows), dtype=np.int64)
        if token is not None:
            wanted = [audit._token(t) for t in ([token] if isinstance(token, str) else token)]
            sel = sel[np.isin(self.tok, np.array(wanted, dtype=np.int64))]
        user = zone is None and account is None
        if zone is None and account is None:
            # every zone and account known: the directory's and those grants name
            zones = np.arange(len(self.zone_ids), dtype=np.int64)
            accounts = np.arange(len(self.account_ids), dtype=np.int64)
        else:
            zones = np.zeros(0, np.int64)
            accounts = np.zeros(0, np.int64)
            if zone is not None:
                zones = self.zone_codes(zone)
            if account is not None:
                accounts = self.account_codes(account)
                zones = np.union1d(zones, self.zones_of_accounts(accounts)).astype(np.int64)
        zi, zt = self.after_denies(*self.zone_pairs(sel, zones), "zone")
        ai, at = self.after_denies(*self.account_pairs(sel, accounts), "account")
        ui = sel[self.kind[sel] == K_USER] if user else np.zeros(0, np.int64)
        # R2 buckets: every bucket grant is one bucket (no wildcard), shown by its name
        bi = sel[self.kind[sel] == K_R2] if zone is None else np.zeros(0, np.int64)
        if len(bi) and account is not None:
            wanted_accounts = {self.account_ids[a] for a in accounts.tolist()}
            bi = bi[[self.audit._inv.g_racct[int(r)] in wanted_accounts for r in self.rows[bi]]]
        return self.concrete(zi, zt, ai, at, ui, bi)

    def concrete(
        self,
        zi: IntArray,
        zt: IntArray,
        ai: IntArray,
        at: IntArray,
        ui: IntArray,
        bi: IntArray | None = None,
    ) -> pd.DataFrame:
        """The concrete frame of zone, account, user and R2 bucket pairs (deduplicated per
        token, group and resource: the first grant in policy order is the one shown in
        ``via``)."""
        bi = np.zeros(0, np.int64) if bi is None else bi
        audit = self.audit
        ctx = audit._ctx
        inv = audit._inv
        d = audit._dir
        n_z, n_a = len(zi), len(ai)
        idx = np.concatenate([zi, ai, ui, bi]).astype(np.int64)
        kind_code = np.concatenate(
            [
                np.zeros(n_z, np.int64),
                np.ones(n_a, np.int64),
                np.full(len(ui), 2, np.int64),
                np.full(len(bi), 3, np.int64),
            ]
        )
        target = np.concatenate(
            [zt, at, np.zeros(len(ui), np.int64), self.rid[bi]]  # a bucket: its own code
        ).astype(np.int64)
        if len(idx):
            order = np.lexsort((idx, target, self.grp[idx], kind_code, self.tok[idx]))
            idx, kind_code, target = idx[order], kind_code[order], target[order]
            key = np.stack([self.tok[idx], self.grp[idx], kind_code, target])
            first = np.ones(len(idx), dtype=bool)
            first[1:] = (key[:, 1:] != key[:, :-1]).any(axis=0)
            idx, kind_code, target = idx[first], kind_code[first], target[first]
            order = np.argsort(idx, kind="stable")
            idx, kind_code, target = idx[order], kind_code[order], target[order]
        rows = self.rows[idx]
        toks = self.tok[idx]
        grps = self.grp[idx]
        zone_names = np.array([d.zone_names.get(z, z) for z in self.zone_ids], dtype=object)
        zone_acct = np.array([d.zone_account.get(z) for z in self.zone_ids], dtype=object)
        account_names = np.array(
            [d.account_names.get(a, a) for a in self.account_ids], dtype=object
        )
        account_ids = np.array(self.account_ids, dtype=object)
        zone_ids = np.array(self.zone_ids, dtype=object)
        is_zone, is_account = kind_code == 0, kind_code == 1
        rid = np.full(len(idx), None, dtype=object)
        name = np.full(len(idx), "the user", dtype=object)
        acct = np.full(len(idx), None, dtype=object)
        if len(zone_ids):
            rid[is_zone] = zone_ids[target[is_zone]]
            name[is_zone] = zone_names[target[is_zone]]
            acct[is_zone] = zone_acct[target[is_zone]]
        if len(account_ids):
            rid[is_account] = account_ids[target[is_account]]
            name[is_account] = account_names[target[is_account]]
            acct[is_account] = account_ids[target[is_account]]
        user_rows = kind_code == 2
        if user_rows.any():
            rid[user_rows] = np.array(inv.g_rid, dtype=object)[rows[user_rows]]
        bucket_rows = np.flatnonzero(kind_code == 3)
        for i in bucket_rows.tolist():
            row = int(rows[i])
            rid[i] = inv.g_rid[row]  # the bucket's name
            name[i] = ctx.resource_label(row)
            acct[i] = inv.g_racct[row]
        labels = self.labels(idx)
        ids = np.array(inv.ids, dtype=object)
        names = np.array(inv.names, dtype=object)
        group_names = np.array(inv.groups.names, dtype=object)
        group_ids = np.array(inv.groups.ids, dtype=object)
        return pd.DataFrame(
            {
                "token_id": _pd.array(ids[toks] if len(ids) else [], dtype=STR),
                "token_name": _pd.array(names[toks] if len(ids) else [], dtype=STR),
                "group": _pd.array(group_names[grps], dtype=STR),
                "group_id": _pd.array(group_ids[grps], dtype=STR),
                "level": _pd.Categorical.from_codes(
                    ctx.row_level[rows].astype(np.int64), categories=list(LEVELS)
                ),
                "resource_kind": _pd.Categorical.from_codes(
                    kind_code, categories=["zone", "account", "user", "r2 bucket"]
                ),
                "resource_id": _pd.array(rid, dtype=STR),
                "resource_name": _pd.array(name, dtype=STR),
                "account_id": _pd.array(acct, dtype=STR),
                "policy": _pd.array(ctx.pol[rows], dtype="Int64"),
                "via": _pd.array(labels, dtype=STR),
                "live": _pd.array(ctx.live[toks], dtype="boolean"),
            }
        )

    # -- the matrix ----------------------------------------------------------------------
    def matrix(self, level: str | None, by: str, columns: str, limit: int | None) -> pd.DataFrame:
        """See :meth:`cftokens.audit.Audit.access_matrix`."""
        if level is not None and level not in ("read", "write", "other"):
            raise InvalidInput("level must be 'read', 'write', 'other' or None")
        if by not in ("name", "token_id"):
            raise InvalidInput("by must be 'name' or 'token_id'")
        if columns not in ("zone", "account"):
            raise InvalidInput("columns must be 'zone' or 'account'")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise InvalidInput("limit must be a positive number of columns, or None for all")
        sel = np.arange(len(self.rows), dtype=np.int64)
        if level is not None:
            row_level = self.audit._ctx.row_level[self.rows]
            sel = sel[row_level == LEVELS.index(level)]
        if columns == "zone":
            reach = self._zone_reach(sel)
            names = [self.audit._dir.zone_names.get(z, z) for z in self.zone_ids]
        else:
            reach = self._account_reach(sel)
            names = [self.audit._dir.account_names.get(a, a) for a in self.account_ids]
        reached = np.flatnonzero(reach > 0)
        ranked = sorted(reached.tolist(), key=lambda c: (-int(reach[c]), names[c]))
        shown = np.array(ranked if limit is None else ranked[:limit], dtype=np.int64)
        if columns == "zone":
            i, target = self.after_denies(*self.zone_pairs(sel, shown), "zone")
        else:
            i, target = self._account_cells(sel, shown)
        frame = self._crosstab(i, target, names, by, columns)
        what = "zones" if columns == "zone" else "accounts"
        left = len(ranked) - len(shown)
        return _noted(
            frame,
            len(shown),
            len(ranked),
            f"{len(shown)} of {len(ranked)} {what} drawn (those the most grants reach); "
            f"{left:,} more not drawn: raise limit= or use access.expand({columns}=...)"
            if left
            else f"all {len(ranked)} {what} with access drawn",
        )

    def zone_tokens(self) -> IntArray:
        """Inventory positions of the tokens with a grant that reaches a zone (before denies),
        in order."""
        kind = self.kind
        reaching = np.isin(kind, (K_ZONE, K_ALL_ZONES_IN, K_ALL_ZONES))
        if self.n_directory_zones == 0:  # only the zones grants name: all zones reaches none
            reaching &= kind != K_ALL_ZONES
        return np.unique(self.tok[reaching]).astype(np.int64)

    def token_matrix(self, tokens: IntArray, limit: int) -> pd.DataFrame:
        """Tokens (inventory positions, most important first) × zones: distinct permission
        groups per token and zone, rows labelled by name in the order of ``tokens`` (a token
        whose grants a deny removes from every column drawn is left out), as :meth:`matrix`
        counts them.

        At most ``limit`` zones are columns, chosen so that no token given goes without one:
        first, in the order of ``tokens``, the zone its grants share with the most other
        grants of these tokens, for each token none of the columns so far shows; then the
        zones these tokens' grants reach the most. A flood of other tokens on other zones
        cannot push a token given off the chart. ``attrs["note"]`` says how many zones these
        tokens reach were left out.
        """
        sel = np.flatnonzero(np.isin(self.tok, tokens)).astype(np.int64)
        names = [self.audit._dir.zone_names.get(z, z) for z in self.zone_ids]
        reach = self._zone_reach(sel)
        reached = np.flatnonzero(reach > 0)
        ranked = sorted(reached.tolist(), key=lambda c: (-int(reach[c]), names[c]))
        # each grant row's most reached zone: its own, its account's best, or the best of all
        best_of_account = np.full(len(self.account_ids) + 1, -1, dtype=np.int64)
        for code in reversed(ranked):  # the best ranked last, so it stays
            account = int(self.zone_acct[code])
            if account >= 0:
                best_of_account[account] = code
        kind = self.kind[sel]
        top = np.full(len(sel), -1, dtype=np.int64)
        direct = kind == K_ZONE
        top[direct] = self.rid[sel][direct]
        inacct = (kind == K_ALL_ZONES_IN) & (self.racct[sel] >= 0)
        top[inacct] = best_of_account[self.racct[sel][inacct]]
        if ranked:
            top[kind == K_ALL_ZONES] = ranked[0]
        score = np.where(top >= 0, reach[np.maximum(top, 0)], -1)
        first: dict[int, int] = {}
        for t, zone, s in zip(self.tok[sel].tolist(), top.tolist(), score.tolist(), strict=True):
            if zone >= 0 and (t not in first or s > int(reach[first[t]])):
                first[t] = zone
        shown: list[int] = []
        chosen: set[int] = set()
        for t in tokens.tolist():
            own = first.get(int(t))
            if own is not None and own not in chosen and len(shown) < limit:
                shown.append(own)
                chosen.add(own)
        for zone in ranked:
            if len(shown) >= limit:
                break
            if zone not in chosen:
                shown.append(zone)
                chosen.add(zone)
        i, target = self.after_denies(
            *self.zone_pairs(sel, np.array(shown, dtype=np.int64)), "zone"
        )
        labels = distinct_labels(self.audit._inv.names, self.audit._inv.ids)
        frame = self._crosstab(i, target, names, "name", "zone", labels)
        if len(frame):  # rows in the order of ``tokens``
            drawn = set(frame.index)
            frame = frame.loc[[labels[t] for t in tokens.tolist() if labels[t] in drawn]]
        left = len(ranked) - len(shown)
        return _noted(
            frame,
            len(shown),
            len(ranked),
            f"{len(shown)} of the {len(ranked)} zones these tokens reach drawn (one of each "
            f"token's, then those the most of their grants reach); {left:,} more not drawn"
            if left
            else f"all {len(ranked)} zones with access drawn",
        )

    def _zone_reach(self, sel: IntArray) -> IntArray:
        """Grants (before denies) reaching each zone code: a ranking, not an answer."""
        n = len(self.zone_ids)
        kind = self.kind[sel]
        reach = np.bincount(self.rid[sel][kind == K_ZONE], minlength=n)[:n].astype(np.int64)
        per_account = np.bincount(
            self.racct[sel][kind == K_ALL_ZONES_IN], minlength=len(self.account_ids)
        )
        known = self.zone_acct >= 0
        reach[known] += per_account[self.zone_acct[known]]
        reach += int((kind == K_ALL_ZONES).sum())
        return reach

    def _account_reach(self, sel: IntArray) -> IntArray:
        """Grants (before denies) reaching each account or one of its zones."""
        n = len(self.account_ids)
        kind = self.kind[sel]
        reach = np.bincount(self.rid[sel][kind == K_ACCOUNT], minlength=n)[:n].astype(np.int64)
        reach += np.bincount(self.racct[sel][kind == K_ALL_ZONES_IN], minlength=n)[:n]
        direct = sel[kind == K_ZONE]
        nested = self.racct[direct]
        acct = np.where(nested >= 0, nested, self._zone_accounts(self.rid[direct]))
        reach += np.bincount(acct[acct >= 0], minlength=n)[:n]
        reach += int((kind == K_ALL_ACCOUNTS).sum())
        with_zones = np.zeros(n, dtype=bool)
        with_zones[self.zone_acct[self.zone_acct >= 0]] = True
        reach[with_zones] += int((kind == K_ALL_ZONES).sum())
        return reach

    def _account_cells(self, sel: IntArray, accounts: IntArray) -> tuple[IntArray, IntArray]:
        """(row, account) pairs: account rows on the account, zone rows on at least one of its
        zones (after denies: for tokens with deny policies, one zone the engine allows)."""
        i_acc, t_acc = self.after_denies(*self.account_pairs(sel, accounts), "account")
        out_i, out_a = [i_acc], [t_acc]
        kind = self.kind[sel]
        zone_sel = sel[np.isin(kind, _ZONE_KINDS)]
        zones_of: dict[int, IntArray] = {}
        for a in accounts.tolist():
            zones_of[a] = np.flatnonzero(self.zone_acct == a).astype(np.int64)
        plain = zone_sel[~self.engine[zone_sel]]
        k = self.kind[plain]
        # a row without denies reaches an account when it reaches one of its zones
        direct = plain[k == K_ZONE]
        if len(direct):
            zi, zt = self.zone_pairs(direct, np.unique(self.rid[direct]))
            acct = self.zone_acct[zt] if len(zt) else zt
            hit = np.isin(acct, accounts)
            out_i.append(zi[hit])
            out_a.append(acct[hit])
        has_zones = np.array([len(zones_of[a]) > 0 for a in accounts.tolist()], dtype=bool)
        inacct = plain[k == K_ALL_ZONES_IN]
        if len(inacct):
            hit = np.isin(self.racct[inacct], accounts[has_zones])
            out_i.append(inacct[hit])
            out_a.append(self.racct[inacct][hit])
        everywhere = plain[k == K_ALL_ZONES]
        with_zones = accounts[has_zones]
        out_i.append(np.repeat(everywhere, len(with_zones)))
        out_a.append(np.tile(with_zones, len(everywhere)))
        # rows a deny narrows: the engine, zone by zone, until one zone of the account is allowed
        for row in zone_sel[self.engine[zone_sel]].tolist():
            one = np.array([row], dtype=np.int64)
            for a in accounts.tolist():
                _, zt = self.zone_pairs(one, zones_of[a])
                if any(self.allowed(row, zone=int(z)) for z in zt.tolist()):
                    out_i.append(one)
                    out_a.append(np.array([a], dtype=np.int64))
        return np.concatenate(out_i).astype(np.int64), np.concatenate(out_a).astype(np.int64)

    def _crosstab(
        self,
        i: IntArray,
        target: IntArray,
        names: list[str],
        by: str,
        axis: str,
        labels: list[str] | None = None,
    ) -> pd.DataFrame:
        """Distinct permission groups per (token, column), labelled (``labels``: the tokens'
        labels when already worked out); rows and columns sorted."""
        inv = self.audit._inv
        if not len(i):
            return pd.DataFrame(dtype="int64")
        pairs, counts = group_counts(self.tok[i], target, self.grp[i])
        ids = self.zone_ids if axis == "zone" else self.account_ids
        if labels is None:
            labels = distinct_labels(inv.names, inv.ids) if by == "name" else list(inv.ids)
        label = np.array(labels, dtype=object)
        col_names = np.array(distinct_labels(names, ids), dtype=object)
        frame = _pd.DataFrame(
            {"token": label[pairs[0]], axis: col_names[pairs[1]], "n": counts.astype(np.int64)}
        )
        matrix: pd.DataFrame = (
            frame.groupby(["token", axis], sort=True)["n"].sum().unstack(fill_value=0)
        )
        return matrix.astype("int64")


def group_counts(
    tok: IntArray, target: IntArray, grp: IntArray
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The distinct (token, target) pairs (a 2 x k array, sorted by token then target) and
    how many distinct groups each pair holds: ``np.unique`` of the stacked rows (``axis=1``)
    and of their first two, by one sort of combined integer keys each instead of a sort of
    the rows as records (~10x slower)."""
    first, _ = distinct(tok, target, grp)
    cells = np.stack([np.asarray(tok)[first], np.asarray(target)[first]]).astype(np.int64)
    if not len(first):
        return cells, np.zeros(0, dtype=np.int64)
    at, code = distinct(cells[0], cells[1])
    return cells[:, at], np.bincount(code, minlength=len(at)).astype(np.int64)


def _noted(frame: pd.DataFrame, shown: int, total: int, note: str) -> pd.DataFrame:
    """``frame`` with how many of its columns' candidates it draws, and the sentence saying
    so, in its ``attrs`` (``columns_shown``, ``columns_total``, ``note``)."""
    frame.attrs["columns_total"] = total
    frame.attrs["columns_shown"] = shown
    frame.attrs["note"] = note
    return frame
