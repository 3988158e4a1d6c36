"""The rule machinery: :class:`Hits`, :class:`Rule`, the registry :data:`RULES`,
:func:`run_rules` and the helpers the rule families share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import repeat
from operator import add, is_
from typing import Any

import numpy as np
import numpy.typing as npt
from attrs import frozen

from .._context import Ctx, join_names
from .._inventory import (
    FAMILY_BITS,
    K_ALL_ZONES,
    K_ALL_ZONES_IN,
)
from ..severity import SEVERITY_ORDER, Severity
from ..steps import (
    GroupRef,
    NamedAccounts,
    NamedZones,
    NarrowResources,
    RemoveGroups,
    SetAllowlist,
    Step,
    ZonesOfAccounts,
)

__all__ = ["RULES", "RULE_FAMILIES", "Coded", "Hits", "Rule", "run_rules"]


API_TOKENS_WRITE = "686d18d5ac6c441c867cbf6771e58a0a"
API_TOKENS_READ = "0cc3a61731504c89b99ec1be78b77aa0"
ACCOUNT_TOKENS_WRITE = "5bc3f8b21c554832afc660159ab75fa4"
ACCOUNT_TOKENS_READ = "eb56a6953c034b9d97dd838155666f06"
ACCOUNT_SETTINGS_WRITE = "1af1fa2adc104452b74a9a3364202f20"
SCIM_PROVISIONING = "d5812c023a5048b4882175a28952362d"
MEMBERSHIPS_WRITE = "9201bc6f42d440968aaab0c6f17ebb1d"
TOKEN_API_GROUPS = frozenset(
    {API_TOKENS_WRITE, API_TOKENS_READ, ACCOUNT_TOKENS_WRITE, ACCOUNT_TOKENS_READ}
)
PLACEHOLDER_CIDR = "REPLACE-WITH-YOUR-CALLERS-CIDR"

#: The rule families (the middle part of a rule id), spelled out for people.
RULE_FAMILIES = {
    "PE": "privilege escalation",
    "SC": "scope wider than needed",
    "RK": "risky capabilities",
    "LC": "lifecycle (expiry, rotation, use)",
    "NW": "network (IP allowlists)",
    "LN": "lint (unknown or ineffective grants)",
    "ID": "identity and credentials",
    "SUP": "suppressions",
}


class Coded:
    """A column given once per distinct value: ``values``, and each finding's code (an index
    into ``values``), so a text or fix shared by many findings is built and stored once."""

    __slots__ = ("codes", "values")

    def __init__(self, values: Sequence[Any], codes: npt.ArrayLike):
        self.values: list[Any] = list(values)
        self.codes: npt.NDArray[np.intp] = np.asarray(codes, dtype=np.intp).reshape(-1)
        if len(self.codes) and (self.codes.min() < 0 or self.codes.max() >= len(self.values)):
            raise ValueError("Coded: every code must index one of the values")

    @classmethod
    def _valid(cls, values: list[Any], codes: npt.NDArray[np.intp]) -> Coded:
        """A column whose codes index ``values`` by construction (not checked again)."""
        column = cls.__new__(cls)
        column.values = values
        column.codes = codes
        return column

    @classmethod
    def per_key(cls, make: Callable[[int], Any], *keys: npt.ArrayLike) -> Coded:
        """One value per distinct combination of ``keys`` (parallel integer arrays, one entry
        per finding), built by ``make(i)`` from ``i``, a finding with that combination."""
        first, codes = distinct(*keys)
        return cls._valid([make(i) for i in first.tolist()], codes)

    @classmethod
    def of(cls, value: Any, k: int) -> Coded:
        """``value`` as a column of ``k`` findings: a list or tuple gives each finding its
        own value, any other value (a text, a fix, None) is every finding's."""
        if isinstance(value, Coded):
            if len(value) != k:
                raise ValueError(f"a column of {len(value)} values for {k} findings")
            return value
        if isinstance(value, list | tuple):
            if len(value) != k:
                raise ValueError(f"a column of {len(value)} values for {k} findings")
            if k and all(map(is_, value, repeat(value[0]))):
                # every finding holds the very same object (a text or fix its producer made
                # once): kept once, so the frames handle it once
                return cls._valid([value[0]], np.zeros(k, dtype=np.intp))
            return cls._valid(list(value), np.arange(k, dtype=np.intp))
        return cls._valid([value], np.zeros(k, dtype=np.intp))

    def __len__(self) -> int:
        return len(self.codes)

    def decoded(self) -> list[Any]:
        """Each finding's value."""
        return object_table(self.values)[self.codes].tolist()  # type: ignore[no-any-return]


