"""The steps of a token's fix: typed, each with ``describe()`` (one line for people) and
``apply(body)`` (edits a PUT body in place and returns it; the steps that are requests of their
own, a roll, a delete, a replacement, return it unchanged).

The rules propose these same classes, one finding at a time (``RemoveGroups`` of one group,
``SetExpiry``, ``RemovePair`` …). Each knows how it joins a token's other proposals:
``merge(plan)`` adds it to a :class:`~cftokens.audit.remediation.FixPlan`, which keeps each
group, resource and edit once, one expiry and one allowlist. A :class:`BodyStep` that defines
no ``merge`` joins as one more edit of the token's grants, so a new kind of fix is one class
with ``describe`` and ``apply``.

A fix (:class:`~cftokens.audit.Remediation`) is an ordered tuple of these steps. Steps name
permission groups and resources by name; the ids only appear in the body. Values only you know
(your callers' IP ranges, the zone a job needs) are ``REPLACE-WITH-…`` placeholders, and the
step says which one.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

from attrs import evolve, field, frozen

from ..model.resources import (
    ACCOUNT_PREFIX,
    ALL_ACCOUNTS_KEY,
    ALL_ZONES_KEY,
    USER_PREFIX,
    ZONE_PREFIX,
    Resource,
)

if TYPE_CHECKING:
    from .remediation import FixPlan, Names

__all__ = [
    "PLACEHOLDER_PREFIX",
    "BodyStep",
    "CreateScopedToken",
    "DeleteToken",
    "Disable",
    "DowngradeGroups",
    "GroupRef",
    "KeepOnlyGroups",
    "LimitMinting",
    "MoveCondition",
    "MoveToAccount",
    "NarrowGroups",
    "NarrowResources",
    "Recreate",
    "RemoveGroups",
    "RemovePair",
    "RemovePolicy",
    "RemoveResource",
    "RenameGroup",
    "ReplaceFirst",
    "ReplacePair",
    "Replacement",
    "Replacing",
    "RestrictZones",
    "RollSecret",
    "SetAllowlist",
    "SetExpiry",
    "SplitToken",
    "Step",
]

PLACEHOLDER_PREFIX = "REPLACE-WITH-"
_LIST_LIMIT = 6


def join(items: list[str] | tuple[str, ...], limit: int = _LIST_LIMIT) -> str:
    """``a, b and c`` (``… and N more`` past ``limit``)."""
    items = list(dict.fromkeys(items))
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" and {len(items) - limit} more"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


@frozen
class GroupRef:
    """A permission group by id, with the name people read."""

    id: str
    name: str

    def wire(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


class Step:
    """One step of a fix. ``describe()`` is the line of the numbered list."""

    def describe(self) -> str:
        raise NotImplementedError

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        """Edit the token's PUT body in place and return it (unchanged here: a step that is a
        request of its own does not edit the body)."""
        return body

    def merge(self, plan: FixPlan) -> None:
        """Join a token's plan as one of the fixes its findings propose."""
        raise TypeError(f"{type(self).__name__} is a step of a planned fix, not a rule's fix")

    def named(self, names: Names) -> Self:
        """This step with its groups and resources named for people (ids stay in the body)."""
        return self

    def brief(self) -> str:
        """A few words for a one-line summary of the fix."""
        return self.describe()

    @property
    def placeholders(self) -> tuple[str, ...]:
        """``REPLACE-WITH-…`` values this step needs from you."""
        return ()

    def __str__(self) -> str:
        return self.describe()


class BodyStep(Step):
    """A step that edits the token's PUT body. Unless it says otherwise, it joins a plan as an
    edit of the token's grants (each equal edit once; left out when usage data decides the
    grants)."""

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def merge(self, plan: FixPlan) -> None:
        plan.edit(self)


# -- body editing --------------------------------------------------------------------------------


