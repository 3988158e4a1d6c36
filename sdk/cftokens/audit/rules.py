"""The audit rule catalogue: every rule of ``audit-rules.md`` as a vectorised function.

Rule ids are stable (reports, suppressions and CI gates refer to them). Each rule function's
docstring is its rationale; :data:`RULES` holds the metadata (title, default severity, family,
whether it needs usage data, help text for reports and SARIF).

Notation (as in the catalogue): E(T) the token's effective grants (from the policy engine's
semantics: allows not removed by a deny), G(T) its groups, W(T) its write-level groups.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from attrs import frozen

from ._context import Ctx, join_names
from ._inventory import (
    DUPLICATE,
    FAMILY_BITS,
    K_ACCOUNT,
    K_ALL_ACCOUNTS,
    K_ALL_ZONES,
    K_ALL_ZONES_IN,
    K_R2,
    K_UNPARSED,
    K_USER,
    K_ZONE,
    L_WRITE,
    S_ACCOUNT,
    S_ZONE,
)
from .severity import Severity

__all__ = ["RULES", "RULE_FAMILIES", "Hits", "Rule", "run_rules"]

INFO, LOW, MEDIUM, HIGH, CRITICAL = range(5)

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


class Hits:
    """The findings one rule produced (parallel lists; ``row`` is the evidence grant row)."""

    def __init__(self, rule_id: str):
        self.rule_id = rule_id
        self.tok: list[int] = []
        self.sev: list[int] = []
        self.row: list[int] = []
        self.pol: list[int] = []
        self.grp: list[int] = []
        self.zone: list[str | None] = []
        self.account: list[str | None] = []
        self.evidence: list[str] = []
        self.detail: list[str] = []
        self.remediation: list[str] = []
        self.fix: list[tuple[Any, ...] | None] = []
        self.token_id: list[str | None] = []  # for findings on a token not in the inventory

    def __len__(self) -> int:
        return len(self.tok)

    def add(
        self,
        tok: int,
        sev: int,
        evidence: str,
        detail: str,
        remediation: str,
        fix: tuple[Any, ...] | None,
        *,
        row: int = -1,
        ctx: Ctx | None = None,
        pol: int = 0,
        grp: int = -1,
        zone: str | None = None,
        account: str | None = None,
        token_id: str | None = None,
    ) -> None:
        """Record one finding; with a grant ``row`` the policy/group/resource come from it.
        ``tok`` is -1 for a token the audit could not read (``token_id`` then names it)."""
        if row >= 0 and ctx is not None:
            pol = pol or int(ctx.pol[row])
            grp = grp if grp >= 0 else int(ctx.grp[row])
            zone = zone or ctx.row_zone(row)
            account = account or ctx.row_account(row)
        self.tok.append(tok)
        self.sev.append(sev)
        self.row.append(row)
        self.pol.append(pol)
        self.grp.append(grp)
        self.zone.append(zone)
        self.account.append(account)
        self.evidence.append(evidence)
        self.detail.append(detail)
        self.remediation.append(remediation)
        self.fix.append(fix)
        self.token_id.append(token_id)


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


def _best_rows(
    ctx: Ctx, mask: npt.NDArray[np.bool_], sev: npt.NDArray[Any] | int, key: str = "group"
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """One evidence row per (token, group) (or ``key="token"``/``"policy"``): the most severe.

    Returns (rows, severities, number of matching rows per key).
    """
    rows = np.flatnonzero(mask)
    sev_rows = np.broadcast_to(np.asarray(sev), mask.shape)[rows].astype(np.int64)
    if not len(rows):
        return rows, sev_rows, rows
    tok = ctx.tok[rows].astype(np.int64)
    if key == "group":
        k = tok * 1_000_000 + ctx.grp[rows]
    elif key == "policy":
        k = tok * 100_000 + ctx.pol[rows]
    else:
        k = tok
    order = np.lexsort((rows, -sev_rows, k))
    rows, sev_rows, k = rows[order], sev_rows[order], k[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = k[1:] != k[:-1]
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(rows)))
    return rows[first], sev_rows[first], counts


def _fam(name: str) -> int:
    return FAMILY_BITS[name]


def _code(ctx: Ctx, gid: str) -> int:
    return ctx.inv.groups.code.get(gid, -1)


def _ips_for(ctx: Ctx, t: int) -> list[str] | None:
    if ctx.usage is None:
        return None
    return ctx.usage.cidrs(ctx.inv.ids[t]) or None


def _ip_fix(ctx: Ctx, t: int) -> tuple[tuple[Any, ...], str]:
    ips = _ips_for(ctx, t)
    if ips:
        return ("set_ip", tuple(ips), ()), (
            f"restrict it to the networks it is used from ({', '.join(ips)})"
        )
    return ("set_ip", (PLACEHOLDER_CIDR,), ()), (
        "add an IP allowlist (condition request.ip in) with your callers' ranges"
    )


def _more(count: int) -> str:
    return f" (and {count - 1} more grant{'s' if count > 2 else ''})" if count > 1 else ""


def _family_names(bits: int) -> list[str]:
    return [name for name, bit in FAMILY_BITS.items() if bits & bit]


def _narrow_zones(ctx: Ctx, t: int, row: int) -> tuple[tuple[Any, ...], str, bool]:
    """A fix replacing a zone wildcard: used zones, else the owner account's zones."""
    inv = ctx.inv
    key = inv.g_rkey[row]
    pol = int(ctx.pol[row])
    kind = inv.g_kind[row]
    used = ctx.usage.zones(inv.ids[t]) if ctx.usage is not None else []
    if kind == K_ALL_ZONES_IN:
        acct = inv.g_racct[row]
        used = [z for z in used if ctx.dir.zone_account.get(z) in (acct, None)]
    if used:
        names = join_names(ctx.dir.zone(z) for z in used)
        return (
            ("narrow", pol, key, ("zones", tuple(used))),
            f"name only the zones it uses ({names})",
            True,
        )
    if kind == K_ALL_ZONES:
        if inv.kinds[t] == "account" and inv.owner_ids[t]:
            owner = str(inv.owner_ids[t])
            return (
                ("narrow", pol, key, ("all_zones_of", (owner,))),
                f"limit it to the zones of its own account {ctx.dir.account(owner)}",
                True,
            )
        accounts = list(ctx.dir.account_names)
        if accounts:
            return (
                ("narrow", pol, key, ("all_zones_of", tuple(accounts))),
                "name the accounts whose zones it needs (this keeps out accounts added later; "
                "name single zones where you can)",
                True,
            )
    return (
        ("narrow", pol, key, ("zones", ("REPLACE-WITH-ZONE-ID",))),
        "name the zones it needs instead of a wildcard",
        False,
    )


def _narrow_accounts(ctx: Ctx, t: int, row: int) -> tuple[tuple[Any, ...], str]:
    inv = ctx.inv
    key = inv.g_rkey[row]
    pol = int(ctx.pol[row])
    used = ctx.usage.accounts(inv.ids[t]) if ctx.usage is not None else []
    if used:
        return ("narrow", pol, key, ("accounts", tuple(used))), (
            f"name only the accounts it uses ({join_names(ctx.dir.account(a) for a in used)})"
        )
    if inv.kinds[t] == "account" and inv.owner_ids[t]:
        owner = str(inv.owner_ids[t])
        return ("narrow", pol, key, ("accounts", (owner,))), (
            f"name its own account {ctx.dir.account(owner)} instead of all accounts"
        )
    accounts = list(ctx.dir.account_names)
    if accounts:
        return ("narrow", pol, key, ("accounts", tuple(accounts))), (
            "name the accounts it needs (this keeps out accounts added later)"
        )
    return ("narrow", pol, key, ("accounts", ("REPLACE-WITH-ACCOUNT-ID",))), (
        "name the accounts it needs instead of all accounts"
    )


