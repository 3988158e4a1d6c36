"""The ``CFT-PE-xx`` rules: privilege escalation (minting tokens, membership, Access)."""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from .._context import Ctx, join_names
from .._inventory import (
    K_ACCOUNT,
    K_ALL_ACCOUNTS,
    L_WRITE,
    S_ACCOUNT,
)
from ..severity import Severity
from ..steps import (
    LimitMinting,
    Step,
)
from .base import (
    ACCOUNT_SETTINGS_WRITE,
    ACCOUNT_TOKENS_WRITE,
    API_TOKENS_WRITE,
    MEMBERSHIPS_WRITE,
    SCIM_PROVISIONING,
    TOKEN_API_GROUPS,
    Coded,
    Hits,
    Rule,
    allowlist_fix,
    best_rows,
    day_numbers,
    distinct,
    evidence_texts,
    family_bit,
    group_code,
    more_grants,
    per_atom,
    remove_group,
    row_atoms,
    rule,
    usage_keys,
)

# ---------------------------------------------------------------------------------------------
# PE: privilege escalation
# ---------------------------------------------------------------------------------------------


def _minting_fix(ctx: Ctx, t: int, row: int, gid: str) -> tuple[Step | None, str]:
    """The fix for a token that can mint: drop the minting group when the token does other
    work; else keep it as a dedicated minting token and add only the restriction it lacks (its
    own allowlist and an expiry already within the limit are kept, never loosened)."""
    pol = int(ctx.pol[row])
    others = _other_groups(ctx, t)
    if others:
        return remove_group(ctx, pol, gid), (
            f"remove {ctx.group_name(int(ctx.grp[row]))} from policy {pol}; if the job must "
            "create tokens, give that job its own minting token, IP-restricted and expiring "
            f"within {ctx.th.mint_max_days} days"
        )
    days = ctx.th.mint_max_days
    expiry = ctx.iso_in(days) if _mint_expiry_too_late(ctx)[t] else None
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


def _minting_fixes(
    ctx: Ctx, toks: npt.NDArray[np.int64], rows: npt.NDArray[np.int64], gid: str
) -> tuple[Coded, Coded]:
    """The (remediation, fix) columns of findings on minting rows: :func:`_minting_fix`,
    called once per distinct policy, group, other groups held, allowlist, expiry and usage
    (what it reads); the text capitalised and ending with a full stop."""
    others: dict[tuple[str, ...], int] = {}
    held = [others.setdefault(tuple(_other_groups(ctx, t)), len(others)) for t in toks.tolist()]
    late = np.array(_mint_expiry_too_late(ctx), dtype=bool)[toks] if len(toks) else toks

    def build(i: int) -> tuple[Step | None, str]:
        fix, text = _minting_fix(ctx, int(toks[i]), int(rows[i]), gid)
        return fix, text[0].upper() + text[1:] + "."

    made = Coded.per_key(
        build,
        ctx.pol[rows],
        ctx.grp[rows],
        held,
        ctx.has_ip_in[toks],
        late,
        usage_keys(ctx, toks),
    )
    return (
        Coded([text for _, text in made.values], made.codes),
        Coded([fix for fix, _ in made.values], made.codes),
    )


def _mint_expiry_too_late(ctx: Ctx) -> list[bool]:
    """Per token: True when it never expires or expires more than ``mint_max_days`` from now
    (made once per audit)."""
    late: list[bool] | None = ctx.memo.get("pe_too_late")
    if late is None:
        exp = ctx.dates["expires_on"]
        limit = ctx.now + np.timedelta64(ctx.th.mint_max_days, "D")
        late = ctx.memo["pe_too_late"] = (np.isnat(exp) | (exp > limit)).tolist()
    return late


def _non_token_api_rows(ctx: Ctx) -> npt.NDArray[np.bool_]:
    cached: npt.NDArray[np.bool_] | None = ctx.memo.get("pe_non_token_api")
    if cached is None:
        cached = ctx.memo["pe_non_token_api"] = ctx.eff & ~np.isin(ctx.grp, _token_api_codes(ctx))
    return cached


