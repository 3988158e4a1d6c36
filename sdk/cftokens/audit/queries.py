"""The audit's queries: :meth:`Audit.who_can`, :meth:`Audit.diff`, findings as
:class:`Finding` objects and the fixes of a token or a finding.

Each function takes the :class:`~cftokens.audit.core.Audit` it answers about; the methods of
``Audit`` document them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from attrs import field, frozen

from .._shown import field_repr, text_repr
from ..advisor import RightSize, rightsize
from ..catalog import permission_groups
from ..errors import InvalidInput, ScopeMismatch, redact
from ..model.token import Token
from ._compat import STR
from ._inventory import DUPLICATE, K_USER, TokenRecord
from .remediation import Remediation, apply_fixes, plan_fix
from .severity import Severity

if TYPE_CHECKING:
    import pandas as pd

    from .core import Audit

__all__ = ["Finding", "diff", "who_can"]


def who_can(
    audit: Audit,
    permission: str,
    *,
    zone: str | None = None,
    account: str | None = None,
    live_only: bool = False,
) -> pd.DataFrame:
    """The tokens that can use ``permission`` on a zone or account: :meth:`Audit.who_can`."""
    import pandas as pd

    if zone is not None and account is not None:
        raise InvalidInput("who_can takes zone= or account=, not both")
    candidates = permission_groups.lookup(permission)
    index = audit._access_index
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
    sel = index.group_rows(audit._inv.groups.code.get(group.id, -1))
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
    t = audit.tokens.iloc[toks]
    # each column's own array (no index, no copy to Python objects: a tz-aware date column
    # through to_numpy() built one Timestamp per row, most of a query's time)
    out = pd.DataFrame(
        {
            "token_id": t["token_id"].array,
            "name": t["name"].array,
            "kind": t["kind"].to_numpy(),
            "owner_name": t["owner_name"].array,
            "status": t["status"].to_numpy(),
            "live": t["live"].array,
            "policy": pd.array(audit._ctx.pol[rows], dtype="Int64"),
            "via": pd.array(via, dtype=STR),
            "ip_allow": t["ip_allow"].array,
            "expires_on": t["expires_on"].array,
        }
    )
    for column in ("token_id", "name", "owner_name", "ip_allow"):
        out[column] = out[column].astype(STR)
    out["live"] = out["live"].astype("boolean")
    out["kind"] = pd.Categorical(out["kind"], categories=["user", "account"])
    if live_only:
        out = out[out["live"].fillna(False)]
    return out.sort_values(["live", "name"], ascending=[False, True]).reset_index(drop=True)


def token_position(audit: Audit, token_id: str) -> int:
    """The row of ``token_id`` (an id, or a name only one token has) in ``audit.tokens``."""
    t = audit._ctx.token_index.get(token_id)
    if t is None:
        matches = [i for i, n in enumerate(audit._inv.names) if n == token_id]
        if len(matches) == 1:
            return matches[0]
        why = _unreadable(audit, token_id)
        if why is not None:
            raise InvalidInput(why)
        raise InvalidInput(
            f"no token {token_id!r} in this audit; use an id from audit.tokens.token_id"
            + (" (several tokens share that name: use the id)" if matches else "")
        )
    return t


def _unreadable(audit: Audit, token_id: object) -> str | None:
    """Why a token the audit could not read (its CFT-LN-04 finding) has nothing to explain or
    fix, or None when ``token_id`` is no such token."""
    for ident, why in audit._inv.invalid:
        if ident == token_id and not why.startswith(DUPLICATE):
            return (
                f"token {redact(str(token_id))!r} could not be read ({redact(why)}), so the "
                "audit holds no grants of it to explain or fix: correct its definition as its "
                "CFT-LN-04 finding says, then audit again"
            )
    return None


def _symbolic(a: Audit) -> dict[str, set[tuple[str, ...]]]:
    """:meth:`Audit.diff`'s symbolic access of each token: its access rows as tuples."""
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


def _concrete(a: Audit, ids: list[str]) -> dict[str, set[tuple[str, str]]]:
    """:meth:`Audit.diff`'s concrete access of the tokens ``ids``: (group, resource) pairs."""
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


def _open_findings(a: Audit) -> dict[str, set[str]]:
    """The rules of each token's open (not suppressed) findings."""
    out: dict[str, set[str]] = {}
    f = a.findings[a.findings["token_id"].notna() & ~a.findings["suppressed"].astype(bool)]
    for tid, rule in zip(f["token_id"], f["rule_id"], strict=True):
        out.setdefault(str(tid), set()).add(str(rule))
    return out


def diff(audit: Audit, before: Audit) -> pd.DataFrame:
    """What changed since ``before``, one row per changed token: :meth:`Audit.diff`."""
    import pandas as pd

    now_s, old_s = _symbolic(audit), _symbolic(before)
    moved = sorted(
        tid
        for tid in set(now_s) | set(old_s) | set(audit._inv.ids) ^ set(before._inv.ids)
        if now_s.get(tid, set()) != old_s.get(tid, set())
    )
    if (audit._dir.zone_account, audit._dir.account_names) != (
        before._dir.zone_account,
        before._dir.account_names,
    ):
        # the same wildcard reaches other zones when the directory changed
        wide = {"all zones of account", "all zones", "all accounts"}
        moved = sorted(
            set(moved) | {tid for tid, rows in now_s.items() if any(r[1] in wide for r in rows)}
        )
    now_g, old_g = _concrete(audit, moved), _concrete(before, moved)
    now_f, old_f = _open_findings(audit), _open_findings(before)
    now_ids = dict(zip(audit._inv.ids, audit._inv.names, strict=True))
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
            payload = audit._inv.records[audit._ctx.token_index[tid]].payload
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
                "new_findings": ", ".join(sorted(now_f.get(tid, set()) - old_f.get(tid, set()))),
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
    return frame