def object_table(values: Sequence[Any]) -> npt.NDArray[np.object_]:
    """``values`` as a 1-d object array (tuples stay whole)."""
    return np.fromiter(values, dtype=object, count=len(values))


def distinct(*keys: npt.ArrayLike) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The distinct combinations of parallel integer arrays: (the first position holding
    each combination, each position's combination number; combinations numbered in the order
    their combined keys sort). Keys are combined arithmetically (renumbered densely only when
    the product of their ranges would overflow), then sorted once, or, when the combined keys
    span at most a few times as many values as there are positions (the usual case: policies,
    groups, resource atoms, counts), numbered from a table of the values present
    (:func:`_distinct_dense`, ~10 times faster than the sort)."""
    arrays = [np.asarray(k, dtype=np.int64).reshape(-1) for k in keys]
    n = len(arrays[0]) if arrays else 0
    if n == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    if n <= _SMALL:
        return _distinct_small(arrays)
    combined = np.zeros(n, dtype=np.int64)
    span = 1  # the range of ``combined`` (a Python int: no overflow in the check)
    for a in arrays:
        low = int(a.min())
        width = int(a.max()) - low + 1
        if span * width >= _COMBINE_LIMIT:
            _, dense = np.unique(combined, return_inverse=True)
            combined = dense.reshape(-1).astype(np.int64)
            span = int(combined.max()) + 1
            if span * width >= _COMBINE_LIMIT:
                _, code = np.unique(a, return_inverse=True)
                a = code.reshape(-1).astype(np.int64)
                low, width = 0, int(a.max()) + 1
        combined = combined * width + (a - low)
        span *= width
    if span <= max(_DENSE_SPAN * n, _DENSE_MIN):
        return _distinct_dense(combined, span)
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    return first.astype(np.intp), inverse.reshape(-1).astype(np.intp)


def _distinct_dense(
    combined: npt.NDArray[np.int64], span: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """``np.unique(combined, return_index=True, return_inverse=True)``'s first positions and
    inverse for values in ``[0, span)``, without sorting: the values present marked in a
    table of ``span`` flags, numbered in order by a running count, and each number's first
    position the least position holding it (``np.minimum.at``)."""
    present = np.zeros(span, dtype=bool)
    present[combined] = True
    number = np.cumsum(present, dtype=np.intp) - 1
    inverse = number[combined]
    first = np.full(int(number[-1]) + 1, len(combined), dtype=np.intp)
    np.minimum.at(first, inverse, np.arange(len(combined), dtype=np.intp))
    return first, inverse


_COMBINE_LIMIT = 1 << 62
# distinct() numbers combined keys from a table of flags when they span at most this many
# values per position (or this many values in all): the table costs less than a sort then
_DENSE_SPAN = 8
_DENSE_MIN = 1 << 16
# up to this many keys, :func:`distinct` sorts tuples in Python: the same answer without
# the ~15 numpy calls (a small audit calls it ~50 times with a handful of findings each)
_SMALL = 48


def _distinct_small(
    arrays: list[npt.NDArray[np.int64]],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """:func:`distinct` by tuples: combinations numbered in the order their combined keys
    sort (lexicographic on the keys), each first position the first occurrence."""
    combos = list(zip(*(a.tolist() for a in arrays), strict=True))
    first_of: dict[tuple[int, ...], int] = {}
    for i, combo in enumerate(combos):
        first_of.setdefault(combo, i)
    ordered = sorted(first_of)
    number = {combo: j for j, combo in enumerate(ordered)}
    return (
        np.array([first_of[c] for c in ordered], dtype=np.intp),
        np.array([number[c] for c in combos], dtype=np.intp),
    )


class Hits:
    """The findings one rule produced, as batches of columns: integer arrays for the token,
    severity rank (0 info … 4 critical), evidence grant row, policy and group, and
    :class:`Coded` columns (values given once per distinct value) for the texts, ids and fixes.

    :meth:`add` records one finding; :meth:`extend` records many at once from arrays."""

    def __init__(self, rule_id: str):
        self.rule_id = rule_id
        self._batches: list[tuple[Any, ...]] = []
        # findings from add(), one tuple each, made into a batch when read or before a batch
        self._found: list[tuple[Any, ...]] = []

    def __len__(self) -> int:
        return sum(len(b[0]) for b in self._batches) + len(self._found)

    def batches(self) -> list[tuple[Any, ...]]:
        """Every finding in order, as batches of 12 columns: tok, sev, row, pol, grp (int64
        arrays), zone, account, evidence, detail, remediation, fix, token_id (:class:`Coded`)."""
        self._flush()
        return self._batches

    def _flush(self) -> None:
        if not self._found:
            return
        columns = list(zip(*self._found, strict=True))
        k = len(self._found)
        self._found = []
        self._batches.append(
            (
                *(np.array(c, dtype=np.int64) for c in columns[:5]),
                *(Coded._valid(list(c), np.arange(k, dtype=np.intp)) for c in columns[5:]),
            )
        )

    def _column(self, i: int) -> list[Any]:
        out: list[Any] = []
        for batch in self.batches():
            c = batch[i]
            out.extend(c.decoded() if isinstance(c, Coded) else c.tolist())
        return out

    @property
    def tok(self) -> list[int]:
        """The token of each finding (-1: a token the audit could not read)."""
        return self._column(0)

    @property
    def sev(self) -> list[int]:
        """Each finding's severity rank."""
        return self._column(1)

    @property
    def row(self) -> list[int]:
        """Each finding's evidence grant row (-1: none)."""
        return self._column(2)

    @property
    def pol(self) -> list[int]:
        """Each finding's policy index (0: none)."""
        return self._column(3)

    @property
    def grp(self) -> list[int]:
        """Each finding's group code (-1: none)."""
        return self._column(4)

    @property
    def zone(self) -> list[str | None]:
        """Each finding's zone id."""
        return self._column(5)

    @property
    def account(self) -> list[str | None]:
        """Each finding's account id."""
        return self._column(6)

    @property
    def evidence(self) -> list[str]:
        """Each finding's evidence."""
        return self._column(7)

    @property
    def detail(self) -> list[str]:
        """Each finding's detail."""
        return self._column(8)

    @property
    def remediation(self) -> list[str]:
        """Each finding's remediation."""
        return self._column(9)

    @property
    def fix(self) -> list[Step | None]:
        """Each finding's fix step."""
        return self._column(10)

    @property
    def token_id(self) -> list[str | None]:
        """The id the rule named, for findings on a token not in the inventory."""
        return self._column(11)

    def add(
        self,
        tok: int,
        sev: Severity,
        evidence: str,
        detail: str,
        remediation: str,
        fix: Step | None,
        *,
        row: int = -1,
        ctx: Ctx | None = None,
        pol: int = 0,
        grp: int = -1,
        zone: str | None = None,
        account: str | None = None,
        token_id: str | None = None,
    ) -> None:
        """Record one finding of severity ``sev``; with a grant ``row`` the policy, group and
        resource come from it; ``fix`` is the :mod:`step <cftokens.audit.steps>` a plan merges.
        ``tok`` is -1 for a token the audit could not read (``token_id`` then names it)."""
        if not isinstance(sev, Severity):
            raise TypeError(f"Hits.add takes a Severity (e.g. Severity.HIGH), not {sev!r}")
        if row >= 0 and ctx is not None:
            pol = pol or int(ctx.pol[row])
            grp = grp if grp >= 0 else int(ctx.grp[row])
            zone = zone or ctx.row_zone(row)
            account = account or ctx.row_account(row)
        self._found.append(
            (
                tok,
                _RANK[sev],
                row,
                pol,
                grp,
                zone,
                account,
                evidence,
                detail,
                remediation,
                fix,
                token_id,
            )
        )

    def extend(
        self,
        tok: npt.ArrayLike,
        sev: Severity | npt.ArrayLike,
        evidence: str | Coded | Sequence[str],
        detail: str | Coded | Sequence[str],
        remediation: str | Coded | Sequence[str],
        fix: Step | Coded | Sequence[Step | None] | None,
        *,
        rows: npt.ArrayLike | None = None,
        ctx: Ctx | None = None,
        pol: npt.ArrayLike | None = None,
        atoms: npt.NDArray[np.int64] | None = None,
    ) -> None:
        """Record many findings at once: ``tok`` the tokens (an integer array), ``sev`` one
        :class:`Severity` for all or an array of ranks (0 info … 4 critical); each text and the
        fix one value for all, a list (one per finding) or a :class:`Coded` column. With
        grant ``rows`` and ``ctx``, each finding's policy, group, zone and account come from its
        row, as in :meth:`add` (``atoms``: the rows' :func:`row_atoms`, when known); ``pol``
        gives the policies of findings without a row."""
        toks = np.asarray(tok, dtype=np.int64).reshape(-1)
        k = len(toks)
        if isinstance(sev, Severity):
            sevs = np.full(k, _RANK[sev], dtype=np.int64)
        elif isinstance(sev, str):
            raise TypeError(f"Hits.extend takes a Severity or an array of ranks, not {sev!r}")
        else:
            sevs = np.asarray(sev, dtype=np.int64).reshape(-1)
            if len(sevs) != k or (k and (sevs.min() < 0 or sevs.max() >= len(SEVERITY_ORDER))):
                raise ValueError(f"Hits.extend: {k} severity ranks from 0 to 4 expected")
        if not k:
            return
        none = Coded.of(None, k)
        zone = account = none
        at = np.full(k, -1, dtype=np.int64) if rows is None else _ints(rows, k)
        pols = np.zeros(k, dtype=np.int64) if pol is None else _ints(pol, k)
        grp = np.full(k, -1, dtype=np.int64)
        if rows is not None and ctx is not None:
            if at.min() < 0:
                raise ValueError("Hits.extend: every row must be a grant row with ctx")
            pols = np.where(pols != 0, pols, ctx.pol[at])
            grp = ctx.grp[at].astype(np.int64)
            atoms = row_atoms(ctx, at) if atoms is None else atoms
            # the zone and account of each distinct atom (one sort for both columns)
            first, codes = distinct(atoms)
            numbers = atoms[first].tolist()
            zone = Coded._valid(per_atom(ctx, "zone", ctx.row_zone, numbers), codes)
            account = Coded._valid(per_atom(ctx, "account", ctx.row_account, numbers), codes)
        self._flush()
        self._batches.append(
            (
                toks,
                sevs,
                at,
                pols,
                grp,
                zone,
                account,
                Coded.of(evidence, k),
                Coded.of(detail, k),
                Coded.of(remediation, k),
                Coded.of(fix, k),
                none,
            )
        )


