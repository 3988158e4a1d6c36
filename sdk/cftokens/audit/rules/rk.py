"""The ``CFT-RK-xx`` rules: risky capabilities (hijack, exfiltration, credentials, evasion)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .._context import Ctx
from .._inventory import (
    K_ACCOUNT,
    K_ALL_ACCOUNTS,
    K_ALL_ZONES,
    K_ALL_ZONES_IN,
    K_R2,
)
from ..severity import Severity
from ..steps import Step
from .base import (
    Coded,
    Hits,
    Rule,
    allowlist_fix,
    best_rows,
    evidence_texts,
    family_bit,
    narrow_accounts,
    narrow_zones,
    owner_keys,
    remove_group,
    row_atoms,
    rule,
    usage_keys,
)

# ---------------------------------------------------------------------------------------------
# RK: risky capabilities (scoped: wildcard resources or no IP allowlist, unless strict)
# ---------------------------------------------------------------------------------------------


def _rk_scope(ctx: Ctx) -> npt.NDArray[np.bool_]:
    """Grant rows the RK rules judge (their scope; each RK rule in docs/rules.md refers here).

    Baseline: rows on a wildcard (all zones of an account, all zones, all accounts), account
    groups on an account, user groups on the user (like account groups on an account, they
    have no narrower resource), and every row of a token without a real allowlist. Readings:
    "no IP allowlist" includes an allowlist holding a /0 (it counts as empty, as in NW-01) and
    one that CFT-NW-02 calls effectively open (an IPv4 range of /16 or wider, IPv6 /32 or
    wider): neither is the "behind an allowlist" design that exempts named-zone grants. The
    ``strict`` profile (``flag_all_risky``) judges every row."""
    if ctx.profile.flag_all_risky:
        return np.ones(ctx.inv.m, dtype=bool)
    scoped: npt.NDArray[np.bool_] = ctx.wide_row | ~_real_allowlist(ctx)[ctx.tok]
    return scoped


def _real_allowlist(ctx: Ctx) -> npt.NDArray[np.bool_]:
    """Per token: an allowlist without a /0 and with no effectively open range (NW-02)."""
    real: npt.NDArray[np.bool_] = ctx.has_ip_in & ~ctx.ip_open
    return real


def _rk_hits(
    ctx: Ctx, r: Rule, mask: npt.NDArray[np.bool_], sev: npt.NDArray[Any], what: str
) -> Hits:
    hits = Hits(r.id)
    rows, sevs, counts = best_rows(ctx, mask, sev)
    if not len(rows):
        return hits
    toks = ctx.tok[rows].astype(np.int64)
    has_in = ctx.has_ip_in[toks]
    unrestricted = ~has_in | ctx.ip_open[toks]
    kind = ctx.kind[rows]
    # which fix each finding gets, and what its text depends on: an allowlist (on the
    # token's usage), a narrower wildcard, or removing the group (on the policy and group)
    # (nested np.where: np.select's broadcasting costs more on a few rows)
    case = np.where(
        unrestricted,
        0,
        np.where((kind == K_ALL_ZONES_IN) | (kind == K_ALL_ZONES) | (kind == K_ALL_ACCOUNTS), 1, 2),
    )
    # a narrower wildcard depends on the policy, the resource, the token's usage and owner
    atoms = row_atoms(ctx, rows)
    used = usage_keys(ctx, toks)
    owner = owner_keys(ctx, toks)
    wide = case == 1
    key_a = np.where(case == 0, used, ctx.pol[rows])
    key_b = np.where(case == 0, has_in, np.where(wide, atoms, ctx.grp[rows]))
    key_c = np.where(wide, used, 0)
    key_d = np.where(wide, owner, 0)

    def fix_of(i: int) -> tuple[Step, str]:
        t = int(toks[i])
        row = int(rows[i])
        fix: Step
        if not ctx.has_ip_in[t] or ctx.ip_open[t]:
            fix, text = allowlist_fix(ctx, t)
            if ctx.has_ip_in[t]:
                text = "replace its effectively open allow range(s): " + text
            text = f"{text}; then also name single zones or accounts where it uses wildcards"
        elif ctx.kind[row] in (K_ALL_ZONES_IN, K_ALL_ZONES):
            fix, text, _ = narrow_zones(ctx, t, row)
        elif ctx.kind[row] == K_ALL_ACCOUNTS:
            fix, text = narrow_accounts(ctx, t, row)
        else:
            fix = remove_group(ctx, int(ctx.pol[row]), ctx.group_id(int(ctx.grp[row])))
            text = (
                f"remove {ctx.group_name(int(ctx.grp[row]))} from policy {ctx.pol[row]} unless "
                "the job needs it, and keep the token's IP allowlist tight"
            )
        return fix, text[0].upper() + text[1:] + "."

    fixes = Coded.per_key(fix_of, case, key_a, key_b, key_c, key_d)
    grp = ctx.grp[rows]
    hits.extend(
        toks,
        sevs,
        evidence_texts(ctx, rows, counts, atoms),
        Coded.per_key(lambda i: f"{ctx.group_name(int(grp[i]))} {what}.", grp),
        Coded([text for _, text in fixes.values], fixes.codes),
        Coded([fix for fix, _ in fixes.values], fixes.codes),
        rows=rows,
        ctx=ctx,
        atoms=atoms,
    )
    return hits


@rule(
    "CFT-RK-01",
    "Traffic or domain hijack capability",
    "high; critical on ALL_ZONES or ALL_ACCOUNTS",
    Severity.HIGH,
    "a HIJACK group in W(T) on a fitting resource",
    "DNS, zone settings, certificates, Workers, routes, tunnels and similar write groups can "
    "redirect or impersonate a site.",
)
def rk_01(ctx: Ctx, r: Rule) -> Hits:
    """Writing DNS, certificates, Workers, routes or tunnels can send a site's visitors
    anywhere or serve them anything; on a wildcard, or from any IP, a leak hijacks many sites.

    Scope (baseline): grants on wildcards, account groups on an account, user groups on the
    user, and any grant of a token without a real allowlist (none, a /0, or one NW-02 calls
    effectively open); ``strict`` judges every grant. See ``_rk_scope``."""
    mask = ctx.write_row & ((ctx.row_fam & family_bit("HIJACK")) != 0) & _rk_scope(ctx)
    sev = np.where(ctx.widest_row, Severity.CRITICAL.rank, Severity.HIGH.rank)
    return _rk_hits(ctx, r, mask, sev, "can redirect or impersonate traffic")


@rule(
    "CFT-RK-02",
    "Data exfiltration capability",
    "medium; high without IPin",
    Severity.MEDIUM,
    "an EXFIL group on an account-level resource or wider",
    "Storage, database and log groups at account level can read bulk data.",
)
def rk_02(ctx: Ctx, r: Rule) -> Hits:
    """Storage, databases and logs at account level hold bulk data; from an unrestricted
    network a leaked token can copy all of it.

    Fires on account-level resources or wider (all zones of an account, all zones, all
    accounts; every grant under ``strict``), and on R2 buckets: a bucket is the bulk store
    itself (under the RK scope, a named bucket behind a real allowlist raises nothing).
    "Without IPin" (high) includes a /0 and an allowlist NW-02 calls effectively open."""
    k = ctx.kind
    wide = (
        (k == K_ACCOUNT)
        | (k == K_ALL_ACCOUNTS)
        | (k == K_ALL_ZONES_IN)
        | (k == K_ALL_ZONES)
        | (k == K_R2)
    )
    if ctx.profile.flag_all_risky:
        wide = np.ones(ctx.inv.m, dtype=bool)
    mask = ctx.eff & ((ctx.row_fam & family_bit("EXFIL")) != 0) & wide & _rk_scope(ctx)
    # "without IPin": no allowlist, a /0, or one NW-02 calls effectively open
    sev = np.where(_real_allowlist(ctx)[ctx.tok], Severity.MEDIUM.rank, Severity.HIGH.rank)
    return _rk_hits(ctx, r, mask, sev, "can read bulk data")


@rule(
    "CFT-RK-03",
    "Credential-returning operations allowed",
    "high",
    Severity.HIGH,
    "a CRED group in G(T)",
    "Some operations answer with a new secret (token create/roll, service tokens, tunnel "
    "tokens): a leak of this token yields further credentials.",
)
def rk_03(ctx: Ctx, r: Rule) -> Hits:
    """Operations that return secrets turn one leaked token into more credentials, which the
    owner may not know exist and cannot revoke by revoking this token.

    Scope (baseline): grants on wildcards, account groups on an account, user groups on the
    user, and any grant of a token without a real allowlist (none, a /0, or one NW-02 calls
    effectively open); ``strict`` judges every grant. See ``_rk_scope``."""
    mask = ctx.eff & ((ctx.row_fam & family_bit("CRED")) != 0) & _rk_scope(ctx)
    return _rk_hits(ctx, r, mask, np.full(ctx.inv.m, Severity.HIGH.rank), "can obtain new secrets")


@rule(
    "CFT-RK-04",
    "Defence-evasion capability",
    "medium",
    Severity.MEDIUM,
    "an EVASION group in W(T)",
    "WAF, firewall, DDoS, bot management, notifications and log settings can switch off the "
    "defences and the alarms.",
)
def rk_04(ctx: Ctx, r: Rule) -> Hits:
    """Whoever can change WAF, DDoS, bot or notification settings can open the door and
    silence the alarm at once.

    Scope (baseline): grants on wildcards, account groups on an account, user groups on the
    user, and any grant of a token without a real allowlist (none, a /0, or one NW-02 calls
    effectively open); ``strict`` judges every grant. See ``_rk_scope``."""
    mask = ctx.write_row & ((ctx.row_fam & family_bit("EVASION")) != 0) & _rk_scope(ctx)
    return _rk_hits(
        ctx, r, mask, np.full(ctx.inv.m, Severity.MEDIUM.rank), "can weaken defences or visibility"
    )