def _allow_policies(body: dict[str, Any], policies: tuple[int, ...] | None) -> list[dict[str, Any]]:
    out = []
    for index, policy in enumerate(body.get("policies") or [], start=1):
        if policies is not None and index not in policies:
            continue
        if policy.get("effect", "allow") == "allow":
            out.append(policy)
    return out


def _strip(body: dict[str, Any], gid: str, policies: tuple[int, ...] | None = None) -> None:
    for policy in _allow_policies(body, policies):
        policy["permission_groups"] = [
            g for g in policy.get("permission_groups") or [] if g.get("id") != gid
        ]


def _grant(body: dict[str, Any], group: GroupRef, resources: dict[str, Any]) -> None:
    """Allow ``group`` on ``resources``: in the allow policy naming exactly those resources
    (appended when there is none)."""
    for policy in body.setdefault("policies", []):
        if policy.get("effect", "allow") == "allow" and policy.get("resources") == resources:
            groups = policy.setdefault("permission_groups", [])
            if all(g.get("id") != group.id for g in groups):
                groups.append(group.wire())
            return
    body["policies"].append(
        {"effect": "allow", "permission_groups": [group.wire()], "resources": resources}
    )


def resources_for(spec: tuple[str, tuple[str, ...]]) -> dict[str, Any]:
    """The wire resources of a rule's narrowing target (``("zones", ids)``, …)."""
    what, ids = spec
    if what == "zones":
        return {ZONE_PREFIX + z: "*" for z in ids}
    if what == "accounts":
        return {ACCOUNT_PREFIX + a: "*" for a in ids}
    if what == "all_zones_of":
        return {ACCOUNT_PREFIX + a: {ALL_ZONES_KEY: "*"} for a in ids}
    raise ValueError(what)


def drop_empty(body: dict[str, Any]) -> None:
    """Remove policies left with no group or no resource."""
    body["policies"] = [
        p for p in body.get("policies") or [] if p.get("permission_groups") and p.get("resources")
    ]


_SERVER_FIELDS = ("id", "issued_on", "modified_on", "last_used_on", "value", "terraform_address")