_RANK = {s: s.rank for s in Severity}


def _ints(values: npt.ArrayLike, k: int) -> npt.NDArray[np.int64]:
    out = np.asarray(values, dtype=np.int64).reshape(-1)
    if len(out) != k:
        raise ValueError(f"Hits.extend: {len(out)} values for {k} findings")
    return out


RuleFn = Callable[[Ctx, "Rule"], Hits]


@frozen(kw_only=True)
class Rule:
    """One rule of the catalogue: metadata plus the function that evaluates it."""

    id: str
    title: str
    severity: str  # the catalogue's wording, e.g. "high; critical on ALL_ZONES"
    default: Severity  # the usual severity (SARIF default level)
    family: str  # PE, SC, RK, LC, NW, LN, ID, SUP
    usage: bool
    fires_when: str
    help: str
    fn: RuleFn | None = None

    @property
    def rationale(self) -> str:
        """Why the rule exists (the rule function's docstring)."""
        doc = self.fn.__doc__ if self.fn is not None else None
        return " ".join((doc or self.help).split())


RULES: dict[str, Rule] = {}


def rule(
    rule_id: str,
    title: str,
    severity: str,
    default: Severity,
    fires_when: str,
    help: str,
    *,
    usage: bool = False,
) -> Callable[[RuleFn], RuleFn]:
    """Register a rule function under its stable id."""

    def register(fn: RuleFn) -> RuleFn:
        RULES[rule_id] = Rule(
            id=rule_id,
            title=title,
            severity=severity,
            default=default,
            family=rule_id.split("-")[1],
            usage=usage,
            fires_when=fires_when,
            help=help,
            fn=fn,
        )
        return fn

    return register


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def best_rows(
    ctx: Ctx, mask: npt.NDArray[np.bool_], sev: npt.NDArray[Any] | int, key: str = "group"
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """One evidence row per (token, group) (or ``key="token"``/``"policy"``): the most severe.

    Returns (rows, severities, number of matching rows per key).
    """
    rows = np.flatnonzero(mask)
    if not len(rows):
        return rows, np.zeros(0, dtype=np.int64), rows
    sev_rows = np.broadcast_to(np.asarray(sev), mask.shape)[rows].astype(np.int64)
    tok = ctx.tok[rows].astype(np.int64)
    if key == "group":
        k = tok * 1_000_000 + ctx.grp[rows]
    elif key == "policy":
        k = tok * 100_000 + ctx.pol[rows]
    else:
        k = tok
    top = len(SEVERITY_ORDER) - 1
    if sev_rows.min() >= 0 and sev_rows.max() <= top and k.min() >= 0 and k.max() < _KEY_LIMIT:
        # by key, then worst first, then row (rows ascend already): one stable sort of the
        # key and severity combined does what the three-key lexsort does, at a third the cost
        order = np.argsort(k * (top + 1) + (top - sev_rows), kind="stable")
    else:
        order = np.lexsort((rows, -sev_rows, k))
    rows, sev_rows, k = rows[order], sev_rows[order], k[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = k[1:] != k[:-1]
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(rows)))
    return rows[first], sev_rows[first], counts


