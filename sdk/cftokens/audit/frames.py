"""The audit's frames: ``findings``, ``tokens``, ``grants`` and ``gaps`` of an :class:`Audit`,
built from its inventory, the rule hits and its suppressions, and each token's
:func:`risk_score`."""

from __future__ import annotations

import functools
import hashlib
import itertools
import operator
from collections import deque
from collections.abc import Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ._arrays import unique_ints
from ._context import Ctx
from ._frame_columns import (
    booleans,
    categorical,
    category_dtype,
    floats,
    frame,
    integers,
    labels_dtype,
    texts,
    utc_dates,
)
from ._inventory import (
    DUPLICATE,
    FAMILY_BITS,
    K_ALL_ACCOUNTS,
    K_ALL_ZONES,
    K_ALL_ZONES_IN,
    KINDS,
    L_WRITE,
    LEVELS,
    SCOPES,
    STATUSES,
)
from .rules import RULES, SUPPRESSION_RULE, Hits
from .rules.base import Coded, distinct, object_table
from .severity import severity_dtype
from .steps import Step
from .suppressions import Suppression

if TYPE_CHECKING:
    import pandas as pd

    from .core import Audit

__all__ = ["findings_frame", "gaps_frame", "grants_frame", "risk_score", "tokens_frame"]

_MEDIUM = 2  # the severity code non-live tokens' PE/RK/SC findings are capped at

_FAMILY_WEIGHT = {"PE": 4.0, "CRED": 3.0, "HIJACK": 2.0, "EXFIL": 2.0, "EVASION": 1.0}
_LEVEL_WEIGHT = np.array([1.0, 3.0, 2.0, 1.0])  # read, write, other, unknown
_UNKNOWN_BREADTH = 10  # wildcard breadth assumed when the directory is empty