def token_body(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a token's API dict without the fields the server sets (a PUT or POST body)."""
    body = {k: copy.deepcopy(v) for k, v in payload.items() if k not in _SERVER_FIELDS}
    body.setdefault("name", payload.get("name", ""))
    body.setdefault("policies", [])
    return body


def _policy(body: dict[str, Any], index: int) -> dict[str, Any] | None:
    policies = body.get("policies") or []
    if 1 <= index <= len(policies):
        policy: dict[str, Any] = policies[index - 1]
        return policy
    return None


# -- grant steps ---------------------------------------------------------------------------------


@frozen
class Downgrade:
    """``frm`` becomes ``to``: on ``resources`` (usage) or in place in ``policy`` (a rule)."""

    frm: GroupRef
    to: GroupRef
    where: str
    resources: tuple[Resource, ...] = ()
    policy: int | None = None


@frozen(kw_only=True)
class DowngradeGroups(BodyStep):
    """Replace write groups by their read twins (the token only read with them)."""

    items: tuple[Downgrade, ...]
    reason: str = ""

    def describe(self) -> str:
        pairs = [
            f"{d.frm.name} with {d.to.name}" + (f" on {d.where}" if d.where else "")
            for d in self.items
        ]
        why = f" ({self.reason})" if self.reason else ""
        return "replace " + "; ".join(pairs) + why

    def brief(self) -> str:
        if len(self.items) == 1:
            return f"{self.items[0].frm.name} → {self.items[0].to.name}"
        return f"downgrade {len(self.items)} groups to read"

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        for d in self.items:
            if d.policy is not None:
                for policy in _allow_policies(body, (d.policy,)):
                    groups = policy.get("permission_groups") or []
                    policy["permission_groups"] = [
                        d.to.wire() if g.get("id") == d.frm.id else g for g in groups
                    ]
                continue
            _strip(body, d.frm.id)
            _grant(body, d.to, Resource.to_api(d.resources))
        return body

    @classmethod
    def one(cls, policy: int, frm: GroupRef, to: GroupRef) -> DowngradeGroups:
        """A rule's downgrade of one group to its read twin, in place in one policy."""
        return cls(
            items=(Downgrade(frm=frm, to=to, where="", policy=policy),), reason="it only reads"
        )

    def merge(self, plan: FixPlan) -> None:
        """A rule's downgrades in place (one per policy and group); usage decides otherwise."""
        if plan.grants_from_usage:
            return
        for d in self.items:
            if d.policy is not None:
                plan.downgrades[(d.policy, d.frm.id)] = evolve(
                    d, frm=plan.names.group(d.frm.id), to=plan.names.group(d.to.id, d.to.name)
                )


@frozen
class Narrowing:
    """``group`` is kept on ``resources`` only (described as ``where``)."""

    group: GroupRef
    resources: tuple[Resource, ...]
    where: str


@frozen(kw_only=True)
class NarrowGroups(BodyStep):
    """Keep groups only on the resources they were used on."""

    items: tuple[Narrowing, ...]
    reason: str = ""

    def describe(self) -> str:
        parts = [f"{n.group.name} to {n.where}" for n in self.items]
        return "limit " + "; ".join(parts) + (f" ({self.reason})" if self.reason else "")

    def brief(self) -> str:
        if len(self.items) == 1:
            return f"limit {self.items[0].group.name} to {self.items[0].where}"
        return f"limit {len(self.items)} groups to what they used"

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        for n in self.items:
            _strip(body, n.group.id)
            _grant(body, n.group, Resource.to_api(n.resources))
        return body


@frozen
class ResourceNarrowing:
    """In ``policy``, the resource ``key`` becomes ``target`` (a rule's narrowing)."""

    policy: int
    key: str
    target: tuple[str, tuple[str, ...]]
    before: str
    after: str


@frozen(kw_only=True)
class NarrowResources(BodyStep):
    """Replace wildcard resources by the zones or accounts named."""

    items: tuple[ResourceNarrowing, ...]

    def describe(self) -> str:
        return "name " + "; ".join(f"{n.after} instead of {n.before}" for n in self.items)

    def brief(self) -> str:
        return "name resources instead of wildcards"

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(i for n in self.items for i in n.target[1] if PLACEHOLDER_PREFIX in i)
        )

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        for n in self.items:
            for policy in _allow_policies(body, (n.policy,)):
                resources = {k: v for k, v in (policy.get("resources") or {}).items() if k != n.key}
                resources.update(resources_for(n.target))
                policy["resources"] = resources
        return body

    def merge(self, plan: FixPlan) -> None:
        """One narrowing per policy and resource key; usage decides otherwise."""
        if plan.grants_from_usage:
            return
        names = plan.names
        for n in self.items:
            kind, ids = n.target
            plan.narrowings[(n.policy, n.key)] = evolve(
                n,
                before=names.key(n.key),
                after=names.resources(resources_for(n.target))
                if not any(PLACEHOLDER_PREFIX in i for i in ids)
                else "the " + kind + " it needs",
            )

    @classmethod
    def one(cls, policy: int, key: str, target: tuple[str, tuple[str, ...]]) -> NarrowResources:
        """A rule's narrowing of one resource key (named by id until a plan names it)."""
        kind, ids = target
        after = f"{kind} " + join(list(ids))
        return cls(items=(ResourceNarrowing(policy, key, target, before=key, after=after),))


