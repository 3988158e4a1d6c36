"""The rules' bulk paths against the per-token loops they replace (kept here as references),
on the audits most likely to tell them apart: a generated inventory, tokens that already
hold administrator-equivalent access where their escalation paths lead, minting tokens with
and without other groups, allowlists and expiries, and the hostile audits of test_fast_paths."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from audit_helpers import (
    ACCT,
    ACCT2,
    ALL_ACCOUNTS,
    ALL_ZONES,
    NOW,
    USER_RES,
    ZONE,
    ZONE2,
    account,
    allow,
    deny,
    every_account_write,
    run,
    token,
    zone,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fast_paths import CASES

from cftokens import Level, Scope
from cftokens.audit import Audit
from cftokens.audit._context import Ctx, join_names
from cftokens.audit._inventory import (
    FAMILY_BITS,
    K_ACCOUNT,
    K_ALL_ACCOUNTS,
    K_UNPARSED,
    L_WRITE,
    S_ACCOUNT,
    S_ZONE,
)
from cftokens.audit.rules import RULES, base, ln, pe, sc
from cftokens.audit.rules.base import (
    ACCOUNT_SETTINGS_WRITE,
    ACCOUNT_TOKENS_WRITE,
    API_TOKENS_WRITE,
    PLACEHOLDER_CIDR,
    SCIM_PROVISIONING,
    TOKEN_API_GROUPS,
    Hits,
    allowlist_fix,
    best_rows,
    family_names,
    group_code,
    ips_for,
    more_grants,
    remove_group,
)
from cftokens.audit.severity import Severity
from cftokens.audit.steps import (
    LimitMinting,
    ReplacePair,
    SetAllowlist,
    SplitToken,
    Step,
    ZonesOfAccounts,
)
from cftokens.catalog import permission_groups, risk_families

COLUMNS = (
    "tok", "sev", "row", "pol", "grp", "zone", "account",
    "evidence", "detail", "remediation", "fix", "token_id",
)  # fmt: skip


def columns(h: Hits) -> dict[str, list[Any]]:
    return {name: getattr(h, name) for name in COLUMNS}


# -- references: the per-token loops as they were ---------------------------------------------


def ref_minting_fix(ctx: Ctx, t: int, row: int, gid: str) -> tuple[Step | None, str]:
    pol = int(ctx.pol[row])
    others = ctx.group_names_of(t, ref_non_token_api(ctx))
    if others:
        return remove_group(ctx, pol, gid), (
            f"remove {ctx.group_name(int(ctx.grp[row]))} from policy {pol}; if the job must "
            "create tokens, give that job its own minting token, IP-restricted and expiring "
            f"within {ctx.th.mint_max_days} days"
        )
    days = ctx.th.mint_max_days
    expiry = ctx.iso_in(days) if ref_too_late(ctx, t) else None
    ips = None if ctx.has_ip_in[t] else allowlist_fix(ctx, t)[0].allow
    if expiry is None and ips is None:
        return None, (
            "it is already a dedicated minting token with an IP allowlist and an expiry within "
            f"{days} days: keep it so, use it for one job only and revoke it when the job ends"
        )
    wanted = [f"make it expire within {days} days"] if expiry else []
    if ips is not None:
        wanted.append("restrict it to the callers' IP ranges")
    return LimitMinting(expires_on=expiry, allow=ips), (
        f"keep it as a dedicated minting token but {' and '.join(wanted)}"
    )


def ref_too_late(ctx: Ctx, t: int) -> bool:
    exp = ctx.dates["expires_on"][t]
    return bool(np.isnat(exp) or exp > ctx.now + np.timedelta64(ctx.th.mint_max_days, "D"))


def ref_non_token_api(ctx: Ctx) -> Any:
    codes = [c for g in pe.TOKEN_API_GROUPS if (c := group_code(ctx, g)) >= 0]
    return ctx.eff & ~np.isin(ctx.grp, codes)


def ref_pe_06(ctx: Ctx) -> Hits:
    hits = Hits("CFT-PE-06")
    user_mint = ctx.eff & (ctx.grp == group_code(ctx, API_TOKENS_WRITE))
    on_account = (ctx.kind == K_ACCOUNT) | (ctx.kind == K_ALL_ACCOUNTS)
    acct_mint = ctx.eff & (ctx.grp == group_code(ctx, ACCOUNT_TOKENS_WRITE)) & on_account
    members = (
        ctx.eff
        & np.isin(
            ctx.grp, [group_code(ctx, ACCOUNT_SETTINGS_WRITE), group_code(ctx, SCIM_PROVISIONING)]
        )
        & on_account
    )
    candidates = np.flatnonzero(ctx.tokens_with(user_mint | acct_mint | members))
    n_account_writes = int(
        np.sum((ctx.g_scope == S_ACCOUNT) & (ctx.g_level == L_WRITE) & ctx.g_known)
    )
    directory_accounts = list(ctx.dir.account_names)
    for t in candidates:
        paths: list[tuple[int, str, int]] = []
        rows = ctx.token_rows(int(t))
        on_all: set[int] = set()
        by_account: dict[str, set[int]] = {}
        for i in rows:
            if ctx.write_row[i] and ctx.row_scope[i] == S_ACCOUNT:
                if ctx.kind[i] == K_ALL_ACCOUNTS:
                    on_all.add(int(ctx.grp[i]))
                elif ctx.kind[i] == K_ACCOUNT:
                    by_account.setdefault(str(ctx.inv.g_rid[i]), set()).add(int(ctx.grp[i]))
        held = pe._AdminHeld(on_all, by_account, n_account_writes, directory_accounts)
        for i in rows:
            target = str(ctx.inv.g_rid[i]) if ctx.kind[i] == K_ACCOUNT else None
            if user_mint[i]:
                if held.on(None):
                    continue
                paths.append(
                    (
                        1,
                        f"{ctx.evidence(i)} → create a user token with any permission of the "
                        "user → administrator-equivalent on every account the user belongs to",
                        i,
                    )
                )
            elif acct_mint[i]:
                if held.on(target):
                    continue
                paths.append(
                    (
                        1,
                        f"{ctx.evidence(i)} → create (or roll) an account token with every "
                        f"permission → administrator-equivalent on {ctx.resource_label(i)}",
                        i,
                    )
                )
            elif members[i]:
                if held.on(target):
                    continue
                paths.append(
                    (
                        2,
                        f"{ctx.evidence(i)} → give a member it controls the Administrator role "
                        f"→ that member creates any token → administrator-equivalent on "
                        f"{ctx.resource_label(i)}",
                        i,
                    )
                )
        if not paths:
            continue
        paths.sort(key=lambda p: p[0])
        length, sentence, row = paths[0]
        gid = ctx.group_id(int(ctx.grp[row]))
        fix, text = (
            ref_minting_fix(ctx, int(t), row, gid)
            if length == 1
            else (
                remove_group(ctx, int(ctx.pol[row]), gid),
                f"remove {ctx.group_name(int(ctx.grp[row]))} from policy {ctx.pol[row]}",
            )
        )
        hits.add(
            int(t),
            Severity.CRITICAL if length == 1 else Severity.HIGH,
            f"path of length {length}: {sentence}"
            + (f" (and {len(paths) - 1} more path(s))" if len(paths) > 1 else ""),
            f"The token reaches administrator-equivalent access in {length} step(s).",
            text[0].upper() + text[1:] + ".",
            fix,
            row=row,
            ctx=ctx,
        )
    return hits


def ref_pe_03(ctx: Ctx) -> Hits:
    hits = Hits("CFT-PE-03")
    user_code = group_code(ctx, API_TOKENS_WRITE)
    acct_code = group_code(ctx, ACCOUNT_TOKENS_WRITE)
    mint_rows = ctx.eff & (
        (ctx.grp == user_code)
        | ((ctx.grp == acct_code) & ((ctx.kind == K_ACCOUNT) | (ctx.kind == K_ALL_ACCOUNTS)))
    )
    rows, _, _ = best_rows(ctx, mint_rows, Severity.CRITICAL.rank, key="token")
    other_rows = ref_non_token_api(ctx)
    limit = ctx.now + np.timedelta64(ctx.th.mint_max_days, "D")
    exp = ctx.dates["expires_on"]
    for row in rows:
        t = int(ctx.tok[row])
        problems: list[str] = []
        others = ctx.group_names_of(t, other_rows)
        if others:
            problems.append(f"it also holds {join_names(others)}")
        if not ctx.has_ip_in[t]:
            problems.append("it has no IP allowlist")
        if np.isnat(exp[t]):
            problems.append("it never expires")
        elif exp[t] > limit:
            problems.append(
                f"it expires on {str(exp[t])[:10]}, more than {ctx.th.mint_max_days} days ahead"
            )
        if not problems:
            continue
        ip_fix, _ = allowlist_fix(ctx, t)
        keep = tuple(sorted(TOKEN_API_GROUPS))
        hits.add(
            t,
            Severity.CRITICAL,
            ctx.evidence(row) + "; " + "; ".join(problems),
            "A minting token should hold only the token-API groups, an IP allowlist and an "
            f"expiry within {ctx.th.mint_max_days} days: " + "; ".join(problems) + ".",
            "Move every other permission to separate tokens, then set an IP allowlist and "
            f"expires_on within {ctx.th.mint_max_days} days on this one.",
            LimitMinting(
                keep=keep,
                expires_on=ctx.iso_in(ctx.th.mint_max_days) if ref_too_late(ctx, t) else None,
                allow=ip_fix.allow if not ctx.has_ip_in[t] else None,
            ),
            row=int(row),
            ctx=ctx,
        )
    return hits


def ref_nw_02(ctx: Ctx) -> Hits:
    hits = Hits("CFT-NW-02")
    th = ctx.th

    def is_wide(text: str) -> bool:  # what ipaddress says of the range
        net = ipaddress.ip_network(text.strip(), strict=False)
        limit = th.open_v4_prefix if net.version == 4 else th.open_v6_prefix
        return 0 < net.prefixlen <= limit

    for t in np.flatnonzero(ctx.ip_open & ctx.has_ip_in).tolist():
        wide = [v for v in ctx.inv.ip_in[t] if is_wide(v)]
        ips = ips_for(ctx, t)
        hits.add(
            t,
            Severity.MEDIUM,
            f"allow range(s) {', '.join(wide)}",
            "The IP allowlist is so wide it barely restricts.",
            (
                f"Replace the wide range(s) with the networks it is used from ({', '.join(ips)})."
                if ips
                else "Replace the wide range(s) with your callers' exact ranges."
            ),
            SetAllowlist(
                allow=tuple(ips) if ips else (PLACEHOLDER_CIDR,), deny=tuple(ctx.inv.ip_out[t])
            ),
        )
    return hits


def ref_sc_04(ctx: Ctx) -> Hits:
    hits = Hits("CFT-SC-04")
    th = ctx.th
    n_fams, cover = ref_family_cover(ctx)
    catalogue_scope = ctx.g_scope[: ctx.inv.groups.n_catalogue]
    share_hit = np.zeros(ctx.n, dtype=bool)
    shares: dict[int, npt.NDArray[np.float64]] = {}
    for scope in (S_ACCOUNT, S_ZONE):
        total = int(np.sum(catalogue_scope == scope))
        counts = ctx.count_groups(ctx.g_scope == scope)  # distinct E(T) groups of the scope
        shares[scope] = counts / max(total, 1)
        share_hit |= shares[scope] >= th.kitchen_scope_share
    fire = (ctx.n_write >= th.kitchen_write_groups) | (n_fams >= th.kitchen_families) | share_hit
    labels: dict[tuple[int, int], str] = {}
    for t in np.flatnonzero(fire).tolist():
        reasons = []
        if ctx.n_write[t] >= th.kitchen_write_groups:
            reasons.append(f"{ctx.n_write[t]} write groups")
        if n_fams[t] >= th.kitchen_families:
            reasons.append(
                "write groups in the risk families "
                + ", ".join(family_names(int(cover[t])))
                + " (each group counted in one family)"
            )
        for scope, label in ((S_ACCOUNT, "account"), (S_ZONE, "zone")):
            if shares[scope][t] >= th.kitchen_scope_share:
                reasons.append(f"{shares[scope][t]:.0%} of all {label} permission groups")
        parts = ref_split_plan(ctx, t, int(cover[t]), labels)
        hits.add(
            t,
            Severity.HIGH,
            "; ".join(reasons),
            "The token bundles many unrelated powers.",
            "Split it into one token per job ("
            + "; ".join(f"{label}: {join_names(names, 4)}" for label, names, _ in parts)
            + "), then delete this one.",
            SplitToken(parts=tuple((label, gids) for label, _, gids in parts)),
        )
    return hits


def ref_family_cover(ctx: Ctx) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    bits = sorted(FAMILY_BITS.values())
    best = np.zeros(ctx.n, dtype=np.int64)
    cover = np.zeros(ctx.n, dtype=np.int64)
    rows = ctx.write_row & (ctx.row_fam != 0)
    if not rows.any():
        return best, cover
    fam = ctx.row_fam[rows].astype(np.int64)
    tok = ctx.tok[rows]
    has = ctx.tokens_with(rows)
    best[:] = len(bits) + 1
    subsets = sorted(range(1, 1 << len(bits)), key=lambda k: bin(k).count("1"))
    for k in subsets:
        mask = sum(b for i, b in enumerate(bits) if k >> i & 1)
        missed = np.zeros(ctx.n, dtype=bool)
        missed[tok[(fam & mask) == 0]] = True
        fits = has & ~missed & (best > len(bits))
        best[fits] = bin(k).count("1")
        cover[fits] = mask
    best[~has] = 0
    return best, cover


def ref_split_plan(
    ctx: Ctx, t: int, cover: int = 0, labels: dict[tuple[int, int], str] | None = None
) -> list[tuple[str, list[str], tuple[str, ...]]]:
    plan: dict[str, dict[str, str]] = {}
    known = labels if labels is not None else {}
    start, end = ctx.inv.row_start[t], ctx.inv.row_end[t]
    eff = ctx.eff[start:end]
    for code in ctx.grp[start:end][eff].tolist():
        label = known.get((code, cover))
        if label is None:
            fams = family_names(int(ctx.g_fam[code]))
            counted = [f for f in fams if FAMILY_BITS[f] & cover]
            label = known[(code, cover)] = (counted or fams or ["other"])[0]
        plan.setdefault(label, {})[ctx.group_id(code)] = ctx.group_name(code)
    return [(label, list(groups.values()), tuple(groups)) for label, groups in plan.items()]


def ref_ln_02(ctx: Ctx) -> Hits:
    hits = Hits("CFT-LN-02")
    inv = ctx.inv
    d = ctx.dir
    flagged_zone_on_account: set[tuple[int, int, int]] = set()
    keyed = [i for i in inv.ln04 if i.key is not None]  # CFT-LN-04's, by resource key
    ln04_keys = set(map(attrgetter("tok", "key"), keyed))
    ln04_policies = set(map(attrgetter("tok", "pol"), keyed))
    has_deny = inv.arrays["has_deny"][ctx.tok] if inv.m else np.zeros(0, dtype=bool)
    kind = ctx.kind
    # the rows that can raise a problem below: an unreadable key, a zone group on a bare
    # account, and (where the group fits) a missing resource, or on a token with a deny, a
    # deny or an allow the deny removes (an effective allow there raises nothing)
    candidates = (
        (kind == K_UNPARSED)
        | ((ctx.row_scope == S_ZONE) & (kind == K_ACCOUNT))
        | (ctx.scope_ok & (ln._missing_mask(ctx) | (has_deny & (ctx.deny | ~ctx.eff))))
    )
    for row in np.flatnonzero(candidates).tolist():
        row_kind = inv.g_kind[row]
        t = int(ctx.tok[row])
        code = int(ctx.grp[row])
        pol = int(ctx.pol[row])
        gid = ctx.group_id(code)
        key = inv.g_rkey[row]
        problem = None
        fix: Step | None = None
        text = ""
        sev = Severity.LOW
        detail = "This part of the token grants nothing."
        if row_kind == K_UNPARSED:
            if (t, key) in ln04_keys:
                continue
            problem = (
                f"policy {pol} names {key!r}, a resource key cftokens cannot read; "
                "it covers nothing"
            )
            fix, text = ln._remove_resource(pol, key)
        elif ctx.row_scope[row] == S_ZONE and row_kind == K_ACCOUNT:
            flagged_zone_on_account.add((t, pol, code))
            acct = str(inv.g_rid[row])
            problem = (
                f"policy {pol} grants the zone permission {ctx.group_name(code)} on the bare key "
                f"of account {d.account(acct)}; Cloudflare's documentation does not confirm "
                "that this covers the account's zones (cftokens reads it as covering none)"
            )
            fix = ReplacePair(policy=pol, group_id=gid, key=key, target=ZonesOfAccounts((acct,)))
            text = (
                f"Grant it on all zones of the account instead (the nested form "
                f"{{'{key}': {{'com.cloudflare.api.account.zone.*': '*'}}}})."
            )
            detail = (
                "Unconfirmed reading: cftokens (and its sandbox) treat this grant as covering "
                "no zone; Cloudflare may read it otherwise. The nested form says it for sure."
            )
        elif not ctx.scope_ok[row]:
            continue  # reported per (policy, group) below
        elif not inv.g_deny[row] and not ctx.eff[row]:
            problem = f"{ctx.evidence(row)}, but a deny policy removes all of it"
            fix, text = ln._remove_pair(pol, gid, key)
        elif inv.g_deny[row]:
            allows = [
                i
                for i in ctx.token_rows(t)
                if not inv.g_deny[i] and ctx.scope_ok[i] and ctx.grp[i] == code
            ]
            if not any(ln._intersects(ctx, row, i) for i in allows):
                problem = (
                    f"{ctx.evidence(row)}, but no allow policy grants it there: "
                    "the deny does nothing"
                )
                fix, text = ln._remove_pair(pol, gid, key)
                sev = Severity.INFO
        if problem is None and ctx.scope_ok[row]:
            missing = ln._missing(ctx, row)
            if missing:
                problem = f"{ctx.evidence(row)}, but {missing} is not in the inventory"
                fix, text = ln._remove_resource(pol, key)
        if problem is None:
            continue
        hits.add(
            t,
            sev,
            problem,
            detail,
            text,
            fix,
            row=row,
            ctx=ctx,
        )
    for t, pol, code in inv.nofit:
        if (t, pol, code) in flagged_zone_on_account or not ctx.g_known[code]:
            continue  # an unknown group has no known scope: it is CFT-LN-01's
        if (t, pol) in inv.mismatched_policies or (t, pol) in ln04_policies:
            continue  # the whole policy grants nothing: CFT-LN-04's
        gid = ctx.group_id(code)
        scope = ("user", "account", "zone", "r2 bucket")[int(ctx.g_scope[code])]
        hits.add(
            t,
            Severity.LOW,
            f"policy {pol} lists {ctx.group_name(code)}, but names no {scope} resource for it",
            "A permission group applies only to resources of its own scope.",
            f"Move {ctx.group_name(code)} to a policy that names the {scope} resources it "
            f"needs, or remove it from policy {pol}.",
            remove_group(ctx, pol, gid),
            pol=pol,
            grp=code,
        )
    return hits


def ref_pe_01(ctx: Ctx) -> Hits:
    hits = Hits("CFT-PE-01")
    code = group_code(ctx, API_TOKENS_WRITE)
    rows, _, _ = best_rows(ctx, ctx.eff & (ctx.grp == code), Severity.CRITICAL.rank)
    for row in rows:
        t = int(ctx.tok[row])
        fix, text = ref_minting_fix(ctx, t, int(row), API_TOKENS_WRITE)
        hits.add(
            t,
            Severity.CRITICAL,
            ctx.evidence(row),
            "The token holds API Tokens Write: it can create user tokens with any of the "
            "user's permissions.",
            text[0].upper() + text[1:] + ".",
            fix,
            row=int(row),
            ctx=ctx,
        )
    return hits


def ref_pe_02(ctx: Ctx) -> Hits:
    hits = Hits("CFT-PE-02")
    code = group_code(ctx, ACCOUNT_TOKENS_WRITE)
    mask = ctx.eff & (ctx.grp == code) & ((ctx.kind == K_ACCOUNT) | (ctx.kind == K_ALL_ACCOUNTS))
    rows, _, counts = best_rows(ctx, mask, Severity.CRITICAL.rank)
    for row, count in zip(rows, counts, strict=True):
        t = int(ctx.tok[row])
        fix, text = ref_minting_fix(ctx, t, int(row), ACCOUNT_TOKENS_WRITE)
        hits.add(
            t,
            Severity.CRITICAL,
            ctx.evidence(row) + more_grants(int(count)),
            f"The token can create account-owned tokens on {ctx.resource_label(int(row))}.",
            text[0].upper() + text[1:] + ".",
            fix,
            row=int(row),
            ctx=ctx,
        )
    return hits


REFERENCES = {
    "CFT-PE-01": ref_pe_01,
    "CFT-PE-02": ref_pe_02,
    "CFT-LN-02": ref_ln_02,
    "CFT-SC-04": ref_sc_04,
    "CFT-NW-02": ref_nw_02,
    "CFT-PE-03": ref_pe_03,
    "CFT-PE-06": ref_pe_06,
}


# -- audits -----------------------------------------------------------------------------------


MINT = ["API Tokens Write"]
ACCT_MINT = ["Account API Tokens Write"]
MEMBERS = ["Account Settings Write"]
SHAPES: dict[str, list[dict[str, Any]]] = {
    "admin here, mint here": [every_account_write(account(ACCT)), allow(ACCT_MINT, account(ACCT))],
    "admin here, mint there": [
        every_account_write(account(ACCT)),
        allow(ACCT_MINT, account(ACCT2)),
        allow(MEMBERS, account(ACCT)),
    ],
    "admin everywhere": [
        every_account_write(ALL_ACCOUNTS),
        allow(MINT, USER_RES),
        allow(MEMBERS, account(ACCT2)),
    ],
    "admin on both": [
        every_account_write(account(ACCT), account(ACCT2)),
        allow(MINT, USER_RES),
        allow(ACCT_MINT, ALL_ACCOUNTS),
    ],
    "members then mint": [allow(MEMBERS, account(ACCT)), allow(ACCT_MINT, account(ACCT2))],
    "members only": [allow(MEMBERS, account(ACCT)), allow(["SCIM Provisioning"], account(ACCT2))],
    "two mints": [allow(ACCT_MINT, account(ACCT)), allow(MINT, USER_RES)],
    "mint and work": [allow(MINT, USER_RES), allow(["DNS Write"], zone(ZONE))],
    "mint only": [allow(MINT, USER_RES)],
    # escalation through membership, by either group (one policy each)
    "members by settings": [allow(["Account Settings Write"], account(ACCT))],
    "members by scim": [allow([SCIM_PROVISIONING], account(ACCT))],
    "kitchen sink": [
        allow(
            ["DNS Write", "Zone Settings Write", "Logs Write", "Firewall Services Write"], ALL_ZONES
        ),
        allow(["Workers Scripts Write", "Account Settings Write"], account(ACCT)),
    ],
    "two families": [allow(["Logs Write", "DNS Write"], zone(ZONE))],
    # Logs Write counts as EVASION (next to Bot Management Write), not EXFIL
    "logs as evasion": [
        allow(["Bot Management Write", "DNS Write"], zone(ZONE)),
        allow(["Logs Write", "Account Settings Write"], account(ACCT)),
    ],
    # CFT-LN-02: a deny over an allow, a deny over nothing, a zone group on a bare account,
    # an unreadable key, a zone the directory does not list
    "ineffective": [
        allow(["DNS Write"], zone(ZONE), {"com.cloudflare.api.account.zone.ffff": "*"}),
        deny(["DNS Write"], zone(ZONE)),
        deny(["Zone Settings Write"], zone(ZONE)),
        allow(["DNS Read"], account(ACCT), {"com.cloudflare.nonsense": "*"}),
    ],
    # a deny that removes the second of two allows of its group (the first is elsewhere)
    "deny on the second allow": [
        allow(["DNS Write"], zone(ZONE2)),
        allow(["DNS Write"], zone(ZONE)),
        deny(["DNS Write"], zone(ZONE)),
    ],
    # one family (CRED) covers both groups; PE and HIJACK would take two
    "cred only": [
        allow(["API Tokens Write"], USER_RES),
        allow(["Cloudflare Tunnel Write"], account(ACCT)),
    ],
    # API Tokens Write counts as PE or CRED as the other groups decide
    "minting as cred": [
        allow(["API Tokens Write"], USER_RES),
        allow(["Cloudflare Tunnel Write", "Logs Write"], account(ACCT)),
        allow(["DNS Write"], zone(ZONE)),
    ],
}


IP_INS = [
    [],
    ["34.120.1.0/24"],
    ["34.0.0.0/8", "34.120.1.0/24"],
    ["2001:db8::/16", "10.0.0.0/8", "35.0.0.0/12"],
    ["0.0.0.0/0"],
]
IP_OUTS = [None, ["34.1.0.0/16"], ["34.120.1.7"]]


def _shaped(seed: int) -> Audit:
    rng = np.random.default_rng(seed)
    names = list(SHAPES)
    tokens = []
    for i in range(24):
        shape = names[int(rng.integers(len(names)))]
        tokens.append(
            token(
                f"{shape} {i}",
                *SHAPES[shape],
                expires=[None, 10, 30, 400][int(rng.integers(4))],
                ip_in=IP_INS[int(rng.integers(len(IP_INS)))],
                ip_out=IP_OUTS[int(rng.integers(len(IP_OUTS)))],
            )
        )
    return run(*tokens)


def _used() -> Audit:
    """Tokens of several shapes (minting ones among them) without allowlists, each used
    from its own network: the fixes' allowlists come from each token's usage."""
    shapes = ["mint only", "mint only", "mint and work", "two mints", "kitchen sink"] * 2
    tokens = [
        token(f"{shape} {i}", *SHAPES[shape], ip_in=[], expires=None)
        for i, shape in enumerate(shapes)
    ]
    used = [
        {"time": NOW - timedelta(days=1), "token_id": t["id"], "method": "GET", "status": 200,
         "path": f"/client/v4/zones/{ZONE}/dns_records", "ip": f"198.51.{i % 7}.7"}
        for i, t in enumerate(tokens)
    ]  # fmt: skip
    return run(*tokens, usage=used)


def _half_the_zone_groups() -> Audit:
    """Tokens holding about half of the catalogue's zone groups (every read group and a few
    write groups in no risk family): CFT-SC-04 says each one's share."""
    zone_groups = [g for g in permission_groups if g.scope is Scope.ZONE]
    reads = [g.id for g in zone_groups if g.level is Level.READ]
    writes = [g.id for g in zone_groups if g.level is Level.WRITE and not risk_families.of(g.id)]
    half = len(zone_groups) // 2 - len(reads)
    return run(
        *(
            token(f"share {extra}", allow(reads + writes[: half + extra], zone(ZONE)))
            for extra in range(3)
        )
    )