# ---------------------------------------------------------------------------------------------
# PE: privilege escalation
# ---------------------------------------------------------------------------------------------


def _minting_fix(ctx: Ctx, t: int, row: int, gid: str) -> tuple[tuple[Any, ...] | None, str]:
    """The fix for a token that can mint: drop the minting group when the token does other
    work; else keep it as a dedicated minting token and add only the restriction it lacks (its
    own allowlist and an expiry already within the limit are kept, never loosened)."""
    pol = int(ctx.pol[row])
    others = ctx.group_names_of(t, _non_token_api_rows(ctx))
    if others:
        return ("remove_group", pol, gid), (
            f"remove {ctx.group_name(int(ctx.grp[row]))} from policy {pol}; if the job must "
            "create tokens, give that job its own minting token, IP-restricted and expiring "
            f"within {ctx.th.mint_max_days} days"
        )
    days = ctx.th.mint_max_days
    expiry = ctx.iso_in(days) if _mint_expiry_too_late(ctx, t) else None
    ips = None if ctx.has_ip_in[t] else _ip_fix(ctx, t)[0][1]
    if expiry is None and ips is None:
        return None, (
            "it is already a dedicated minting token with an IP allowlist and an expiry within "
            f"{days} days: keep it so, use it for one job only and revoke it when the job ends"
        )
    wanted = [f"make it expire within {days} days"] if expiry else []
    if ips is not None:
        wanted.append("restrict it to the callers' IP ranges")
    return ("restrict", expiry, ips), (
        f"keep it as a dedicated minting token but {' and '.join(wanted)}"
    )


def _mint_expiry_too_late(ctx: Ctx, t: int) -> bool:
    """True when the token never expires or expires more than ``mint_max_days`` from now."""
    exp = ctx.dates["expires_on"][t]
    return bool(np.isnat(exp) or exp > ctx.now + np.timedelta64(ctx.th.mint_max_days, "D"))


def _non_token_api_rows(ctx: Ctx) -> npt.NDArray[np.bool_]:
    cached: npt.NDArray[np.bool_] | None = getattr(ctx, "_non_token_api", None)
    if cached is None:
        cached = ctx.eff & ~np.isin(ctx.grp, _token_api_codes(ctx))
        ctx._non_token_api = cached  # type: ignore[attr-defined]
    return cached


def _token_api_codes(ctx: Ctx) -> npt.NDArray[np.int64]:
    return np.array([c for g in TOKEN_API_GROUPS if (c := _code(ctx, g)) >= 0], dtype=np.int64)


@rule(
    "CFT-PE-01",
    "Token can mint user API tokens",
    "critical",
    Severity.CRITICAL,
    "API Tokens Write ∈ G(T)",
    "API Tokens Write lets the token create new user tokens with any permission the user "
    "holds, on every account the user belongs to: one leaked secret becomes full control.",
)
def pe_01(ctx: Ctx, r: Rule) -> Hits:
    """A token that can create tokens is as powerful as its user: it can mint a new token
    with any permission on every account the user belongs to, and that new token outlives any
    revocation of the first one."""
    hits = Hits(r.id)
    code = _code(ctx, API_TOKENS_WRITE)
    rows, _, _ = _best_rows(ctx, ctx.eff & (ctx.grp == code), CRITICAL)
    for row in rows:
        t = int(ctx.tok[row])
        fix, text = _minting_fix(ctx, t, int(row), API_TOKENS_WRITE)
        hits.add(
            t,
            CRITICAL,
            ctx.evidence(row),
            "The token holds API Tokens Write: it can create user tokens with any of the "
            "user's permissions.",
            text[0].upper() + text[1:] + ".",
            fix,
            row=int(row),
            ctx=ctx,
        )
    return hits


@rule(
    "CFT-PE-02",
    "Token can mint account-owned tokens",
    "critical",
    Severity.CRITICAL,
    "Account API Tokens Write on ACCOUNT(a) or ALL_ACCOUNTS ∈ E(T)",
    "Account API Tokens Write lets the token create account-owned tokens with any "
    "permission on the account.",
)
def pe_02(ctx: Ctx, r: Rule) -> Hits:
    """Account API Tokens Write on an account lets the token create account-owned tokens with
    any permission on that account, which survive the original token's revocation."""
    hits = Hits(r.id)
    code = _code(ctx, ACCOUNT_TOKENS_WRITE)
    mask = ctx.eff & (ctx.grp == code) & ((ctx.kind == K_ACCOUNT) | (ctx.kind == K_ALL_ACCOUNTS))
    rows, _, counts = _best_rows(ctx, mask, CRITICAL)
    for row, count in zip(rows, counts, strict=True):
        t = int(ctx.tok[row])
        fix, text = _minting_fix(ctx, t, int(row), ACCOUNT_TOKENS_WRITE)
        hits.add(
            t,
            CRITICAL,
            ctx.evidence(row) + _more(int(count)),
            f"The token can create account-owned tokens on {ctx.resource_label(int(row))}.",
            text[0].upper() + text[1:] + ".",
            fix,
            row=int(row),
            ctx=ctx,
        )
    return hits


@rule(
    "CFT-PE-03",
    "Minting token not isolated or not restricted",
    "critical",
    Severity.CRITICAL,
    "PE-01 or PE-02, and any of: another group besides the token-API groups; IPin empty; no "
    "expires_on; expires_on more than 30 days ahead",
    "A token that can create tokens must do nothing else, be usable only from known IP ranges "
    "and expire within 30 days (Cloudflare's own recommendation for the Create Additional "
    "Tokens template).",
)
def pe_03(ctx: Ctx, r: Rule) -> Hits:
    """Cloudflare recommends that a token able to create tokens holds no other permission and
    is limited by client IP and TTL: a minting token that also does daily work is exposed
    wherever that work runs, and an unrestricted one is usable by anyone who copies it."""
    hits = Hits(r.id)
    user_code = _code(ctx, API_TOKENS_WRITE)
    acct_code = _code(ctx, ACCOUNT_TOKENS_WRITE)
    mint_rows = ctx.eff & (
        (ctx.grp == user_code)
        | ((ctx.grp == acct_code) & ((ctx.kind == K_ACCOUNT) | (ctx.kind == K_ALL_ACCOUNTS)))
    )
    rows, _, _ = _best_rows(ctx, mint_rows, CRITICAL, key="token")
    other_rows = _non_token_api_rows(ctx)
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
        ip_fix, _ = _ip_fix(ctx, t)
        keep = tuple(sorted(TOKEN_API_GROUPS))
        hits.add(
            t,
            CRITICAL,
            ctx.evidence(row) + "; " + "; ".join(problems),
            "A minting token should hold only the token-API groups, an IP allowlist and an "
            f"expiry within {ctx.th.mint_max_days} days: " + "; ".join(problems) + ".",
            "Move every other permission to separate tokens, then set an IP allowlist and "
            f"expires_on within {ctx.th.mint_max_days} days on this one.",
            (
                "isolate_minting",
                keep,
                ctx.iso_in(ctx.th.mint_max_days) if _mint_expiry_too_late(ctx, t) else None,
                ip_fix[1] if not ctx.has_ip_in[t] else None,
            ),
            row=int(row),
            ctx=ctx,
        )
    return hits


