"""Steps that change which groups a token holds: downgrades, narrowings, removals, the minting
token's limits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attrs import evolve, frozen

from ...model.resources import (
    Resource,
)

if TYPE_CHECKING:
    from ..remediation import FixPlan

from .base import (
    PLACEHOLDER_PREFIX,
    BodyStep,
    GroupRef,
    Target,
    allow_policies,
    grant_group,
    groups_of,
    join,
    kept_groups,
    names_group,
    strip_group,
    without_group,
)
from .token import SetAllowlist, SetExpiry

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
                for policy in allow_policies(body, (d.policy,)):
                    groups: list[Any] = []
                    for g in groups_of(policy):  # (an entry naming others too keeps them)
                        named = names_group(g, d.frm.id)
                        groups += [*without_group(g, d.frm.id), d.to.wire()] if named else [g]
                    policy["permission_groups"] = groups
                continue
            strip_group(body, d.frm.id)
            grant_group(body, d.to, Resource.to_api(d.resources))
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
            strip_group(body, n.group.id)
            grant_group(body, n.group, Resource.to_api(n.resources))
        return body


@frozen
class ResourceNarrowing:
    """In ``policy``, the resource ``key`` becomes ``target`` (a rule's narrowing)."""

    policy: int
    key: str
    target: Target
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
            dict.fromkeys(i for n in self.items for i in n.target.ids if PLACEHOLDER_PREFIX in i)
        )

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        for n in self.items:
            for policy in allow_policies(body, (n.policy,)):
                resources = {k: v for k, v in (policy.get("resources") or {}).items() if k != n.key}
                resources.update(n.target.wire())
                policy["resources"] = resources
        return body

    def merge(self, plan: FixPlan) -> None:
        """One narrowing per policy and resource key; usage decides otherwise."""
        if plan.grants_from_usage:
            return
        names = plan.names
        for n in self.items:
            plan.narrowings[(n.policy, n.key)] = evolve(
                n,
                before=names.key(n.key),
                after=names.resources(n.target.wire())
                if not any(PLACEHOLDER_PREFIX in i for i in n.target.ids)
                else "the " + n.target.noun + " it needs",
            )

    @classmethod
    def one(cls, policy: int, key: str, target: Target) -> NarrowResources:
        """A rule's narrowing of one resource key (named by id until a plan names it)."""
        after = f"{target.noun} " + join(list(target.ids))
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
            strip_group(body, group.id, policies)
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
            policy["permission_groups"] = kept_groups(groups_of(policy), keep)
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
