"""The ``CFT-LN-xx`` rules: lint (unknown, ineffective or rejected grants)."""

from __future__ import annotations

from functools import cached_property
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from ...errors import redact, unredacted
from .._context import Ctx
from .._definition import DefinitionIssues
from .._inventory import (
    DUPLICATE,
    K_ACCOUNT,
    K_ALL_ACCOUNTS,
    K_ALL_ZONES,
    K_ALL_ZONES_IN,
    K_R2,
    K_UNPARSED,
    K_USER,
    K_ZONE,
    S_ZONE,
)
from ..severity import Severity
from ..steps import (
    DeleteToken,
    RemovePair,
    RemoveResource,
    RenameGroup,
    ReplacePair,
    Step,
    ZonesOfAccounts,
)
from .base import (
    Coded,
    Hits,
    Rule,
    best_rows,
    evidence_texts,
    object_table,
    remove_group,
    rule,
    whole_days,
)

_RANK = {s: s.rank for s in Severity}

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
    rows, _, _ = best_rows(ctx, mask, Severity.LOW.rank)
    for row in rows.tolist():
        t = int(ctx.tok[row])
        code = int(ctx.grp[row])
        gid = ctx.group_id(code)
        pol = int(ctx.pol[row])
        if not ctx.g_known[code]:
            hits.add(
                t,
                Severity.LOW,
                f"policy {pol} names permission group {gid}, which the catalogue does not know",
                "The audit cannot judge a group it does not know.",
                f"Look the id up with client.permission_groups.list(); remove it from policy "
                f"{pol} if it is retired.",
                remove_group(ctx, pol, gid),
                row=row,
                ctx=ctx,
            )
        else:
            given = _given_name(ctx, t, pol, gid)
            name = ctx.group_name(code)
            hits.add(
                t,
                Severity.LOW,
                f"policy {pol} calls {gid} {given!r}; the catalogue calls it {name!r}",
                "The group's name differs from the catalogue's.",
                f"Use the catalogue's name {name!r} so reviewers see the right permission.",
                RenameGroup(policy=pol, group_id=gid, name=name),
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
            Severity.LOW,
            f"policy {pol} names permission group {gid}, which the catalogue does not know",
            "The audit cannot judge a group it does not know.",
            f"Look the id up with client.permission_groups.list(); remove it from policy "
            f"{pol} if it is retired.",
            remove_group(ctx, pol, gid),
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
    dk, ak = int(ctx.kind[deny]), int(ctx.kind[allow])
    if dk in (K_ALL_ZONES, K_ALL_ACCOUNTS) or ak in (K_ALL_ZONES, K_ALL_ACCOUNTS):
        return True
    if dk in (K_USER, K_ACCOUNT):
        return inv.g_rid[deny] == inv.g_rid[allow]

    def account_of(row: int) -> str | None:
        if ctx.kind[row] == K_ALL_ZONES_IN:
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
    ln04 = _Ln04Keys(inv.ln04)
    has_deny = inv.arrays["has_deny"][ctx.tok] if inv.m else np.zeros(0, dtype=bool)
    kind = ctx.kind
    # the rows that can raise a problem below: an unreadable key, a zone group on a bare
    # account, and (where the group fits) a missing resource, or on a token with a deny, a
    # deny or an allow the deny removes (an effective allow there raises nothing)
    candidates = (
        (kind == K_UNPARSED)
        | ((ctx.row_scope == S_ZONE) & (kind == K_ACCOUNT))
        | (ctx.scope_ok & (_missing_mask(ctx) | (has_deny & (ctx.deny | ~ctx.eff))))
    )
    rows = np.flatnonzero(candidates)
    # the candidates' columns as lists, their evidence built once per distinct case, and
    # whether a deny row's token holds any allow of its group that fits its resource (only
    # those rows need the allows compared; read among the tokens with a deny)
    toks, codes, pols = (ctx.tok[rows].tolist(), ctx.grp[rows].tolist(), ctx.pol[rows].tolist())
    zone_group = (ctx.row_scope[rows] == S_ZONE).tolist()
    fits, effective = ctx.scope_ok[rows].tolist(), ctx.eff[rows].tolist()
    kinds, denies = ctx.kind[rows].tolist(), ctx.deny[rows].tolist()
    evidence = evidence_texts(ctx, rows).decoded()
    allowing = ~ctx.deny & ctx.scope_ok & has_deny
    allow_pairs = ctx.tok[allowing].astype(np.int64) * 1_000_000 + ctx.grp[allowing]
    pairs = ctx.tok[rows].astype(np.int64) * 1_000_000 + ctx.grp[rows]
    has_allows = np.isin(pairs, allow_pairs).tolist()
    # those allows by (token, group), in row order (what a deny row compares itself with)
    allows_of: dict[int, list[int]] = {}
    for pair, i in zip(allow_pairs.tolist(), np.flatnonzero(allowing).tolist(), strict=True):
        allows_of.setdefault(pair, []).append(i)
    pair_list = pairs.tolist()
    pair_fixes: dict[tuple[int, str, str], tuple[RemovePair, str]] = {}
    # the findings on rows, as columns (added as one batch: zone and account once per atom)
    found: list[tuple[Any, ...]] = []
    for j, row in enumerate(rows.tolist()):
        row_kind = kinds[j]
        t = toks[j]
        code = codes[j]
        pol = pols[j]
        gid = ctx.group_id(code)
        key = inv.g_rkey[row]
        problem = None
        fix: Step | None = None
        text = ""
        sev = Severity.LOW
        detail = "This part of the token grants nothing."
        if row_kind == K_UNPARSED:
            if (t, key) in ln04.keys:
                continue
            problem = (
                f"policy {pol} names {key!r}, a resource key cftokens cannot read; "
                "it covers nothing"
            )
            fix, text = _remove_resource(pol, key)
        elif zone_group[j] and row_kind == K_ACCOUNT:
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
        elif not fits[j]:
            continue  # reported per (policy, group) below
        elif not denies[j] and not effective[j]:
            problem = f"{evidence[j]}, but a deny policy removes all of it"
            fix, text = _pair_fix(pair_fixes, pol, gid, key)
        elif denies[j]:
            allows = allows_of[pair_list[j]] if has_allows[j] else []
            if not any(_intersects(ctx, row, i) for i in allows):
                problem = (
                    f"{evidence[j]}, but no allow policy grants it there: the deny does nothing"
                )
                fix, text = _pair_fix(pair_fixes, pol, gid, key)
                sev = Severity.INFO
        if problem is None and fits[j]:
            missing = _missing(ctx, row)
            if missing:
                problem = f"{evidence[j]}, but {missing} is not in the inventory"
                fix, text = _remove_resource(pol, key)
        if problem is None:
            continue
        found.append((t, _RANK[sev], row, problem, detail, text, fix))
    if found:
        toks, ranks, at, *texts = map(list, zip(*found, strict=True))
        hits.extend(toks, ranks, *texts, rows=at, ctx=ctx)
    for t, pol, code in inv.nofit:
        if (t, pol, code) in flagged_zone_on_account or not ctx.g_known[code]:
            continue  # an unknown group has no known scope: it is CFT-LN-01's
        if (t, pol) in inv.mismatched_policies or (t, pol) in ln04.policies:
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


class _Ln04Keys:
    """The (token, resource key) and (token, policy) pairs of CFT-LN-04's issues that name a
    key (LN-02 leaves those to LN-04), each set made on first use: an inventory has tens of
    thousands of LN-04 issues and few rows that need them."""

    def __init__(self, issues: DefinitionIssues):
        self.issues = issues

    @cached_property
    def keys(self) -> set[tuple[int, str]]:
        issues = self.issues
        return {(t, k) for t, k in zip(issues.tok, issues.key, strict=True) if k is not None}

    @cached_property
    def policies(self) -> set[tuple[int, int]]:
        issues = self.issues
        return {
            (t, p)
            for t, p, k in zip(issues.tok, issues.pol, issues.key, strict=True)
            if k is not None
        }


def _missing_mask(ctx: Ctx) -> npt.NDArray[np.bool_]:
    """Rows naming a zone or account id the directory does not list: decided once per
    resource atom (:attr:`Ctx.atoms`; set look-ups, kind by kind, in C loops), then read by
    every row of that atom."""
    inv = ctx.inv
    d = ctx.dir
    zones = d.zone_names if d.has_zones else None
    accounts = d.account_names if d.has_accounts else None
    user = d.user
    number, first = ctx.atoms
    kind = ctx.kind[first]
    rid = object_table(inv.g_rid)[first] if len(first) else np.zeros(0, dtype=object)
    acct = object_table(inv.g_racct)[first] if len(first) else np.zeros(0, dtype=object)

    def listed(known: Any, values: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
        return np.fromiter(map(known.__contains__, values), dtype=bool, count=len(values))

    flags = np.zeros(len(first), dtype=bool)
    for k, known, ident in (
        (K_ZONE, zones, rid),
        (K_ACCOUNT, accounts, rid),
        (K_ALL_ZONES_IN, accounts, acct),
        (K_R2, accounts, acct),
    ):
        if known is None:
            continue
        at = np.flatnonzero(kind == k)
        flags[at] = ~listed(known, ident[at])
    if user is not None:
        at = np.flatnonzero(kind == K_USER)
        flags[at] = [v != user for v in rid[at].tolist()]
    if d.pending:
        flags &= ~listed(d.pending, rid) & ~listed(d.pending, acct)
    return flags[number]


def _missing(ctx: Ctx, row: int) -> str | None:
    inv = ctx.inv
    kind = int(ctx.kind[row])
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


def _remove_resource(pol: int, key: str) -> tuple[RemoveResource, str]:
    return RemoveResource(policy=pol, key=key), f"Remove the resource {key!r} from policy {pol}."


def _pair_fix(
    made: dict[tuple[int, str, str], tuple[RemovePair, str]], pol: int, gid: str, key: str
) -> tuple[RemovePair, str]:
    """:func:`_remove_pair`, made once per (policy, group, key) in ``made``."""
    found = made.get((pol, gid, key))
    if found is None:
        found = made[(pol, gid, key)] = _remove_pair(pol, gid, key)
    return found


def _remove_pair(pol: int, gid: str, key: str) -> tuple[RemovePair, str]:
    return (
        RemovePair(policy=pol, group_id=gid, key=key),
        f"Remove that permission group from that resource in policy {pol}.",
    )


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
    since = np.where(
        expired,
        np.where(np.isnan(exp_days), mod_days, exp_days),
        np.where(np.isnan(mod_days), issued_days, mod_days),
    )
    lapsed = ~never & (expired | disabled) & ~np.isnan(since) & (since >= lapse)
    toks = np.flatnonzero(never | lapsed)
    if not len(toks):  # no finding possible: nothing more to work out
        return hits
    never_t = never[toks]
    what = np.where(expired[toks], 0, 1)
    days = since[toks]
    words = ("expired", "disabled")

    def evidence(i: int) -> str:
        t = int(toks[i])
        if never_t[i]:
            return f"not_before {str(nb[t])[:19]} is not before expires_on {str(exp[t])[:19]}"
        return f"{words[what[i]]} {days[i]:.0f} days ago and still present"

    def detail(i: int) -> str:
        if never_t[i]:
            return "The token can never be valid."
        return f"The token has been {words[what[i]]} for {lapse} days or more."

    # a window that never opens: one text per token; a lapse: one per state and day count
    own = np.where(never_t, toks, -1)
    hits.extend(
        toks,
        np.where(never_t, Severity.MEDIUM.rank, Severity.LOW.rank),
        Coded.per_key(evidence, never_t, own, what, whole_days(days)),
        Coded.per_key(detail, never_t, what),
        Coded.per_key(
            lambda i: "Delete it, or fix not_before/expires_on." if never_t[i] else "Delete it.",
            never_t,
        ),
        DeleteToken(),
    )
    return hits


def _redacted(texts: list[str]) -> list[str]:
    """``texts`` (an issue column: a few distinct texts, quoting what a definition holds) with
    credential-shaped text redacted, each distinct text once; the list itself when none holds
    one."""
    distinct = [t for t in set(texts) if type(t) is str]
    if unredacted(distinct):  # (the rule: proven at once, not text by text)
        return texts
    found = {t: clean for t in distinct if (clean := redact(t)) != t}
    return [found.get(text, text) for text in texts] if found else texts


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
    issues = ctx.inv.ln04

    # a detail or fix every issue shares (one object, made once by the inventory) is kept
    # once: Coded.of
    hits.extend(
        issues.tok,
        list(map(attrgetter("rank"), issues.severity)),
        _redacted(issues.evidence),
        _redacted(issues.detail),
        issues.remediation,
        issues.fix,
        pol=issues.pol,
    )
    for label, reason in ctx.inv.invalid:
        if reason.startswith(DUPLICATE):
            continue
        named = label if not label.startswith("#") else None
        hits.add(
            -1,
            Severity.MEDIUM,
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
            Severity.MEDIUM,
            f"token {tid}: {reason}",
            "A date the audit cannot read is judged at its worst (no limit), so rules about "
            "the token's validity window may be wrong.",
            "Set the date in RFC 3339 form (e.g. 2026-01-31T00:00:00Z) with a PUT, or check "
            "what the API returns for this token.",
            None,
        )
    return hits