@rule(
    "CFT-PE-04",
    "Token can manage account membership",
    "high (Memberships Write, user scope: low)",
    Severity.HIGH,
    "Account Settings Write or SCIM Provisioning on an account (Memberships Write, user scope: "
    "low)",
    "Managing members means inviting an attacker-controlled user or raising a member to "
    "Administrator: a path to everything the account holds.",
)
def pe_04(ctx: Ctx, r: Rule) -> Hits:
    """Whoever manages account membership can invite a user they control or raise a member's
    role to Administrator, and from there do anything on the account."""
    hits = Hits(r.id)
    codes = [_code(ctx, ACCOUNT_SETTINGS_WRITE), _code(ctx, SCIM_PROVISIONING)]
    on_account = (ctx.kind == K_ACCOUNT) | (ctx.kind == K_ALL_ACCOUNTS)
    high = ctx.eff & np.isin(ctx.grp, codes) & on_account
    low = ctx.eff & (ctx.grp == _code(ctx, MEMBERSHIPS_WRITE))
    sev = np.where(high, HIGH, LOW)
    rows, sevs, counts = _best_rows(ctx, high | low, sev)
    for row, s, count in zip(rows, sevs, counts, strict=True):
        t = int(ctx.tok[row])
        gid = ctx.group_id(int(ctx.grp[row]))
        detail = (
            "The token can change account members and their roles."
            if s == HIGH
            else "The token can accept or leave account memberships of its user."
        )
        hits.add(
            t,
            int(s),
            ctx.evidence(row) + _more(int(count)),
            detail,
            f"Remove {ctx.group_name(int(ctx.grp[row]))} from policy {ctx.pol[row]}; manage "
            "members in the dashboard or with a separate short-lived, IP-restricted token.",
            ("remove_group", int(ctx.pol[row]), gid),
            row=int(row),
            ctx=ctx,
        )
    return hits


@rule(
    "CFT-PE-05",
    "Token can change Zero Trust access control",
    "high",
    Severity.HIGH,
    "any Access/Zero Trust write group of the PE family in W(T)",
    "Writing Access applications, identity providers, groups or service tokens decides who "
    "gets into protected applications.",
)
def pe_05(ctx: Ctx, r: Rule) -> Hits:
    """Access policies, identity providers and service tokens decide who reaches protected
    applications; a token that can write them can let itself (or anyone) in."""
    hits = Hits(r.id)
    names = ctx.inv.groups.names
    zt = np.array(
        [n.startswith(("Access", "Zero Trust")) for n in names[: ctx.inv.groups.n_catalogue]]
        + [False] * (len(names) - ctx.inv.groups.n_catalogue),
        dtype=bool,
    )
    mask = ctx.write_row & ((ctx.row_fam & _fam("PE")) != 0) & zt[ctx.grp]
    rows, _, counts = _best_rows(ctx, mask, HIGH)
    for row, count in zip(rows, counts, strict=True):
        t = int(ctx.tok[row])
        gname = ctx.group_name(int(ctx.grp[row]))
        hits.add(
            t,
            HIGH,
            ctx.evidence(row) + _more(int(count)),
            f"{gname} lets the token change who may reach applications behind Access.",
            f"Remove {gname} from policy {ctx.pol[row]} unless this token's job is managing "
            "Zero Trust; then restrict it by IP and expiry.",
            ("remove_group", int(ctx.pol[row]), ctx.group_id(int(ctx.grp[row]))),
            row=int(row),
            ctx=ctx,
        )
    return hits


class _AdminHeld:
    """Where a token already holds administrator-equivalent access (every account write group
    of the catalogue): on one account, or on all accounts."""

    def __init__(
        self,
        on_all: set[int],
        by_account: dict[str, set[int]],
        needed: int,
        directory_accounts: list[str],
    ):
        self.on_all = on_all
        self.by_account = by_account
        self.needed = needed
        self.directory_accounts = directory_accounts

    def on(self, account: str | None) -> bool:
        """True when the token is administrator-equivalent on ``account`` (None: on all
        accounts, or on every account of the directory)."""
        if account is None:
            if len(self.on_all) >= self.needed:
                return True
            return bool(self.directory_accounts) and all(
                self.on(a) for a in self.directory_accounts
            )
        return len(self.on_all | self.by_account.get(account, set())) >= self.needed


