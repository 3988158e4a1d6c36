"""``Audit``: every token, what it can really do, and what is wrong with it, as DataFrames.

Build one from a live account with :func:`cftokens.audit`, or offline with
:meth:`Audit.from_records`, :meth:`Audit.from_json` or :meth:`Audit.from_terraform`.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from attrs import frozen

from ..errors import InvalidInput, ScopeMismatch
from ..model.directory import Account, Directory, Zone
from ._compat import STR, as_frame, pandas
from ._context import Ctx, DirectoryIndex
from ._inventory import (
    DUPLICATE,
    FAMILY_BITS,
    K_ALL_ACCOUNTS,
    K_ALL_ZONES,
    K_ALL_ZONES_IN,
    K_USER,
    KINDS,
    LEVELS,
    SCOPES,
    STATUSES,
    TokenRecord,
    build_inventory,
)
from .profiles import Profile
from .remediation import Remediation, apply_fixes, plan_fix
from .rules import RULES, SUPPRESSION_RULE, Hits, run_rules
from .severity import SEVERITY_ORDER, Severity, severity_dtype
from .suppressions import Suppression, load_suppressions, parse_suppressions
from .terraform import PENDING_KEY
from .usage import UsageIndex, normalise_usage

if TYPE_CHECKING:
    import pandas as pd

    from .access import AccessFrame, AccessIndex

__all__ = ["EXIT_FINDINGS", "EXIT_INCOMPLETE", "EXIT_PASS", "Audit", "Finding", "risk_score"]

_MEDIUM = 2  # the severity code non-live tokens' PE/RK/SC findings are capped at
# The CI gate's exit codes (``cftokens audit``; 2 is the CLI's own: bad flags or input).
EXIT_PASS, EXIT_FINDINGS, EXIT_INCOMPLETE = 0, 1, 3

SCHEMA = "cftokens.audit/1"
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


def _records(
    tokens: Iterable[Mapping[str, Any]],
    account_tokens: Mapping[str, Iterable[Mapping[str, Any]]] | None,
    user: Mapping[str, Any] | None,
    accounts: Sequence[Account],
) -> list[TokenRecord]:
    user_id = str(user.get("id")) if user and user.get("id") else None
    user_name = (str(user.get("email") or user_id) if user else None) or None
    names = {a.id: a.name for a in accounts}
    records = [TokenRecord(t, "user", user_id, user_name) for t in tokens]
    for account_id, items in (account_tokens or {}).items():
        records.extend(
            TokenRecord(t, "account", account_id, names.get(account_id, account_id)) for t in items
        )
    return records


class Audit:
    """An audit: DataFrames of tokens, grants, effective access, findings and gaps.

    ``tokens``: one row per token (id, name, kind user/account, owner, status, dates, age,
    IP ranges, counts, write groups, risk families, max_severity, ``risk_score``: the blast
    radius documented in :func:`cftokens.audit.core.risk_score`). ``grants``: one row per
    (token, policy, effect, permission group, resource atom). ``access``: effective access
    after denies, one row per grant with wildcards kept symbolic; ``access.expand(zone=…)``
    gives concrete rows (built on first use). ``findings``:
    one row per rule hit with evidence and remediation. ``gaps``: what could not be collected
    or evaluated. ``usage``: the normalised usage table (or None).

    Queries: :meth:`who_can`, :meth:`explain`, :meth:`access_matrix`, :meth:`diff`,
    :meth:`fix`. Reports: :meth:`to_html`, :meth:`to_json`, :meth:`to_csv`, :meth:`to_sarif`,
    :meth:`to_parquet`. Re-run with other settings without collecting again: :meth:`rerun`.
    """

    def __init__(
        self,
        records: Sequence[TokenRecord],
        *,
        accounts: Sequence[Account] = (),
        zones: Sequence[Zone] = (),
        user: Mapping[str, Any] | None = None,
        usage: Any = None,
        now: datetime | None = None,
        profile: str | Profile = "baseline",
        suppressions: Sequence[Suppression] | str | Path | None = None,
        gaps: Sequence[Mapping[str, Any]] = (),
        source: str = "records",
    ):
        if now is None:
            now = datetime.now(UTC)
        elif now.tzinfo is None:
            raise InvalidInput("now must be timezone-aware, e.g. datetime(..., tzinfo=UTC)")
        self.now = now.astimezone(UTC)
        self.profile = Profile.named(profile)
        self.source = source
        self.user = dict(user) if user else None
        self.directory = Directory(accounts=accounts, zones=zones)
        self._dir = DirectoryIndex(self.directory, user=self.user.get("id") if self.user else None)
        for record in records:
            pending = (
                record.payload.get(PENDING_KEY) if isinstance(record.payload, Mapping) else None
            )
            if isinstance(pending, Mapping):
                self._dir.pending.update({str(k): str(v) for k, v in pending.items()})
        self._records = list(records)
        self._collection_gaps = [dict(g) for g in gaps]
        if isinstance(suppressions, str | Path):
            suppressions = load_suppressions(suppressions, now=self.now)
        self.suppressions: list[Suppression] = _suppression_list(suppressions, self.now)
        self._usage_source = usage
        self.usage: pd.DataFrame | None = (
            normalise_usage(usage, self._dir) if usage is not None else None
        )
        self._run()

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def from_records(
        cls,
        *,
        tokens: Iterable[Mapping[str, Any]] = (),
        account_tokens: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        accounts: Iterable[Mapping[str, Any] | Account] = (),
        zones: Iterable[Mapping[str, Any] | Zone] = (),
        user: Mapping[str, Any] | None = None,
        usage: Any = None,
        now: datetime | None = None,
        profile: str | Profile = "baseline",
        suppressions: Sequence[Suppression] | str | Path | None = None,
        gaps: Sequence[Mapping[str, Any]] = (),
    ) -> Audit:
        """An offline audit from API dicts.

        ``tokens``: user-owned token objects (as ``GET /user/tokens`` returns them), owned by
        ``user`` (``{"id": user_tag, "email": …}``). ``account_tokens``: account-owned token
        objects by owning account id (``GET /accounts/{id}/tokens``). ``accounts``/``zones``:
        API objects (or models) for names and zone → account lookups. ``usage``: the sandbox
        journal, Audit Logs v2 records or a usage table (see :mod:`cftokens.audit.usage`).
        ``now``: the audit's clock (default: the current time).
        """
        account_models = [a if isinstance(a, Account) else Account.from_api(a) for a in accounts]
        zone_models = [z if isinstance(z, Zone) else Zone.from_api(z) for z in zones]
        if isinstance(tokens, Mapping):
            raise InvalidInput("tokens must be a list of token objects, not one object")
        records = _records(tokens, account_tokens, user, account_models)
        return cls(
            records,
            accounts=account_models,
            zones=zone_models,
            user=user,
            usage=usage,
            now=now,
            profile=profile,
            suppressions=suppressions,
            gaps=gaps,
        )

    @classmethod
    def from_json(cls, source: str | Path | Mapping[str, Any], **overrides: Any) -> Audit:
        """Re-run an audit exported with :meth:`to_json` (a path, JSON text or the dict).

        The inventory, directory, usage and collection gaps come from the export; ``now`` and
        ``profile`` too unless given in ``overrides`` (any :meth:`from_records` argument).
        """
        from .report import read_json

        return read_json(cls, source, overrides)

    @classmethod
    def from_terraform(cls, path: str | Path, **kwargs: Any) -> Audit:
        """Lint tokens declared in Terraform: ``cloudflare_api_token`` and
        ``cloudflare_account_token`` in a ``.tf`` file or a directory of them (HCL; needs
        ``pip install 'cftokens[terraform]'``), in ``terraform show -json`` output (plan or
        state) or a ``terraform.tfstate`` file. ``var_files=[...]`` adds ``.tfvars`` files to
        a configuration's own ``terraform.tfvars``/``*.auto.tfvars``. Values known only after
        apply are judged at their worst (see :mod:`cftokens.audit.terraform`). Other keyword
        arguments go to :meth:`from_records` (e.g. ``profile="ci"``, ``accounts=``,
        ``zones=``, ``now=``)."""
        from .terraform import read_terraform

        return read_terraform(cls, path, kwargs)

    def rerun(
        self,
        *,
        profile: str | Profile | None = None,
        suppressions: Sequence[Suppression] | str | Path | None = None,
        usage: Any = None,
        now: datetime | None = None,
    ) -> Audit:
        """The same inventory audited again with another profile, suppressions, usage or clock."""
        return Audit(
            self._records,
            accounts=self.directory.accounts,
            zones=self.directory.zones,
            user=self.user,
            usage=usage if usage is not None else self._usage_source,
            now=now or self.now,
            profile=profile or self.profile,
            suppressions=suppressions if suppressions is not None else self.suppressions,
            gaps=self._collection_gaps,
            source=self.source,
        )

    # -- the run ------------------------------------------------------------------------------
    def _run(self) -> None:
        self._inv = build_inventory(self._records, self._dir.zone_account)
        usage_index = (
            UsageIndex(self.usage, self.now, self.profile.thresholds.usage_window_days, self._dir)
            if self.usage is not None
            else None
        )
        self._ctx = Ctx(self._inv, self._dir, self.profile, self.now, usage_index)
        hits, rule_gaps = run_rules(self._ctx)
        self._rule_gaps = rule_gaps
        self._build_findings(hits)
        self._build_tokens()

    def _build_findings(self, all_hits: list[Hits]) -> None:
        pd = pandas()

        ctx = self._ctx
        inv = self._inv
        rule_ids: list[str] = []
        for h in all_hits:
            rule_ids.extend([h.rule_id] * len(h))
        tok = np.array([t for h in all_hits for t in h.tok], dtype=np.int64)
        sev = np.array([s for h in all_hits for s in h.sev], dtype=np.int64)
        fam = np.array([r.split("-")[1] for r in rule_ids], dtype=object)
        # severity modifiers: RK and SC one step lower with a tight allowlist or an expiry
        # within days; never below low; PE never lowered
        if len(tok):
            valid = tok >= 0  # -1: a finding on a token the audit could not read
            eased = np.zeros(len(tok), dtype=bool)
            eased[valid] = ctx.ip_tight[tok[valid]] | ctx.expiring_soon[tok[valid]]
            lowerable = ((fam == "RK") | (fam == "SC")) & eased & (sev > 1)
            sev = np.where(lowerable, sev - 1, sev)
            self._lowered = lowerable
            # a token that is expired or disabled grants nothing until re-enabled or extended:
            # its PE, RK and SC findings are at most medium
            dead = np.zeros(len(tok), dtype=bool)
            dead[valid] = ctx.dead[tok[valid]]
            capped = dead & ((fam == "PE") | (fam == "RK") | (fam == "SC")) & (sev > _MEDIUM)
            sev = np.where(capped, _MEDIUM, sev)
            self._capped = capped
        else:
            self._lowered = np.zeros(0, dtype=bool)
            self._capped = np.zeros(0, dtype=bool)
        grp = [g for h in all_hits for g in h.grp]
        pol = [p for h in all_hits for p in h.pol]
        rows = [r for h in all_hits for r in h.row]
        fixes = [f for h in all_hits for f in h.fix]
        ids = inv.ids
        named = [x for h in all_hits for x in h.token_id]
        token_id = [ids[t] if t >= 0 else n for t, n in zip(tok, named, strict=True)]
        token_name = [inv.names[t] if t >= 0 else None for t in tok]
        kinds = [inv.kinds[t] if t >= 0 else None for t in tok]
        owner_id = [inv.owner_ids[t] if t >= 0 else None for t in tok]
        owner_name = [inv.owner_names[t] if t >= 0 else None for t in tok]
        names = inv.groups.names
        gids = inv.groups.ids
        group = [names[g] if g >= 0 else None for g in grp]
        group_id = [gids[g] if g >= 0 else None for g in grp]
        resource = [ctx.resource_label(r) if r >= 0 else None for r in rows]
        zone = [z for h in all_hits for z in h.zone]
        account = [a for h in all_hits for a in h.account]
        evidence = [e for h in all_hits for e in h.evidence]
        lowered_note = [
            " Lowered one step: the token has a tight IP allowlist or expires within "
            f"{self.profile.thresholds.expiring_soon_days} days."
            if low
            else ""
            for low in self._lowered
        ]
        capped_note = [
            " Capped at medium: the token is expired or disabled, so it grants nothing unless "
            "someone re-enables or extends it (delete it to be sure)."
            if cap
            else ""
            for cap in self._capped
        ]
        detail = [
            d + note + cap
            for d, note, cap in zip(
                (d for h in all_hits for d in h.detail), lowered_note, capped_note, strict=True
            )
        ]
        remediation = [x for h in all_hits for x in h.remediation]
        titles = {rid: meta.title for rid, meta in RULES.items()}
        fid = [
            hashlib.blake2b(
                f"{r}|{t}|{p}|{g}|{inv.g_rkey[row] if row >= 0 else ''}|"
                f"{e if t is None else ''}".encode(),
                digest_size=8,
            ).hexdigest()
            for r, t, p, g, row, e in zip(
                rule_ids, token_id, pol, group_id, rows, evidence, strict=True
            )
        ]
        # lapsed suppressions become info findings
        active: list[Suppression] = []
        for s in self.suppressions:
            if s.lapsed(self.now):
                rule_ids.append(SUPPRESSION_RULE.id)
                sev = np.append(sev, 0)
                fid.append(
                    hashlib.blake2b(f"SUP|{s.to_dict()}".encode(), digest_size=8).hexdigest()
                )
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
                detail.append(
                    f"The suppression expired on {s.expires:%Y-%m-%d} and no longer applies."
                )
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
        frame["zone_name"] = pd.array(
            [self._dir.zone_names.get(z) if isinstance(z, str) else None for z in zone],
            dtype=STR,
        )
        for s in active:
            mask = s.mask(frame) & ~frame["suppressed"].astype(bool)
            mask &= frame["rule_id"] != SUPPRESSION_RULE.id
            if mask.any():
                frame.loc[mask, "suppressed"] = True
                frame.loc[mask, "suppression"] = f"{s.label()}: {s.reason}"
        order = np.lexsort((np.arange(len(frame)), -frame["severity"].cat.codes.to_numpy()))
        self._fixes = [fixes[i] for i in order]
        self.findings = as_frame(frame.iloc[order].reset_index(drop=True))

    def _build_tokens(self) -> None:
        pd = pandas()

        ctx = self._ctx
        inv = self._inv
        n = inv.n
        f = self.findings
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
        dates = {
            k: pd.Series(pd.to_datetime(v)).dt.tz_localize("UTC") for k, v in ctx.dates.items()
        }
        now = pd.Timestamp(self.now)
        age = (now - dates["issued_on"]).dt.days
        used = (now - dates["last_used_on"]).dt.days
        self.tokens = as_frame(
            pd.DataFrame(
                {
                    "token_id": pd.array(inv.ids, dtype=STR),
                    "name": pd.array(inv.names, dtype=STR),
                    "kind": pd.Categorical(inv.kinds, categories=["user", "account"]),
                    "owner_id": pd.array(inv.owner_ids, dtype=STR),
                    "owner_name": pd.array(inv.owner_names, dtype=STR),
                    "status": pd.Categorical.from_codes(
                        inv.arrays["status"].astype(np.int64), categories=list(STATUSES)
                    ),
                    "live": pd.array(ctx.live, dtype="boolean"),
                    "issued_on": dates["issued_on"],
                    "modified_on": dates["modified_on"],
                    "last_used_on": dates["last_used_on"],
                    "not_before": dates["not_before"],
                    "expires_on": dates["expires_on"],
                    "age_days": pd.array(age, dtype="Int64"),
                    "days_since_used": pd.array(used, dtype="Int64"),
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
        )

    # -- frames ---------------------------------------------------------------------------------
    @cached_property
    def grants(self) -> pd.DataFrame:
        """One row per (token, policy, effect, permission group, resource atom).

        ``effective`` marks rows in E(T) (allows a deny does not remove entirely; deny rows are
        False); ``narrowed`` marks allows a deny removes part of; ``scope_ok`` is False where
        the group's scope does not fit the resource (such rows grant nothing).
        """
        pd = pandas()

        ctx = self._ctx
        inv = self._inv
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
        return as_frame(
            pd.DataFrame(
                {
                    "token_id": pd.Categorical.from_codes(
                        ctx.tok.astype(np.int64), categories=list(inv.ids)
                    )
                    if inv.n
                    else pd.Categorical([]),
                    "policy": pd.array(ctx.pol, dtype="Int64"),
                    "policy_id": pd.array(inv.g_policy_id, dtype=STR),
                    "effect": pd.Categorical.from_codes(
                        ctx.deny.astype(np.int64), categories=["allow", "deny"]
                    ),
                    "group_id": pd.Categorical.from_codes(ctx.grp.astype(np.int64), dtype=group_cat)
                    if n_groups
                    else pd.Categorical([]),
                    "group": pd.Categorical([inv.groups.names[g] for g in ctx.grp.tolist()]),
                    "scope": pd.Categorical.from_codes(
                        ctx.row_scope.astype(np.int64), categories=list(SCOPES)
                    ),
                    "level": pd.Categorical.from_codes(
                        ctx.row_level.astype(np.int64), categories=list(LEVELS)
                    ),
                    "resource_kind": pd.Categorical.from_codes(
                        ctx.kind.astype(np.int64), categories=[k.value for k in KINDS]
                    ),
                    "resource_id": pd.array(inv.g_rid, dtype=STR),
                    "resource_account_id": pd.array(inv.g_racct, dtype=STR),
                    "resource_key": pd.array(inv.g_rkey, dtype=STR),
                    "resource": pd.Categorical(label_col),
                    "risk_families": pd.Categorical(
                        [fam_names[int(b)] for b in ctx.row_fam.tolist()]
                    ),
                    "scope_ok": pd.array(ctx.scope_ok, dtype="boolean"),
                    "effective": pd.array(ctx.eff, dtype="boolean"),
                    "narrowed": pd.array(inv.arrays["g_narrowed"], dtype="boolean"),
                }
            )
        )

    @property
    def gaps(self) -> pd.DataFrame:
        """What could not be collected or evaluated: ``kind`` (collection, evaluation, input),
        ``subject`` (an account, rule or token id), ``what``, ``reason`` and ``hides_tokens``
        (True when tokens may be missing from the audit because of it: a token listing that
        failed, a token that could not be read; such a gap makes the audit incomplete)."""
        pd = pandas()

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
            for g in self._collection_gaps
        ]
        for rule_id, reason in self._rule_gaps:
            rows.append(
                {
                    "kind": "evaluation",
                    "subject": rule_id,
                    "what": f"rule {rule_id} {RULES[rule_id].title}",
                    "reason": reason,
                    "hides_tokens": False,
                }
            )
        for tid, reason in self._inv.invalid:
            rows.append(
                {
                    "kind": "input",
                    "subject": tid,
                    "what": f"token {tid}",
                    "reason": reason,
                    "hides_tokens": reason != DUPLICATE,
                }
            )
        for tid, reason in self._ctx.date_gaps:
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
        frame["kind"] = pd.Categorical(
            frame["kind"], categories=["collection", "evaluation", "input"]
        )
        for column in ("subject", "what", "reason"):
            frame[column] = frame[column].astype(STR)
        frame["hides_tokens"] = frame["hides_tokens"].astype(bool)
        return as_frame(frame)

    @property
    def incomplete(self) -> bool:
        """True when tokens may be missing from this audit (a row of :attr:`gaps` with
        ``hides_tokens``): a gate must not pass it (see :meth:`gate`)."""
        return bool(self.gaps["hides_tokens"].any())

    def not_seen(self) -> list[str]:
        """What this audit did not see, one sentence each (empty when it is complete)."""
        g = self.gaps
        g = g[g["hides_tokens"]]
        return [f"{w}: {r}" for w, r in zip(g["what"], g["reason"], strict=True)]

    @cached_property
    def access(self) -> AccessFrame:
        """Effective access, one row per grant, wildcards kept symbolic (built on first use).

        A grant on "all zones" is one row with ``scope`` "all zones" and ``n_resources`` the
        directory's zone count, so the frame grows with tokens × grants, not tokens × zones.
        ``audit.access.expand(zone=…)`` / ``expand(account=…)`` / ``expand(token=…)`` gives
        concrete (token, group, zone/account/user) rows after denies, as
        :func:`cftokens.evaluate` decides. Columns: see :class:`cftokens.audit.access.AccessFrame`.
        """
        return self._access_index.symbolic()

    @cached_property
    def _access_index(self) -> AccessIndex:
        from .access import AccessIndex

        return AccessIndex(self)

    def who_can(
        self,
        permission: str,
        *,
        zone: str | None = None,
        account: str | None = None,
        live_only: bool = False,
    ) -> pd.DataFrame:
        """Which tokens can use ``permission`` on a zone or account (names or ids)?

        After denies (the policy engine decides tokens that have deny policies). One row per
        token: token_id, name, kind, owner_name, status, live, policy, via (the grant),
        ip_allow, expires_on. ``live_only`` drops tokens that cannot be used now.
        """
        pd = pandas()

        from ..catalog import permission_groups

        if zone is not None and account is not None:
            raise InvalidInput("who_can takes zone= or account=, not both")
        candidates = permission_groups.lookup(permission)
        index = self._access_index
        wanted = "zone" if zone is not None else "account" if account is not None else "user"
        fitting = [g for g in candidates if g.scope.label == wanted]
        if not fitting:
            scopes = ", ".join(sorted({g.scope.label for g in candidates}))
            raise ScopeMismatch(
                f"{candidates[0].name} is a {scopes} permission; ask with "
                + (
                    "zone="
                    if "zone" in scopes
                    else "account="
                    if "account" in scopes
                    else "no resource"
                )
            )
        group = fitting[0]
        sel = index.group_rows(self._inv.groups.code.get(group.id, -1))
        if zone is not None:
            found, _ = index.after_denies(*index.zone_pairs(sel, index.zone_codes(zone)), "zone")
        elif account is not None:
            codes = index.account_codes(account)
            found, _ = index.after_denies(*index.account_pairs(sel, codes), "account")
        else:
            user_rows = sel[index.kind[sel] == K_USER]
            found, _ = index.after_denies(user_rows, np.zeros_like(user_rows), "user")
        found = np.sort(found)
        toks = index.tok[found]
        _, first = np.unique(toks, return_index=True)
        rows, toks = index.rows[found[first]], toks[first]
        via = index.labels(found[first])
        t = self.tokens.iloc[toks]
        out = pd.DataFrame(
            {
                "token_id": t["token_id"].to_numpy(),
                "name": t["name"].to_numpy(),
                "kind": t["kind"].to_numpy(),
                "owner_name": t["owner_name"].to_numpy(),
                "status": t["status"].to_numpy(),
                "live": t["live"].to_numpy(),
                "policy": pd.array(self._ctx.pol[rows], dtype="Int64"),
                "via": pd.array(via, dtype=STR),
                "ip_allow": t["ip_allow"].to_numpy(),
                "expires_on": t["expires_on"].to_numpy(),
            }
        )
        for column in ("token_id", "name", "owner_name", "ip_allow"):
            out[column] = out[column].astype(STR)
        out["live"] = out["live"].astype("boolean")
        out["kind"] = pd.Categorical(out["kind"], categories=["user", "account"])
        if live_only:
            out = out[out["live"].fillna(False)]
        return as_frame(
            out.sort_values(["live", "name"], ascending=[False, True]).reset_index(drop=True)
        )

    def explain(self, token_id: str) -> Explanation:
        """What a token can do, in sentences grouped by product, with denies and findings."""
        from .explain import explain

        t = self._token(token_id)
        return explain(self, t)

    def _token(self, token_id: str) -> int:
        t = self._ctx.token_index.get(token_id)
        if t is None:
            matches = [i for i, n in enumerate(self._inv.names) if n == token_id]
            if len(matches) == 1:
                return matches[0]
            raise InvalidInput(
                f"no token {token_id!r} in this audit; use an id from audit.tokens.token_id"
                + (" (several tokens share that name: use the id)" if matches else "")
            )
        return t

    def access_matrix(
        self,
        level: str | None = None,
        *,
        by: str = "name",
        columns: str = "zone",
        limit: int | None = 40,
    ) -> pd.DataFrame:
        """Tokens × zones (or × accounts): how many permission groups each token holds there.

        ``level``: ``"write"``, ``"read"`` or ``"other"`` to count only those groups (None:
        all). Rows are tokens (labelled ``name`` or ``token_id`` via ``by``) with access to a
        column drawn; 0 = none. ``columns="zone"``: one column per zone, by name;
        ``columns="account"``: one per account, counting the groups a token holds on the
        account or on at least one of its zones. ``limit``: at most that many columns, those
        the most grants reach (None: all, which can be very wide); ``matrix.attrs["note"]``
        says how many were left out. Wildcards and denies count as the policy engine decides.
        """
        return self._access_index.matrix(level, by, columns, limit)

    def diff(self, before: Audit) -> pd.DataFrame:
        """What changed since an earlier audit (``before``): one row per changed token.

        ``change``: new, removed, widened (gained access), narrowed (lost access), changed
        (both), modified (same access, other fields changed); with ``gained`` and ``lost``
        grants and ``new_findings``/``resolved_findings`` rule ids.
        """
        pd = pandas()

        def symbolic(a: Audit) -> dict[str, set[tuple[str, ...]]]:
            out: dict[str, set[tuple[str, ...]]] = {}
            acc = a.access
            for row in zip(
                acc["token_id"],
                acc["group"],
                acc["scope"].astype(str),
                acc["resource_id"].fillna(""),
                acc["account_id"].fillna(""),
                acc["denied"].fillna(""),
                strict=True,
            ):
                out.setdefault(str(row[0]), set()).add(tuple(str(v) for v in row[1:]))
            return out

        def concrete(a: Audit, ids: list[str]) -> dict[str, set[tuple[str, str]]]:
            # concrete access (after wildcards and denies), so "all zones of A" instead of one
            # zone of A is a widening, not a change; expanded only for tokens whose grants
            # differ between the two audits
            out: dict[str, set[tuple[str, str]]] = {tid: set() for tid in ids}
            known = [tid for tid in ids if tid in a._ctx.token_index]
            if not known:
                return out
            acc = a.access.expand(token=known)
            for tid, group, kind, name in zip(
                acc["token_id"],
                acc["group"],
                acc["resource_kind"],
                acc["resource_name"],
                strict=True,
            ):
                out[str(tid)].add((str(group), f"{kind} {name}"))
            return out

        def findings(a: Audit) -> dict[str, set[str]]:
            out: dict[str, set[str]] = {}
            f = a.findings[a.findings["token_id"].notna() & ~a.findings["suppressed"].astype(bool)]
            for tid, rule in zip(f["token_id"], f["rule_id"], strict=True):
                out.setdefault(str(tid), set()).add(str(rule))
            return out

        now_s, old_s = symbolic(self), symbolic(before)
        moved = sorted(
            tid
            for tid in set(now_s) | set(old_s) | set(self._inv.ids) ^ set(before._inv.ids)
            if now_s.get(tid, set()) != old_s.get(tid, set())
        )
        if (self._dir.zone_account, self._dir.account_names) != (
            before._dir.zone_account,
            before._dir.account_names,
        ):
            # the same wildcard reaches other zones when the directory changed
            wide = {"all zones of account", "all zones", "all accounts"}
            moved = sorted(
                set(moved) | {tid for tid, rows in now_s.items() if any(r[1] in wide for r in rows)}
            )
        now_g, old_g = concrete(self, moved), concrete(before, moved)
        now_f, old_f = findings(self), findings(before)
        now_ids = dict(zip(self._inv.ids, self._inv.names, strict=True))
        old_ids = dict(zip(before._inv.ids, before._inv.names, strict=True))
        old_payload = {r.payload.get("id"): r.payload for r in before._inv.records}
        rows = []
        for tid in sorted(set(now_ids) | set(old_ids)):
            a, b = now_g.get(tid, set()), old_g.get(tid, set())
            gained, lost = a - b, b - a
            if tid not in old_ids:
                change = "new"
            elif tid not in now_ids:
                change = "removed"
            elif gained and lost:
                change = "changed"
            elif gained:
                change = "widened"
            elif lost:
                change = "narrowed"
            else:
                payload = self._inv.records[self._ctx.token_index[tid]].payload
                if _comparable(payload) == _comparable(old_payload.get(tid, {})):
                    continue
                change = "modified"
            rows.append(
                {
                    "token_id": tid,
                    "name": now_ids.get(tid, old_ids.get(tid)),
                    "change": change,
                    "gained": "; ".join(f"{g} on {r}" for g, r in sorted(gained)),
                    "lost": "; ".join(f"{g} on {r}" for g, r in sorted(lost)),
                    "new_findings": ", ".join(
                        sorted(now_f.get(tid, set()) - old_f.get(tid, set()))
                    ),
                    "resolved_findings": ", ".join(
                        sorted(old_f.get(tid, set()) - now_f.get(tid, set()))
                    ),
                }
            )
        frame = pd.DataFrame(
            rows,
            columns=[
                "token_id",
                "name",
                "change",
                "gained",
                "lost",
                "new_findings",
                "resolved_findings",
            ],
        )
        frame["change"] = pd.Categorical(
            frame["change"],
            categories=["new", "removed", "widened", "narrowed", "changed", "modified"],
        )
        for column in ("token_id", "name", "gained", "lost", "new_findings", "resolved_findings"):
            frame[column] = frame[column].astype(STR)
        return as_frame(frame)

    @cached_property
    def _findings_by_token(self) -> dict[str, np.ndarray[Any, np.dtype[np.int64]]]:
        ids = self.findings["token_id"]
        return {
            str(k): np.asarray(v, dtype=np.int64)
            for k, v in ids.groupby(ids, sort=False, observed=True).indices.items()
        }

    def _finding_positions(self, token_id: str) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Row positions in :attr:`findings` of one token's findings (in the frame's order)."""
        return self._findings_by_token.get(token_id, np.zeros(0, dtype=np.int64))

    def fix(self, token_id: str, rule: str | None = None) -> Remediation:
        """One fix for a token's open findings (or only those of ``rule``).

        ``str(fix)`` is a short numbered list of typed steps (``fix.steps``), each once;
        ``fix.put_body`` is what ``client.tokens.update(token_id, …)`` accepts. With usage data
        the token keeps exactly the grants it used in the usage window (the evidence of
        :func:`~cftokens.rightsize`), so what it did keeps working; a delete wins over edits,
        and a fix that would leave no policy is a delete (with the token's last use) instead.
        """
        t = self._token(token_id)
        tid = self._inv.ids[t]
        f = self.findings
        positions = self._finding_positions(tid)
        keep = ~f["suppressed"].to_numpy(dtype=bool, na_value=False)[positions]
        if rule is not None:
            keep &= f["rule_id"].astype(str).to_numpy()[positions] == rule
        positions = positions[keep]
        fixes = [x for x in (self._fixes[i] for i in positions) if x is not None]
        record = self._inv.records[t]
        usage = self._ctx.usage
        rows = usage.ok_rows(tid) if usage is not None and rule is None else None
        rightsized = self._rightsize(record, rows) if rows is not None and fixes else None
        return plan_fix(
            record.payload,
            fixes,
            kind=record.kind,
            owner_id=record.owner_id,
            directory=self.directory,
            rightsized=rightsized,
            usage_days=self.profile.thresholds.usage_window_days,
            used_requests=0 if rows is None else len(rows),
            used_cidrs=usage.cidrs(tid) if usage is not None else (),
            now=self.now,
        )

    def _rightsize(self, record: TokenRecord, rows: pd.DataFrame) -> Any:
        """The token right-sized to its successful requests (None when that keeps nothing or
        the token cannot be read as a model)."""
        from ..advisor import rightsize
        from ..model.token import Token

        try:
            token = Token.from_api(record.payload)
            return rightsize(
                token,
                rows,
                directory=self.directory,
                account_id=record.owner_id if record.kind == "account" else None,
            )
        except InvalidInput:
            return None

    def finding(self, finding_id: str) -> Finding:
        """One finding as a :class:`Finding` object."""
        f = self.findings
        positions = np.flatnonzero((f["finding_id"] == finding_id).to_numpy())
        if not len(positions):
            raise InvalidInput(
                f"no finding {finding_id!r}; use a value of audit.findings.finding_id"
            )
        return self._finding_at(int(positions[0]))

    def iter_findings(self, *, include_suppressed: bool = False) -> list[Finding]:
        """Every finding as a :class:`Finding` (worst first)."""
        f = self.findings
        return [
            self._finding_at(i)
            for i in range(len(f))
            if include_suppressed or not bool(f["suppressed"].iloc[i])
        ]

    def _finding_at(self, i: int) -> Finding:
        row = self.findings.iloc[i]
        policy = _opt(row["policy"])
        return Finding(
            finding_id=str(row["finding_id"]),
            rule_id=str(row["rule_id"]),
            severity=Severity(str(row["severity"])),
            title=str(row["title"]),
            token_id=_opt(row["token_id"]),
            token_name=_opt(row["token_name"]),
            policy=int(policy) if policy is not None else None,
            group=_opt(row["group"]),
            resource=_opt(row["resource"]),
            zone_id=_opt(row["zone_id"]),
            account_id=_opt(row["account_id"]),
            evidence=str(row["evidence"]),
            detail=str(row["detail"]),
            remediation=str(row["remediation"]),
            suppressed=bool(row["suppressed"]),
            suppression=_opt(row["suppression"]),
        )

    def finding_fix(self, finding_id: str) -> Remediation:
        """The request that fixes one finding (by ``finding_id``)."""
        f = self.findings
        positions = np.flatnonzero((f["finding_id"] == finding_id).to_numpy())
        if not len(positions):
            raise InvalidInput(
                f"no finding {finding_id!r}; use a value of audit.findings.finding_id"
            )
        i = int(positions[0])
        fix = self._fixes[i]
        tid = f["token_id"].iloc[i]
        if isinstance(tid, str):
            record = self._inv.records[self._ctx.token_index[tid]]
            return apply_fixes(
                record.payload,
                [fix] if fix else [],
                kind=record.kind,
                owner_id=record.owner_id,
                directory=self.directory,
            )
        if fix is not None:
            return apply_fixes({"id": "", "name": ""}, [fix], kind="user", owner_id=None)
        return Remediation(method="GET", path="", body=None, summary="no automatic fix")

    # -- summaries ------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Counts for reports: tokens, live tokens, findings by severity, suppressed, gaps."""
        f = self.findings
        open_f = f[~f["suppressed"].astype(bool)]
        return {
            "tokens": len(self.tokens),
            "live_tokens": int(self.tokens["live"].fillna(False).sum()),
            "user_tokens": int((self.tokens["kind"] == "user").sum()),
            "account_tokens": int((self.tokens["kind"] == "account").sum()),
            "findings": {s: int((open_f["severity"] == s).sum()) for s in reversed(SEVERITY_ORDER)},
            "suppressed": int(f["suppressed"].astype(bool).sum()),
            "gaps": len(self.gaps),
            "incomplete": self.incomplete,
        }

    def max_severity(self) -> Severity | None:
        """The worst open (unsuppressed) severity, or None without findings."""
        f = self.findings
        open_f = f[~f["suppressed"].astype(bool)]
        if not len(open_f):
            return None
        return Severity.of_rank(int(open_f["severity"].cat.codes.max()))

    def gate(self, fail_on: str | Severity | None = None, *, allow_gaps: bool = False) -> int:
        """The CI gate's exit code, as ``cftokens audit`` returns it: 3 when the audit is
        :attr:`incomplete` (unless ``allow_gaps``), else 1 when an open finding is at or above
        ``fail_on``, else 0. An audit that could not see every token never passes."""
        if self.incomplete and not allow_gaps:
            return EXIT_INCOMPLETE
        if fail_on is not None:
            worst = self.max_severity()
            if worst is not None and worst.rank >= Severity.parse(fail_on).rank:
                return EXIT_FINDINGS
        return EXIT_PASS

    def failed(self, fail_on: str | Severity, *, allow_gaps: bool = False) -> bool:
        """True when the CI gate fails: an open finding at or above ``fail_on``, or an
        incomplete audit (unless ``allow_gaps``); see :meth:`gate`."""
        return self.gate(fail_on, allow_gaps=allow_gaps) != EXIT_PASS

    def worst_tokens(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` tokens to look at first: worst open severity, then blast radius."""
        t = self.tokens.assign(_rank=self.tokens["max_severity"].cat.codes)
        t = t.sort_values(["_rank", "risk_score"], ascending=[False, False])
        return as_frame(t.drop(columns="_rank").head(n).reset_index(drop=True))

    def __repr__(self) -> str:
        s = self.summary()
        counts = ", ".join(f"{v} {k}" for k, v in s["findings"].items() if v)
        return (
            f"<Audit of {s['tokens']} tokens ({s['live_tokens']} live): "
            f"{counts or 'no findings'}; {s['suppressed']} suppressed; {s['gaps']} gap(s)>"
        )

    def _repr_html_(self) -> str:
        esc = html.escape
        s = self.summary()
        colours = {
            "critical": "#7f0000",
            "high": "#c62828",
            "medium": "#ef6c00",
            "low": "#f9a825",
            "info": "#607d8b",
        }
        badges = "".join(
            f"<span style='background:{colours[k]};color:white;padding:2px 8px;margin-right:4px;"
            f"border-radius:3px'>{v} {k}</span>"
            for k, v in s["findings"].items()
        )
        worst = self.worst_tokens(5)
        rows = "".join(
            f"<tr><td>{esc(str(r.name))}</td><td>{esc(str(r.kind))}</td>"
            f"<td>{esc(str(r.max_severity) if isinstance(r.max_severity, str) else '-')}</td>"
            f"<td>{r.n_findings}</td><td>{r.risk_score}</td><td><code>{esc(str(r.token_id))}</code></td></tr>"
            for r in worst.itertuples()
        )
        hints = [
            "audit.findings[audit.findings.severity >= 'high']",
            f"audit.explain('{worst['token_id'].iloc[0]}')" if len(worst) else "audit.tokens",
            "audit.who_can('DNS Write', zone='example.com')",
            "audit.to_html('audit-report.html')",
        ]
        gaps = (
            f"<p>{s['gaps']} gap(s): see <code>audit.gaps</code> for what was not collected or "
            "evaluated.</p>"
            if s["gaps"]
            else ""
        )
        return (
            "<div class='cftokens-audit'>"
            f"<p><strong>Audit of {s['tokens']} tokens</strong> ({s['live_tokens']} live; "
            f"{s['user_tokens']} user-owned, {s['account_tokens']} account-owned), profile "
            f"{esc(self.profile.name)}, {self.now:%Y-%m-%d %H:%M} UTC</p>"
            f"<p>{badges} &nbsp; {s['suppressed']} suppressed</p>"
            "<table><thead><tr><th>worst tokens</th><th>kind</th><th>max severity</th>"
            "<th>findings</th><th>risk score</th><th>id</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>{gaps}"
            "<p>Where to look next: "
            + " · ".join(f"<code>{esc(h)}</code>" for h in hints)
            + "</p></div>"
        )

    # -- reports --------------------------------------------------------------------------------
    def to_json(self, path: str | Path | None = None, *, indent: int | None = 2) -> str:
        """The versioned JSON report (``schema: cftokens.audit/1``); written atomically to
        ``path`` when given. :meth:`from_json` re-runs it."""
        from .report import to_json

        return to_json(self, path, indent=indent)

    def to_html(self, path: str | Path | None = None) -> str:
        """One self-contained HTML report (charts embedded, no network assets)."""
        from .report_html import to_html

        return to_html(self, path)

    def to_csv(self, folder: str | Path) -> Path:
        """tokens.csv, grants.csv, access.csv, findings.csv, gaps.csv (and usage.csv).

        Safe to open in a spreadsheet: a text cell starting with ``= + - @``, a tab or a
        carriage return (a token name such as ``=HYPERLINK(…)``) is written with a leading
        ``'`` (OWASP's CSV-injection rule); numbers stay numbers."""
        from .report import to_folder

        return to_folder(self, folder, "csv")

    def to_parquet(self, folder: str | Path) -> Path:
        """The same tables as :meth:`to_csv`, as Parquet files (needs pyarrow)."""
        from .report import to_folder

        return to_folder(self, folder, "parquet")

    def to_sarif(self, path: str | Path | None = None) -> str:
        """SARIF 2.1.0 for code scanning: one result per open finding, rules with help text."""
        from .report import to_sarif

        return to_sarif(self, path)

    def scan_secrets(
        self,
        *sources: str | Path | Mapping[str, str],
        verify: Callable[[Any], str | None] | None = None,
    ) -> Audit:
        """CFT-ID-03 over files, folders or ``{name: text}`` mappings (env files, notebooks,
        configs): secrets in the legacy 40-character format.

        Returns a new audit with the hits as findings; values never appear (only a
        fingerprint, the file and the line). ``verify`` maps a found :class:`~cftokens.Secret`
        to its token id (e.g. through ``tokens.verify()``) to tie the finding to the token.
        """
        from .secrets import scan

        return scan(self, sources, verify)


@frozen(kw_only=True)
class Finding:
    """One row of ``audit.findings`` as an object (``audit.finding(finding_id)``)."""

    finding_id: str
    rule_id: str
    severity: Severity
    title: str
    token_id: str | None
    token_name: str | None
    policy: int | None
    group: str | None
    resource: str | None
    zone_id: str | None
    account_id: str | None
    evidence: str
    detail: str
    remediation: str
    suppressed: bool
    suppression: str | None

    def __str__(self) -> str:
        where = f" on token {self.token_name!r} ({self.token_id})" if self.token_id else ""
        return f"[{self.severity}] {self.rule_id} {self.title}{where}: {self.evidence}"


def _opt(value: Any) -> Any:
    pd = pandas()
    return (
        None
        if value is None or value is pd.NA or (isinstance(value, float) and value != value)
        else value
    )


def _suppression_list(value: Any, now: datetime) -> list[Suppression]:
    """Suppressions given in code: :class:`Suppression` objects, or dicts validated like a
    suppressions file (required fields, at most 180 days ahead of the audit's clock)."""
    items = list(value or [])
    if items and all(isinstance(item, Mapping) for item in items):
        return parse_suppressions(items, now=now, source="suppressions")
    out: list[Suppression] = []
    for i, item in enumerate(items, start=1):
        if isinstance(item, Suppression):
            out.append(item)
        elif isinstance(item, Mapping):
            out.extend(parse_suppressions([item], now=now, source=f"suppression {i}"))
        else:
            raise InvalidInput(
                f"suppression {i} is a {type(item).__name__}; pass Suppression objects, dicts "
                "with rule, match, reason, owner and expires, or a YAML/JSON file path"
            )
    return out


def _timeless(payload: Mapping[str, Any]) -> Any:
    """The token as the engine sees its policies, ignoring status and validity window (the
    frames list access of tokens that are not live too; ``live`` says whether it works now)."""
    from ..model.token import Token

    clean = {
        k: v
        for k, v in payload.items()
        if k not in ("status", "not_before", "expires_on", "condition")
    }
    return Token.from_api(clean)


def _comparable(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in ("last_used_on", "modified_on")}


class Explanation:
    """What a token can do, in sentences (``str()``; notebooks render HTML)."""

    def __init__(
        self,
        title: str,
        facts: list[str],
        sections: list[tuple[str, list[str]]],
        findings: list[str],
    ):
        self.title = title
        self.facts = facts
        self.sections = sections
        self.findings = findings

    def __str__(self) -> str:
        lines = [self.title]
        lines += [f"  {f}" for f in self.facts]
        for product, sentences in self.sections:
            lines.append(f"{product}:")
            lines += [f"  - {s}" for s in sentences]
        if self.findings:
            lines.append("Findings:")
            lines += [f"  ! {f}" for f in self.findings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        esc = html.escape
        parts = [f"<div class='cftokens-explain'><strong>{esc(self.title)}</strong><ul>"]
        parts += [f"<li>{esc(f)}</li>" for f in self.facts]
        parts.append("</ul>")
        for product, sentences in self.sections:
            parts.append(f"<p><strong>{esc(product)}</strong></p><ul>")
            parts += [f"<li>{esc(s)}</li>" for s in sentences]
            parts.append("</ul>")
        if self.findings:
            parts.append("<p><strong>Findings</strong></p><ul>")
            parts += [f"<li>{esc(f)}</li>" for f in self.findings]
            parts.append("</ul>")
        parts.append("</div>")
        return "".join(parts)


_PRODUCT = re.compile(r"^(.*?)(?:\s+(?:Read|Write|Edit|Revoke|Admin|Purge|Report))+$")


def product_of(group_name: str) -> str:
    """``DNS Write`` → ``DNS``; ``Access: Apps and Policies Write`` → ``Access``."""
    name = group_name.split(":")[0].strip() if ":" in group_name else group_name
    match = _PRODUCT.match(name)
    return (match.group(1) if match else name).strip() or group_name