_KEY_LIMIT = 1 << 59  # keys below it times 5 (plus 4) stay within int64


def family_bit(name: str) -> int:
    return FAMILY_BITS[name]


def group_code(ctx: Ctx, gid: str) -> int:
    return ctx.inv.groups.code.get(gid, -1)


def ips_for(ctx: Ctx, t: int) -> list[str] | None:
    if ctx.usage is None:
        return None
    return ctx.usage.cidrs(ctx.inv.ids[t]) or None


def remove_group(ctx: Ctx, pol: int, gid: str) -> RemoveGroups:
    """The fix removing group ``gid`` from policy ``pol``."""
    code = group_code(ctx, gid)
    return RemoveGroups.one(pol, GroupRef(gid, ctx.group_name(code) if code >= 0 else gid))


def allowlist_fix(ctx: Ctx, t: int) -> tuple[SetAllowlist, str]:
    ips = ips_for(ctx, t)
    if ips:
        return SetAllowlist(allow=tuple(ips)), (
            f"restrict it to the networks it is used from ({', '.join(ips)})"
        )
    return SetAllowlist(allow=(PLACEHOLDER_CIDR,)), (
        "add an IP allowlist (condition request.ip in) with your callers' ranges"
    )


def more_grants(count: int) -> str:
    return f" (and {count - 1} more grant{'s' if count > 2 else ''})" if count > 1 else ""


