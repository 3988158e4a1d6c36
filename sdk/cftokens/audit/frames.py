"""The audit's frames: ``findings``, ``tokens``, ``grants`` and ``gaps`` of an :class:`Audit`,
built from its inventory, the rule hits and its suppressions, and each token's
:func:`risk_score`."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import numpy as np

from ._compat import STR
from ._context import Ctx
from ._inventory import (
    DUPLICATE,
    FAMILY_BITS,
    K_ALL_ACCOUNTS,
    K_ALL_ZONES,
    K_ALL_ZONES_IN,
    KINDS,
    LEVELS,
    SCOPES,
    STATUSES,
)
from .rules import RULES, SUPPRESSION_RULE, Hits
from .rules.base import hit_columns
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
    for row in np.flatnonzero((kind == K_ALL_ZONES_IN) & ctx.eff):
        count = len(d.zones_of.get(str(inv.g_racct[row]), ()))
        breadth[row] = count if count else (1 if d.has_zones else _UNKNOWN_BREADTH)
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


def findings_frame(audit: Audit, all_hits: list[Hits]) -> tuple[pd.DataFrame, list[Step | None]]:
    """The findings frame (worst first) and each row's fix, from the rules' hits: severity
    modifiers applied, lapsed suppressions as info findings, active ones marking rows."""
    import pandas as pd

    ctx = audit._ctx
    inv = audit._inv
    # per finding, column by column (one rule's hits are contiguous): numpy takes from the
    # inventory's columns, labels computed once per distinct grant row
    lens = [len(h) for h in all_hits]
    rule_ids: list[str] = []
    for h, k in zip(all_hits, lens, strict=True):
        rule_ids.extend([h.rule_id] * k)
    hit_fam = [h.rule_id.split("-")[1] for h in all_hits]
    fam = np.repeat(np.array(hit_fam, dtype=object), lens)
    (
        tok_,
        sev_,
        row_,
        pol_,
        grp_,
        zone_,
        account_,
        evidence_,
        detail_,
        remediation_,
        fix_,
        named,
    ) = hit_columns(all_hits)
    tok = np.array(tok_, dtype=np.int64)
    sev = np.array(sev_, dtype=np.int64)
    # severity modifiers: RK and SC one step lower with a tight allowlist or an expiry
    # within days; never below low; PE never lowered
    if len(tok):
        valid = tok >= 0  # -1: a finding on a token the audit could not read
        eased = np.zeros(len(tok), dtype=bool)
        eased[valid] = ctx.ip_tight[tok[valid]] | ctx.expiring_soon[tok[valid]]
        rk_sc = np.repeat(np.array([f in ("RK", "SC") for f in hit_fam], dtype=bool), lens)
        lowered = rk_sc & eased & (sev > 1)
        sev = np.where(lowered, sev - 1, sev)
        # a token that is expired or disabled grants nothing until re-enabled or extended:
        # its PE, RK and SC findings are at most medium
        dead = np.zeros(len(tok), dtype=bool)
        dead[valid] = ctx.dead[tok[valid]]
        pe_rk_sc = np.repeat(np.array([f in ("PE", "RK", "SC") for f in hit_fam], dtype=bool), lens)
        capped = dead & pe_rk_sc & (sev > _MEDIUM)
        sev = np.where(capped, _MEDIUM, sev)
    else:
        lowered = np.zeros(0, dtype=bool)
        capped = np.zeros(0, dtype=bool)
    grp = np.array(grp_, dtype=np.int64)
    pol = list(pol_)
    rows = np.array(row_, dtype=np.int64)
    fixes = list(fix_)

    def take(values: list[Any], at: np.ndarray[Any, np.dtype[np.int64]]) -> list[Any]:
        """values[i] for each i in ``at``; None where i is -1."""
        return np.array([*values, None], dtype=object)[at].tolist()  # type: ignore[no-any-return]

    token_id = take(inv.ids, tok)
    for i in np.flatnonzero(tok < 0).tolist():
        token_id[i] = named[i]
    token_name = take(inv.names, tok)
    kinds = take(inv.kinds, tok)
    owner_id = take(inv.owner_ids, tok)
    owner_name = take(inv.owner_names, tok)
    group = take(inv.groups.names, grp)
    group_id = take(inv.groups.ids, grp)
    distinct, where = np.unique(rows, return_inverse=True)
    labels: list[str | None] = []
    by_atom: dict[tuple[Any, ...], str] = {}
    for r in distinct.tolist():
        if r < 0:
            labels.append(None)
            continue
        atom = (inv.g_kind[r], inv.g_rid[r], inv.g_racct[r], inv.g_rkey[r])
        label = by_atom.get(atom)
        if label is None:
            label = by_atom[atom] = ctx.resource_label(r)
        labels.append(label)
    resource = np.array(labels, dtype=object)[where.reshape(-1)].tolist()
    zone = list(zone_)
    account = list(account_)
    evidence = list(evidence_)
    lowered_note = (
        " Lowered one step: the token has a tight IP allowlist or expires within "
        f"{audit.profile.thresholds.expiring_soon_days} days."
    )
    capped_note = (
        " Capped at medium: the token is expired or disabled, so it grants nothing unless "
        "someone re-enables or extends it (delete it to be sure)."
    )
    detail = list(detail_)
    for i in np.flatnonzero(lowered | capped).tolist():
        detail[i] = (
            detail[i] + (lowered_note if lowered[i] else "") + (capped_note if capped[i] else "")
        )
    remediation = list(remediation_)
    titles = {rid: meta.title for rid, meta in RULES.items()}
    keys = take(inv.g_rkey, rows)
    blake2b = hashlib.blake2b
    fid = [
        blake2b(
            f"{r}|{t}|{p}|{g}|{k if k is not None else ''}|{e if t is None else ''}".encode(),
            digest_size=8,
        ).hexdigest()
        for r, t, p, g, k, e in zip(rule_ids, token_id, pol, group_id, keys, evidence, strict=True)
    ]
    # lapsed suppressions become info findings
    active: list[Suppression] = []
    for s in audit.suppressions:
        if s.lapsed(audit.now):
            rule_ids.append(SUPPRESSION_RULE.id)
            sev = np.append(sev, 0)
            fid.append(hashlib.blake2b(f"SUP|{s.to_dict()}".encode(), digest_size=8).hexdigest())
            for column, value in (
                (token_id, None),
                (token_name, None),
                (kinds, None),
                (owner_id, None),
                (owner_name, None),
                (group, None),
                (group_id, None),
                (resource, None),
                (zone, None),
                (account, None),
                (fixes, None),
            ):
                column.append(value)
            pol.append(0)
            fam = np.append(fam, "SUP")
            evidence.append(f"{s.label()}: {s.reason}")
            detail.append(f"The suppression expired on {s.expires:%Y-%m-%d} and no longer applies.")
            remediation.append(
                "Fix the findings it covered, or renew it with a new expiry and reason."
            )
            titles[SUPPRESSION_RULE.id] = SUPPRESSION_RULE.title
        else:
            active.append(s)
    frame = pd.DataFrame(
        {
            "finding_id": pd.array(fid, dtype=STR),
            "rule_id": pd.Categorical(rule_ids, categories=[*RULES, SUPPRESSION_RULE.id]),
            "severity": pd.Categorical.from_codes(sev.astype(np.int64), dtype=severity_dtype())
            if len(sev)
            else pd.Categorical([], dtype=severity_dtype()),
            "family": pd.Categorical(
                list(fam), categories=["PE", "SC", "RK", "LC", "NW", "LN", "ID", "SUP"]
            ),
            "title": pd.array([titles[r] for r in rule_ids], dtype=STR),
            "token_id": pd.array(token_id, dtype=STR),
            "token_name": pd.array(token_name, dtype=STR),
            "kind": pd.Categorical(kinds, categories=["user", "account"]),
            "owner_id": pd.array(owner_id, dtype=STR),
            "owner_name": pd.array(owner_name, dtype=STR),
            "policy": pd.array([p if p else None for p in pol], dtype="Int64"),
            "group": pd.array(group, dtype=STR),
            "group_id": pd.array(group_id, dtype=STR),
            "resource": pd.array(resource, dtype=STR),
            "zone_id": pd.array(zone, dtype=STR),
            "account_id": pd.array(account, dtype=STR),
            "evidence": pd.array(evidence, dtype=STR),
            "detail": pd.array(detail, dtype=STR),
            "remediation": pd.array(remediation, dtype=STR),
            "suppressed": pd.array([False] * len(rule_ids), dtype="boolean"),
            "suppression": pd.array([None] * len(rule_ids), dtype=STR),
        }
    )
    zone_names = audit._dir.zone_names
    named_zone: dict[str | None, str | None] = {
        z: zone_names.get(z) for z in set(zone) if isinstance(z, str)
    }
    frame["zone_name"] = pd.array([named_zone.get(z) for z in zone], dtype=STR)
    for s in active:
        mask = s.mask(frame) & ~frame["suppressed"].astype(bool)
        mask &= frame["rule_id"] != SUPPRESSION_RULE.id
        if mask.any():
            frame.loc[mask, "suppressed"] = True
            frame.loc[mask, "suppression"] = f"{s.label()}: {s.reason}"
    order = np.lexsort((np.arange(len(frame)), -frame["severity"].cat.codes.to_numpy()))
    return frame.iloc[order].reset_index(drop=True), [fixes[i] for i in order]


def tokens_frame(audit: Audit) -> pd.DataFrame:
    """The tokens frame: one row per token, with its open findings and risk score."""
    import pandas as pd

    ctx = audit._ctx
    inv = audit._inv
    n = inv.n
    f = audit.findings
    open_f = f[~f["suppressed"].astype(bool) & f["token_id"].isin(list(ctx.token_index))]
    max_rank = np.full(n, -1, dtype=np.int64)
    counts = np.zeros(n, dtype=np.int64)
    if len(open_f):
        idx = open_f["token_id"].map(ctx.token_index).to_numpy(dtype=np.int64)
        np.maximum.at(max_rank, idx, open_f["severity"].cat.codes.to_numpy(dtype=np.int64))
        np.add.at(counts, idx, 1)
    write_names: list[list[str]] = [[] for _ in range(n)]
    if inv.m:
        pairs = np.unique(
            ctx.tok[ctx.write_row].astype(np.int64) * 1_000_000 + ctx.grp[ctx.write_row]
        )
        names = inv.groups.names
        for p in pairs.tolist():
            write_names[p // 1_000_000].append(names[p % 1_000_000])
    fam_names = {
        bits: ",".join(k for k, b in FAMILY_BITS.items() if bits & b) for bits in range(32)
    }
    dates = {k: pd.Series(pd.to_datetime(v)).dt.tz_localize("UTC") for k, v in ctx.dates.items()}
    now = pd.Timestamp(audit.now)
    age = (now - dates["issued_on"]).dt.days
    used = (now - dates["last_used_on"]).dt.days
    return pd.DataFrame(
        {
            "token_id": pd.array(inv.ids, dtype=STR),
            "name": pd.array(inv.names, dtype=STR),
            "kind": pd.Categorical(inv.kinds, categories=["user", "account"]),
            "owner_id": pd.array(inv.owner_ids, dtype=STR),
            "owner_name": pd.array(inv.owner_names, dtype=STR),
            "status": pd.Categorical.from_codes(
                inv.arrays["status"].astype(np.int64), categories=pd.Index(list(STATUSES))
            ),
            "live": pd.array(ctx.live, dtype="boolean"),
            "issued_on": dates["issued_on"],
            "modified_on": dates["modified_on"],
            "last_used_on": dates["last_used_on"],
            "not_before": dates["not_before"],
            "expires_on": dates["expires_on"],
            "age_days": age.astype("Int64").array,
            "days_since_used": used.astype("Int64").array,
            "ip_allow": pd.array([", ".join(v) for v in inv.ip_in], dtype=STR),
            "ip_deny": pd.array([", ".join(v) for v in inv.ip_out], dtype=STR),
            "n_policies": pd.array(inv.arrays["n_policies"], dtype="Int64"),
            "n_groups": pd.array(ctx.n_groups, dtype="Int64"),
            "n_write_groups": pd.array(ctx.n_write, dtype="Int64"),
            "write_groups": pd.array([", ".join(w) for w in write_names], dtype=STR),
            "risk_families": pd.array([fam_names[int(b)] for b in ctx.families], dtype=STR),
            "n_findings": pd.array(counts, dtype="Int64"),
            "max_severity": pd.Categorical.from_codes(max_rank, dtype=severity_dtype()),
            "risk_score": pd.array(risk_score(ctx), dtype="Float64"),
        }
    )


def grants_frame(audit: Audit) -> pd.DataFrame:
    """One row per (token, policy, effect, permission group, resource atom).

    ``effective`` marks rows in E(T) (allows a deny does not remove entirely; deny rows are
    False); ``narrowed`` marks allows a deny removes part of; ``scope_ok`` is False where
    the group's scope does not fit the resource (such rows grant nothing).
    """
    import pandas as pd

    ctx = audit._ctx
    inv = audit._inv
    m = inv.m
    labels: dict[tuple[int, str | None, str | None], str] = {}
    label_col = []
    for row in range(m):
        key = (inv.g_kind[row], inv.g_rid[row], inv.g_racct[row])
        text = labels.get(key)
        if text is None:
            text = ctx.resource_label(row)
            labels[key] = text
        label_col.append(text)
    fam_names = {
        bits: ",".join(k for k, b in FAMILY_BITS.items() if bits & b) for bits in range(32)
    }
    n_groups = len(inv.groups.ids)
    group_cat = pd.CategoricalDtype(list(dict.fromkeys(inv.groups.ids)))
    return pd.DataFrame(
        {
            "token_id": pd.Categorical.from_codes(
                ctx.tok.astype(np.int64), categories=pd.Index(list(inv.ids))
            )
            if inv.n
            else pd.Categorical([]),
            "policy": pd.array(ctx.pol, dtype="Int64"),
            "policy_id": pd.array(inv.g_policy_id, dtype=STR),
            "effect": pd.Categorical.from_codes(
                ctx.deny.astype(np.int64), categories=pd.Index(["allow", "deny"])
            ),
            "group_id": pd.Categorical.from_codes(ctx.grp.astype(np.int64), dtype=group_cat)
            if n_groups
            else pd.Categorical([]),
            "group": pd.Categorical([inv.groups.names[g] for g in ctx.grp.tolist()]),
            "scope": pd.Categorical.from_codes(
                ctx.row_scope.astype(np.int64), categories=pd.Index(list(SCOPES))
            ),
            "level": pd.Categorical.from_codes(
                ctx.row_level.astype(np.int64), categories=pd.Index(list(LEVELS))
            ),
            "resource_kind": pd.Categorical.from_codes(
                ctx.kind.astype(np.int64), categories=pd.Index([k.value for k in KINDS])
            ),
            "resource_id": pd.array(inv.g_rid, dtype=STR),
            "resource_account_id": pd.array(inv.g_racct, dtype=STR),
            "resource_key": pd.array(inv.g_rkey, dtype=STR),
            "resource": pd.Categorical(label_col),
            "risk_families": pd.Categorical([fam_names[int(b)] for b in ctx.row_fam.tolist()]),
            "scope_ok": pd.array(ctx.scope_ok, dtype="boolean"),
            "effective": pd.array(ctx.eff, dtype="boolean"),
            "narrowed": pd.array(inv.arrays["g_narrowed"], dtype="boolean"),
        }
    )


def gaps_frame(audit: Audit) -> pd.DataFrame:
    """What could not be collected or evaluated: ``kind`` (collection, evaluation, input),
    ``subject`` (an account, rule or token id), ``what``, ``reason`` and ``hides_tokens``
    (True when tokens may be missing from the audit because of it: a token listing that
    failed, a token that could not be read; such a gap makes the audit incomplete)."""
    import pandas as pd

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
    columns = ["kind", "subject", "what", "reason", "hides_tokens"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["kind"] = pd.Categorical(frame["kind"], categories=["collection", "evaluation", "input"])
    for column in ("subject", "what", "reason"):
        frame[column] = frame[column].astype(STR)
    frame["hides_tokens"] = frame["hides_tokens"].astype(bool)
    return frame