@rule(
    "CFT-PE-06",
    "Escalation path to admin-equivalent",
    "high (critical at path length 1)",
    Severity.HIGH,
    "the escalation graph (mint, roll other tokens, manage members) reaches an "
    "admin-equivalent node the token does not already hold; evidence is the path",
    "Following what the token can do (create tokens, roll other tokens, change members) reaches "
    "administrator-equivalent access it does not hold today.",
)
def pe_06(ctx: Ctx, r: Rule) -> Hits:
    """Escalation is about reach, not the permission list: a token that can mint or roll
    tokens, or change members, reaches administrator-equivalent access in one or two steps,
    even when every permission it holds looks narrow. The path is the evidence.

    Administrator-equivalent on an account means every account-scoped write group of the
    catalogue on it. "Already held" is judged per target: a path to account A is dropped only
    when the token holds all of them on A (or on all accounts); a user-token mint reaches every
    account of the user, so it is dropped only when the token holds them on all accounts (or on
    every account of the directory)."""
    hits = Hits(r.id)
    user_mint = ctx.eff & (ctx.grp == _code(ctx, API_TOKENS_WRITE))
    on_account = (ctx.kind == K_ACCOUNT) | (ctx.kind == K_ALL_ACCOUNTS)
    acct_mint = ctx.eff & (ctx.grp == _code(ctx, ACCOUNT_TOKENS_WRITE)) & on_account
    members = (
        ctx.eff
        & np.isin(ctx.grp, [_code(ctx, ACCOUNT_SETTINGS_WRITE), _code(ctx, SCIM_PROVISIONING)])
        & on_account
    )
    candidates = np.flatnonzero(ctx.tokens_with(user_mint | acct_mint | members))
    # admin-equivalent on an account = every account-scoped write group on it
    n_account_writes = int(
        np.sum((ctx.g_scope == S_ACCOUNT) & (ctx.g_level == L_WRITE) & ctx.g_known)
    )
    directory_accounts = list(ctx.dir.account_names)
    for t in candidates:
        paths: list[tuple[int, str, int]] = []  # (length, sentence, row)
        rows = ctx.token_rows(int(t))
        on_all: set[int] = set()
        by_account: dict[str, set[int]] = {}
        for i in rows:
            if ctx.write_row[i] and ctx.row_scope[i] == S_ACCOUNT:
                if ctx.kind[i] == K_ALL_ACCOUNTS:
                    on_all.add(int(ctx.grp[i]))
                elif ctx.kind[i] == K_ACCOUNT:
                    by_account.setdefault(str(ctx.inv.g_rid[i]), set()).add(int(ctx.grp[i]))
        held = _AdminHeld(on_all, by_account, n_account_writes, directory_accounts)
        for i in rows:
            target = str(ctx.inv.g_rid[i]) if ctx.kind[i] == K_ACCOUNT else None
            if user_mint[i]:
                if held.on(None):
                    continue  # already administrator-equivalent everywhere it could reach
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
            _minting_fix(ctx, int(t), row, gid)
            if length == 1
            else (
                ("remove_group", int(ctx.pol[row]), gid),
                f"remove {ctx.group_name(int(ctx.grp[row]))} from policy {ctx.pol[row]}",
            )
        )
        hits.add(
            int(t),
            CRITICAL if length == 1 else HIGH,
            f"path of length {length}: {sentence}"
            + (f" (and {len(paths) - 1} more path(s))" if len(paths) > 1 else ""),
            f"The token reaches administrator-equivalent access in {length} step(s).",
            text[0].upper() + text[1:] + ".",
            fix,
            row=row,
            ctx=ctx,
        )
    return hits


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
    sev = np.where(ctx.row_level == L_WRITE, HIGH, MEDIUM)
    rows, sevs, counts = _best_rows(ctx, mask, sev, key="policy")
    for row, s, count in zip(rows, sevs, counts, strict=True):
        t = int(ctx.tok[row])
        fix, text = _narrow_accounts(ctx, t, int(row))
        hits.add(
            t,
            int(s),
            ctx.evidence(row) + _more(int(count)),
            f"Policy {ctx.pol[row]} grants account permissions on all accounts.",
            text[0].upper() + text[1:] + ".",
            fix,
            row=int(row),
            ctx=ctx,
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
    sev = np.where(ctx.row_level == L_WRITE, HIGH, MEDIUM)
    rows, sevs, counts = _best_rows(ctx, mask, sev, key="policy")
    for row, s, count in zip(rows, sevs, counts, strict=True):
        t = int(ctx.tok[row])
        fix, text, _ = _narrow_zones(ctx, t, int(row))
        hits.add(
            t,
            int(s),
            ctx.evidence(row) + _more(int(count)),
            f"Policy {ctx.pol[row]} grants zone permissions on all zones of all accounts.",
            text[0].upper() + text[1:] + ".",
            fix,
            row=int(row),
            ctx=ctx,
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
        sev = MEDIUM if zone_write[t] else LOW
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
            ("restrict_zones", tuple(kept)) if kept else ("disable",),
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
    for scope in (S_ACCOUNT, S_ZONE):
        total = int(np.sum(catalogue_scope == scope))
        counts = ctx._count_pairs(ctx.eff & (ctx.row_scope == scope))
        shares[scope] = counts / max(total, 1)
        share_hit |= shares[scope] >= th.kitchen_scope_share
    fire = (ctx.n_write >= th.kitchen_write_groups) | (n_fams >= th.kitchen_families) | share_hit
    for t in np.flatnonzero(fire).tolist():
        reasons = []
        if ctx.n_write[t] >= th.kitchen_write_groups:
            reasons.append(f"{ctx.n_write[t]} write groups")
        if n_fams[t] >= th.kitchen_families:
            reasons.append(
                "write groups in the risk families "
                + ", ".join(_family_names(int(cover[t])))
                + " (each group counted in one family)"
            )
        for scope, label in ((S_ACCOUNT, "account"), (S_ZONE, "zone")):
            if shares[scope][t] >= th.kitchen_scope_share:
                reasons.append(f"{shares[scope][t]:.0%} of all {label} permission groups")
        parts = _split_plan(ctx, t, int(cover[t]))
        hits.add(
            t,
            HIGH,
            "; ".join(reasons),
            "The token bundles many unrelated powers.",
            "Split it into one token per job ("
            + "; ".join(f"{label}: {join_names(names, 4)}" for label, names, _ in parts)
            + "), then delete this one.",
            ("split", tuple((label, gids) for label, _, gids in parts)),
        )
    return hits


def _family_cover(ctx: Ctx) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per token: the fewest risk families that hold each of its write groups (every group
    counted in exactly one family), and one such set of families as bits."""
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


def _split_plan(ctx: Ctx, t: int, cover: int = 0) -> list[tuple[str, list[str], tuple[str, ...]]]:
    """Group a token's allowed groups by risk family for a split proposal: a group in several
    families goes with the first of them in ``cover`` (the families SC-04 counted)."""
    plan: dict[str, dict[str, str]] = {}
    for row in ctx.token_rows(t):
        if not ctx.eff[row]:
            continue
        code = int(ctx.grp[row])
        fams = _family_names(int(ctx.g_fam[code]))
        counted = [f for f in fams if FAMILY_BITS[f] & cover]
        label = (counted or fams or ["other"])[0]
        plan.setdefault(label, {})[ctx.group_id(code)] = ctx.group_name(code)
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
    from ..catalog import permission_groups

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
            MEDIUM,
            f"{group.name} served only "
            f"{join_names(sorted({f'{op.method} {op.path}' for op in ops.values()}), 4)}, "
            f"which {twin.name} also allows",
            f"The token never used {group.name} for anything {twin.name} cannot do.",
            f"Replace {group.name} with {twin.name} in policy {ctx.pol[row]}.",
            ("replace_group", int(ctx.pol[row]), group.id, twin.id, twin.name),
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
            sev = MEDIUM if ctx.g_level[code] == L_WRITE else LOW
            hits.add(
                t,
                sev,
                f"{ctx.evidence(row)}; no call in the last {ctx.th.usage_window_days} days used it",
                f"{ctx.group_name(code)} served no observed request.",
                f"Remove {ctx.group_name(code)} from policy {ctx.pol[row]}.",
                ("remove_group", int(ctx.pol[row]), ctx.group_id(code)),
                row=row,
                ctx=ctx,
            )
    return hits


# ---------------------------------------------------------------------------------------------
# RK: risky capabilities (scoped: wildcard resources or no IP allowlist, unless strict)
# ---------------------------------------------------------------------------------------------


def _rk_scope(ctx: Ctx) -> npt.NDArray[np.bool_]:
    """Grant rows the RK rules judge ("Scope of the RK rules" in the catalogue).

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
    rows, sevs, counts = _best_rows(ctx, mask, sev)
    for row, s, count in zip(rows, sevs, counts, strict=True):
        t = int(ctx.tok[row])
        row = int(row)
        gname = ctx.group_name(int(ctx.grp[row]))
        if not ctx.has_ip_in[t] or ctx.ip_open[t]:
            fix, text = _ip_fix(ctx, t)
            if ctx.has_ip_in[t]:
                text = "replace its effectively open allow range(s): " + text
            text = f"{text}; then also name single zones or accounts where it uses wildcards"
        elif ctx.kind[row] in (K_ALL_ZONES_IN, K_ALL_ZONES):
            fix, text, _ = _narrow_zones(ctx, t, row)
        elif ctx.kind[row] == K_ALL_ACCOUNTS:
            fix, text = _narrow_accounts(ctx, t, row)
        else:
            fix = ("remove_group", int(ctx.pol[row]), ctx.group_id(int(ctx.grp[row])))
            text = (
                f"remove {gname} from policy {ctx.pol[row]} unless the job needs it, and keep "
                "the token's IP allowlist tight"
            )
        hits.add(
            t,
            int(s),
            ctx.evidence(row) + _more(int(count)),
            f"{gname} {what}.",
            text[0].upper() + text[1:] + ".",
            fix,
            row=row,
            ctx=ctx,
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
    mask = ctx.write_row & ((ctx.row_fam & _fam("HIJACK")) != 0) & _rk_scope(ctx)
    sev = np.where(ctx.widest_row, CRITICAL, HIGH)
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
    mask = ctx.eff & ((ctx.row_fam & _fam("EXFIL")) != 0) & wide & _rk_scope(ctx)
    # "without IPin": no allowlist, a /0, or one NW-02 calls effectively open
    sev = np.where(_real_allowlist(ctx)[ctx.tok], MEDIUM, HIGH)
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
    mask = ctx.eff & ((ctx.row_fam & _fam("CRED")) != 0) & _rk_scope(ctx)
    return _rk_hits(ctx, r, mask, np.full(ctx.inv.m, HIGH), "can obtain new secrets")


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
    mask = ctx.write_row & ((ctx.row_fam & _fam("EVASION")) != 0) & _rk_scope(ctx)
    return _rk_hits(ctx, r, mask, np.full(ctx.inv.m, MEDIUM), "can weaken defences or visibility")


# ---------------------------------------------------------------------------------------------
# LC: lifecycle
# ---------------------------------------------------------------------------------------------


@rule(
    "CFT-LC-01",
    "No expiration",
    "medium; high with W(T) non-empty",
    Severity.MEDIUM,
    "live and expires_on is null",
    "A token without expires_on works until someone remembers to revoke it.",
)
def lc_01(ctx: Ctx, r: Rule) -> Hits:
    """Forgotten tokens are the common leak: an expiry makes a forgotten token stop working on
    its own."""
    hits = Hits(r.id)
    for t in np.flatnonzero(ctx.live & ~ctx.has_expiry).tolist():
        write = bool(ctx.has_write[t])
        days = ctx.th.fix_expiry_days
        hits.add(
            t,
            HIGH if write else MEDIUM,
            "expires_on is not set"
            + (" and the token can write" if write else "")
            + ctx.after_apply_note(t, "expires_on", "never expiring"),
            "The token never expires.",
            f"Set expires_on (e.g. {ctx.iso_in(days)}, {days} days from now) and rotate "
            "before then.",
            ("set_expiry", ctx.iso_in(days)),
        )
    return hits


@rule(
    "CFT-LC-02",
    "Lifetime exceeds policy",
    "low",
    Severity.LOW,
    "expires_on − (not_before or issued_on; the audit's now for a token not created yet) > "
    "366 days (90 with writes)",
    "Long lifetimes make expiry a formality.",
)
def lc_02(ctx: Ctx, r: Rule) -> Hits:
    """A lifetime of years makes expiry a formality; shorter lifetimes force rotation."""
    hits = Hits(r.id)
    exp = ctx.dates["expires_on"]
    start = np.where(
        np.isnat(ctx.dates["not_before"]), ctx.dates["issued_on"], ctx.dates["not_before"]
    )
    valid = ~np.isnat(exp) & ~np.isnat(start)
    days = np.full(ctx.n, np.nan)
    days[valid] = (exp[valid] - start[valid]).astype("timedelta64[s]").astype(np.int64) / 86_400
    limit = np.where(ctx.has_write, ctx.th.lifetime_write_days, ctx.th.lifetime_days)
    for t in np.flatnonzero(valid & (days > limit)).tolist():
        lim = int(limit[t])
        since = (
            "from its creation, taken as the audit's now "
            if ctx.not_created[t] and np.isnat(ctx.dates["not_before"][t])
            else ""
        )
        span = f"({str(start[t])[:10]} to {str(exp[t])[:10]})"
        hits.add(
            t,
            LOW,
            f"valid for {days[t]:.0f} days {since}{span}; the "
            f"limit is {lim}" + (" for tokens that can write" if ctx.has_write[t] else ""),
            "The token's lifetime is longer than policy allows.",
            f"Shorten expires_on to at most {lim} days after it became valid, or to "
            f"{ctx.iso_in(lim)} at the latest.",
            ("set_expiry", ctx.iso_in(lim)),
        )
    return hits


@rule(
    "CFT-LC-03",
    "Rotation overdue",
    "medium",
    Severity.MEDIUM,
    "live and now − last secret change > 90 days (last roll seen in usage/audit logs, else "
    "issued_on, else modified_on labelled approximate)",
    "A secret that never changes has had the longest time to leak.",
)
def lc_03(ctx: Ctx, r: Rule) -> Hits:
    """The older a secret, the more places it has been copied to; rolling it regularly bounds
    how long a copied secret stays useful."""
    hits = Hits(r.id)
    issued = ctx.dates["issued_on"]
    modified = ctx.dates["modified_on"]
    rolls = ctx.usage.last_rolls() if ctx.usage is not None else {}
    limit = ctx.th.rotation_days
    for t in np.flatnonzero(ctx.live).tolist():
        tid = ctx.inv.ids[t]
        roll = rolls.get(tid)
        if roll is not None:
            since, basis = roll, "last roll seen in usage"
        elif not np.isnat(issued[t]):
            since, basis = issued[t], "issued_on"
        elif not np.isnat(modified[t]):
            since, basis = modified[t], "modified_on (approximate: any change counts)"
        else:
            continue
        age = (ctx.now - since).astype("timedelta64[s]").astype(np.int64) / 86_400
        if age <= limit:
            continue
        hits.add(
            t,
            MEDIUM,
            f"secret unchanged for {age:.0f} days (since {str(since)[:10]}, from {basis})",
            f"The secret is older than {limit} days.",
            "Roll the secret (PUT …/tokens/{id}/value) and update where it is stored.",
            ("roll",),
        )
    return hits


@rule(
    "CFT-LC-04",
    "Stale token",
    "medium",
    Severity.MEDIUM,
    "live, last_used_on set and ≥ 45 days ago",
    "A live token nobody has used for weeks is probably forgotten, but still works.",
)
def lc_04(ctx: Ctx, r: Rule) -> Hits:
    """A token unused for weeks is probably forgotten, yet still works for whoever finds it."""
    hits = Hits(r.id)
    since = ctx.days_since("last_used_on")
    fire = ctx.live & ~np.isnan(since) & (since >= ctx.th.stale_days)
    for t in np.flatnonzero(fire).tolist():
        hits.add(
            t,
            MEDIUM,
            f"last used {since[t]:.0f} days ago ({str(ctx.dates['last_used_on'][t])[:10]})",
            f"The token has not been used for {ctx.th.stale_days} days or more.",
            "Disable it now and delete it after a grace period if nothing breaks.",
            ("disable",),
        )
    return hits


@rule(
    "CFT-LC-05",
    "Never used",
    "medium; low without writes",
    Severity.MEDIUM,
    "live, last_used_on null, issued ≥ 7 days ago",
    "A token never used since it was created is probably not needed.",
)
def lc_05(ctx: Ctx, r: Rule) -> Hits:
    """A token created and never used is usually a leftover; it is exposure with no job."""
    hits = Hits(r.id)
    issued_days = ctx.days_since("issued_on")
    fire = (
        ctx.live
        & np.isnat(ctx.dates["last_used_on"])
        & ~np.isnan(issued_days)
        & (issued_days >= ctx.th.never_used_grace_days)
    )
    for t in np.flatnonzero(fire).tolist():
        hits.add(
            t,
            MEDIUM if ctx.has_write[t] else LOW,
            f"issued {issued_days[t]:.0f} days ago and never used",
            "The token has never been used.",
            "Disable it; delete it if nobody asks for it back.",
            ("disable",),
        )
    return hits


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
        ctx.eff & np.isin(ctx.grp, [_code(ctx, API_TOKENS_WRITE), _code(ctx, ACCOUNT_TOKENS_WRITE)])
    )
    if not ctx.profile.enabled("CFT-PE-03"):
        minting[:] = False  # nobody else reports their missing allowlist
    for t in np.flatnonzero(ctx.live & ~ctx.has_ip_in & ~minting).tolist():
        fix, text = _ip_fix(ctx, t)
        hits.add(
            t,
            MEDIUM if ctx.has_write[t] else LOW,
            "condition request.ip has no allow ranges"
            + (" (a /0 range allows every address)" if ctx.ip_zero[t] else "")
            + ctx.after_apply_note(t, "condition", "no allowlist"),
            "The token works from any IP address.",
            text[0].upper() + text[1:] + ".",
            fix,
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
    for t in np.flatnonzero(ctx.ip_open & ctx.has_ip_in).tolist():
        wide = [
            v
            for v in ctx.inv.ip_in[t]
            if (net := ipaddress.ip_network(v.strip(), strict=False)).prefixlen > 0
            and (
                (net.version == 4 and net.prefixlen <= th.open_v4_prefix)
                or (net.version == 6 and net.prefixlen <= th.open_v6_prefix)
            )
        ]
        ips = _ips_for(ctx, t)
        hits.add(
            t,
            MEDIUM,
            f"allow range(s) {', '.join(wide)}",
            "The IP allowlist is so wide it barely restricts.",
            (
                f"Replace the wide range(s) with the networks it is used from ({', '.join(ips)})."
                if ips
                else "Replace the wide range(s) with your callers' exact ranges."
            ),
            ("set_ip", tuple(ips) if ips else (PLACEHOLDER_CIDR,), tuple(ctx.inv.ip_out[t])),
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
        ips = _ips_for(ctx, t)
        hits.add(
            t,
            LOW,
            "; ".join(problems),
            "The IP condition does not do what it seems to.",
            "Use an allow list of the public ranges the token is used from"
            + (f" ({', '.join(ips)})" if ips else "")
            + ", and drop deny ranges that cancel it.",
            ("set_ip", tuple(ips) if ips else (PLACEHOLDER_CIDR,), ()),
        )
    return hits


# ---------------------------------------------------------------------------------------------
# LN: lint
# ---------------------------------------------------------------------------------------------


@rule(
    "CFT-LN-01",
    "Unknown or renamed permission group",
    "low",
    Severity.LOW,
    "a group id not in the catalogue, or its name differs from the catalogue's",
    "Unknown ids may be retired or new groups the audit cannot judge; renamed ones confuse "
    "reviewers.",
)
def ln_01(ctx: Ctx, r: Rule) -> Hits:
    """An id the catalogue does not know cannot be judged by any rule, and a name that
    differs from the catalogue's misleads whoever reviews the token."""
    hits = Hits(r.id)
    mismatch = ctx.inv.arrays["g_name_mismatch"]
    mask = ~ctx.g_known[ctx.grp] | mismatch
    rows, _, _ = _best_rows(ctx, mask, LOW)
    for row in rows.tolist():
        t = int(ctx.tok[row])
        code = int(ctx.grp[row])
        gid = ctx.group_id(code)
        pol = int(ctx.pol[row])
        if not ctx.g_known[code]:
            hits.add(
                t,
                LOW,
                f"policy {pol} names permission group {gid}, which the catalogue does not know",
                "The audit cannot judge a group it does not know.",
                f"Look the id up with client.permission_groups.list(); remove it from policy "
                f"{pol} if it is retired.",
                ("remove_group", pol, gid),
                row=row,
                ctx=ctx,
            )
        else:
            given = _given_name(ctx, t, pol, gid)
            name = ctx.group_name(code)
            hits.add(
                t,
                LOW,
                f"policy {pol} calls {gid} {given!r}; the catalogue calls it {name!r}",
                "The group's name differs from the catalogue's.",
                f"Use the catalogue's name {name!r} so reviewers see the right permission.",
                ("rename_group", pol, gid, name),
                row=row,
                ctx=ctx,
            )
    # unknown ids in a policy that names no resource have no grant row; report them too
    reported = {(int(ctx.tok[row]), int(ctx.grp[row])) for row in rows.tolist()}
    for t, pol, code in ctx.inv.nofit:
        if ctx.g_known[code] or (t, code) in reported:
            continue
        reported.add((t, code))
        gid = ctx.group_id(code)
        hits.add(
            t,
            LOW,
            f"policy {pol} names permission group {gid}, which the catalogue does not know",
            "The audit cannot judge a group it does not know.",
            f"Look the id up with client.permission_groups.list(); remove it from policy "
            f"{pol} if it is retired.",
            ("remove_group", pol, gid),
            pol=pol,
            grp=code,
        )
    return hits


def _given_name(ctx: Ctx, t: int, pol: int, gid: str) -> str:
    policies = ctx.inv.records[t].payload.get("policies") or []
    for entry in policies[pol - 1].get("permission_groups") or []:
        if entry.get("id") == gid:
            return str(entry.get("name"))
    return ""


def _intersects(ctx: Ctx, deny: int, allow: int) -> bool:
    """True when the deny row's atom may remove part of what the allow row's atom grants."""
    inv = ctx.inv
    dk, ak = inv.g_kind[deny], inv.g_kind[allow]
    if dk in (K_ALL_ZONES, K_ALL_ACCOUNTS) or ak in (K_ALL_ZONES, K_ALL_ACCOUNTS):
        return True
    if dk in (K_USER, K_ACCOUNT):
        return inv.g_rid[deny] == inv.g_rid[allow]

    def account_of(row: int) -> str | None:
        if inv.g_kind[row] == K_ALL_ZONES_IN:
            return inv.g_racct[row]
        return inv.g_racct[row] or ctx.dir.zone_account.get(str(inv.g_rid[row]))

    if dk == K_ZONE and ak == K_ZONE:
        return inv.g_rid[deny] == inv.g_rid[allow]
    d_acct, a_acct = account_of(deny), account_of(allow)
    if d_acct is None or a_acct is None:
        return True  # the zone's account is unknown: it may overlap
    return d_acct == a_acct


@rule(
    "CFT-LN-02",
    "Ineffective grant",
    "low (info for a no-op deny)",
    Severity.LOW,
    "a group with no resource of its scope in its policy; a resource id missing from the "
    "inventory; an allow fully shadowed by a deny; a deny that overlaps no allow; an unparsed "
    "resource key; a zone group on a bare account key",
    "Grants that do nothing hide what the token really does and often mean the author "
    "intended something else.",
)
def ln_02(ctx: Ctx, r: Rule) -> Hits:
    """A grant that does nothing is usually a mistake: the author meant something else, and
    reviewers read a permission that is not there. A zone group on a bare account key is the
    classic case: Cloudflare does not document that it covers the account's zones, and
    cftokens treats it as covering nothing."""
    hits = Hits(r.id)
    inv = ctx.inv
    d = ctx.dir
    flagged_zone_on_account: set[tuple[int, int, int]] = set()
    ln04_keys = {(i.tok, i.key) for i in inv.ln04 if i.key is not None}  # CFT-LN-04's
    ln04_policies = {(i.tok, i.pol) for i in inv.ln04 if i.key is not None}
    has_deny = inv.arrays["has_deny"][ctx.tok] if inv.m else np.zeros(0, dtype=bool)
    kind = ctx.kind
    candidates = (
        (kind == K_UNPARSED)
        | ((ctx.row_scope == S_ZONE) & (kind == K_ACCOUNT))
        | has_deny
        | (ctx.scope_ok & _missing_mask(ctx))
    )
    for row in np.flatnonzero(candidates).tolist():
        row_kind = inv.g_kind[row]
        t = int(ctx.tok[row])
        code = int(ctx.grp[row])
        pol = int(ctx.pol[row])
        gid = ctx.group_id(code)
        key = inv.g_rkey[row]
        problem = None
        fix: tuple[Any, ...] | None = None
        sev = LOW
        detail = "This part of the token grants nothing."
        if row_kind == K_UNPARSED:
            if (t, key) in ln04_keys:
                continue
            problem = (
                f"policy {pol} names {key!r}, a resource key cftokens cannot read; "
                "it covers nothing"
            )
            fix = ("remove_resource", pol, key)
        elif ctx.row_scope[row] == S_ZONE and row_kind == K_ACCOUNT:
            flagged_zone_on_account.add((t, pol, code))
            acct = str(inv.g_rid[row])
            problem = (
                f"policy {pol} grants the zone permission {ctx.group_name(code)} on the bare key "
                f"of account {d.account(acct)}; Cloudflare's documentation does not confirm "
                "that this covers the account's zones (cftokens reads it as covering none)"
            )
            fix = ("replace_pair", pol, gid, key, ("all_zones_of", (acct,)))
            detail = (
                "Unconfirmed reading: cftokens (and its sandbox) treat this grant as covering "
                "no zone; Cloudflare may read it otherwise. The nested form says it for sure."
            )
        elif not ctx.scope_ok[row]:
            continue  # reported per (policy, group) below
        elif not inv.g_deny[row] and not ctx.eff[row]:
            problem = f"{ctx.evidence(row)}, but a deny policy removes all of it"
            fix = ("remove_pair", pol, gid, key)
        elif inv.g_deny[row]:
            allows = [
                i
                for i in ctx.token_rows(t)
                if not inv.g_deny[i] and ctx.scope_ok[i] and ctx.grp[i] == code
            ]
            if not any(_intersects(ctx, row, i) for i in allows):
                problem = (
                    f"{ctx.evidence(row)}, but no allow policy grants it there: "
                    "the deny does nothing"
                )
                fix = ("remove_pair", pol, gid, key)
                sev = INFO
        if problem is None and ctx.scope_ok[row]:
            missing = _missing(ctx, row)
            if missing:
                problem = f"{ctx.evidence(row)}, but {missing} is not in the inventory"
                fix = ("remove_resource", pol, key)
        if problem is None:
            continue
        hits.add(
            t,
            sev,
            problem,
            detail,
            _ln02_text(fix),
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
            LOW,
            f"policy {pol} lists {ctx.group_name(code)}, but names no {scope} resource for it",
            "A permission group applies only to resources of its own scope.",
            f"Move {ctx.group_name(code)} to a policy that names the {scope} resources it "
            f"needs, or remove it from policy {pol}.",
            ("remove_group", pol, gid),
            pol=pol,
            grp=code,
        )
    return hits


def _missing_mask(ctx: Ctx) -> npt.NDArray[np.bool_]:
    """Rows naming a zone or account id the directory does not list (set look-ups)."""
    inv = ctx.inv
    d = ctx.dir
    zones = d.zone_names if d.has_zones else None
    accounts = d.account_names if d.has_accounts else None
    user = d.user
    pending = d.pending
    flags = [
        rid not in pending
        and acct not in pending
        and (
            (k == K_ZONE and zones is not None and rid not in zones)
            or (k == K_ACCOUNT and accounts is not None and rid not in accounts)
            or (k == K_ALL_ZONES_IN and accounts is not None and acct not in accounts)
            or (k == K_USER and user is not None and rid != user)
            or (k == K_R2 and accounts is not None and acct not in accounts)
        )
        for k, rid, acct in zip(inv.g_kind, inv.g_rid, inv.g_racct, strict=True)
    ]
    return np.array(flags, dtype=bool)


def _missing(ctx: Ctx, row: int) -> str | None:
    inv = ctx.inv
    kind = inv.g_kind[row]
    d = ctx.dir
    if kind == K_ZONE and d.has_zones and inv.g_rid[row] not in d.zone_names:
        return f"zone {inv.g_rid[row]}"
    if kind == K_ACCOUNT and d.has_accounts and inv.g_rid[row] not in d.account_names:
        return f"account {inv.g_rid[row]}"
    if kind == K_ALL_ZONES_IN and d.has_accounts and inv.g_racct[row] not in d.account_names:
        return f"account {inv.g_racct[row]}"
    if kind == K_USER and d.user is not None and inv.g_rid[row] != d.user:
        return f"user {inv.g_rid[row]}"
    if kind == K_R2 and d.has_accounts and inv.g_racct[row] not in d.account_names:
        return f"account {inv.g_racct[row]} (of the R2 bucket {inv.g_rid[row]})"
    return None


def _ln02_text(fix: tuple[Any, ...] | None) -> str:
    if fix is None:
        return "Remove the ineffective part."
    op = fix[0]
    if op == "remove_resource":
        return f"Remove the resource {fix[2]!r} from policy {fix[1]}."
    if op == "replace_pair":
        return (
            f"Grant it on all zones of the account instead (the nested form "
            f"{{'{fix[3]}': {{'com.cloudflare.api.account.zone.*': '*'}}}})."
        )
    return f"Remove that permission group from that resource in policy {fix[1]}."


@rule(
    "CFT-LN-03",
    "Invalid or lapsed validity window",
    "medium / low",
    Severity.MEDIUM,
    "not_before ≥ expires_on (never valid); or expired/disabled and still present 30 days on",
    "A token that can never be valid is a mistake; expired or disabled tokens left for weeks "
    "clutter the inventory and can be re-enabled.",
)
def ln_03(ctx: Ctx, r: Rule) -> Hits:
    """A window that never opens is a mistake; disabled or expired tokens kept for weeks can be
    re-enabled or extended by anyone with token rights, and clutter every review."""
    hits = Hits(r.id)
    nb, exp = ctx.dates["not_before"], ctx.dates["expires_on"]
    never = ~np.isnat(nb) & ~np.isnat(exp) & (nb >= exp)
    status = ctx.inv.arrays["status"]
    expired = (status == 2) | (~np.isnat(exp) & (exp <= ctx.now))
    disabled = status == 1
    exp_days = ctx.days_since("expires_on")
    mod_days = ctx.days_since("modified_on")
    issued_days = ctx.days_since("issued_on")
    lapse = ctx.th.lapsed_days
    for t in range(ctx.n):
        if never[t]:
            hits.add(
                t,
                MEDIUM,
                f"not_before {str(nb[t])[:19]} is not before expires_on {str(exp[t])[:19]}",
                "The token can never be valid.",
                "Delete it, or fix not_before/expires_on.",
                ("delete",),
            )
            continue
        since = np.nan
        what = ""
        if expired[t]:
            since = exp_days[t] if not np.isnan(exp_days[t]) else mod_days[t]
            what = "expired"
        elif disabled[t]:
            since = mod_days[t] if not np.isnan(mod_days[t]) else issued_days[t]
            what = "disabled"
        if what and not np.isnan(since) and since >= lapse:
            hits.add(
                t,
                LOW,
                f"{what} {since:.0f} days ago and still present",
                f"The token has been {what} for {lapse} days or more.",
                "Delete it.",
                ("delete",),
            )
    return hits


@rule(
    "CFT-LN-04",
    "Definition Cloudflare rejects or ignores",
    "medium; high when a restriction the author wrote is silently dropped",
    Severity.MEDIUM,
    "an account-owned token naming zones not nested under its own account (or other "
    "accounts); a condition inside a policy; a policy whose groups fit none of its resources; "
    "a placeholder or a non-hex id in a resource key; a group given as a string or by a "
    "malformed id; AWS-style fields (action, resource); a token or field the audit cannot read",
    "Cloudflare refuses such a definition, or accepts it and ignores the part the author "
    "relied on; either way the token does not do what its text says.",
)
def ln_04(ctx: Ctx, r: Rule) -> Hits:
    """What a definition says and what Cloudflare does with it must agree: a body Cloudflare
    refuses breaks the deployment that sends it, and a part it ignores (an IP condition inside
    a policy) leaves the token wider than its author believes. The audit reads such definitions
    leniently, judges what they grant, and reports each slip here. A token (or a date of one)
    the audit cannot read at all is reported here too, with its row in ``audit.gaps``."""
    hits = Hits(r.id)
    for issue in ctx.inv.ln04:
        hits.add(
            issue.tok,
            issue.severity,
            issue.evidence,
            issue.detail,
            issue.remediation,
            issue.fix,
            pol=issue.pol,
        )
    for label, reason in ctx.inv.invalid:
        if reason.startswith(DUPLICATE):
            continue
        named = label if not label.startswith("#") else None
        hits.add(
            -1,
            MEDIUM,
            f"token {label} could not be read: {reason}",
            "The audit could not read this token's definition, so none of its grants were "
            "judged (it is listed in audit.gaps).",
            "Fix the definition (Cloudflare would refuse it as written), or audit the token "
            "by hand.",
            None,
            token_id=named,
        )
    for tid, reason in ctx.date_gaps:
        t = ctx.token_index[tid]
        hits.add(
            t,
            MEDIUM,
            f"token {tid}: {reason}",
            "A date the audit cannot read is judged at its worst (no limit), so rules about "
            "the token's validity window may be wrong.",
            "Set the date in RFC 3339 form (e.g. 2026-01-31T00:00:00Z) with a PUT, or check "
            "what the API returns for this token.",
            None,
        )
    return hits


# ---------------------------------------------------------------------------------------------
# ID: identity and credentials
# ---------------------------------------------------------------------------------------------


@rule(
    "CFT-ID-01",
    "Global API Key in use",
    "high",
    Severity.HIGH,
    "audit-log rows with actor context api_key",
    "The Global API Key has every right of its user, cannot be scoped, IP-restricted or set to "
    "expire.",
    usage=True,
)
def id_01(ctx: Ctx, r: Rule) -> Hits:
    """The Global API Key carries every right of its user on every account, with no scope,
    allowlist or expiry; any automation still using it should move to a scoped token."""
    hits = Hits(r.id)
    if ctx.usage is None:
        return hits
    for actor, summary, body in ctx.usage.api_key_use():
        hits.add(
            -1,
            HIGH,
            f"{actor}: {summary}",
            "Requests were authenticated with the Global API Key.",
            "Create a scoped API token for these calls (the proposed spec below), switch the "
            "caller to it, then stop using the Global API Key.",
            ("create_token", body),
        )
    return hits


_AUTOMATION = (
    "curl",
    "python",
    "httpx",
    "go-http-client",
    "terraform",
    "github",
    "gitlab",
    "jenkins",
    "wrangler",
    "cloudflare-python",
    "cloudflare-go",
    "node-fetch",
    "axios",
    "okhttp",
    "java/",
    "ansible",
    "pulumi",
    "cftokens",
    "cert-manager",
    "external-dns",
    "kube",
    "argo",
    "jenkins",
    "circleci",
    "buildkite",
)


@rule(
    "CFT-ID-02",
    "Personal token used for automation",
    "low",
    Severity.LOW,
    "a user-owned token whose usage shows CI/automation user agents or many source networks",
    "Automation on a personal token stops when the person leaves, and acts with their rights.",
    usage=True,
)
def id_02(ctx: Ctx, r: Rule) -> Hits:
    """Automation should not depend on a person: a user-owned token breaks when its user
    leaves and acts with that user's rights. Account-owned tokens exist for this."""
    hits = Hits(r.id)
    usage = ctx.usage
    if usage is None:
        return hits
    for t in range(ctx.n):
        if ctx.inv.kinds[t] != "user":
            continue
        tid = ctx.inv.ids[t]
        agents, networks = usage.clients(tid)
        auto = sorted(a for a in agents if any(m in a.lower() for m in _AUTOMATION))
        if not auto and len(networks) < ctx.th.automation_networks:
            continue
        evidence = []
        if auto:
            evidence.append(f"automation user agents {join_names(auto, 3)}")
        if len(networks) >= ctx.th.automation_networks:
            evidence.append(f"{len(networks)} source networks")
        account = usage.main_account(tid) or next(iter(ctx.dir.account_names), None)
        hits.add(
            t,
            LOW,
            "usage shows " + " and ".join(evidence),
            "A user-owned token is doing automation.",
            "Create an account-owned token with the same policies"
            + (f" on account {ctx.dir.account(account)}" if account else "")
            + ", switch the job to it, then delete this personal token.",
            ("move_to_account", account or "REPLACE-WITH-ACCOUNT-ID"),
        )
    return hits


@rule(
    "CFT-ID-03",
    "Legacy secret format",
    "low",
    Severity.LOW,
    "only where secret values are in scope (env files, secret stores, notebooks): a "
    "non-prefixed 40-character token; advise a roll",
    "New secrets carry a cfut_/cfat_ prefix that secret scanners recognise; legacy ones do not.",
)
def id_03(ctx: Ctx, r: Rule) -> Hits:
    """Prefixed secrets (cfut_, cfat_) are caught by secret scanners; legacy 40-character ones
    slip through. Rolling a token issues a prefixed secret. Evaluated by
    :meth:`Audit.scan_secrets` over files, never over the API inventory (which holds no
    secrets)."""
    return Hits(r.id)


SUPPRESSION_RULE = Rule(
    id="CFT-SUP-01",
    title="Lapsed suppression",
    severity="info",
    default=Severity.INFO,
    family="SUP",
    usage=False,
    fires_when="a suppression's expires date has passed",
    help="A suppression past its expiry date no longer applies; renew it with a new reason "
    "or fix the findings it covered.",
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