def findings_by_token(audit: Audit) -> dict[str, np.ndarray[Any, np.dtype[np.int64]]]:
    """Row positions in ``audit.findings`` by token id (in the frame's order)."""
    ids = audit.findings["token_id"]
    return {
        str(k): np.asarray(v, dtype=np.int64)
        for k, v in ids.groupby(ids, sort=False, observed=True).indices.items()
    }


def token_fix(audit: Audit, token_id: str, rule: str | None = None) -> Remediation:
    """One fix for a token's open findings (or only those of ``rule``): :meth:`Audit.fix`."""
    t = token_position(audit, token_id)
    tid = audit._inv.ids[t]
    f = audit.findings
    positions = audit._finding_positions(tid)
    keep = ~f["suppressed"].to_numpy(dtype=bool, na_value=False)[positions]
    if rule is not None:
        keep &= f["rule_id"].astype(str).to_numpy()[positions] == rule
    positions = positions[keep]
    fixes = [x for x in (audit._fixes[i] for i in positions) if x is not None]
    record = audit._inv.records[t]
    usage = audit._ctx.usage
    rows = usage.ok_rows(tid) if usage is not None and rule is None else None
    rightsized = _rightsized(audit, t, record, rows) if rows is not None and fixes else None
    return plan_fix(
        record.payload,
        fixes,
        kind=record.kind,
        owner_id=record.owner_id,
        directory=audit.directory,
        rightsized=rightsized,
        usage_days=audit.profile.thresholds.usage_window_days,
        used_requests=0 if rows is None else len(rows),
        used_cidrs=usage.cidrs(tid) if usage is not None else (),
        now=audit.now,
    )


def _rightsized(audit: Audit, t: int, record: TokenRecord, rows: pd.DataFrame) -> RightSize | None:
    """:func:`_rightsize` of token ``t`` (its usage rows ``rows``), once per audit."""
    done = audit._rightsized
    if t not in done:
        done[t] = _rightsize(audit, record, rows)
    return done[t]


def _rightsize(audit: Audit, record: TokenRecord, rows: pd.DataFrame) -> RightSize | None:
    """The token right-sized to its successful requests (None when that keeps nothing or
    the token cannot be read as a model)."""
    try:
        token = Token.from_api(record.payload)
        return rightsize(
            token,
            rows,
            directory=audit.directory,
            account_id=record.owner_id if record.kind == "account" else None,
        )
    except InvalidInput:
        return None


def finding_position(audit: Audit, finding_id: str) -> int:
    """The row of ``finding_id`` in ``audit.findings`` (InvalidInput when there is none)."""
    f = audit.findings
    positions = np.flatnonzero((f["finding_id"] == finding_id).to_numpy())
    if not len(positions):
        raise InvalidInput(f"no finding {finding_id!r}; use a value of audit.findings.finding_id")
    return int(positions[0])


def iter_findings(audit: Audit, *, include_suppressed: bool = False) -> Iterator[Finding]:
    """Every finding as a :class:`Finding` (worst first), one at a time."""
    suppressed = audit.findings["suppressed"]
    for i in range(len(suppressed)):
        if include_suppressed or not bool(suppressed.iloc[i]):
            yield finding_at(audit, i)


def finding_at(audit: Audit, i: int) -> Finding:
    """Row ``i`` of ``audit.findings`` as a :class:`Finding`."""
    row = audit.findings.iloc[i]
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


def finding_fix(audit: Audit, finding_id: str) -> Remediation:
    """The request that fixes one finding: :meth:`Audit.finding_fix`."""
    f = audit.findings
    i = finding_position(audit, finding_id)
    fix = audit._fixes[i]
    tid = f["token_id"].iloc[i]
    unread = isinstance(tid, str) and tid not in audit._ctx.token_index
    why = _unreadable(audit, tid) if unread else None
    if why is not None:
        return Remediation(method="GET", path="", body=None, summary=f"no automatic fix: {why}")
    if isinstance(tid, str):
        record = audit._inv.records[audit._ctx.token_index[tid]]
        return apply_fixes(
            record.payload,
            [fix] if fix else [],
            kind=record.kind,
            owner_id=record.owner_id,
            directory=audit.directory,
        )
    if fix is not None:
        return apply_fixes({"id": "", "name": ""}, [fix], kind="user", owner_id=None)
    return Remediation(method="GET", path="", body=None, summary="no automatic fix")


@frozen(kw_only=True)
class Finding:
    """One row of ``audit.findings`` as an object (``audit.finding(finding_id)``)."""

    finding_id: str
    rule_id: str
    severity: Severity
    title: str
    token_id: str | None
    token_name: str | None = field(repr=field_repr)
    policy: int | None
    group: str | None = field(repr=field_repr)
    resource: str | None = field(repr=field_repr)
    zone_id: str | None
    account_id: str | None
    evidence: str = field(repr=field_repr)
    detail: str = field(repr=field_repr)
    remediation: str = field(repr=field_repr)
    suppressed: bool
    suppression: str | None

    @text_repr
    def __str__(self) -> str:
        where = f" on token {self.token_name!r} ({self.token_id})" if self.token_id else ""
        return f"[{self.severity}] {self.rule_id} {self.title}{where}: {self.evidence}"


def _opt(value: Any) -> Any:
    import pandas as pd

    return (
        None
        if value is None or value is pd.NA or (isinstance(value, float) and value != value)
        else value
    )


def _comparable(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in ("last_used_on", "modified_on")}