AUDITS = {
    **CASES,
    "half the zone groups": _half_the_zone_groups,
    "shaped": lambda: _shaped(1),
    "shaped 2": lambda: _shaped(2),
    "used": _used,
}


@pytest.fixture(scope="module", params=list(AUDITS))
def audit(request: pytest.FixtureRequest) -> Audit:
    return AUDITS[request.param]()


@pytest.mark.parametrize("rule_id", list(REFERENCES))
def test_rule_matches_its_per_token_loop(audit: Audit, rule_id: str) -> None:
    ctx = audit._ctx
    ctx.memo.clear()
    meta = RULES[rule_id]
    assert meta.fn is not None
    assert columns(meta.fn(ctx, meta)) == columns(REFERENCES[rule_id](ctx))


def test_minting_fix_matches_its_loop(audit: Audit) -> None:
    """Every minting row's fix (other groups read once per audit, expiry flags per token)
    equals the fix read row by row."""
    ctx = audit._ctx
    ctx.memo.clear()
    for gid in (API_TOKENS_WRITE, ACCOUNT_TOKENS_WRITE):
        for row in np.flatnonzero(ctx.eff & (ctx.grp == group_code(ctx, gid))).tolist():
            t = int(ctx.tok[row])
            assert pe._minting_fix(ctx, t, row, gid) == ref_minting_fix(ctx, t, row, gid)


