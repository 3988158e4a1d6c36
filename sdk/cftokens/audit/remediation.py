"""Remediation: a token's fix as typed steps and the one API request that applies them.

Rules propose fixes as typed :mod:`steps <cftokens.audit.steps>`, one per finding
(``RemoveGroups.one(2, group)``, ``SetExpiry(expires_on="2027-01-01T00:00:00Z")`` …).
:func:`plan_fix` merges a token's proposals through each step's ``merge`` into a
:class:`FixPlan` (each group, resource and edit once; one expiry, one allowlist; groups and
resources by name) and, when the audit has the token's usage, keeps exactly the grants it
used (the evidence :func:`~cftokens.rightsize` works from). The result is a
:class:`Remediation`: the steps, and the request (a PUT of the whole token that always keeps
at least one policy, else a DELETE). Values that cannot be known from the inventory
(your callers' IP ranges, the zone a job needs) are ``REPLACE-WITH-…`` placeholders, listed
in ``placeholders``; the remediation is then ``complete=False``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from attrs import Factory, define, frozen

from .._shown import shown_lines
from ..catalog import permission_groups
from ..catalog.groups import Level
from ..errors import labelled_tree
from ..model._util import is_id
from ..model.directory import Directory
from ..model.resources import Resource
from ..model.token import TokenSpec
from .steps import (
    PLACEHOLDER_PREFIX,
    BodyStep,
    DeleteToken,
    Disable,
    Downgrade,
    DowngradeGroups,
    GroupRef,
    KeepOnlyGroups,
    NarrowGroups,
    Narrowing,
    NarrowResources,
    RemoveGroups,
    ReplaceFirst,
    Replacing,
    RequestBody,
    ResourceNarrowing,
    RollSecret,
    SetAllowlist,
    SetExpiry,
    Step,
    drop_empty,
    join,
    placeholders_in,
    token_body,
)
from .steps.base import entry_ids, groups_of

if TYPE_CHECKING:
    from ..advisor.rightsizing import RightSize

__all__ = ["MINTING_GROUPS", "FixPlan", "Remediation", "apply_fixes", "plan_fix"]

# API Tokens Write (user) and Account API Tokens Write: a token holding one can mint tokens
MINTING_GROUPS = frozenset({"686d18d5ac6c441c867cbf6771e58a0a", "5bc3f8b21c554832afc660159ab75fa4"})


@frozen(kw_only=True)
class Remediation:
    """A token's fix: the ordered :mod:`steps <cftokens.audit.steps>` and the request that
    applies them.

    - ``steps``: typed steps, each once (``str(fix)`` numbers their ``describe()`` lines);
    - ``method``/``path``/``body``: the request (``PUT`` with the whole token, ``DELETE`` when
      nothing the token holds would remain, ``POST`` to create replacements); a roll step is a
      separate request after it (``PUT …/value``);
    - ``put_body``: the body for ``client.tokens.update(token_id, fix.put_body)`` (None when the
      fix is not a PUT of the token); it always holds at least one policy;
    - ``placeholders``: the ``REPLACE-WITH-…`` values you must fill in (``complete`` is False
      while there are any); ``spec``: the body as a :class:`~cftokens.TokenSpec` when complete;
    - ``evidence``: what the plan is built from (usage, or the findings' rules);
    - ``summary``: the steps in one line.
    """

    method: str
    path: str
    body: RequestBody
    summary: str
    complete: bool = True
    spec: TokenSpec | None = None
    steps: tuple[Step, ...] = ()
    token_name: str | None = None
    evidence: str = ""

    @property
    def put_body(self) -> dict[str, Any] | None:
        """The PUT body of the token (None for deletes, rolls alone and creations)."""
        if self.method != "PUT" or self.path.endswith("/value") or not isinstance(self.body, dict):
            return None
        return self.body

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The ``REPLACE-WITH-…`` values to replace before applying."""
        return tuple(
            dict.fromkeys(
                [p for s in self.steps for p in s.placeholders] + list(placeholders_in(self.body))
            )
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (reports)."""
        return {
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "summary": self.summary,
            "steps": [s.describe() for s in self.steps],
            "placeholders": list(self.placeholders),
            "complete": self.complete,
        }

    @property
    def headline(self) -> str:
        """The fix in one short line (each step in a few words)."""
        text = ", ".join(s.brief() for s in self.steps) or self.summary
        return text[:1].upper() + text[1:]

    def lines(self) -> list[str]:
        """The numbered steps."""
        return [f"{i}. {s.describe()}" for i, s in enumerate(self.steps, start=1)]

    def __str__(self) -> str:
        if not self.steps:
            return shown_lines([self.summary])
        who = f"Fix for {self.token_name!r}" if self.token_name else "Fix"
        request = f"{self.method} {self.path}" if self.path else self.method
        head = f"{who} ({request}" + (f"; {self.evidence}" if self.evidence else "") + "):"
        out = [head, *self.lines()]
        if self.placeholders:
            out.append("Fill in first: " + ", ".join(self.placeholders))
        return shown_lines(out)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def token_path(token_id: str, kind: str, owner_id: str | None) -> str:
    """The API path of a token (user-owned or account-owned)."""
    if kind == "account" and owner_id:
        return f"/accounts/{owner_id}/tokens/{token_id}"
    return f"/user/tokens/{token_id}"


class Names:
    """Names for a token's groups and resources (the catalogue, the token, the directory)."""

    def __init__(self, payload: Mapping[str, Any], directory: Directory | None):
        self.directory = directory
        self.known: dict[str, str] = {}
        for policy in payload.get("policies") or []:
            if not isinstance(policy, Mapping):
                continue
            for g in policy.get("permission_groups") or []:
                if isinstance(g, Mapping) and g.get("id") and g.get("name"):
                    self.known[str(g["id"])] = str(g["name"])

    def group(self, gid: str, name: str | None = None) -> GroupRef:
        found = permission_groups.by_id(gid)
        label = name or (found.name if found else None) or self.known.get(gid)
        return GroupRef(gid, label or f"the unknown group {gid}")

    def resources(self, resources: Mapping[str, Any]) -> str:
        try:
            atoms = Resource.from_api(resources)
        except Exception:
            return ", ".join(resources)
        return self.atoms(atoms)

    def atoms(self, atoms: Iterable[Resource]) -> str:
        labels = [a.describe(self.directory) for a in atoms]
        zones = [x[len("zone ") :] for x in labels if x.startswith("zone ")]
        if len(zones) > 1 and len(zones) == len(labels):
            return "zones " + join(zones, 4)
        accounts = [x[len("account ") :] for x in labels if x.startswith("account ")]
        if len(accounts) > 1 and len(accounts) == len(labels):
            return "accounts " + join(accounts, 4)
        return join(labels, 4)

    def key(self, key: str) -> str:
        return self.resources({key: "*"})

    def account(self, ident: str) -> str:
        return Resource.account(ident).describe(self.directory) if is_id(ident) else ident


def _is_minting(body: Mapping[str, Any]) -> bool:
    """Whether an allow policy holds a group that creates tokens (however it is written)."""
    return any(
        not entry_ids(g).isdisjoint(MINTING_GROUPS)
        for p in body.get("policies") or []
        if isinstance(p, Mapping) and p.get("effect", "allow") == "allow"
        for g in groups_of(p)
    )


@frozen
class _Who:
    """The token's name and what its plan is built from."""

    name: str | None
    evidence: str


@define
class FixPlan:
    """A token's proposed fixes being merged (each step's ``merge`` adds itself): each group,
    resource and edit once; every expiry and allowlist proposal kept for :func:`_one_expiry`
    and :func:`_one_allowlist`. With ``grants_from_usage`` the groups the token used decide
    what stays, and the grant edits of the rules are left out."""

    names: Names
    grants_from_usage: bool
    removals: dict[str, set[int] | None] = Factory(dict)
    downgrades: dict[tuple[int, str], Downgrade] = Factory(dict)
    narrowings: dict[tuple[int, str], ResourceNarrowing] = Factory(dict)
    edits: dict[BodyStep, BodyStep] = Factory(dict)
    keep_only: tuple[str, ...] | None = None
    expiries: list[tuple[str, bool]] = Factory(list)  # (date, only while the token can mint)
    allowlists: list[tuple[tuple[str, ...], tuple[str, ...]]] = Factory(list)
    roll: bool = False
    # what Cloudflare refuses (a deleted or unreadable key, a misfit policy) goes, even from a
    # disabled token
    repairs: dict[BodyStep, BodyStep] = Factory(dict)
    disable: bool = False
    delete: bool = False
    recreate: Replacing | None = None

    def remove(self, gid: str, policies: tuple[int, ...] | None) -> None:
        """Remove group ``gid`` from ``policies`` (None: from every allow policy)."""
        if gid not in self.removals:
            self.removals[gid] = set(policies) if policies is not None else None
            return
        held = self.removals[gid]
        if held is not None and policies is not None:
            held.update(policies)
        elif policies is None:
            self.removals[gid] = None

    def edit(self, step: BodyStep) -> None:
        """An edit of the token's grants, each once (none when usage decides the grants)."""
        if not self.grants_from_usage:
            self.edits.setdefault(step, step.named(self.names))

    def repair(self, step: BodyStep) -> None:
        """An edit that removes what Cloudflare refuses: made even when the token is
        disabled."""
        self.repairs.setdefault(step, step.named(self.names))
        self.edit(step)

    def grant_steps(self) -> list[BodyStep]:
        """The merged grant edits, in order: keep-only, downgrades, narrowings, the policy
        edits, removals."""
        names = self.names
        steps: list[BodyStep] = []
        # a downgrade keeps the job working where a removal of the same group would not
        downgraded = {old for (_, old) in self.downgrades}
        removals = {g: p for g, p in self.removals.items() if g not in downgraded}
        if self.keep_only is not None and not (set(removals) & set(self.keep_only)):
            steps.append(KeepOnlyGroups(groups=tuple(names.group(g) for g in self.keep_only)))
        if self.downgrades:
            steps.append(
                DowngradeGroups(items=tuple(self.downgrades.values()), reason="it only reads")
            )
        if self.narrowings:
            steps.append(NarrowResources(items=tuple(self.narrowings.values())))
        steps.extend(self.edits.values())
        if removals:
            steps.append(
                RemoveGroups(
                    groups=tuple(names.group(g) for g in removals),
                    policies=tuple(tuple(sorted(p)) if p else None for p in removals.values()),
                )
            )
        return steps


def _gather(fixes: Sequence[Step], names: Names, *, grants_from_usage: bool) -> FixPlan:
    """Merge the findings' fixes into one plan."""
    plan = FixPlan(names=names, grants_from_usage=grants_from_usage)
    for fix in fixes:
        fix.merge(plan)
    return plan


def _usage_steps(rightsized: RightSize, names: Names, days: int) -> list[BodyStep]:
    """The grant steps of a :class:`~cftokens.RightSize`: what the token used stays; the rest
    goes, each group named once."""
    kept: dict[str, list[Resource]] = {}
    for grant in rightsized.grants:
        kept.setdefault(grant.group.id, []).append(grant.resource)
    allows = [p for p in rightsized.before.policies if p.effect.value == "allow"]
    held = {ref.id for policy in allows for ref in policy.permission_groups}
    downgrades = _usage_downgrades(kept, held, names)
    downgraded_from = {d.frm.id for d in downgrades}
    narrowings: list[Narrowing] = []
    removals: list[GroupRef] = []
    for gid in _touched(rightsized, allows):
        if gid in kept:
            narrowings.append(
                Narrowing(
                    group=names.group(gid), resources=tuple(kept[gid]), where=names.atoms(kept[gid])
                )
            )
        elif gid not in downgraded_from:
            removals.append(names.group(gid))
    steps: list[BodyStep] = []
    if downgrades:
        steps.append(DowngradeGroups(items=tuple(downgrades), reason="it only read with them"))
    if narrowings:
        steps.append(NarrowGroups(items=tuple(narrowings), reason="the only ones it used"))
    if removals:
        steps.append(
            RemoveGroups(
                groups=tuple(removals),
                policies=(None,) * len(removals),
                reason=f"not used in the last {days} days",
            )
        )
    return steps


def _touched(rightsized: Any, allows: list[Any]) -> list[str]:
    """The allowed groups right-sizing takes something from, in order, each once."""
    touched: list[str] = []
    for _index, effect, _action, group, _resource, _why in rightsized.removed:
        if effect == "allow" and group is not None and group.id not in touched:
            touched.append(group.id)
    # Groups the catalogue does not know (rightsize's removals name them None): they grant
    # nothing the token used, and Cloudflare refuses a body that names them.
    for policy in allows:
        for ref in policy.permission_groups:
            if permission_groups.by_id(ref.id) is None and ref.id not in touched:
                touched.append(ref.id)
    return touched


def _usage_downgrades(
    kept: dict[str, list[Resource]], held: set[str], names: Names
) -> list[Downgrade]:
    """A kept read group the token holds only as its write twin: that write group becomes the
    read one, on the resources it used."""
    downgrades: list[Downgrade] = []
    for gid, atoms in kept.items():
        if gid in held:
            continue
        group = permission_groups.by_id(gid)
        write = permission_groups.twin(group, Level.WRITE) if group is not None else None
        if write is not None and write.id in held:
            downgrades.append(
                Downgrade(
                    frm=names.group(write.id),
                    to=names.group(gid),
                    where=names.atoms(atoms),
                    resources=tuple(atoms),
                )
            )
    return downgrades


def _one_expiry(plan: FixPlan, body: Mapping[str, Any]) -> SetExpiry | None:
    """The earliest proposed expiry (a minting token's 30-day limit only while it can mint)."""
    minting = _is_minting(body)
    dates = [(d, m) for d, m in plan.expiries if minting or not m]
    if not dates:
        return None
    date, mint = min(dates)
    return SetExpiry(expires_on=date, reason="it can create tokens" if mint else "")


def _one_allowlist(plan: FixPlan, used: Sequence[str]) -> SetAllowlist | None:
    """One allowlist: the real ranges proposed (the addresses it was used from), else the
    placeholder for your callers' ranges."""
    if not plan.allowlists:
        return None
    real = [c for allow, _ in plan.allowlists for c in allow if PLACEHOLDER_PREFIX not in c]
    deny = [c for _, d in plan.allowlists for c in d]
    allow = list(dict.fromkeys(real)) or [next(c for allow, _ in plan.allowlists for c in allow)]
    source = "the addresses it was used from" if real and set(real) <= set(used) else ""
    return SetAllowlist(allow=tuple(allow), deny=tuple(dict.fromkeys(deny)), source=source)


def plan_fix(
    payload: Mapping[str, Any],
    fixes: Sequence[Step],
    *,
    kind: str,
    owner_id: str | None,
    directory: Directory | None = None,
    rightsized: RightSize | None = None,
    usage_days: int = 30,
    used_requests: int = 0,
    used_cidrs: Sequence[str] = (),
    now: datetime | None = None,
) -> Remediation:
    """One fix for a token: its findings' ``fixes`` merged into typed steps, each once.

    With ``rightsized`` (a :class:`~cftokens.RightSize` built from the token's usage), the
    groups it keeps are exactly what it used (the rules' grant edits give way to that evidence);
    the expiry, allowlist, roll and status steps still come from the findings. When nothing the
    token holds would remain, the fix is to delete the token (with its last use), never a PUT
    with no policy (Cloudflare refuses it, and it would break what uses the token). A disable
    first drops what Cloudflare refuses (a deleted or unreadable key, a misfit policy), so the
    PUT is accepted; a token left with no policy by that is deleted instead. A credential
    anywhere in ``payload`` is shown as its label (:func:`~cftokens.errors.labelled_tree`).
    """
    shown = labelled_tree(payload)  # a mapping's copy is a mapping
    payload = shown if isinstance(shown, Mapping) else payload
    names = Names(payload, directory)
    token_id = str(payload.get("id"))
    path = token_path(token_id, kind, owner_id)
    name = str(payload["name"]) if payload.get("name") else None
    evidence = (
        f"from its {used_requests} requests of the last {usage_days} days"
        if rightsized is not None
        else "from its findings"
    )
    common = _Who(name=name, evidence=evidence)
    last_used = payload.get("last_used_on")
    last = str(last_used) if last_used else None
    if not fixes:
        return Remediation(
            method="GET",
            path=path,
            body=None,
            summary="no change",
            token_name=common.name,
            evidence=common.evidence,
        )
    plan = _gather(fixes, names, grants_from_usage=rightsized is not None)
    if plan.delete:
        return _delete(path, DeleteToken(last_used=last), common)
    if plan.disable:
        return _disable(payload, plan, path, last, common)
    grant_steps = (
        _usage_steps(rightsized, names, usage_days) if rightsized is not None else []
    ) + plan.grant_steps()
    if plan.recreate is not None and not grant_steps and not plan.expiries and not plan.allowlists:
        return _recreate(
            payload,
            plan.recreate,
            kind=kind,
            owner_id=owner_id,
            path=path,
            names=names,
            common=common,
        )
    body = token_body(payload)
    had_policies = bool(body["policies"])
    for step in grant_steps:
        step.apply(body)
    drop_empty(body)
    steps: list[Step] = list(grant_steps)
    if had_policies and not body["policies"]:
        if rightsized is not None or not _used_lately(last, now, usage_days):
            gone = DeleteToken(last_used=last, reason="its fixes leave it no permission at all")
            return _delete(path, gone, common)
        # In use, and no usage evidence says what it needs: emptying or deleting it would break
        # its callers. Keep its grants; the other steps (allowlist, expiry, roll) still apply.
        body = token_body(payload)
        steps = [_replace_first(body, names, last, usage_days)]
    for extra in (_one_allowlist(plan, used_cidrs), _one_expiry(plan, body)):
        if extra is not None:
            extra.apply(body)
            steps.append(extra)
    return _request(path, body, steps, RollSecret(path=path) if plan.roll else None, common)


def _disable(
    payload: Mapping[str, Any], plan: FixPlan, path: str, last: str | None, common: _Who
) -> Remediation:
    """Disable the token, first dropping what Cloudflare refuses so the PUT is accepted; a
    token left with no policy by that is deleted instead."""
    body = token_body(payload)
    had_policies = bool(body["policies"])
    repairs = tuple(plan.repairs.values())
    for repair in repairs:
        repair.apply(body)
    drop_empty(body)
    if had_policies and not body["policies"]:
        refused = DeleteToken(last_used=last, reason="Cloudflare refuses every policy it holds")
        return _delete(path, refused, common)
    disable = Disable(last_used=last)
    disable.apply(body)
    return _put(path, body, (*repairs, disable), common)


def _replace_first(
    body: Mapping[str, Any], names: Names, last: str | None, usage_days: int
) -> ReplaceFirst:
    """Keep an in-use token's grants until a replacement exists (every group it holds, named)."""
    held = [
        names.group(gid).name
        for policy in body["policies"]
        if isinstance(policy, Mapping)
        for g in groups_of(policy)
        for gid in sorted(entry_ids(g))
    ]
    return ReplaceFirst(
        last_used=last or "", groups=tuple(dict.fromkeys(held)), usage_days=usage_days
    )


def _request(
    path: str, body: dict[str, Any], steps: list[Step], roll: RollSecret | None, common: _Who
) -> Remediation:
    """The request of the planned steps: a PUT of the token when a step edits its body (the
    roll after it); else the roll alone; else no request (the steps say what to do)."""
    if not any(isinstance(step, BodyStep) for step in steps):
        if roll is not None:
            return _without_body("PUT", path + "/value", {}, (*steps, roll), common)
        if steps:
            return _without_body("GET", path, None, tuple(steps), common)
    if roll is not None:
        steps.append(roll)
    return _put(path, body, tuple(steps), common)


def _without_body(
    method: str, path: str, body: RequestBody, steps: tuple[Step, ...], common: _Who
) -> Remediation:
    return Remediation(
        method=method,
        path=path,
        body=body,
        summary="; ".join(s.describe() for s in steps),
        steps=steps,
        token_name=common.name,
        evidence=common.evidence,
    )


def _used_lately(last_used: str | None, now: datetime | None, days: int) -> bool:
    """True when the token was used within ``days`` of ``now`` (or when its last use cannot be
    read: an unknown date is never taken as "not in use")."""
    if not last_used:
        return False
    if now is None:
        return True
    try:
        when = datetime.fromisoformat(last_used.replace("Z", "+00:00"))
    except ValueError:
        return True
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when >= now - timedelta(days=days)


def _delete(path: str, step: DeleteToken, common: _Who) -> Remediation:
    return _without_body("DELETE", path, None, (step,), common)


def _put(path: str, body: dict[str, Any], steps: tuple[Step, ...], common: _Who) -> Remediation:
    complete = not placeholders_in(body)
    return Remediation(
        method="PUT",
        path=path,
        body=body,
        summary="; ".join(s.describe() for s in steps) or "no change",
        complete=complete,
        spec=_spec(body) if complete else None,
        steps=steps,
        token_name=common.name,
        evidence=common.evidence,
    )


def _recreate(
    payload: Mapping[str, Any],
    fix: Replacing,
    *,
    kind: str,
    owner_id: str | None,
    path: str,
    names: Names,
    common: _Who,
) -> Remediation:
    """Whole-token replacements: split per job, a scoped token for Global API Key calls, an
    account-owned copy."""
    new = fix.replacement(payload, kind=kind, owner_id=owner_id, path=path, names=names)
    return Remediation(
        method=new.method,
        path=new.path,
        body=new.body,
        summary=new.step.describe() if new.step is not None else new.summary,
        complete=not placeholders_in(new.body),
        spec=_spec(new.body) if new.one_token else None,
        steps=(new.step,) if new.step is not None else (),
        token_name=common.name,
        evidence=common.evidence,
    )


def apply_fixes(
    payload: Mapping[str, Any],
    fixes: Sequence[Step],
    *,
    kind: str,
    owner_id: str | None,
    directory: Directory | None = None,
) -> Remediation:
    """The request that applies ``fixes`` (the steps rules propose) to a token given as its API
    dict."""
    return plan_fix(payload, fixes, kind=kind, owner_id=owner_id, directory=directory)


def _spec(body: Any) -> TokenSpec | None:
    if not isinstance(body, Mapping) or placeholders_in(body):
        return None
    try:
        return TokenSpec.from_api(body)
    except Exception:
        return None
