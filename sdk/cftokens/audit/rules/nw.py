"""The ``CFT-NW-xx`` rules: network (IP allowlists)."""

from __future__ import annotations

import ipaddress

import numpy as np

from .._context import Ctx
from ..severity import Severity
from ..steps import (
    SetAllowlist,
)
from .base import (
    ACCOUNT_TOKENS_WRITE,
    API_TOKENS_WRITE,
    PLACEHOLDER_CIDR,
    Coded,
    Hits,
    Rule,
    allowlist_fix,
    group_code,
    ips_for,
    known_after_apply,
    rule,
    usage_keys,
)

# ---------------------------------------------------------------------------------------------
# NW: network restrictions
# ---------------------------------------------------------------------------------------------


@rule(
    "CFT-NW-01",
    "No client-IP allowlist",
    "medium with writes, else low",
    Severity.MEDIUM,
    "live and IPin empty (a /0 counts as empty); minting tokens are PE-03's",
    "Without an allowlist a leaked secret works from anywhere.",
)
def nw_01(ctx: Ctx, r: Rule) -> Hits:
    """An allowlist turns a leaked secret into a useless string outside your networks.

    Minting tokens are left to CFT-PE-03 (which names the missing allowlist among its problems)
    only while the profile runs PE-03; otherwise NW-01 reports them too."""
    hits = Hits(r.id)
    minting = ctx.tokens_with(
        ctx.eff
        & (
            (ctx.grp == group_code(ctx, API_TOKENS_WRITE))
            | (ctx.grp == group_code(ctx, ACCOUNT_TOKENS_WRITE))
        )
    )
    if not ctx.profile.enabled("CFT-PE-03"):
        minting[:] = False  # nobody else reports their missing allowlist
    toks = np.flatnonzero(ctx.live & ~ctx.has_ip_in & ~minting)
    if not len(toks):  # no finding possible: nothing more to work out
        return hits
    zero = ctx.ip_zero[toks]
    noted = known_after_apply(ctx, "condition")[toks]

    def fix_of(i: int) -> tuple[SetAllowlist, str]:
        fix, text = allowlist_fix(ctx, int(toks[i]))
        return fix, text[0].upper() + text[1:] + "."

    fixes = Coded.per_key(fix_of, usage_keys(ctx, toks))
    hits.extend(
        toks,
        np.where(ctx.has_write[toks], Severity.MEDIUM.rank, Severity.LOW.rank),
        Coded.per_key(
            lambda i: (
                "condition request.ip has no allow ranges"
                + (" (a /0 range allows every address)" if zero[i] else "")
                + ctx.after_apply_note(int(toks[i]), "condition", "no allowlist")
            ),
            zero,
            noted,
        ),
        "The token works from any IP address.",
        Coded([text for _, text in fixes.values], fixes.codes),
        Coded([fix for fix, _ in fixes.values], fixes.codes),
    )
    return hits


@rule(
    "CFT-NW-02",
    "Allowlist effectively open",
    "medium",
    Severity.MEDIUM,
    "an IPin range of IPv4 prefix ≤ /16 or IPv6 prefix ≤ /32",
    "A /16 (65,536 addresses) or wider is a whole provider's network, not your callers.",
)
def nw_02(ctx: Ctx, r: Rule) -> Hits:
    """Huge ranges include networks you do not control (a cloud region, an ISP), so the
    allowlist stops few attackers."""
    hits = Hits(r.id)
    th = ctx.th
    # every allow range as the context read it (ipaddress' prefix length and version)
    version, prefix = ctx.ip_in_version, ctx.ip_in_prefix
    is_wide = (
        (prefix > 0)
        & (
            ((version == 4) & (prefix <= th.open_v4_prefix))
            | ((version == 6) & (prefix <= th.open_v6_prefix))
        )
    ).tolist()
    start = ctx.ip_in_start.tolist()
    toks = np.flatnonzero(ctx.ip_open & ctx.has_ip_in).tolist()
    evidence: list[str] = []
    # the remediation and fix depend only on the usage and the deny ranges: made once each
    fixes: dict[tuple[tuple[str, ...] | None, tuple[str, ...]], tuple[str, SetAllowlist]] = {}
    texts: list[str] = []
    steps: list[SetAllowlist] = []
    for t in toks:
        evidence.append(
            "allow range(s) "
            + ", ".join(
                [
                    v
                    for v, w in zip(ctx.inv.ip_in[t], is_wide[start[t] : start[t + 1]], strict=True)
                    if w
                ]
            )
        )
        ips = ips_for(ctx, t)
        key = (tuple(ips) if ips else None, tuple(ctx.inv.ip_out[t]))
        made = fixes.get(key)
        if made is None:
            made = fixes[key] = (
                (
                    f"Replace the wide range(s) with the networks it is used from "
                    f"({', '.join(ips)})."
                    if ips
                    else "Replace the wide range(s) with your callers' exact ranges."
                ),
                SetAllowlist(allow=tuple(ips) if ips else (PLACEHOLDER_CIDR,), deny=key[1]),
            )
        texts.append(made[0])
        steps.append(made[1])
    hits.extend(
        toks,
        Severity.MEDIUM,
        evidence,
        "The IP allowlist is so wide it barely restricts.",
        texts,
        steps,
    )
    return hits


@rule(
    "CFT-NW-03",
    "IP condition weak or misconfigured",
    "low",
    Severity.LOW,
    "only a deny list; an allow range wholly private/loopback/documentation space; a not_in "
    "range that cancels a whole in range",
    "Deny lists are easy to get around; private ranges never reach Cloudflare's API; a deny "
    "that cancels an allow is a mistake.",
)
def nw_03(ctx: Ctx, r: Rule) -> Hits:
    """Deny-only conditions let every other address in; private or documentation ranges never
    reach Cloudflare's API (the token cannot work, or the allowlist is a typo); a not_in that
    cancels a whole in range is a mistake. An allow list holding a /0 counts as empty (as in
    CFT-NW-01), so a /0 plus not_in ranges is "only a deny list"."""
    hits = Hits(r.id)
    for t in np.flatnonzero(ctx.ip_deny_only | ctx.ip_private | ctx.ip_cancels).tolist():
        problems = []
        if ctx.ip_deny_only[t]:
            problems.append(
                f"only a deny list ({', '.join(ctx.inv.ip_out[t])})"
                + ("; the allow list's /0 admits every other address" if ctx.ip_zero[t] else "")
            )
        if ctx.ip_private[t]:
            private = [
                v
                for v in ctx.inv.ip_in[t]
                if (n := ipaddress.ip_network(v.strip(), strict=False)).is_private
                or n.is_loopback
                or n.is_link_local
            ]
            problems.append(
                f"allow range(s) in private, loopback or documentation space ({', '.join(private)})"
            )
        if ctx.ip_cancels[t]:
            problems.append("a not_in range removes a whole in range")
        ips = ips_for(ctx, t)
        hits.add(
            t,
            Severity.LOW,
            "; ".join(problems),
            "The IP condition does not do what it seems to.",
            "Use an allow list of the public ranges the token is used from"
            + (f" ({', '.join(ips)})" if ips else "")
            + ", and drop deny ranges that cancel it.",
            SetAllowlist(allow=tuple(ips) if ips else (PLACEHOLDER_CIDR,)),
        )
    return hits