def risk_score(ctx: Ctx) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Blast radius of each token: what a leak of its secret would expose, for sorting.

    For every effective grant (group g on resource r, after denies)::

        level(g) × (1 + Σ family weights of g) × (1 + log2(breadth(r)))

    ``level``: write 3, other 2, read 1. Family weights: PE 4, CRED 3, HIJACK 2, EXFIL 2,
    EVASION 1. ``breadth``: how many concrete resources the atom covers in the directory (a
    zone or account is 1; all zones of an account is that account's zone count; all zones or
    all accounts is every one known; 10 when the directory is empty). The sum over grants is
    multiplied by exposure: ×2 without an IP allowlist (×1.5 with one that is effectively
    open, /16 or wider), ×1.5 without an expiry. Tokens that cannot be used now (disabled,
    expired, outside their window) score 0. The score has no unit: compare tokens with it.
    """
    inv = ctx.inv
    if inv.m == 0:
        return np.zeros(ctx.n)
    d = ctx.dir
    n_zones = max(len(d.zone_names), 1) if d.has_zones else _UNKNOWN_BREADTH
    n_accounts = max(len(d.account_names), 1) if d.has_accounts else _UNKNOWN_BREADTH
    breadth = np.ones(inv.m)
    kind = ctx.kind
    breadth[kind == K_ALL_ZONES] = n_zones
    breadth[kind == K_ALL_ACCOUNTS] = n_accounts
    # all zones of an account: its zone count, read once per resource atom
    rows = np.flatnonzero((kind == K_ALL_ZONES_IN) & ctx.eff)
    number, first_rows = ctx.atoms
    first, where = distinct(number[rows])
    heads = first_rows[number[rows[first]]].tolist()
    counts = [len(d.zones_of.get(str(inv.g_racct[r]), ())) for r in heads]
    empty = 1 if d.has_zones else _UNKNOWN_BREADTH
    breadth[rows] = np.array([c or empty for c in counts], dtype=np.float64)[where]
    fam_weight = np.zeros(len(ctx.g_fam))
    for name, bit in FAMILY_BITS.items():
        fam_weight += np.where((ctx.g_fam & bit) != 0, _FAMILY_WEIGHT[name], 0.0)
    per_row = (
        _LEVEL_WEIGHT[ctx.row_level]
        * (1.0 + fam_weight[ctx.grp])
        * (1.0 + np.log2(np.maximum(breadth, 1.0)))
    )
    per_row = np.where(ctx.eff, per_row, 0.0)
    score = np.bincount(ctx.tok, weights=per_row, minlength=ctx.n)
    exposure = np.where(ctx.has_ip_in, np.where(ctx.ip_open, 1.5, 1.0), 2.0).astype(np.float64)
    exposure = exposure * np.where(ctx.has_expiry, 1.0, 1.5).astype(np.float64)
    result = np.where(ctx.live, score * exposure, 0.0).astype(np.float64).round(1)
    return np.asarray(result, dtype=np.float64)


class _Column:
    """An output text column built as distinct values and one code per finding."""

    __slots__ = ("codes", "values")

    def __init__(self, values: list[Any], codes: npt.NDArray[np.intp]):
        self.values = values
        self.codes = codes

    def append(self, value: Any) -> None:
        self.codes = np.append(self.codes, len(self.values))
        self.values.append(value)

    def strings(self, order: npt.NDArray[np.intp], head: Any = None) -> Any:
        """The column in ``order`` as a ``string[python]`` array (texts built once each).

        ``head``: a ``string[python]`` array of the column's first values (the inventory's
        texts of each token, made once per audit: :func:`_token_texts`), when every value
        after them is None: the column is taken from it (NA for None)."""
        codes = self.codes[order]
        if head is not None and not any(v is not None for v in self.values[len(head) :]):
            return head.take(np.where(codes < len(head), codes, -1), allow_fill=True)
        return texts(self.values).take(codes)


def _joined(parts: list[Coded]) -> _Column:
    """Coded columns of consecutive batches as one column."""
    values: list[Any] = []
    codes: list[npt.NDArray[np.intp]] = []
    for part in parts:
        codes.append(part.codes + len(values))
        values.extend(part.values)
    return _Column(values, np.concatenate(codes) if codes else np.zeros(0, dtype=np.intp))


def _with_none(values: list[Any], at: npt.NDArray[np.int64]) -> _Column:
    """``values[i]`` for each i in ``at``, None where i is -1."""
    return _Column([*values, None], np.where(at >= 0, at, len(values)).astype(np.intp))


def findings_frame(
    audit: Audit, all_hits: list[Hits]
) -> tuple[pd.DataFrame, list[Step | None], npt.NDArray[np.int64]]:
    """The findings frame (worst first), each row's fix and each row's token position in the
    inventory (-1: a token not in it; what :func:`tokens_frame` reads from ``token_id``),
    from the rules' hits: severity modifiers applied, lapsed suppressions as info findings,
    active ones marking rows.

    Column by column: the rules' batches are concatenated as arrays, and each text is built
    once per distinct value (a resource label once per resource, a token's name once per
    token) and taken for every finding that shows it."""
    import pandas as pd

    ctx = audit._ctx
    inv = audit._inv
    rule_cats = [*RULES, SUPPRESSION_RULE.id]
    fam_cats = ["PE", "SC", "RK", "LC", "NW", "LN", "ID", "SUP"]
    rule_pos = {rid: i for i, rid in enumerate(rule_cats)}
    # the batches of every rule, in order: one rule's findings are contiguous
    batches = [(h.rule_id, b) for h in all_hits for b in h.batches()]
    lens = np.array([len(b[0]) for _, b in batches], dtype=np.int64)
    hit_rules = [rid for rid, _ in batches]
    hit_fam = [rid.split("-")[1] for rid in hit_rules]

    def ints(i: int) -> npt.NDArray[np.int64]:
        if not batches:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([b[i] for _, b in batches]).astype(np.int64)

    def per_finding(values: list[Any], dtype: Any) -> npt.NDArray[Any]:
        return np.repeat(np.array(values, dtype=dtype), lens)

    tok, sev, rows, pol, grp = (ints(i) for i in range(5))
    zone, account, evidence, detail, remediation, fix_, named = (
        _joined([b[i] for _, b in batches]) for i in range(5, 12)
    )
    rule_code = per_finding([rule_pos.get(rid, -1) for rid in hit_rules], np.int64)
    fam_code = per_finding([fam_cats.index(f) if f in fam_cats else -1 for f in hit_fam], np.int64)
    # severity modifiers: RK and SC one step lower with a tight allowlist or an expiry
    # within days; never below low; PE never lowered
    valid = tok >= 0  # -1: a finding on a token the audit could not read
    eased = np.zeros(len(tok), dtype=bool)
    eased[valid] = ctx.ip_tight[tok[valid]] | ctx.expiring_soon[tok[valid]]
    rk_sc = per_finding([f in ("RK", "SC") for f in hit_fam], bool)
    lowered = rk_sc & eased & (sev > 1)
    sev = np.where(lowered, sev - 1, sev)
    # a token that is expired or disabled grants nothing until re-enabled or extended:
    # its PE, RK and SC findings are at most medium
    dead = np.zeros(len(tok), dtype=bool)
    dead[valid] = ctx.dead[tok[valid]]
    pe_rk_sc = per_finding([f in ("PE", "RK", "SC") for f in hit_fam], bool)
    capped = dead & pe_rk_sc & (sev > _MEDIUM)
    sev = np.where(capped, _MEDIUM, sev)
    # the detail gains a note where a modifier applied (once per distinct detail and notes)
    noted = np.flatnonzero(lowered | capped)
    if len(noted):
        lowered_note = (
            " Lowered one step: the token has a tight IP allowlist or expires within "
            f"{ctx.th.expiring_soon_days} days."
        )
        capped_note = (
            " Capped at medium: the token is expired or disabled, so it grants nothing unless "
            "someone re-enables or extends it (delete it to be sure)."
        )
        low, cap, old = lowered[noted], capped[noted], detail.codes[noted]
        first, codes = distinct(old, low, cap)
        detail.codes[noted] = codes + len(detail.values)
        detail.values.extend(
            detail.values[old[i]]
            + (lowered_note if low[i] else "")
            + (capped_note if cap[i] else "")
            for i in first.tolist()
        )
    # the token's columns, from the inventory's (a token not in it: the id the rule named)
    n = inv.n
    token_id = _Column([*inv.ids, *named.values], np.where(valid, tok, n + named.codes))
    # a token the rule named by id counts for the inventory's token of that id, if any
    # (the index of ids is made only when a rule named a token: a position is never None)
    index = ctx.token_index if any(v is not None for v in named.values) else {}
    named_pos = np.array([index.get(v, -1) for v in named.values], dtype=np.int64)
    position = np.where(valid, tok, named_pos[named.codes] if len(named_pos) else -1)
    token_name = _with_none(inv.names, tok)
    owner_id = _with_none(inv.owner_ids, tok)
    owner_name = _with_none(inv.owner_names, tok)
    kind = np.append(_kind_codes(inv), -1)[np.where(valid, tok, n)]
    group = _with_none(inv.groups.names, grp)
    group_id = _with_none(inv.groups.ids, grp)
    # the resource: one label per resource atom among the evidence rows (the last code: none)
    number, first_rows = ctx.atoms
    n_atoms = len(first_rows)
    atom = np.full(len(rows), n_atoms, dtype=np.intp)
    keyed = rows >= 0
    atom[keyed] = number[rows[keyed]]
    present = np.bincount(atom, minlength=n_atoms + 1) > 0
    present[n_atoms] = True
    shown_rows = first_rows[np.flatnonzero(present[:n_atoms])].tolist()
    atom = (np.cumsum(present) - 1)[atom]
    resource = _Column([*map(ctx.resource_label, shown_rows), None], atom)
    keys = inv.g_rkey
    key = _Column(["" if keys[r] is None else keys[r] for r in shown_rows] + [""], atom)
    titles = {rid: meta.title for rid, meta in RULES.items()}
    title = _Column([titles[rid] for rid in hit_rules], np.repeat(np.arange(len(hit_rules)), lens))
    fixes = fix_.values
    fix_codes = fix_.codes
    # lapsed suppressions become info findings
    active: list[Suppression] = []
    lapsed_ids: list[str] = []
    # the suppressions and clock the audit was made with (its rules' context), whatever its
    # attributes hold by the time the findings are first read
    for s in audit._suppressions_run:
        if not s.lapsed(ctx.now_dt):
            active.append(s)
            continue
        sev = np.append(sev, 0)
        rule_code = np.append(rule_code, rule_pos[SUPPRESSION_RULE.id])
        fam_code = np.append(fam_code, fam_cats.index("SUP"))
        kind = np.append(kind, -1)
        position = np.append(position, -1)
        pol = np.append(pol, 0)
        text = f"SUP|{s.to_dict()}"
        lapsed_ids.append(hashlib.blake2b(text.encode(), digest_size=8).hexdigest())
        for column in (token_id, token_name, owner_id, owner_name, group, group_id, resource):
            column.append(None)
        for column in (zone, account):
            column.append(None)
        title.append(SUPPRESSION_RULE.title)
        evidence.append(f"{s.label()}: {s.reason}")
        detail.append(f"The suppression expired on {s.expires:%Y-%m-%d} and no longer applies.")
        remediation.append("Fix the findings it covered, or renew it with a new expiry and reason.")
        fix_codes = np.append(fix_codes, len(fixes))
        fixes = [*fixes, None]
    # worst first, in rule order within a severity (ranks 0-4 as int8: numpy's stable sort
    # of one-byte integers is a radix sort, ~5 times faster than of int64)
    worst_first = (-sev).astype(np.int8) if len(sev) and sev.min() >= 0 and sev.max() < 5 else -sev
    order = np.argsort(worst_first, kind="stable").astype(np.intp)
    total = len(order)
    # the ids in the frame's order (each made where it is shown: no permutation of hundreds
    # of thousands of new texts afterwards); the rules' findings come before the lapsed ones
    k = int(lens.sum())
    from_rules = order < k
    fid = np.empty(total, dtype=object)
    fid[from_rules] = _finding_ids(
        hit_rules, lens, token_id, pol, group_id, key, evidence, order[from_rules]
    )
    fid[~from_rules] = object_table(lapsed_ids)[order[~from_rules] - k]
    zone_names = audit._dir.zone_names
    zone_name = _Column(
        [zone_names.get(z) if isinstance(z, str) else None for z in zone.values], zone.codes
    )
    heads = _token_texts(audit)
    findings = frame(
        {
            "finding_id": texts(fid),
            "rule_id": categorical(rule_code[order], category_dtype(*rule_cats)),
            "severity": categorical(sev[order], severity_dtype()),
            "family": categorical(fam_code[order], category_dtype(*fam_cats)),
            "title": title.strings(order),
            "token_id": token_id.strings(order, heads["ids"]),
            "token_name": token_name.strings(order, heads["names"]),
            "kind": categorical(kind[order], category_dtype(*_TOKEN_KINDS)),
            "owner_id": owner_id.strings(order, heads["owner_ids"]),
            "owner_name": owner_name.strings(order, heads["owner_names"]),
            "policy": pd.arrays.IntegerArray(pol[order], pol[order] == 0),
            "group": group.strings(order),
            "group_id": group_id.strings(order),
            "resource": resource.strings(order),
            "zone_id": zone.strings(order),
            "account_id": account.strings(order),
            "evidence": evidence.strings(order),
            "detail": detail.strings(order),
            "remediation": remediation.strings(order),
            "suppressed": pd.arrays.BooleanArray(
                np.zeros(total, dtype=bool), np.zeros(total, dtype=bool)
            ),
            "suppression": texts([None]).take(np.zeros(total, dtype=np.intp)),
            "zone_name": zone_name.strings(order),
        },
        # every column above is a new array made for this frame: pandas' copy of a dict's
        # columns (an INCREF of each of ~14 x findings texts) would only duplicate them
        total,
    )
    for s in active:
        mask = s.mask(findings) & ~findings["suppressed"].astype(bool)
        mask &= findings["rule_id"] != SUPPRESSION_RULE.id
        if mask.any():
            findings.loc[mask, "suppressed"] = True
            findings.loc[mask, "suppression"] = f"{s.label()}: {s.reason}"
    return findings, object_table(fixes)[fix_codes[order]].tolist(), position[order]


# finding ids: texts whose parts are at most this many UTF-8 bytes, none holding a NUL, are
# joined as numpy byte strings (which end at their first trailing NUL); the rest are joined
# one by one
_ID_FAST_BYTES = 256
# findings joined and hashed per batch: it bounds the byte strings' memory, and a batch's
# hash states (a few hundred bytes each) stay in the CPU's cache (2,048 measured ~10% faster
# than 8,192 at 437,065 findings)
_ID_BATCH = 1 << 11
# the state of an 8-byte BLAKE2b before any input: each finding hashes a copy of it (a copy
# costs a third less than a new object made with its parameters; BLAKE2b reads its input as
# a stream, so the digest is the one ``blake2b(text, digest_size=8)`` gives). Never updated.
_BLAKE2B_8 = hashlib.blake2b(digest_size=8)
_BLAKE2B = type(_BLAKE2B_8)


def _finding_ids(
    hit_rules: list[str],
    lens: npt.NDArray[np.int64],
    token_id: _Column,
    pol: npt.NDArray[np.int64],
    group_id: _Column,
    key: _Column,
    evidence: _Column,
    at: npt.NDArray[np.intp],
) -> npt.NDArray[np.object_]:
    """The stable ids of the rules' findings ``at`` (positions, in the order wanted): the
    first 8 bytes of BLAKE2b over ``rule|token|policy|group id|resource key|`` (plus the
    evidence when the finding names no token), as hex. Each part is a table of texts and a
    code per finding (:func:`_hashed_ids`)."""
    rule = _Column(hit_rules, np.repeat(np.arange(len(hit_rules)), lens).astype(np.intp)[at])
    pol_first, pol_codes = distinct(pol[at])
    policy = _Column(pol[at][pol_first].tolist(), pol_codes)
    # the evidence of findings that name no token ("" on the others)
    tids = token_id.values
    no_token = np.fromiter(map(operator.is_, tids, repeat(None)), dtype=bool, count=len(tids))
    no_token = no_token[token_id.codes[at]]
    shown = np.where(no_token, evidence.codes[at] + 1, 0).astype(np.intp)
    # the policy, group id and resource key as one part (``policy|group id|key``, the same
    # text), made once per distinct combination: one numpy concatenation per finding instead
    # of three
    middle = [
        _texts_in_use(policy, str),
        _texts_in_use(_Column(group_id.values, group_id.codes[at]), str),
        _texts_in_use(_Column(key.values, key.codes[at])),
    ]
    first, codes = distinct(*(m.codes for m in middle))
    combined = _Column(
        [
            "|".join(texts)
            for texts in zip(*(object_table(m.values)[m.codes[first]] for m in middle), strict=True)
        ],
        codes,
    )
    parts = [
        _texts_in_use(rule),
        _texts_in_use(_Column(tids, token_id.codes[at]), str),
        combined,
        _texts_in_use(_Column(["", *evidence.values], shown)),
    ]
    return _hashed_ids(parts)


def _texts_in_use(column: _Column, text: Any = None) -> _Column:
    """The values ``column``'s codes use (as ``text(value)`` if given), with each code
    renumbered to them: a table without the values no finding shows."""
    used = np.bincount(column.codes, minlength=len(column.values)) > 0
    values = list(itertools.compress(column.values, used.tolist()))
    renumber = np.cumsum(used) - 1
    return _Column(list(map(text, values)) if text else values, renumber[column.codes])


def _hashed_ids(parts: list[_Column], fast_bytes: int = _ID_FAST_BYTES) -> npt.NDArray[Any]:
    """Per finding, the hex of BLAKE2b (8-byte digest) over its parts' texts joined by ``|``
    (UTF-8), as :func:`_plain_ids` computes it one finding at a time.

    Each text is encoded once and the texts are joined as numpy byte strings (one vectorised
    concatenation per part, in batches); only the hashing runs per finding, in C (``map``):
    a copy of the empty 8-byte state, updated with the text.
    Findings with a part longer than ``fast_bytes`` or holding a NUL (numpy's byte strings
    drop trailing NULs) take :func:`_plain_ids`."""
    k = len(parts[0].codes)
    out = np.empty(k, dtype=object)
    if not k:
        return out
    last = len(parts) - 1
    fast = np.ones(k, dtype=bool)
    tables: list[tuple[npt.NDArray[np.bytes_], npt.NDArray[np.intp]]] = []
    for i, part in enumerate(parts):
        encoded = list(map(str.encode, part.values))
        sizes = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        usable = sizes <= fast_bytes
        if b"\0" in b"".join(encoded):
            usable &= np.fromiter((b"\0" not in b for b in encoded), dtype=bool, count=len(encoded))
        if not usable.all():
            fast &= usable[part.codes]
            encoded = [b if ok else b"" for b, ok in zip(encoded, usable.tolist(), strict=True)]
        if i == last and not sizes.any():
            continue  # an empty last part adds nothing to any text
        table = np.array(encoded, dtype=bytes)
        tables.append((np.char.add(table, b"|") if i < last else table, part.codes))
    at = np.flatnonzero(fast)
    for start in range(0, len(at), _ID_BATCH):
        batch = at[start : start + _ID_BATCH]
        joined = functools.reduce(np.char.add, [table[codes[batch]] for table, codes in tables])
        states = list(map(_BLAKE2B.copy, repeat(_BLAKE2B_8, len(batch))))
        deque(map(_BLAKE2B.update, states, joined.tolist()), maxlen=0)  # update each, in C
        out[batch] = list(map(_BLAKE2B.hexdigest, states))
    slow = np.flatnonzero(~fast)
    if len(slow):
        out[slow] = _plain_ids([object_table(p.values)[p.codes[slow]] for p in parts])
    return out


def _plain_ids(parts: list[npt.NDArray[np.object_]]) -> list[str]:
    """Per finding, the hex of BLAKE2b (8-byte digest) over its parts joined by ``|``: the
    definition of a finding id, one finding at a time."""
    return [
        hashlib.blake2b("|".join(texts).encode(), digest_size=8).hexdigest()
        for texts in zip(*parts, strict=True)
    ]


def open_findings(
    audit: Audit, findings: pd.DataFrame, positions: npt.NDArray[np.int64] | None = None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The open (unsuppressed) findings of tokens in the inventory: each one's token position
    and severity rank, what :func:`tokens_frame` counts. ``positions``: each finding's token
    position (-1: none), as :func:`findings_frame` returns them; without it they are looked
    up by ``token_id`` (a finding of a token not in the inventory counts nowhere)."""
    f = findings
    if positions is None:
        index = audit._ctx.token_index
        found = map(index.get, f["token_id"].to_numpy(dtype=object), repeat(-1))
        pos = np.fromiter(found, dtype=np.int64, count=len(f))
    else:
        pos = positions
    keep = (pos >= 0) & ~f["suppressed"].to_numpy(dtype=bool, na_value=False)
    return pos[keep], f["severity"].cat.codes.to_numpy(dtype=np.int64)[keep]