def family_names(bits: int) -> list[str]:
    return [name for name, bit in FAMILY_BITS.items() if bits & bit]


def narrow_zones(ctx: Ctx, t: int, row: int) -> tuple[NarrowResources, str, bool]:
    """A fix replacing a zone wildcard: used zones, else the owner account's zones."""
    inv = ctx.inv
    key = inv.g_rkey[row]
    pol = int(ctx.pol[row])
    kind = int(ctx.kind[row])
    used = ctx.usage.zones(inv.ids[t]) if ctx.usage is not None else []
    if kind == K_ALL_ZONES_IN:
        acct = inv.g_racct[row]
        used = [z for z in used if ctx.dir.zone_account.get(z) in (acct, None)]
    if used:
        names = join_names(ctx.dir.zone(z) for z in used)
        return (
            NarrowResources.one(pol, key, NamedZones(tuple(used))),
            f"name only the zones it uses ({names})",
            True,
        )
    if kind == K_ALL_ZONES:
        if inv.kinds[t] == "account" and inv.owner_ids[t]:
            owner = str(inv.owner_ids[t])
            return (
                NarrowResources.one(pol, key, ZonesOfAccounts((owner,))),
                f"limit it to the zones of its own account {ctx.dir.account(owner)}",
                True,
            )
        accounts = list(ctx.dir.account_names)
        if accounts:
            return (
                NarrowResources.one(pol, key, ZonesOfAccounts(tuple(accounts))),
                "name the accounts whose zones it needs (this keeps out accounts added later; "
                "name single zones where you can)",
                True,
            )
    return (
        NarrowResources.one(pol, key, NamedZones(("REPLACE-WITH-ZONE-ID",))),
        "name the zones it needs instead of a wildcard",
        False,
    )