def _other_groups(ctx: Ctx, t: int) -> list[str]:
    """The distinct names of the groups token ``t`` holds in E(T) besides the token-API
    groups, in row order (:meth:`Ctx.group_names_of`): read in one pass over the rows of
    every token that can mint, made once per audit and shared by the PE rules."""
    found: dict[int, list[str]] | None = ctx.memo.get("pe_other_groups")
    if found is None:
        user = ctx.grp == group_code(ctx, API_TOKENS_WRITE)
        acct = (ctx.grp == group_code(ctx, ACCOUNT_TOKENS_WRITE)) & (
            (ctx.kind == K_ACCOUNT) | (ctx.kind == K_ALL_ACCOUNTS)
        )
        minting = ctx.tokens_with(ctx.eff & (user | acct))
        rows = np.flatnonzero(_non_token_api_rows(ctx) & minting[ctx.tok])
        names = ctx.inv.groups.names
        by_token: dict[int, dict[str, None]] = {t: {} for t in np.flatnonzero(minting).tolist()}
        for tok, code in zip(ctx.tok[rows].tolist(), ctx.grp[rows].tolist(), strict=True):
            by_token[tok][names[code]] = None
        found = ctx.memo["pe_other_groups"] = {tok: list(n) for tok, n in by_token.items()}
    others = found.get(t)
    return others if others is not None else ctx.group_names_of(t, _non_token_api_rows(ctx))