def tokens_frame(
    audit: Audit,
    positions: npt.NDArray[np.int64] | None = None,
    opened: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None,
) -> pd.DataFrame:
    """The tokens frame: one row per token, with its open findings and risk score.

    ``opened``: the open findings' token positions and ranks (:func:`open_findings`), else
    read from ``audit.findings`` (``positions``: as :func:`open_findings` takes them)."""
    import pandas as pd

    ctx = audit._ctx
    inv = audit._inv
    n = inv.n
    at, rank = open_findings(audit, audit.findings, positions) if opened is None else opened
    max_rank = np.full(n, -1, dtype=np.int64)
    for code in unique_ints(rank).tolist():  # ascending: the worst is written last
        max_rank[at[rank == code]] = code
    counts = np.bincount(at, minlength=n).astype(np.int64)
    write_groups = _write_groups(ctx)
    kind_codes = _kind_codes(inv)
    # the token texts the findings frame made (handed over: no other frame holds them), or new
    heads = ctx.memo.pop(_TOKEN_TEXTS, None) or _token_texts(audit, keep=False)
    # naive UTC datetime64 columns read as UTC (a tz_localize of each column, without the
    # to_datetime and Series steps it took before: ~4x faster)
    # (the dates' arrays, not Series: a Series among a frame's columns makes pandas align
    # the columns' indexes, ~0.3 ms of a tiny audit's 10)
    dates = {k: utc_dates(v) for k, v in ctx.dates.items()}
    age = pd.arrays.IntegerArray(*ctx.whole_days_since("issued_on"))
    used = pd.arrays.IntegerArray(*ctx.whole_days_since("last_used_on"))
    return frame(
        {
            "token_id": heads["ids"],
            "name": heads["names"],
            "kind": categorical(kind_codes, category_dtype(*_TOKEN_KINDS)),
            "owner_id": heads["owner_ids"],
            "owner_name": heads["owner_names"],
            "status": categorical(inv.arrays["status"], category_dtype(*STATUSES)),
            "live": booleans(ctx.live),
            "issued_on": dates["issued_on"],
            "modified_on": dates["modified_on"],
            "last_used_on": dates["last_used_on"],
            "not_before": dates["not_before"],
            "expires_on": dates["expires_on"],
            "age_days": age,
            "days_since_used": used,
            "ip_allow": texts(list(map(", ".join, inv.ip_in))),
            "ip_deny": texts(list(map(", ".join, inv.ip_out))),
            "n_policies": integers(inv.arrays["n_policies"]),
            "n_groups": integers(ctx.n_groups),
            "n_write_groups": integers(ctx.n_write),
            "write_groups": write_groups,
            "risk_families": texts(_family_names()).take(ctx.families.astype(np.intp)),
            "n_findings": integers(counts),
            "max_severity": categorical(max_rank, severity_dtype()),
            "risk_score": floats(risk_score(ctx)),
        },
        n,  # every column is a new array (the helpers copy the context's)
    )