def test_family_cover_matches_the_subset_loop(audit: Audit) -> None:
    """The fewest families per token, found once per distinct combination of family sets,
    equal the subsets tried on every token."""
    best, cover = sc._family_cover(audit._ctx)
    ref_best, ref_cover = ref_family_cover(audit._ctx)
    assert best.tolist() == ref_best.tolist()
    assert cover.tolist() == ref_cover.tolist()


def test_per_atom_values_match_each_row(audit: Audit) -> None:
    """A resource label, zone and account read once per atom (and kept for the audit) equal
    each grant row's own, asked in any order and twice; the evidence texts built from them
    equal each row's evidence."""
    ctx = audit._ctx
    ctx.memo.clear()
    rows = np.arange(ctx.inv.m)[::-1]
    atoms = base.row_atoms(ctx, rows).tolist()
    for what, read in (
        ("label", ctx.resource_label),
        ("zone", ctx.row_zone),
        ("account", ctx.row_account),
    ):
        for _ in range(2):
            assert base.per_atom(ctx, what, read, atoms) == [read(int(r)) for r in rows]
    assert base.evidence_texts(ctx, rows).decoded() == [ctx.evidence(int(r)) for r in rows]


def test_evidence_texts_once_per_case_match_each_row(audit: Audit) -> None:
    """Evidence joined once per distinct (policy and group, resource, count) equals each
    row's evidence plus its count's note, on rows repeated in any order with counts of one
    to four; rows of one case share one value (a text per row at most, not per finding)."""
    ctx = audit._ctx
    ctx.memo.clear()
    rng = np.random.default_rng(7)
    rows = rng.permutation(np.tile(np.arange(ctx.inv.m), 3))
    counts = rng.integers(1, 5, len(rows))
    texts = base.evidence_texts(ctx, rows, counts)
    assert texts.decoded() == [
        ctx.evidence(int(r)) + base.more_grants(int(c)) for r, c in zip(rows, counts, strict=True)
    ]
    once = base.evidence_texts(ctx, rows)
    assert once.decoded() == [ctx.evidence(int(r)) for r in rows]
    assert len(once.values) <= ctx.inv.m
    assert len(once.values) < len(rows) or not len(rows)


# a short run in the inner loop (`-m "not slow"`), the long one marked slow
@pytest.mark.parametrize("examples", [3, pytest.param(105, marks=pytest.mark.slow)])
def test_rules_match_their_loops_on_shaped_tokens(examples: int) -> None:
    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.integers(0, 2**32 - 1))
    def agree(seed: int) -> None:
        ctx = _shaped(seed)._ctx
        for rule_id, reference in REFERENCES.items():
            meta = RULES[rule_id]
            assert meta.fn is not None
            assert columns(meta.fn(ctx, meta)) == columns(reference(ctx)), rule_id

    agree()