@frozen(kw_only=True)
class RemoveGroups(BodyStep):
    """Remove groups (from the policies given, or from every allow policy)."""

    groups: tuple[GroupRef, ...]
    policies: tuple[tuple[int, ...] | None, ...]
    reason: str = ""

    def describe(self) -> str:
        names = [g.name for g in self.groups]
        return "remove " + join(names) + (f" ({self.reason})" if self.reason else "")

    def brief(self) -> str:
        if len(self.groups) <= 2:
            return "remove " + join([g.name for g in self.groups])
        return f"remove {len(self.groups)} groups"

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        for group, policies in zip(self.groups, self.policies, strict=True):
            _strip(body, group.id, policies)
        return body

    def merge(self, plan: FixPlan) -> None:
        """Each group removed once, from every policy a finding named; usage decides
        otherwise."""
        if plan.grants_from_usage:
            return
        for group, policies in zip(self.groups, self.policies, strict=True):
            plan.remove(group.id, policies)

    @classmethod
    def one(cls, policy: int, group: GroupRef) -> RemoveGroups:
        """A rule's removal of one group from one policy."""
        return cls(groups=(group,), policies=((policy,),))


@frozen(kw_only=True)
class KeepOnlyGroups(BodyStep):
    """Keep only these groups (a dedicated minting token)."""

    groups: tuple[GroupRef, ...]

    def describe(self) -> str:
        return "keep only " + join([g.name for g in self.groups]) + " (a token for minting only)"

    def brief(self) -> str:
        return "keep only the token-API groups"

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        keep = {g.id for g in self.groups}
        for policy in body.get("policies") or []:
            policy["permission_groups"] = [
                g for g in policy.get("permission_groups") or [] if g.get("id") in keep
            ]
        return body

    def merge(self, plan: FixPlan) -> None:
        if not plan.grants_from_usage:
            plan.keep_only = tuple(g.id for g in self.groups)


@frozen(kw_only=True)
class LimitMinting(BodyStep):
    """A minting token kept as one: only the token-API groups (``keep``, when it also does other
    work), an expiry within the minting limit, an IP allowlist. The expiry applies only while
    the token can still mint once the other fixes are made."""

    keep: tuple[str, ...] = ()
    expires_on: str | None = None
    allow: tuple[str, ...] | None = None

    def describe(self) -> str:
        parts = ["keep only the token-API groups"] if self.keep else []
        if self.expires_on:
            parts.append(f"expire on {self.expires_on[:10]}")
        if self.allow:
            parts.append("allow only " + join(list(self.allow)))
        return "; ".join(parts) + " (a token for minting only)"

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.keep:
            KeepOnlyGroups(groups=tuple(GroupRef(g, g) for g in self.keep)).apply(body)
        if self.allow:
            SetAllowlist(allow=self.allow).apply(body)
        if self.expires_on:
            SetExpiry(expires_on=self.expires_on).apply(body)
        return body

    def merge(self, plan: FixPlan) -> None:
        if self.keep and not plan.grants_from_usage:
            plan.keep_only = self.keep
        if self.expires_on:
            plan.expiries.append((self.expires_on, True))
        if self.allow:
            plan.allowlists.append((self.allow, ()))


# -- policy edits (a rule's fix of one policy; ``named`` fills in the labels people read) ---------


@frozen(kw_only=True)
class RestrictZones(BodyStep):
    """Limit every allow policy's zone grants to ``zones`` (the zones the token used)."""

    zones: tuple[str, ...]
    where: str = field(default="", eq=False)

    def describe(self) -> str:
        return f"limit its zone grants to {self.where or 'zones ' + join(list(self.zones))}"

    def named(self, names: Names) -> RestrictZones:
        return evolve(self, where=names.resources({ZONE_PREFIX + z: "*" for z in self.zones}))

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        for policy in body.get("policies") or []:
            resources = policy.get("resources") or {}
            if policy.get("effect") != "allow":
                continue
            zone_keys = [
                k
                for k, v in resources.items()
                if k.startswith(ZONE_PREFIX)
                or (isinstance(v, Mapping) and any(i.startswith(ZONE_PREFIX) for i in v))
            ]
            if not zone_keys:
                continue
            kept = {k: v for k, v in resources.items() if k not in zone_keys}
            kept.update({ZONE_PREFIX + z: "*" for z in self.zones})
            policy["resources"] = kept
        return body