@functools.cache
def _family_names() -> tuple[str, ...]:
    """The risk families of each combination of family bits (``PE,CRED``), by its number."""
    return tuple(",".join(k for k, b in FAMILY_BITS.items() if bits & b) for bits in range(32))


_TOKEN_TEXTS = "token_texts"  # Ctx.memo's key of _token_texts


def _token_texts(audit: Audit, keep: bool = True) -> dict[str, Any]:
    """Each token's id, name, owner id and owner name as ``string[python]`` arrays, made once
    per audit: the findings frame takes its token columns from them, and the tokens frame
    then uses them as its own columns (``keep``: left in ``Ctx.memo`` for it; it removes
    them, so no two frames share an array)."""

    memo = audit._ctx.memo
    found = memo.get(_TOKEN_TEXTS)
    if found is None:
        inv = audit._inv
        found = {
            key: texts(values)
            for key, values in (
                ("ids", inv.ids),
                ("names", inv.names),
                ("owner_ids", inv.owner_ids),
                ("owner_names", inv.owner_names),
            )
        }
        if keep:
            memo[_TOKEN_TEXTS] = found
    return found


def _write_groups(ctx: Ctx) -> Any:
    """Per token, the names of its effective write groups (``a, b``), in catalogue order,
    as a ``string[python]`` array: each distinct set of groups joined once."""

    pairs = ctx.eff_pairs[ctx.g_level[ctx.eff_pairs % 1_000_000] == L_WRITE]
    runs, codes = _token_runs(pairs // 1_000_000, pairs % 1_000_000, ctx.n)
    names = ctx.inv.groups.names
    values = [", ".join(names[g] for g in run) for run in runs]
    return texts(values).take(codes)


_RUN_BASE = 0x9E3779B97F4A7C15  # odd: the base of the numbers that name runs (mod 2**64)


def _token_runs(
    tok: npt.NDArray[np.int64], item: npt.NDArray[np.int64], n: int
) -> tuple[list[tuple[int, ...]], npt.NDArray[np.intp]]:
    """The distinct sequences of ``item`` that the tokens ``0..n-1`` hold (``tok`` sorted:
    each token's items are one run) and each token's number among them (a token without
    items holds the empty one).

    Each run is read as one number (its items the digits, mod 2**64) and the runs are told
    apart by one sort of those numbers; then every token's run is compared, item by item,
    with the run of the first token of its number (two runs that share a number would fail
    it: then :func:`_token_runs_plain` answers)."""
    counts = np.bincount(tok, minlength=n)
    start = np.cumsum(counts) - counts
    rank = np.arange(len(tok)) - start[tok]
    digits = (item.astype(np.uint64) + 1) * np.power(np.uint64(_RUN_BASE), rank.astype(np.uint64))
    key = np.zeros(n, dtype=np.uint64)
    held = np.flatnonzero(counts)
    if len(held):
        key[held] = np.add.reduceat(digits, start[held])
    _, first, code = np.unique(key, return_index=True, return_inverse=True)
    code = code.reshape(-1)
    same = first[code]  # the first token of each token's number
    if not (
        np.array_equal(counts[same], counts) and np.array_equal(item[start[same[tok]] + rank], item)
    ):
        return _token_runs_plain(tok, item, n)
    items = item.tolist()
    begin, length = start.tolist(), counts.tolist()
    runs = [tuple(items[begin[t] : begin[t] + length[t]]) for t in first.tolist()]
    return runs, code.astype(np.intp)


def _token_runs_plain(
    tok: npt.NDArray[np.int64], item: npt.NDArray[np.int64], n: int
) -> tuple[list[tuple[int, ...]], npt.NDArray[np.intp]]:
    """:func:`_token_runs`, token by token."""
    tokens, items = tok.tolist(), item.tolist()
    bounds = (np.flatnonzero(np.diff(tok)) + 1).tolist()
    runs: dict[tuple[int, ...], int] = {(): 0}
    codes = [0] * n
    for a, b in zip([0, *bounds], [*bounds, len(tokens)], strict=True) if tokens else ():
        codes[tokens[a]] = runs.setdefault(tuple(items[a:b]), len(runs))
    return list(runs), np.array(codes, dtype=np.intp)


def grants_frame(audit: Audit) -> pd.DataFrame:
    """One row per (token, policy, effect, permission group, resource atom).

    ``effective`` marks rows in E(T) (allows a deny does not remove entirely; deny rows are
    False); ``narrowed`` marks allows a deny removes part of; ``scope_ok`` is False where
    the group's scope does not fit the resource (such rows grant nothing).
    """
    import pandas as pd

    ctx = audit._ctx
    inv = audit._inv
    # one label per distinct resource (the key too: R2 buckets and unrecognised resources
    # are told apart by it); the resource's texts taken from one row of each
    resource, first_rows = ctx.atoms
    first = first_rows.tolist()

    def per_resource(values: list[Any]) -> Any:
        return texts([values[row] for row in first]).take(resource)

    n_groups = len(inv.groups.ids)
    group_cat = labels_dtype(list(dict.fromkeys(inv.groups.ids)))
    return frame(
        {
            "token_id": pd.Categorical.from_codes(
                ctx.tok.astype(np.int64), dtype=labels_dtype(inv.ids)
            )
            if inv.n
            else pd.Categorical([]),
            "policy": integers(ctx.pol),
            "policy_id": texts(inv.g_policy_id),
            "effect": categorical(ctx.deny, category_dtype("allow", "deny")),
            "group_id": pd.Categorical.from_codes(ctx.grp.astype(np.int64), dtype=group_cat)
            if n_groups
            else pd.Categorical([]),
            "group": _categorical(ctx.grp, inv.groups.names),
            "scope": categorical(ctx.row_scope, category_dtype(*SCOPES)),
            "level": categorical(ctx.row_level, category_dtype(*LEVELS)),
            "resource_kind": categorical(ctx.kind, category_dtype(*(k.value for k in KINDS))),
            "resource_id": per_resource(inv.g_rid),
            "resource_account_id": per_resource(inv.g_racct),
            "resource_key": per_resource(inv.g_rkey),
            "resource": _categorical(resource, [ctx.resource_label(row) for row in first]),
            "risk_families": _categorical(ctx.row_fam, _family_names()),
            "scope_ok": booleans(ctx.scope_ok),
            "effective": booleans(ctx.eff),
            "narrowed": booleans(inv.arrays["g_narrowed"]),
        },
        # every column is a new array (the helpers copy the context's, as numbers): pandas'
        # copy of a dict's columns would only duplicate the texts (an INCREF of each)
        inv.m,
    )


_TOKEN_KINDS = ("user", "account")
_KIND_CODE = {k: i for i, k in enumerate(_TOKEN_KINDS)}


def _kind_codes(inv: Any) -> npt.NDArray[np.int64]:
    """Each token's kind as its code in ``_TOKEN_KINDS`` (-1: neither)."""
    return np.fromiter(map(_KIND_CODE.get, inv.kinds, repeat(-1)), dtype=np.int64, count=inv.n)


def _categorical(codes: npt.NDArray[Any], labels: Sequence[str]) -> Any:
    """``pd.Categorical([labels[c] for c in codes])`` without the list of rows: the
    categories are the distinct labels present, sorted (as pandas sorts texts: by code
    point), in the index pandas makes of them."""
    present = unique_ints(codes).tolist()
    shown = sorted({labels[c] for c in present})
    position = {text: i for i, text in enumerate(shown)}
    remap = np.zeros(len(labels), dtype=np.int64)
    remap[present] = [position[labels[c]] for c in present]
    return categorical(remap[codes], labels_dtype(shown))


def gaps_frame(audit: Audit) -> pd.DataFrame:
    """What could not be collected or evaluated: ``kind`` (collection, evaluation, input),
    ``subject`` (an account, rule or token id), ``what``, ``reason`` and ``hides_tokens``
    (True when tokens may be missing from the audit because of it: a token listing that
    failed, a token that could not be read; such a gap makes the audit incomplete)."""

    rows = gap_rows(audit)
    # column by column (a frame of dicts, then a conversion per column, cost ~4 ms a call)
    kind_of = {k: i for i, k in enumerate(_GAP_KINDS)}
    kinds = [kind_of.get(r["kind"], -1) if isinstance(r["kind"], str) else -1 for r in rows]
    return frame(
        {
            "kind": categorical(np.array(kinds, dtype=np.int64), category_dtype(*_GAP_KINDS)),
            **{
                column: texts([r[column] for r in rows]) for column in ("subject", "what", "reason")
            },
            "hides_tokens": np.array([r["hides_tokens"] for r in rows], dtype=bool),
        },
        len(rows),
    )


def gap_rows(audit: Audit) -> list[dict[str, Any]]:
    """The rows of :func:`gaps_frame` as dicts, in its order (what a count of the gaps, or
    whether one hides tokens, reads without building the frame)."""
    rows = [
        {
            "kind": g.get("kind", "collection"),
            "subject": g.get("subject"),
            "what": g.get("what"),
            "reason": g.get("reason"),
            # a collection gap of an older export, without the flag, is assumed to hide
            "hides_tokens": bool(
                g.get("hides_tokens", g.get("kind", "collection") != "evaluation")
            ),
        }
        for g in audit._collection_gaps
    ]
    for rule_id, reason in audit._rule_gaps:
        rows.append(
            {
                "kind": "evaluation",
                "subject": rule_id,
                "what": f"rule {rule_id} {RULES[rule_id].title}",
                "reason": reason,
                "hides_tokens": False,
            }
        )
    for tid, reason in audit._inv.invalid:
        rows.append(
            {
                "kind": "input",
                "subject": tid,
                "what": f"token {tid}",
                "reason": reason,
                "hides_tokens": reason != DUPLICATE,
            }
        )
    for tid, reason in audit._ctx.date_gaps:
        rows.append(
            {
                "kind": "input",
                "subject": tid,
                "what": f"token {tid}",
                "reason": reason,
                "hides_tokens": False,
            }
        )
    return rows


_GAP_KINDS = ("collection", "evaluation", "input")
