"""The steps of a token's fix: typed, each with ``describe()`` (one line for people) and, for the
steps that change the token, ``apply(body)`` (edits a PUT body in place).

A fix (:class:`~cftokens.audit.Remediation`) is an ordered tuple of these steps. Steps name
permission groups and resources by name; the ids only appear in the body. Values only you know
(your callers' IP ranges, the zone a job needs) are ``REPLACE-WITH-…`` placeholders, and the
step says which one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from attrs import field, frozen

from ..model.resources import ACCOUNT_PREFIX, ALL_ZONES_KEY, ZONE_PREFIX, Resource

__all__ = [
    "PLACEHOLDER_PREFIX",
    "BodyStep",
    "DeleteToken",
    "Disable",
    "DowngradeGroups",
    "EditPolicy",
    "GroupRef",
    "KeepOnlyGroups",
    "NarrowGroups",
    "NarrowResources",
    "Recreate",
    "RemoveGroups",
    "ReplaceFirst",
    "RollSecret",
    "SetAllowlist",
    "SetExpiry",
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
    """A step that edits the token's PUT body."""

    def apply(self, body: dict[str, Any]) -> None:
        raise NotImplementedError


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

    def apply(self, body: dict[str, Any]) -> None:
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

    def apply(self, body: dict[str, Any]) -> None:
        for n in self.items:
            _strip(body, n.group.id)
            _grant(body, n.group, Resource.to_api(n.resources))


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

    def apply(self, body: dict[str, Any]) -> None:
        for n in self.items:
            for policy in _allow_policies(body, (n.policy,)):
                resources = {k: v for k, v in (policy.get("resources") or {}).items() if k != n.key}
                resources.update(resources_for(n.target))
                policy["resources"] = resources


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

    def apply(self, body: dict[str, Any]) -> None:
        for group, policies in zip(self.groups, self.policies, strict=True):
            _strip(body, group.id, policies)


@frozen(kw_only=True)
class KeepOnlyGroups(BodyStep):
    """Keep only these groups (a dedicated minting token)."""

    groups: tuple[GroupRef, ...]

    def describe(self) -> str:
        return "keep only " + join([g.name for g in self.groups]) + " (a token for minting only)"

    def brief(self) -> str:
        return "keep only the token-API groups"

    def apply(self, body: dict[str, Any]) -> None:
        keep = {g.id for g in self.groups}
        for policy in body.get("policies") or []:
            policy["permission_groups"] = [
                g for g in policy.get("permission_groups") or [] if g.get("id") in keep
            ]


@frozen(kw_only=True)
class EditPolicy(BodyStep):
    """A policy edit of a rule (a resource or a group on one resource), described by name."""

    text: str
    edit: Callable[[dict[str, Any]], None] = field(eq=False, repr=False)
    needs: tuple[str, ...] = ()

    def describe(self) -> str:
        return self.text

    @property
    def placeholders(self) -> tuple[str, ...]:
        return self.needs

    def apply(self, body: dict[str, Any]) -> None:
        self.edit(body)


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

    def apply(self, body: dict[str, Any]) -> None:
        ip: dict[str, Any] = {"in": list(self.allow)}
        if self.deny:
            ip["not_in"] = list(self.deny)
        body["condition"] = {"request.ip": ip}


@frozen(kw_only=True)
class SetExpiry(BodyStep):
    """Set ``expires_on``."""

    expires_on: str
    reason: str = ""

    def describe(self) -> str:
        return f"expire on {self.expires_on[:10]}" + (f" ({self.reason})" if self.reason else "")

    def brief(self) -> str:
        return f"expire on {self.expires_on[:10]}"

    def apply(self, body: dict[str, Any]) -> None:
        body["expires_on"] = self.expires_on


def _last_use(last_used: str | None) -> str:
    return f"last used {last_used[:10]}" if last_used else "never used"


@frozen(kw_only=True)
class Disable(BodyStep):
    """Set the status to disabled (reversible, unlike a delete)."""

    last_used: str | None = None

    def describe(self) -> str:
        return f"disable the token ({_last_use(self.last_used)}; delete it once nothing breaks)"

    def apply(self, body: dict[str, Any]) -> None:
        body["status"] = "disabled"


@frozen(kw_only=True)
class RollSecret(Step):
    """A separate request after the PUT: a new secret (``PUT …/tokens/{id}/value``)."""

    path: str

    def describe(self) -> str:
        return f"roll the secret (PUT {self.path}/value) and update where it is stored"

    def brief(self) -> str:
        return "roll the secret"


@frozen(kw_only=True)
class DeleteToken(Step):
    """Delete the token (``DELETE …/tokens/{id}``)."""

    last_used: str | None
    reason: str = ""

    def describe(self) -> str:
        why = f"{self.reason}; " if self.reason else ""
        return f"delete the token ({why}{_last_use(self.last_used)})"


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
    """Replace the token by new ones (split per job, a scoped token, an account-owned copy)."""

    text: str

    def describe(self) -> str:
        return self.text


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
