"""The ``CFT-SC-xx`` rules: scope wider than needed."""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from ...catalog import permission_groups
from .._context import Ctx, join_names
from .._inventory import (
    FAMILY_BITS,
    K_ALL_ACCOUNTS,
    K_ALL_ZONES,
    L_WRITE,
    S_ACCOUNT,
    S_ZONE,
)
from ..severity import Severity
from ..steps import (
    Disable,
    DowngradeGroups,
    GroupRef,
    RestrictZones,
    SplitToken,
)
from .base import (
    Coded,
    Hits,
    Rule,
    best_rows,
    evidence_texts,
    family_names,
    narrow_accounts,
    narrow_zones,
    narrowing_fixes,
    remove_group,
    row_atoms,
    rule,
)

# ---------------------------------------------------------------------------------------------
# SC: scope
# ---------------------------------------------------------------------------------------------


@rule(
    "CFT-SC-01",
    "All-accounts wildcard",
    "high with write, else medium",
    Severity.HIGH,
    "an allow policy uses com.cloudflare.api.account.* with an account-scoped group",
    "com.cloudflare.api.account.* covers every account the user can reach, including accounts "
    "joined later.",
)
def sc_01(ctx: Ctx, r: Rule) -> Hits:
    """The all-accounts key grants on every account the user can reach today and on every
    account they join later; nobody reviewing the token sees that growth."""
    hits = Hits(r.id)
    mask = ctx.eff & (ctx.kind == K_ALL_ACCOUNTS) & (ctx.row_scope == S_ACCOUNT)
    sev = np.where(ctx.row_level == L_WRITE, Severity.HIGH.rank, Severity.MEDIUM.rank)
    rows, sevs, counts = best_rows(ctx, mask, sev, key="policy")
    if not len(rows):  # no finding possible: nothing more to work out
        return hits
    toks = ctx.tok[rows].astype(np.int64)
    atoms = row_atoms(ctx, rows)
    pols = ctx.pol[rows]
    remediation, fixes = narrowing_fixes(
        ctx, toks, rows, atoms, lambda t, row: narrow_accounts(ctx, t, row)
    )
    hits.extend(
        toks,
        sevs,
        evidence_texts(ctx, rows, counts, atoms),
        Coded.per_key(
            lambda i: f"Policy {pols[i]} grants account permissions on all accounts.", pols
        ),
        remediation,
        fixes,
        rows=rows,
        ctx=ctx,
        atoms=atoms,
    )
    return hits


@rule(
    "CFT-SC-02",
    "All zones of all accounts",
    "high with write, else medium",
    Severity.HIGH,
    "an allow policy uses com.cloudflare.api.account.zone.* with a zone-scoped group",
    "com.cloudflare.api.account.zone.* covers every zone of every account, including zones "
    "added later.",
)
def sc_02(ctx: Ctx, r: Rule) -> Hits:
    """The all-zones key grants on every zone of every account, present and future; a token
    for one site should name that site."""
    hits = Hits(r.id)
    mask = ctx.eff & (ctx.kind == K_ALL_ZONES) & (ctx.row_scope == S_ZONE)
    sev = np.where(ctx.row_level == L_WRITE, Severity.HIGH.rank, Severity.MEDIUM.rank)
    rows, sevs, counts = best_rows(ctx, mask, sev, key="policy")
    if not len(rows):  # no finding possible: nothing more to work out
        return hits
    toks = ctx.tok[rows].astype(np.int64)
    atoms = row_atoms(ctx, rows)
    pols = ctx.pol[rows]
    remediation, fixes = narrowing_fixes(
        ctx, toks, rows, atoms, lambda t, row: narrow_zones(ctx, t, row)[:2]
    )
    hits.extend(
        toks,
        sevs,
        evidence_texts(ctx, rows, counts, atoms),
        Coded.per_key(
            lambda i: f"Policy {pols[i]} grants zone permissions on all zones of all accounts.",
            pols,
        ),
        remediation,
        fixes,
        rows=rows,
        ctx=ctx,
        atoms=atoms,
    )
    return hits