@frozen(kw_only=True)
class RemoveResource(BodyStep):
    """Remove resource ``key`` from a policy. A repair: Cloudflare refuses the key (unreadable,
    or naming something deleted), so it goes even when the token is only disabled."""

    policy: int
    key: str
    label: str = field(default="", eq=False)

    def describe(self) -> str:
        return f"remove {self.label or self.key} from policy {self.policy}"

    def named(self, names: Names) -> RemoveResource:
        return evolve(self, label=names.key(self.key))

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        policy = _policy(body, self.policy)
        if policy is not None:
            resources = policy.get("resources") or {}
            policy["resources"] = {k: v for k, v in resources.items() if k != self.key}
        return body

    def merge(self, plan: FixPlan) -> None:
        plan.repair(self)


@frozen(kw_only=True)
class RemovePolicy(BodyStep):
    """Empty a policy whose groups fit none of its resources (:func:`drop_empty` removes it,
    after the other edits by index). A repair, like :class:`RemoveResource`."""

    policy: int

    def describe(self) -> str:
        return f"remove policy {self.policy} (its groups fit none of its resources)"

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        policy = _policy(body, self.policy)
        if policy is not None:
            policy["permission_groups"] = []
        return body

    def merge(self, plan: FixPlan) -> None:
        plan.repair(self)


def _remove_pair(body: dict[str, Any], index: int, gid: str, key: str) -> None:
    """Remove group ``gid`` on resource ``key`` from a policy, keeping the rest (the group's
    other resources move to a policy of their own)."""
    policy = _policy(body, index)
    if policy is None:
        return
    groups = policy.get("permission_groups") or []
    resources = dict(policy.get("resources") or {})
    if len(groups) <= 1:
        resources.pop(key, None)
        policy["resources"] = resources
        return
    policy["permission_groups"] = [g for g in groups if g.get("id") != gid]
    rest = {k: v for k, v in resources.items() if k != key}
    moved = [g for g in groups if g.get("id") == gid]
    if rest and moved:
        body["policies"].append(
            {"effect": policy.get("effect", "allow"), "permission_groups": moved, "resources": rest}
        )


@frozen(kw_only=True)
class RemovePair(BodyStep):
    """Remove one group on one resource of a policy (the group keeps its other resources)."""

    policy: int
    group_id: str
    key: str
    group: str = field(default="", eq=False)
    label: str = field(default="", eq=False)

    def describe(self) -> str:
        return (
            f"remove {self.group or self.group_id} on {self.label or self.key} "
            f"(policy {self.policy})"
        )

    def named(self, names: Names) -> RemovePair:
        return evolve(self, group=names.group(self.group_id).name, label=names.key(self.key))

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        _remove_pair(body, self.policy, self.group_id, self.key)
        return body


@frozen(kw_only=True)
class ReplacePair(BodyStep):
    """Grant one group of a policy on ``target`` instead of resource ``key``."""

    policy: int
    group_id: str
    key: str
    target: tuple[str, tuple[str, ...]]
    group: str = field(default="", eq=False)
    where: str = field(default="", eq=False)
    label: str = field(default="", eq=False)

    def describe(self) -> str:
        where = self.where or f"{self.target[0]} " + join(list(self.target[1]))
        return (
            f"grant {self.group or self.group_id} on {where} instead "
            f"of {self.label or self.key} (policy {self.policy})"
        )

    def named(self, names: Names) -> ReplacePair:
        return evolve(
            self,
            group=names.group(self.group_id).name,
            where=names.resources(resources_for(self.target)),
            label=names.key(self.key),
        )

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        policy = _policy(body, self.policy)
        effect = policy.get("effect", "allow") if policy is not None else "allow"
        groups = [
            g for g in (policy or {}).get("permission_groups") or [] if g.get("id") == self.group_id
        ]
        _remove_pair(body, self.policy, self.group_id, self.key)
        body["policies"].append(
            {
                "effect": effect,
                "permission_groups": groups or [{"id": self.group_id}],
                "resources": resources_for(self.target),
            }
        )
        return body