def narrow_accounts(ctx: Ctx, t: int, row: int) -> tuple[NarrowResources, str]:
    inv = ctx.inv
    key = inv.g_rkey[row]
    pol = int(ctx.pol[row])
    used = ctx.usage.accounts(inv.ids[t]) if ctx.usage is not None else []
    if used:
        return NarrowResources.one(pol, key, NamedAccounts(tuple(used))), (
            f"name only the accounts it uses ({join_names(ctx.dir.account(a) for a in used)})"
        )
    if inv.kinds[t] == "account" and inv.owner_ids[t]:
        owner = str(inv.owner_ids[t])
        return NarrowResources.one(pol, key, NamedAccounts((owner,))), (
            f"name its own account {ctx.dir.account(owner)} instead of all accounts"
        )
    accounts = list(ctx.dir.account_names)
    if accounts:
        return NarrowResources.one(pol, key, NamedAccounts(tuple(accounts))), (
            "name the accounts it needs (this keeps out accounts added later)"
        )
    return NarrowResources.one(pol, key, NamedAccounts(("REPLACE-WITH-ACCOUNT-ID",))), (
        "name the accounts it needs instead of all accounts"
    )


UNEVALUATED = "not evaluated: no usage data"


def run_rules(ctx: Ctx) -> tuple[list[Hits], list[tuple[str, str]]]:
    """Run every rule the profile enables; return the hits and (rule id, reason) gaps."""
    results: list[Hits] = []
    gaps: list[tuple[str, str]] = []
    for rule_id, meta in RULES.items():
        if not ctx.profile.enabled(rule_id) or meta.fn is None:
            continue
        if rule_id == "CFT-ID-03":
            continue  # runs only over files (Audit.scan_secrets)
        if meta.usage and (ctx.usage is None or ctx.usage.empty):
            # no usage at all, or none in the window (e.g. every Audit Logs call failed)
            gaps.append((rule_id, UNEVALUATED))
            continue
        results.append(meta.fn(ctx, meta))
    return results, gaps


# ---------------------------------------------------------------------------------------------
# columnar helpers: keys whose distinct values decide a finding's texts
# ---------------------------------------------------------------------------------------------