@rule(
    "CFT-SC-03",
    "Zone scope wider than use",
    "medium (low if read-only)",
    Severity.MEDIUM,
    "granted zones vs zones seen in usage over 30 days: ≤ 50% used, or an explicitly granted "
    "zone never used",
    "Zones the token may change but never touches are pure exposure.",
    usage=True,
)
def sc_03(ctx: Ctx, r: Rule) -> Hits:
    """Every zone a token may touch but does not is exposure without benefit; observed usage
    shows which zones the job really needs.

    Readings of the catalogue: "read-only" is judged on the token's zone grants (the exposure
    this rule is about), so a token that writes only at account level but reads the zones is
    low. A token with no request at all in the window is not judged here (nothing shows what
    it needs; LC-04/LC-05 cover tokens nobody uses)."""
    hits = Hits(r.id)
    usage = ctx.usage
    if usage is None:
        return hits
    zone_write = ctx.tokens_with(ctx.write_row & (ctx.row_scope == S_ZONE))
    for t, granted, explicit in usage.zone_grants(ctx):
        tid = ctx.inv.ids[t]
        if not usage.has_rows(tid):
            continue
        used = set(usage.zones(tid))
        if not granted:
            continue
        unused_explicit = sorted(set(explicit) - used)
        share = len(used & granted) / len(granted)
        if share > ctx.th.zone_use_share and not unused_explicit:
            continue
        sev = Severity.MEDIUM if zone_write[t] else Severity.LOW
        kept = sorted(used & granted)
        evidence = (
            f"granted {len(granted)} zone(s), used {len(used & granted)} in the last "
            f"{ctx.th.usage_window_days} days"
        )
        if unused_explicit:
            evidence += f"; never used: {join_names(ctx.dir.zone(z) for z in unused_explicit)}"
        hits.add(
            t,
            sev,
            evidence,
            "The token can reach more zones than it uses.",
            (
                f"Name only the zones it uses ({join_names(ctx.dir.zone(z) for z in kept)})."
                if kept
                else "It used none of its zones: disable it or name the zones it needs."
            ),
            RestrictZones(zones=tuple(kept)) if kept else Disable(),
        )
    return hits


@rule(
    "CFT-SC-04",
    "Kitchen-sink token",
    "high",
    Severity.HIGH,
    "≥ 10 write groups, or write groups in ≥ 3 risk families, or ≥ 50% of one scope's groups",
    "One token doing many jobs is exposed wherever any of those jobs runs.",
)
def sc_04(ctx: Ctx, r: Rule) -> Hits:
    """A token that does many jobs has to live wherever each job runs, so its exposure is the
    sum of all of them; one token per job keeps each leak small.

    Readings: "one scope's groups" means the account or the zone groups of the catalogue (the
    user scope has six small groups and R2 buckets two, so half of them is no kitchen sink;
    their powers are the PE rules'). Each write group counts in exactly one risk family: the
    number of families is the fewest that cover every write group (Logs Write, in EXFIL and
    EVASION, next to a WAF group is one family, EVASION, not two)."""
    hits = Hits(r.id)
    th = ctx.th
    n_fams, cover = _family_cover(ctx)
    catalogue_scope = ctx.g_scope[: ctx.inv.groups.n_catalogue]
    share_hit = np.zeros(ctx.n, dtype=bool)
    shares: dict[int, npt.NDArray[np.float64]] = {}
    held_of: dict[int, npt.NDArray[np.int64]] = {}
    for scope in (S_ACCOUNT, S_ZONE):
        total = int(np.sum(catalogue_scope == scope))
        held_of[scope] = ctx.count_groups(ctx.g_scope == scope)  # distinct E(T) groups of it
        shares[scope] = held_of[scope] / max(total, 1)
        share_hit |= shares[scope] >= th.kitchen_scope_share
    fire = (ctx.n_write >= th.kitchen_write_groups) | (n_fams >= th.kitchen_families) | share_hit
    fired = np.flatnonzero(fire)
    if not len(fired):  # no finding possible: nothing more to work out
        return hits
    # what the reasons say: each count where it is said (-1 where not), made once per case
    said = [
        np.where(ctx.n_write[fired] >= th.kitchen_write_groups, ctx.n_write[fired], -1),
        np.where(n_fams[fired] >= th.kitchen_families, cover[fired], -1),
        *(
            np.where(shares[scope][fired] >= th.kitchen_scope_share, held_of[scope][fired], -1)
            for scope in (S_ACCOUNT, S_ZONE)
        ),
    ]

    def reasons(i: int) -> str:
        t = int(fired[i])
        out = []
        if said[0][i] >= 0:
            out.append(f"{ctx.n_write[t]} write groups")
        if said[1][i] >= 0:
            out.append(
                "write groups in the risk families "
                + ", ".join(family_names(int(cover[t])))
                + " (each group counted in one family)"
            )
        for scope, label in ((S_ACCOUNT, "account"), (S_ZONE, "zone")):
            if shares[scope][t] >= th.kitchen_scope_share:
                out.append(f"{shares[scope][t]:.0%} of all {label} permission groups")
        return "; ".join(out)

    # the split plan (its text and fix) once per distinct (effective groups in row order,
    # cover): the fired tokens' effective groups read once as one list
    rows = np.flatnonzero(fire[ctx.tok] & ctx.eff) if ctx.inv.m else np.zeros(0, np.intp)
    held = ctx.grp[rows].tolist()
    ends = np.searchsorted(rows, ctx.inv.arrays["row_end"][fired]).tolist()
    starts = np.searchsorted(rows, ctx.inv.arrays["row_start"][fired]).tolist()
    plans: dict[tuple[tuple[int, ...], int], int] = {}
    plan_of = [
        plans.setdefault((tuple(held[a:b]), c), len(plans))
        for a, b, c in zip(starts, ends, cover[fired].tolist(), strict=True)
    ]
    labels: dict[tuple[int, int], tuple[str, str, str]] = {}
    texts: list[str] = []
    fixes: list[SplitToken] = []
    for codes, token_cover in plans:
        parts = _split_plan(ctx, -1, token_cover, labels, list(codes))
        texts.append(
            "Split it into one token per job ("
            + "; ".join(f"{label}: {join_names(names, 4)}" for label, names, _ in parts)
            + "), then delete this one."
        )
        fixes.append(SplitToken(parts=tuple((label, gids) for label, _, gids in parts)))
    plan = np.array(plan_of, dtype=np.intp)
    hits.extend(
        fired,
        Severity.HIGH,
        Coded.per_key(reasons, *said),
        "The token bundles many unrelated powers.",
        Coded(texts, plan),
        Coded(fixes, plan),
    )
    return hits