def _token_api_codes(ctx: Ctx) -> npt.NDArray[np.int64]:
    return np.array([c for g in TOKEN_API_GROUPS if (c := group_code(ctx, g)) >= 0], dtype=np.int64)


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
    code = group_code(ctx, API_TOKENS_WRITE)
    rows, _, _ = best_rows(ctx, ctx.eff & (ctx.grp == code), Severity.CRITICAL.rank)
    if not len(rows):  # no finding possible: nothing more to work out
        return hits
    toks = ctx.tok[rows].astype(np.int64)
    texts, fixes = _minting_fixes(ctx, toks, rows, API_TOKENS_WRITE)
    hits.extend(
        toks,
        Severity.CRITICAL,
        evidence_texts(ctx, rows),
        "The token holds API Tokens Write: it can create user tokens with any of the "
        "user's permissions.",
        texts,
        fixes,
        rows=rows,
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
    code = group_code(ctx, ACCOUNT_TOKENS_WRITE)
    mask = ctx.eff & (ctx.grp == code) & ((ctx.kind == K_ACCOUNT) | (ctx.kind == K_ALL_ACCOUNTS))
    rows, _, counts = best_rows(ctx, mask, Severity.CRITICAL.rank)
    if not len(rows):  # no finding possible: nothing more to work out
        return hits
    toks = ctx.tok[rows].astype(np.int64)
    atoms = row_atoms(ctx, rows)
    texts, fixes = _minting_fixes(ctx, toks, rows, ACCOUNT_TOKENS_WRITE)
    hits.extend(
        toks,
        Severity.CRITICAL,
        evidence_texts(ctx, rows, counts, atoms),
        Coded.per_key(
            lambda i: (
                f"The token can create account-owned tokens on {ctx.resource_label(int(rows[i]))}."
            ),
            atoms,
        ),
        texts,
        fixes,
        rows=rows,
        ctx=ctx,
        atoms=atoms,
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
    user_code = group_code(ctx, API_TOKENS_WRITE)
    acct_code = group_code(ctx, ACCOUNT_TOKENS_WRITE)
    mint_rows = ctx.eff & (
        (ctx.grp == user_code)
        | ((ctx.grp == acct_code) & ((ctx.kind == K_ACCOUNT) | (ctx.kind == K_ALL_ACCOUNTS)))
    )
    rows, _, _ = best_rows(ctx, mint_rows, Severity.CRITICAL.rank, key="token")
    if not len(rows):  # no finding possible: nothing more to work out
        return hits
    toks = ctx.tok[rows].astype(np.int64)
    # what each finding's texts and fix depend on: the other groups its token holds (one
    # number per distinct list), no allowlist, an expiry too late (and its day)
    lists: dict[tuple[str, ...], int] = {}
    held = np.array(
        [lists.setdefault(tuple(_other_groups(ctx, t)), len(lists)) for t in toks.tolist()],
        dtype=np.int64,
    )
    others = list(lists)
    no_ip = ~ctx.has_ip_in[toks]
    late = np.array(_mint_expiry_too_late(ctx), dtype=bool)[toks]
    holds = np.array([bool(o) for o in others], dtype=bool)[held] if others else no_ip
    fire = np.flatnonzero(holds | no_ip | late)
    if not len(fire):  # no finding possible: nothing more to work out
        return hits
    rows, toks, held, no_ip, late = rows[fire], toks[fire], held[fire], no_ip[fire], late[fire]
    exp = ctx.dates["expires_on"][toks]
    days = ctx.th.mint_max_days

    def problems(i: int) -> str:
        said: list[str] = []
        if others[held[i]]:
            said.append(f"it also holds {join_names(others[held[i]])}")
        if no_ip[i]:
            said.append("it has no IP allowlist")
        if late[i]:
            said.append(
                "it never expires"
                if np.isnat(exp[i])
                else f"it expires on {str(exp[i])[:10]}, more than {days} days ahead"
            )
        return "; ".join(said)

    # each text once per distinct case (the day only where it is said)
    said = Coded.per_key(problems, held, no_ip, late, np.where(late, day_numbers(exp), 0))
    atoms = row_atoms(ctx, rows)
    evidence = evidence_texts(ctx, rows, atoms=atoms)
    first, codes = distinct(evidence.codes, said.codes)
    evidence = Coded(
        [
            evidence.values[e] + "; " + said.values[p]
            for e, p in zip(evidence.codes[first].tolist(), said.codes[first].tolist(), strict=True)
        ],
        codes,
    )
    keep = tuple(sorted(TOKEN_API_GROUPS))

    def fix(i: int) -> LimitMinting:
        t = int(toks[i])
        return LimitMinting(
            keep=keep,
            expires_on=ctx.iso_in(days) if late[i] else None,
            allow=allowlist_fix(ctx, t)[0].allow if no_ip[i] else None,
        )

    hits.extend(
        toks,
        Severity.CRITICAL,
        evidence,
        Coded(
            [
                "A minting token should hold only the token-API groups, an IP allowlist and an "
                f"expiry within {days} days: " + text + "."
                for text in said.values
            ],
            said.codes,
        ),
        "Move every other permission to separate tokens, then set an IP allowlist and "
        f"expires_on within {days} days on this one.",
        Coded.per_key(fix, late, no_ip, usage_keys(ctx, toks)),
        rows=rows,
        ctx=ctx,
        atoms=atoms,
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
    codes = [group_code(ctx, ACCOUNT_SETTINGS_WRITE), group_code(ctx, SCIM_PROVISIONING)]
    on_account = (ctx.kind == K_ACCOUNT) | (ctx.kind == K_ALL_ACCOUNTS)
    high = ctx.eff & np.isin(ctx.grp, codes) & on_account
    low = ctx.eff & (ctx.grp == group_code(ctx, MEMBERSHIPS_WRITE))
    sev = np.where(high, Severity.HIGH.rank, Severity.LOW.rank)
    rows, sevs, counts = best_rows(ctx, high | low, sev)
    if not len(rows):  # no finding possible: nothing more to work out
        return hits
    for row, s, count in zip(rows, sevs, counts, strict=True):
        t = int(ctx.tok[row])
        gid = ctx.group_id(int(ctx.grp[row]))
        detail = (
            "The token can change account members and their roles."
            if s == Severity.HIGH.rank
            else "The token can accept or leave account memberships of its user."
        )
        hits.add(
            t,
            Severity.of_rank(int(s)),
            ctx.evidence(row) + more_grants(int(count)),
            detail,
            f"Remove {ctx.group_name(int(ctx.grp[row]))} from policy {ctx.pol[row]}; manage "
            "members in the dashboard or with a separate short-lived, IP-restricted token.",
            remove_group(ctx, int(ctx.pol[row]), gid),
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
    n_catalogue = ctx.inv.groups.n_catalogue
    zt = np.zeros(len(names), dtype=bool)
    zt[:n_catalogue] = _zero_trust(tuple(names[:n_catalogue]))
    mask = ctx.write_row & ((ctx.row_fam & family_bit("PE")) != 0) & zt[ctx.grp]
    rows, _, counts = best_rows(ctx, mask, Severity.HIGH.rank)
    if not len(rows):  # no finding possible: nothing more to work out
        return hits
    for row, count in zip(rows, counts, strict=True):
        t = int(ctx.tok[row])
        gname = ctx.group_name(int(ctx.grp[row]))
        hits.add(
            t,
            Severity.HIGH,
            ctx.evidence(row) + more_grants(int(count)),
            f"{gname} lets the token change who may reach applications behind Access.",
            f"Remove {gname} from policy {ctx.pol[row]} unless this token's job is managing "
            "Zero Trust; then restrict it by IP and expiry.",
            remove_group(ctx, int(ctx.pol[row]), ctx.group_id(int(ctx.grp[row]))),
            row=int(row),
            ctx=ctx,
        )
    return hits


@functools.lru_cache(maxsize=4)
def _zero_trust(names: tuple[str, ...]) -> npt.NDArray[np.bool_]:
    """Per catalogue group (by code): an Access or Zero Trust group (read once per catalogue,
    not for every audit; a copy is not needed: the callers only read it)."""
    flags = np.array([n.startswith(("Access", "Zero Trust")) for n in names], dtype=bool)
    flags.flags.writeable = False
    return flags


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
    user_mint = ctx.eff & (ctx.grp == group_code(ctx, API_TOKENS_WRITE))
    on_account = (ctx.kind == K_ACCOUNT) | (ctx.kind == K_ALL_ACCOUNTS)
    acct_mint = ctx.eff & (ctx.grp == group_code(ctx, ACCOUNT_TOKENS_WRITE)) & on_account
    members = (
        ctx.eff
        & (
            (ctx.grp == group_code(ctx, ACCOUNT_SETTINGS_WRITE))
            | (ctx.grp == group_code(ctx, SCIM_PROVISIONING))
        )
        & on_account
    )
    path = user_mint | acct_mint | members
    # admin-equivalent on an account = every account-scoped write group on it
    n_account_writes = int(
        np.sum((ctx.g_scope == S_ACCOUNT) & (ctx.g_level == L_WRITE) & ctx.g_known)
    )
    # a token holds admin-equivalent access somewhere only if it holds that many distinct
    # account write groups on accounts: only those tokens' paths are checked one by one
    account_writes = ctx.write_row & (ctx.row_scope == S_ACCOUNT) & on_account
    may_hold = ctx.count_groups_in(account_writes) >= n_account_writes
    directory_accounts = list(ctx.dir.account_names)
    for t in np.flatnonzero(may_hold & ctx.tokens_with(path)).tolist():
        held = _admin_held(ctx, t, n_account_writes, directory_accounts)
        for i in ctx.token_rows(t):
            if path[i]:
                target = str(ctx.inv.g_rid[i]) if ctx.kind[i] == K_ACCOUNT else None
                path[i] = not held.on(None if user_mint[i] else target)
    # each token's shortest path (the first in row order among equals) and how many it has
    rows = np.flatnonzero(path)
    if not len(rows):  # no finding possible: nothing more to work out
        return hits
    length = np.where(members[rows], 2, 1)
    toks = ctx.tok[rows].astype(np.int64)
    order = np.lexsort((rows, length, toks))
    rows, length, toks = rows[order], length[order], toks[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = toks[1:] != toks[:-1]
    counts = np.diff(np.append(np.flatnonzero(first), len(rows))).tolist()
    rows, length, toks = rows[first], length[first], toks[first]
    minting = user_mint[rows].tolist()
    # each row's evidence and resource label (once per atom), and the fixes: a minting row's
    # by _minting_fixes (once per distinct case), a membership row's once per (policy, group)
    atoms = row_atoms(ctx, rows)
    said = evidence_texts(ctx, rows, atoms=atoms).decoded()
    labels = per_atom(ctx, "label", ctx.resource_label, atoms.tolist())
    texts: list[str] = [""] * len(rows)
    fixes: list[Step | None] = [None] * len(rows)
    grp = ctx.grp[rows]
    for gid in (API_TOKENS_WRITE, ACCOUNT_TOKENS_WRITE):
        at = np.flatnonzero((length == 1) & (grp == group_code(ctx, gid)))
        made = _minting_fixes(ctx, toks[at], rows[at], gid)
        for i, text, fix in zip(at.tolist(), made[0].decoded(), made[1].decoded(), strict=True):
            texts[i], fixes[i] = text, fix
    at = np.flatnonzero(length != 1)
    pol = ctx.pol[rows[at]]

    def removal(j: int) -> tuple[Step, str]:
        code = int(grp[at[j]])
        text = f"remove {ctx.group_name(code)} from policy {pol[j]}"
        return remove_group(ctx, int(pol[j]), ctx.group_id(code)), text[0].upper() + text[1:] + "."

    made_removals = Coded.per_key(removal, pol, grp[at]).decoded()
    for i, (fix, text) in zip(at.tolist(), made_removals, strict=True):
        texts[i], fixes[i] = text, fix
    evidence: list[str] = []
    details: list[str] = []
    for j, (n, count, user) in enumerate(zip(length.tolist(), counts, minting, strict=True)):
        if user:
            sentence = (
                f"{said[j]} → create a user token with any permission of the "
                "user → administrator-equivalent on every account the user belongs to"
            )
        elif n == 1:
            sentence = (
                f"{said[j]} → create (or roll) an account token with every "
                f"permission → administrator-equivalent on {labels[j]}"
            )
        else:
            sentence = (
                f"{said[j]} → give a member it controls the Administrator role "
                f"→ that member creates any token → administrator-equivalent on {labels[j]}"
            )
        evidence.append(
            f"path of length {n}: {sentence}"
            + (f" (and {count - 1} more path(s))" if count > 1 else "")
        )
        details.append(f"The token reaches administrator-equivalent access in {n} step(s).")
    hits.extend(
        toks,
        np.where(length == 1, Severity.CRITICAL.rank, Severity.HIGH.rank),
        evidence,
        details,
        texts,
        fixes,
        rows=rows,
        ctx=ctx,
    )
    return hits


def _admin_held(ctx: Ctx, t: int, needed: int, directory_accounts: list[str]) -> _AdminHeld:
    """Where token ``t`` holds every account write group (``needed`` of them)."""
    on_all: set[int] = set()
    by_account: dict[str, set[int]] = {}
    for i in ctx.token_rows(t):
        if ctx.write_row[i] and ctx.row_scope[i] == S_ACCOUNT:
            if ctx.kind[i] == K_ALL_ACCOUNTS:
                on_all.add(int(ctx.grp[i]))
            elif ctx.kind[i] == K_ACCOUNT:
                by_account.setdefault(str(ctx.inv.g_rid[i]), set()).add(int(ctx.grp[i]))
    return _AdminHeld(on_all, by_account, needed, directory_accounts)