def row_atoms(ctx: Ctx, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """A number per grant row naming its resource atom (kind, id, account, key): rows with
    the same number read the same resource label, zone and account (:attr:`Ctx.atoms`)."""
    return ctx.atoms[0][np.asarray(rows, dtype=np.intp)]


def per_atom(ctx: Ctx, what: str, read: Callable[[int], Any], numbers: list[int]) -> list[Any]:
    """``read(row)`` (a row's resource label, zone or account) for each resource atom number,
    from the atom's first row: computed once per atom and audit (``ctx.memo``), shared by
    every rule and batch that names the atom (rows of one atom read the same values)."""
    known: dict[int, Any] = ctx.memo.setdefault(f"atom_{what}", {})
    missing = [a for a in dict.fromkeys(numbers) if a not in known]
    if missing:
        heads = ctx.atoms[1][missing].tolist()
        known.update(zip(missing, map(read, heads), strict=True))
    return [known[a] for a in numbers]


def evidence_texts(
    ctx: Ctx,
    rows: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64] | None = None,
    atoms: npt.NDArray[np.int64] | None = None,
) -> Coded:
    """``ctx.evidence(row)`` for each row (plus :func:`more_grants` of ``counts``): its three
    parts built once per distinct policy, effect and group, resource, and count, and joined
    once per distinct combination of them (``atoms``: the rows' :func:`row_atoms`, when
    known)."""
    if not len(rows):
        return Coded([], [])
    count = np.ones(len(rows), dtype=np.int64) if counts is None else counts
    prefix = Coded.per_key(
        lambda i: ctx.evidence_prefix(int(rows[i])), ctx.pol[rows], ctx.deny[rows], ctx.grp[rows]
    )
    atoms = row_atoms(ctx, rows) if atoms is None else atoms
    first, codes = distinct(atoms)
    label = Coded._valid(per_atom(ctx, "label", ctx.resource_label, atoms[first].tolist()), codes)
    more = Coded.per_key(lambda i: more_grants(int(count[i])), count)
    first, codes = distinct(prefix.codes, label.codes, more.codes)
    head, resource, tail = (object_table(c.values)[c.codes[first]] for c in (prefix, label, more))
    return Coded._valid(list(map(add, map(add, head, resource), tail)), codes)


def known_after_apply(ctx: Ctx, attr: str) -> npt.NDArray[np.bool_]:
    """Per token: ``attr`` is known only after apply (a Terraform definition)."""
    out = np.zeros(ctx.n, dtype=bool)
    marked = [t for t, attrs in ctx.after_apply.items() if attr in attrs]
    out[marked] = True
    return out


def usage_keys(ctx: Ctx, toks: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The token of each finding where usage data can make its text differ, else -1."""
    if ctx.usage is None:
        return np.full(len(toks), -1, dtype=np.int64)
    return toks


def owner_keys(ctx: Ctx, toks: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """A number per finding naming its token's kind and owner (a narrower-wildcard fix reads
    them): :attr:`Ctx.owner_codes`."""
    return ctx.owner_codes[np.asarray(toks, dtype=np.intp)]


def narrowing_fixes(
    ctx: Ctx,
    toks: npt.NDArray[np.int64],
    rows: npt.NDArray[np.int64],
    atoms: npt.NDArray[np.int64],
    make: Callable[[int, int], tuple[Step, str]],
) -> tuple[Coded, Coded]:
    """The (remediation, fix) columns of findings whose fix narrows a wildcard:
    ``make(token, row)`` gives (fix, text), called once per distinct policy, resource, usage
    and owner; the text is capitalised and ends with a full stop."""

    def build(i: int) -> tuple[Step, str]:
        fix, text = make(int(toks[i]), int(rows[i]))
        return fix, text[0].upper() + text[1:] + "."

    fixes = Coded.per_key(build, ctx.pol[rows], atoms, usage_keys(ctx, toks), owner_keys(ctx, toks))
    return (
        Coded([text for _, text in fixes.values], fixes.codes),
        Coded([fix for fix, _ in fixes.values], fixes.codes),
    )


def whole_days(days: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """``f"{d:.0f}"`` of each day count as a number (the same rounding: half to even); NaN
    reads as a key of its own."""
    out = np.full(len(days), np.iinfo(np.int64).min, dtype=np.int64)
    known = ~np.isnan(days)
    out[known] = np.rint(days[known]).astype(np.int64)
    return out


def day_numbers(values: npt.NDArray[np.datetime64]) -> npt.NDArray[np.int64]:
    """The calendar day of each timestamp as a number (NaT as a key of its own): timestamps
    on one day print the same ``str(ts)[:10]``. By integer division of the nanoseconds, not
    ``astype("datetime64[D]")``: numpy 2.4 wraps the earliest day of the range round to the
    latest, numpy 2.5 raises OverflowError."""
    ns = values.astype("datetime64[ns]").view(np.int64)
    days: npt.NDArray[np.int64] = np.where(np.isnat(values), ns, ns // _NS_PER_DAY)
    return days


_NS_PER_DAY = 86_400 * 10**9
