"""A rule's edit of one policy (a resource, a group on a resource, a name, a misplaced
condition); ``named`` fills in the labels people read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from attrs import evolve, field, frozen

from ...model.resources import (
    ZONE_PREFIX,
)

if TYPE_CHECKING:
    from ..remediation import FixPlan, Names

from .base import (
    BodyStep,
    Target,
    entry_ids,
    groups_of,
    join,
    names_group,
    only_group,
    policy_at,
    without_group,
)

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
        policy = policy_at(body, self.policy)
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
        policy = policy_at(body, self.policy)
        if policy is not None:
            policy["permission_groups"] = []
        return body

    def merge(self, plan: FixPlan) -> None:
        plan.repair(self)


def _remove_pair(body: dict[str, Any], index: int, gid: str, key: str) -> None:
    """Remove group ``gid`` on resource ``key`` from a policy, keeping the rest (the group's
    other resources move to a policy of their own)."""
    policy = policy_at(body, index)
    if policy is None:
        return
    groups = groups_of(policy)
    resources = dict(policy.get("resources") or {})
    others = [kept for g in groups for kept in without_group(g, gid)]
    if not others:  # the policy holds only that group: the key goes
        resources.pop(key, None)
        policy["resources"] = resources
        return
    policy["permission_groups"] = others  # (an entry naming others too keeps them)
    rest = {k: v for k, v in resources.items() if k != key}
    moved = [only_group(g, gid) for g in groups if names_group(g, gid)]
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
    target: Target
    group: str = field(default="", eq=False)
    where: str = field(default="", eq=False)
    label: str = field(default="", eq=False)

    def describe(self) -> str:
        where = self.where or f"{self.target.noun} " + join(list(self.target.ids))
        return (
            f"grant {self.group or self.group_id} on {where} instead "
            f"of {self.label or self.key} (policy {self.policy})"
        )

    def named(self, names: Names) -> ReplacePair:
        return evolve(
            self,
            group=names.group(self.group_id).name,
            where=names.resources(self.target.wire()),
            label=names.key(self.key),
        )

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        policy = policy_at(body, self.policy)
        effect = policy.get("effect", "allow") if policy is not None else "allow"
        groups = [
            only_group(g, self.group_id)
            for g in groups_of(policy or {})
            if names_group(g, self.group_id)
        ]
        _remove_pair(body, self.policy, self.group_id, self.key)
        body["policies"].append(
            {
                "effect": effect,
                "permission_groups": groups or [{"id": self.group_id}],
                "resources": self.target.wire(),
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
        policy = policy_at(body, self.policy)
        if policy is None:
            return body
        out: list[Any] = []
        split = False
        for g in groups_of(policy):
            if isinstance(g, dict) and names_group(g, self.group_id):
                if entry_ids(g) == {self.group_id}:
                    g["name"] = self.name
                else:  # a name meaning other groups too: they stay, this one is split out
                    out += without_group(g, self.group_id)
                    g, split = {"id": self.group_id, "name": self.name}, True
            out.append(g)
        if split:
            policy["permission_groups"] = out
        return body


@frozen(kw_only=True)
class MoveCondition(BodyStep):
    """A condition written inside a policy goes to the token (kept there if the token has one
    already: the token's own condition is what Cloudflare applies)."""

    policy: int

    def describe(self) -> str:
        return f"move policy {self.policy}'s condition to the token, where Cloudflare reads it"

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        policy = policy_at(body, self.policy)
        if policy is None:
            return body
        moved = policy.pop("condition", None) or policy.pop("conditions", None)
        if moved and not body.get("condition"):
            body["condition"] = moved
        return body
