"""The rules' bulk paths against the per-token loops they replace (kept here as references),
on the audits most likely to tell them apart: a generated inventory, tokens that already
hold administrator-equivalent access where their escalation paths lead, minting tokens with
and without other groups, allowlists and expiries, and the hostile audits of test_fast_paths."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from audit_helpers import (
    ACCT,
    ACCT2,
    ALL_ACCOUNTS,
    USER_RES,
    ZONE,
    account,
    allow,
    run,
    token,
    zone,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fast_paths import CASES

import cftokens as cft
from cftokens.audit import Audit
from cftokens.audit._context import Ctx, join_names
from cftokens.audit._inventory import K_ACCOUNT, K_ALL_ACCOUNTS, L_WRITE, S_ACCOUNT
from cftokens.audit.rules import RULES, pe
from cftokens.audit.rules.base import (
    ACCOUNT_SETTINGS_WRITE,
    ACCOUNT_TOKENS_WRITE,
    API_TOKENS_WRITE,
    SCIM_PROVISIONING,
    TOKEN_API_GROUPS,
    Hits,
    allowlist_fix,
    best_rows,
    group_code,
    remove_group,
)
from cftokens.audit.severity import Severity
from cftokens.audit.steps import LimitMinting, Step

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


REFERENCES = {"CFT-PE-03": ref_pe_03, "CFT-PE-06": ref_pe_06}


# -- audits -----------------------------------------------------------------------------------


def _every_account_write(*resources: dict[str, Any]) -> dict[str, Any]:
    groups = [
        {"id": g.id, "name": g.name}
        for g in cft.permission_groups
        if g.scope is cft.Scope.ACCOUNT and g.level is cft.Level.WRITE
    ]
    merged: dict[str, Any] = {}
    for r in resources:
        merged.update(r)
    return {"effect": "allow", "permission_groups": groups, "resources": merged}


MINT = ["API Tokens Write"]
ACCT_MINT = ["Account API Tokens Write"]
MEMBERS = ["Account Settings Write"]
SHAPES: dict[str, list[dict[str, Any]]] = {
    "admin here, mint here": [_every_account_write(account(ACCT)), allow(ACCT_MINT, account(ACCT))],
    "admin here, mint there": [
        _every_account_write(account(ACCT)),
        allow(ACCT_MINT, account(ACCT2)),
        allow(MEMBERS, account(ACCT)),
    ],
    "admin everywhere": [
        _every_account_write(ALL_ACCOUNTS),
        allow(MINT, USER_RES),
        allow(MEMBERS, account(ACCT2)),
    ],
    "admin on both": [
        _every_account_write(account(ACCT), account(ACCT2)),
        allow(MINT, USER_RES),
        allow(ACCT_MINT, ALL_ACCOUNTS),
    ],
    "members then mint": [allow(MEMBERS, account(ACCT)), allow(ACCT_MINT, account(ACCT2))],
    "members only": [allow(MEMBERS, account(ACCT)), allow(["SCIM Provisioning"], account(ACCT2))],
    "two mints": [allow(ACCT_MINT, account(ACCT)), allow(MINT, USER_RES)],
    "mint and work": [allow(MINT, USER_RES), allow(["DNS Write"], zone(ZONE))],
    "mint only": [allow(MINT, USER_RES)],
}


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
                ip_in=[[], ["34.120.1.0/24"]][int(rng.integers(2))],
            )
        )
    return run(*tokens)


AUDITS = {**CASES, "shaped": lambda: _shaped(1), "shaped 2": lambda: _shaped(2)}


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


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_rules_match_their_loops_on_shaped_tokens(seed: int) -> None:
    ctx = _shaped(seed)._ctx
    for rule_id, reference in REFERENCES.items():
        meta = RULES[rule_id]
        assert meta.fn is not None
        assert columns(meta.fn(ctx, meta)) == columns(reference(ctx)), rule_id