@frozen(kw_only=True)
class RenameGroup(BodyStep):
    """Write a group of a policy under its current catalogue name."""

    policy: int
    group_id: str
    name: str

    def describe(self) -> str:
        return (
            f"write the group {self.group_id} in policy {self.policy} under its current name "
            f"{self.name!r}"
        )

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        policy = _policy(body, self.policy)
        if policy is not None:
            for g in policy.get("permission_groups") or []:
                if g.get("id") == self.group_id:
                    g["name"] = self.name
        return body


@frozen(kw_only=True)
class MoveCondition(BodyStep):
    """A condition written inside a policy goes to the token (kept there if the token has one
    already: the token's own condition is what Cloudflare applies)."""

    policy: int

    def describe(self) -> str:
        return f"move policy {self.policy}'s condition to the token, where Cloudflare reads it"

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        policy = _policy(body, self.policy)
        if policy is None:
            return body
        moved = policy.pop("condition", None) or policy.pop("conditions", None)
        if moved and not body.get("condition"):
            body["condition"] = moved
        return body


# -- token-wide steps ----------------------------------------------------------------------------


@frozen(kw_only=True)
class SetAllowlist(BodyStep):
    """Set the IP allowlist (``condition.request.ip.in``), keeping a deny list."""

    allow: tuple[str, ...]
    deny: tuple[str, ...] = ()
    source: str = ""

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(c for c in self.allow if PLACEHOLDER_PREFIX in c)

    def describe(self) -> str:
        if self.placeholders:
            return (
                f"allow only your callers' IP ranges: replace {self.placeholders[0]} in the body "
                "with them (CIDRs)"
            )
        return "allow only " + join(list(self.allow)) + (f" ({self.source})" if self.source else "")

    def brief(self) -> str:
        if self.placeholders:
            return "add an IP allowlist (your CIDRs)"
        return f"allow only {len(self.allow)} address range{'s' if len(self.allow) > 1 else ''}"

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        ip: dict[str, Any] = {"in": list(self.allow)}
        if self.deny:
            ip["not_in"] = list(self.deny)
        body["condition"] = {"request.ip": ip}
        return body

    def merge(self, plan: FixPlan) -> None:
        """Every proposal is kept: the plan sets one allowlist from them."""
        plan.allowlists.append((self.allow, self.deny))


@frozen(kw_only=True)
class SetExpiry(BodyStep):
    """Set ``expires_on``."""

    expires_on: str
    reason: str = ""

    def describe(self) -> str:
        return f"expire on {self.expires_on[:10]}" + (f" ({self.reason})" if self.reason else "")

    def brief(self) -> str:
        return f"expire on {self.expires_on[:10]}"

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        body["expires_on"] = self.expires_on
        return body

    def merge(self, plan: FixPlan) -> None:
        """Every proposal is kept: the plan sets the earliest."""
        plan.expiries.append((self.expires_on, False))


def _last_use(last_used: str | None) -> str:
    return f"last used {last_used[:10]}" if last_used else "never used"


@frozen(kw_only=True)
class Disable(BodyStep):
    """Set the status to disabled (reversible, unlike a delete)."""

    last_used: str | None = None

    def describe(self) -> str:
        return f"disable the token ({_last_use(self.last_used)}; delete it once nothing breaks)"

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        body["status"] = "disabled"
        return body

    def merge(self, plan: FixPlan) -> None:
        plan.disable = True


