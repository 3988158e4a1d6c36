"""What every step is (:class:`Step`, :class:`BodyStep`, :class:`GroupRef`) and the helpers
that edit a token's PUT body."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self

from attrs import frozen

from ..._ids import is_id
from ...catalog import permission_groups
from ...model.resources import (
    ACCOUNT_PREFIX,
    ALL_ZONES_KEY,
    ZONE_PREFIX,
)

if TYPE_CHECKING:
    from ..remediation import FixPlan, Names

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


def groups_of(policy: Mapping[str, Any]) -> list[Any]:
    """A policy's permission group entries as a list (one object or text given alone is a
    list of one, as the audit reads it)."""
    groups = policy.get("permission_groups")
    if isinstance(groups, str | Mapping):
        return [groups]
    return list(groups) if isinstance(groups, list) else []


def entry_ids(entry: object) -> frozenset[str]:
    """The ids of the groups a policy's group entry means, as the audit reads it: an object's
    id; a name or id written as text, or an object with a malformed id or only a name,
    through the catalogue (every scope's group of that name); the text itself when the
    catalogue has no such group. Steps compare entries by these, so a fix finds a group
    however the definition wrote it (CFT-LN-04 reports the spelling)."""
    if isinstance(entry, Mapping):
        gid, name = entry.get("id"), entry.get("name")
        if type(gid) is str and is_id(gid) and gid == gid.lower():
            return frozenset((gid,))
        text = gid if isinstance(gid, str) and gid.strip() else name
    else:
        text = entry
    if not isinstance(text, str) or not text.strip():
        return frozenset()
    if is_id(text.strip().lower()):
        return frozenset((text.strip().lower(),))
    return frozenset(g.id for g in permission_groups.written(text)) or frozenset((text,))


def names_group(entry: object, gid: str) -> bool:
    """Whether a policy's group entry means group ``gid`` (:func:`entry_ids`)."""
    return gid in entry_ids(entry)


def without_group(entry: object, gid: str) -> list[Any]:
    """A policy's group entry without group ``gid``, as entries: the entry itself when it does
    not mean ``gid``; none when it means only ``gid``; else each other group it means, in the
    API's object form (``{"id": …}``): a name written as text names a group in each of its
    scopes ("Logs Write": the account's and the zone's), and a fix that removes one of them
    must keep the others."""
    ids = entry_ids(entry)
    if gid not in ids:
        return [entry]
    return [{"id": other} for other in sorted(ids - {gid})]


def only_group(entry: object, gid: str) -> Any:
    """The part of a group entry meaning ``gid`` (it must): the entry itself when that is all
    it means, else ``{"id": gid}``."""
    return entry if entry_ids(entry) == {gid} else {"id": gid}


def kept_groups(groups: list[Any], keep: set[str] | frozenset[str]) -> list[Any]:
    """The group entries that mean only groups of ``keep``; an entry meaning some of them and
    others (a name written as text, in several scopes) is replaced by those it keeps."""
    out: list[Any] = []
    for entry in groups:
        ids = entry_ids(entry)
        if ids and ids <= keep:
            out.append(entry)
        else:
            out.extend({"id": gid} for gid in sorted(ids & keep))
    return out


def allow_policies(body: dict[str, Any], policies: tuple[int, ...] | None) -> list[dict[str, Any]]:
    out = []
    for index, policy in enumerate(body.get("policies") or [], start=1):
        if policies is not None and index not in policies:
            continue
        if isinstance(policy, dict) and policy.get("effect", "allow") == "allow":
            out.append(policy)
    return out


def strip_group(body: dict[str, Any], gid: str, policies: tuple[int, ...] | None = None) -> None:
    """Remove group ``gid`` from the allow policies (``policies``, or all), keeping every other
    group an entry means (:func:`without_group`)."""
    for policy in allow_policies(body, policies):
        policy["permission_groups"] = [
            kept for g in groups_of(policy) for kept in without_group(g, gid)
        ]


def grant_group(body: dict[str, Any], group: GroupRef, resources: dict[str, Any]) -> None:
    """Allow ``group`` on ``resources``: in the allow policy naming exactly those resources
    (appended when there is none)."""
    for policy in body.setdefault("policies", []):
        if policy.get("effect", "allow") == "allow" and policy.get("resources") == resources:
            groups = policy["permission_groups"] = groups_of(policy)
            if not any(names_group(g, group.id) for g in groups):
                groups.append(group.wire())
            return
    body["policies"].append(
        {"effect": "allow", "permission_groups": [group.wire()], "resources": resources}
    )


@frozen
class Target:
    """Where a narrowed grant goes (a rule's proposal): ``ids`` of zones or accounts;
    ``wire()`` is the resources it stands for, ``noun`` what people read."""

    ids: tuple[str, ...]
    noun: ClassVar[str] = "resources"

    def wire(self) -> dict[str, Any]:
        raise NotImplementedError


@frozen
class NamedZones(Target):
    """These zones."""

    noun: ClassVar[str] = "zones"

    def wire(self) -> dict[str, Any]:
        return {ZONE_PREFIX + z: "*" for z in self.ids}


@frozen
class NamedAccounts(Target):
    """These accounts."""

    noun: ClassVar[str] = "accounts"

    def wire(self) -> dict[str, Any]:
        return {ACCOUNT_PREFIX + a: "*" for a in self.ids}


@frozen
class ZonesOfAccounts(Target):
    """Every zone of these accounts (the nested form)."""

    noun: ClassVar[str] = "zones of accounts"

    def wire(self) -> dict[str, Any]:
        return {ACCOUNT_PREFIX + a: {ALL_ZONES_KEY: "*"} for a in self.ids}


def drop_empty(body: dict[str, Any]) -> None:
    """Remove policies left with no group or no resource."""
    body["policies"] = [
        p for p in body.get("policies") or [] if p.get("permission_groups") and p.get("resources")
    ]


# the fields the server sets, and the audit's own marks on a token's dict (never sent)
_SERVER_FIELDS = (
    "id",
    "issued_on",
    "modified_on",
    "last_used_on",
    "value",
    "terraform_address",
    "cftokens_name_redacted",  # audit.records.NAME_REDACTED_KEY (an import: a cycle)
)


def token_body(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a token's API dict without the fields the server sets (a PUT or POST body).

    A policy's resources written as JSON text of an object (which the audit reads decoded and
    reports: CFT-LN-04) are that object in the body, as the steps edit them and Cloudflare
    takes them."""
    body = {k: copy.deepcopy(v) for k, v in payload.items() if k not in _SERVER_FIELDS}
    body.setdefault("name", payload.get("name", ""))
    body.setdefault("policies", [])
    for policy in body["policies"] if type(body["policies"]) is list else ():
        resources = policy.get("resources") if isinstance(policy, dict) else None
        if isinstance(resources, str):
            try:
                decoded = json.loads(resources)
            except ValueError:  # (the audit could not read such a token: no fix is planned)
                continue
            if isinstance(decoded, dict):
                policy["resources"] = decoded
    return body


def policy_at(body: dict[str, Any], index: int) -> dict[str, Any] | None:
    """Policy ``index`` (1-based, as findings number them) of a body, or None."""
    policies = body.get("policies") or []
    if 1 <= index <= len(policies):
        policy: dict[str, Any] = policies[index - 1]
        return policy
    return None


def last_use(last_used: str | None) -> str:
    """``last used 2026-11-01`` or ``never used``."""
    return f"last used {last_used[:10]}" if last_used else "never used"


def placeholders_in(value: object) -> tuple[str, ...]:
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