@functools.cache
def _family_subsets(bits: tuple[int, ...]) -> list[tuple[int, int]]:
    """Every non-empty subset of the family ``bits`` as (size, mask), smallest first (made
    once: the same for every audit)."""
    subsets = sorted(range(1, 1 << len(bits)), key=lambda k: bin(k).count("1"))
    return [(bin(k).count("1"), sum(b for i, b in enumerate(bits) if k >> i & 1)) for k in subsets]


def _family_cover(ctx: Ctx) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per token: the fewest risk families that hold each of its write groups (every group
    counted in exactly one family), and one such set of families as bits. The answer depends
    only on which family sets a token's write groups have, so it is found once per distinct
    combination of them (the smallest subsets of families tried first, as bits ascend)."""
    bits = sorted(FAMILY_BITS.values())
    best = np.zeros(ctx.n, dtype=np.int64)
    cover = np.zeros(ctx.n, dtype=np.int64)
    rows = ctx.write_row & (ctx.row_fam != 0)
    if not rows.any():
        return best, cover
    # each token's family sets as one number: bit j for the j-th distinct family set
    sets, which = np.unique(ctx.row_fam[rows].astype(np.int64), return_inverse=True)
    if len(sets) > 63:  # only with more than 6 families (FAMILY_BITS has 5)
        raise RuntimeError("CFT-SC-04 numbers at most 63 distinct family sets")
    pattern = np.zeros(ctx.n, dtype=np.int64)
    np.bitwise_or.at(pattern, ctx.tok[rows], np.left_shift(1, which.reshape(-1).astype(np.int64)))
    patterns, inverse = np.unique(pattern, return_inverse=True)
    masks = _family_subsets(tuple(bits))
    family_sets = sets.tolist()
    found_best: list[int] = []
    found_cover: list[int] = []
    for p in patterns.tolist():
        held = [f for j, f in enumerate(family_sets) if p >> j & 1]
        size, mask = (
            next(
                ((size, mask) for size, mask in masks if all(f & mask for f in held)),
                (len(bits) + 1, 0),
            )
            if held
            else (0, 0)
        )
        found_best.append(size)
        found_cover.append(mask)
    best[:] = np.array(found_best, dtype=np.int64)[inverse.reshape(-1)]
    cover[:] = np.array(found_cover, dtype=np.int64)[inverse.reshape(-1)]
    return best, cover


def _split_plan(
    ctx: Ctx,
    t: int,
    cover: int = 0,
    labels: dict[tuple[int, int], tuple[str, str, str]] | None = None,
    held: list[int] | None = None,
) -> list[tuple[str, list[str], tuple[str, ...]]]:
    """Group a token's allowed groups by risk family for a split proposal: a group in several
    families goes with the first of them in ``cover`` (the families SC-04 counted).
    ``labels`` caches each (group, cover)'s family, id and name across calls; ``held``: the
    group codes of the token's effective rows in row order, when the caller read them."""
    plan: dict[str, dict[str, str]] = {}
    known = labels if labels is not None else {}
    if held is None:
        start, end = ctx.inv.row_start[t], ctx.inv.row_end[t]
        held = ctx.grp[start:end][ctx.eff[start:end]].tolist()
    for code in held:
        entry = known.get((code, cover))
        if entry is None:
            fams = family_names(int(ctx.g_fam[code]))
            counted = [f for f in fams if FAMILY_BITS[f] & cover]
            entry = known[(code, cover)] = (
                (counted or fams or ["other"])[0],
                ctx.group_id(code),
                ctx.group_name(code),
            )
        label, gid, name = entry
        plan.setdefault(label, {})[gid] = name
    return [(label, list(groups.values()), tuple(groups)) for label, groups in plan.items()]