@frozen(kw_only=True)
class RollSecret(Step):
    """A separate request after the PUT: a new secret (``PUT …/tokens/{id}/value``)."""

    path: str = ""

    def describe(self) -> str:
        path = self.path or "…/tokens/{id}"
        return f"roll the secret (PUT {path}/value) and update where it is stored"

    def brief(self) -> str:
        return "roll the secret"

    def merge(self, plan: FixPlan) -> None:
        plan.roll = True


@frozen(kw_only=True)
class DeleteToken(Step):
    """Delete the token (``DELETE …/tokens/{id}``)."""

    last_used: str | None = None
    reason: str = ""

    def describe(self) -> str:
        why = f"{self.reason}; " if self.reason else ""
        return f"delete the token ({why}{_last_use(self.last_used)})"

    def merge(self, plan: FixPlan) -> None:
        plan.delete = True


@frozen(kw_only=True)
class ReplaceFirst(Step):
    """Keep a token in use whole until a replacement exists: its findings alone would take
    every permission it holds, and nothing says which of them its callers need."""

    last_used: str
    groups: tuple[str, ...]
    usage_days: int

    def describe(self) -> str:
        return (
            f"keep its permissions for now: its findings would remove all of them "
            f"({join(list(self.groups))}), but it was {_last_use(self.last_used)}, within the "
            f"last {self.usage_days} days; audit with usage data (cft.audit(..., usage=True)) "
            "or right-size it (cft.rightsize) to learn what its callers need, create that "
            "replacement, then delete this token"
        )

    def brief(self) -> str:
        return f"in use ({_last_use(self.last_used)}): replace it before removing anything"


@frozen(kw_only=True)
class Recreate(Step):
    """Replace the token by new ones (split per job, a scoped token, an account-owned copy):
    the step of a planned :class:`Replacing` fix."""

    text: str

    def describe(self) -> str:
        return self.text


@frozen(kw_only=True)
class Replacement:
    """The request that replaces a token: ``method``/``path``/``body``, the step people read
    (None when no request can do it; ``summary`` then says why) and whether the body is one
    token spec."""

    method: str
    path: str
    body: Any
    summary: str = ""
    step: Recreate | None = None
    one_token: bool = False


class Replacing(Step):
    """A fix that replaces the whole token by new ones. It is planned only when no finding
    asks for an edit of the token itself (the first replacement proposed wins)."""

    def merge(self, plan: FixPlan) -> None:
        plan.recreate = plan.recreate or self

    def replacement(
        self,
        payload: Mapping[str, Any],
        *,
        kind: str,
        owner_id: str | None,
        path: str,
        names: Names,
    ) -> Replacement:
        raise NotImplementedError


@frozen(kw_only=True)
class SplitToken(Replacing):
    """Split the token into one token per job: ``parts`` are (label, group ids)."""

    parts: tuple[tuple[str, tuple[str, ...]], ...]

    def describe(self) -> str:
        return "split it into one token per job (" + join([p[0] for p in self.parts]) + ")"

    def replacement(
        self,
        payload: Mapping[str, Any],
        *,
        kind: str,
        owner_id: str | None,
        path: str,
        names: Names,
    ) -> Replacement:
        base = token_body(payload)
        bodies = []
        for label, gids in self.parts:
            part = copy.deepcopy(base)
            part["name"] = f"{payload.get('name', 'token')} ({label})"[:120]
            for policy in part["policies"]:
                policy["permission_groups"] = [
                    g for g in policy.get("permission_groups") or [] if g.get("id") in gids
                ]
            drop_empty(part)
            bodies.append(part)
        create = (
            f"/accounts/{owner_id}/tokens" if kind == "account" and owner_id else "/user/tokens"
        )
        step = Recreate(text=f"create {len(bodies)} tokens (one per job), then DELETE {path}")
        return Replacement(method="POST", path=create, body=bodies, step=step)


@frozen(kw_only=True)
class CreateScopedToken(Replacing):
    """Create a scoped token (``body``) for the calls made with the Global API Key."""

    body: dict[str, Any] = field(eq=False)

    def describe(self) -> str:
        return "create a scoped token for the calls made with the Global API Key"

    def replacement(
        self,
        payload: Mapping[str, Any],
        *,
        kind: str,
        owner_id: str | None,
        path: str,
        names: Names,
    ) -> Replacement:
        step = Recreate(text=self.describe())
        return Replacement(
            method="POST", path="/user/tokens", body=self.body, step=step, one_token=True
        )


@frozen(kw_only=True)
class MoveToAccount(Replacing):
    """Replace a user-owned token by an account-owned copy on ``account``."""

    account: str

    def describe(self) -> str:
        return f"create an account-owned copy on {self.account}, then delete this token"

    def replacement(
        self,
        payload: Mapping[str, Any],
        *,
        kind: str,
        owner_id: str | None,
        path: str,
        names: Names,
    ) -> Replacement:
        body = token_body(payload)
        body.pop("status", None)
        blocker = _as_account_owned(body, self.account, names.directory)
        on = names.account(self.account)
        if blocker is not None:
            return Replacement(
                method="GET",
                path=path,
                body=None,
                summary=(
                    f"no request: an account-owned copy on {on} cannot hold "
                    f"{blocker}; create an account-owned token for the job "
                    "(cftokens.least_privilege), switch the job to it, then delete this one"
                ),
            )
        step = Recreate(text=f"create an account-owned copy on {on}, then DELETE {path}")
        return Replacement(
            method="POST",
            path=f"/accounts/{self.account}/tokens",
            body=body,
            step=step,
            one_token=True,
        )


def _as_account_owned(body: dict[str, Any], account: str, directory: Any) -> str | None:
    """Rewrite a user token's policies for an account-owned copy on ``account``: zone keys
    nested under the account, as Cloudflare requires of account-owned tokens. Returns what the
    copy cannot hold (grants on the user, other accounts, zones of other accounts), else None."""
    own = ACCOUNT_PREFIX + account
    extra: list[dict[str, Any]] = []
    for policy in body.get("policies") or []:
        nested: dict[str, Any] = {}
        kept: dict[str, Any] = {}
        for key, value in (policy.get("resources") or {}).items():
            if key.startswith(USER_PREFIX):
                return "grants on the user (the tokens API of a person)"
            if key in (ALL_ZONES_KEY, ALL_ACCOUNTS_KEY):
                return "grants on every account"
            if key.startswith(ZONE_PREFIX):
                zone = key[len(ZONE_PREFIX) :]
                found = directory.zone_account(zone) if directory is not None else None
                if found != account:
                    return f"{_describe_key(key, directory)} of another account"
                nested[key] = value
            elif key == own and isinstance(value, Mapping):
                nested.update(value)
            elif key == own:
                kept[key] = value
            else:
                return f"{_describe_key(key, directory)} (another account)"
        if nested and own in kept:  # an account grant and zone grants: two policies
            extra.append({**policy, "resources": {own: nested}})
            extra[-1].pop("id", None)
        elif nested:
            kept[own] = nested
        policy["resources"] = kept
    body["policies"].extend(extra)
    return None


def _describe_key(key: str, directory: Any) -> str:
    try:
        return " ".join(a.describe(directory) for a in Resource.from_api({key: "*"}))
    except Exception:
        return key


def placeholders_in(value: Any) -> tuple[str, ...]:
    """Every ``REPLACE-WITH-…`` string inside a JSON-like value."""
    found: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, str):
            if PLACEHOLDER_PREFIX in item:
                found.append(item)
        elif isinstance(item, Mapping):
            for k, v in item.items():
                walk(k)
                walk(v)
        elif isinstance(item, list | tuple):
            for v in item:
                walk(v)

    walk(value)
    return tuple(dict.fromkeys(found))