@rule(
    "CFT-SC-05",
    "Write granted where read suffices",
    "medium",
    Severity.MEDIUM,
    "every observed operation that a write group served also accepts its read twin",
    "If the token only ever reads with a write group, the read twin does the same job without "
    "the power to change anything.",
    usage=True,
)
def sc_05(ctx: Ctx, r: Rule) -> Hits:
    """Observed usage shows whether a write permission ever wrote anything; when every call it
    served also accepts the read twin, the write power is unused risk. A write group that
    served nothing is CFT-SC-06's."""
    hits = Hits(r.id)
    if ctx.usage is None:
        return hits
    for t, code, ops in ctx.usage.served_groups(ctx):
        if ctx.g_level[code] != L_WRITE or not ops:
            continue
        group = permission_groups.by_id(ctx.group_id(code))
        if group is None:
            continue
        twin = permission_groups.twin(group, "read")
        if twin is None:
            continue
        if not all(twin.name in (op.group_names or ()) for op in ops.values()):
            continue
        rows = [i for i in ctx.token_rows(t) if ctx.eff[i] and ctx.grp[i] == code]
        row = rows[0]
        hits.add(
            t,
            Severity.MEDIUM,
            f"{group.name} served only "
            f"{join_names(sorted({f'{op.method} {op.path}' for op in ops.values()}), 4)}, "
            f"which {twin.name} also allows",
            f"The token never used {group.name} for anything {twin.name} cannot do.",
            f"Replace {group.name} with {twin.name} in policy {ctx.pol[row]}.",
            DowngradeGroups.one(
                int(ctx.pol[row]), GroupRef(group.id, group.name), GroupRef(twin.id, twin.name)
            ),
            row=row,
            ctx=ctx,
        )
    return hits


@rule(
    "CFT-SC-06",
    "Unused permission group",
    "medium for write, low for read",
    Severity.MEDIUM,
    "a group in G(T) served no observed operation in the window",
    "A permission the token never uses is exposure without benefit.",
    usage=True,
)
def sc_06(ctx: Ctx, r: Rule) -> Hits:
    """Permissions a token never exercises add exposure and no value; usage over the window
    tells which ones the job does not need.

    Readings: a group "served" a request when the request's operation accepts it, the engine
    allows it on the request's resource, and no less powerful group of the token could serve
    it instead (a read request that the token's Zone Read serves does not use its DNS Write;
    see :meth:`UsageIndex.served_groups`). Only live tokens with at least one request in the
    window are judged: a token with none shows nothing about its groups (LC-04/LC-05 cover
    unused tokens)."""
    hits = Hits(r.id)
    usage = ctx.usage
    if usage is None:
        return hits
    served: dict[int, set[int]] = {}
    for t, code, _ops in usage.served_groups(ctx):
        served.setdefault(t, set()).add(code)
    for t in range(ctx.n):
        if not ctx.live[t] or not usage.has_rows(ctx.inv.ids[t]):
            continue
        seen: set[int] = set()
        for row in ctx.token_rows(t):
            code = int(ctx.grp[row])
            if not ctx.eff[row] or code in seen or code in served.get(t, set()):
                continue
            seen.add(code)
            sev = Severity.MEDIUM if ctx.g_level[code] == L_WRITE else Severity.LOW
            hits.add(
                t,
                sev,
                f"{ctx.evidence(row)}; no call in the last {ctx.th.usage_window_days} days used it",
                f"{ctx.group_name(code)} served no observed request.",
                f"Remove {ctx.group_name(code)} from policy {ctx.pol[row]}.",
                remove_group(ctx, int(ctx.pol[row]), ctx.group_id(code)),
                row=row,
                ctx=ctx,
            )
    return hits
