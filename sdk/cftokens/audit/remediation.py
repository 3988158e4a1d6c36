"""Remediation: a finding's fix as the concrete API request (method, path, body) to apply.

Rules describe fixes as small tuples (``("remove_group", 2, group_id)``, ``("set_expiry",
"2027-01-01T00:00:00Z")`` …); :func:`apply_fixes` turns them into the PUT body of the token with
the change applied, which :class:`Remediation` pairs with the path and, where the body is a
valid spec, a :class:`~cftokens.TokenSpec`. Values that cannot be known from the inventory
(your callers' IP ranges, the zone a job needs) are written as ``REPLACE-WITH-…`` placeholders
and the remediation says it is ``complete=False``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

from attrs import frozen

from ..model.resources import ACCOUNT_PREFIX, ALL_ZONES_KEY, ZONE_PREFIX
from ..model.token import TokenSpec

__all__ = ["Remediation", "apply_fixes"]

_SERVER_FIELDS = ("id", "issued_on", "modified_on", "last_used_on", "value", "terraform_address")


@frozen(kw_only=True)
class Remediation:
    """The request that applies a fix: ``method``, ``path``, ``body`` (JSON-ready or None).

    ``spec`` is the body as a :class:`~cftokens.TokenSpec` when it is one (None for deletes,
    rolls and bodies with placeholders); ``complete`` is False when the body holds
    ``REPLACE-WITH-…`` placeholders you must fill in; ``summary`` says what changes.
    """

    method: str
    path: str
    body: Any
    summary: str
    complete: bool = True
    spec: TokenSpec | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (reports)."""
        return {
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "summary": self.summary,
            "complete": self.complete,
        }

    def __str__(self) -> str:
        body = "" if self.body is None else "\n" + json.dumps(self.body, indent=2)
        return f"{self.method} {self.path}{body}"


def token_path(token_id: str, kind: str, owner_id: str | None) -> str:
    """The API path of a token (user-owned or account-owned)."""
    if kind == "account" and owner_id:
        return f"/accounts/{owner_id}/tokens/{token_id}"
    return f"/user/tokens/{token_id}"


def _body(payload: Mapping[str, Any]) -> dict[str, Any]:
    body = {k: copy.deepcopy(v) for k, v in payload.items() if k not in _SERVER_FIELDS}
    body.setdefault("name", payload.get("name", ""))
    body.setdefault("policies", [])
    return body


def _resources_for(spec: tuple[str, tuple[str, ...]]) -> dict[str, Any]:
    what, ids = spec
    if what == "zones":
        return {ZONE_PREFIX + z: "*" for z in ids}
    if what == "accounts":
        return {ACCOUNT_PREFIX + a: "*" for a in ids}
    if what == "all_zones_of":
        return {ACCOUNT_PREFIX + a: {ALL_ZONES_KEY: "*"} for a in ids}
    raise ValueError(what)


def _policy(body: dict[str, Any], index: int) -> dict[str, Any] | None:
    policies = body.get("policies") or []
    if 1 <= index <= len(policies):
        policy: dict[str, Any] = policies[index - 1]
        return policy
    return None


def _drop_empty(body: dict[str, Any]) -> None:
    body["policies"] = [
        p for p in body.get("policies") or [] if p.get("permission_groups") and p.get("resources")
    ]


def _remove_group(body: dict[str, Any], index: int, gid: str) -> None:
    policy = _policy(body, index)
    if policy is not None:
        policy["permission_groups"] = [
            g for g in policy.get("permission_groups") or [] if g.get("id") != gid
        ]


def _remove_pair(body: dict[str, Any], index: int, gid: str, key: str) -> dict[str, Any] | None:
    """Remove group ``gid`` on resource ``key`` from a policy, keeping the rest; returns the
    policy split off for the group's other resources (already appended)."""
    policy = _policy(body, index)
    if policy is None:
        return None
    groups = policy.get("permission_groups") or []
    resources = dict(policy.get("resources") or {})
    if len(groups) <= 1:
        resources.pop(key, None)
        policy["resources"] = resources
        return None
    policy["permission_groups"] = [g for g in groups if g.get("id") != gid]
    rest = {k: v for k, v in resources.items() if k != key}
    moved = [g for g in groups if g.get("id") == gid]
    if rest and moved:
        extra = {
            "effect": policy.get("effect", "allow"),
            "permission_groups": moved,
            "resources": rest,
        }
        body["policies"].append(extra)
        return extra
    return None


def _apply(body: dict[str, Any], fix: tuple[Any, ...], kind: str) -> tuple[str, str]:
    """Apply one fix to ``body``; returns (method override or '', summary)."""
    op = fix[0]
    if op == "remove_group":
        _, index, gid = fix
        _remove_group(body, index, gid)
        return "", f"remove group {gid} from policy {index}"
    if op == "replace_group":
        _, index, old, new, name = fix
        policy = _policy(body, index)
        if policy is not None:
            policy["permission_groups"] = [
                {"id": new, "name": name} if g.get("id") == old else g
                for g in policy.get("permission_groups") or []
            ]
        return "", f"replace group {old} with {name} in policy {index}"
    if op == "rename_group":
        _, index, gid, name = fix
        policy = _policy(body, index)
        if policy is not None:
            for g in policy.get("permission_groups") or []:
                if g.get("id") == gid:
                    g["name"] = name
        return "", f"rename group {gid} to {name!r} in policy {index}"
    if op == "narrow":
        _, index, key, spec = fix
        policy = _policy(body, index)
        if policy is not None:
            resources = {k: v for k, v in (policy.get("resources") or {}).items() if k != key}
            resources.update(_resources_for(spec))
            policy["resources"] = resources
        return "", f"replace {key} in policy {index} with {', '.join(spec[1])}"
    if op == "restrict_zones":
        zones = fix[1]
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
            kept.update({ZONE_PREFIX + z: "*" for z in zones})
            policy["resources"] = kept
        return "", f"limit zone grants to {', '.join(zones)}"
    if op == "remove_resource":
        _, index, key = fix
        policy = _policy(body, index)
        if policy is not None:
            policy["resources"] = {
                k: v for k, v in (policy.get("resources") or {}).items() if k != key
            }
        return "", f"remove resource {key} from policy {index}"
    if op == "remove_pair":
        _, index, gid, key = fix
        _remove_pair(body, index, gid, key)
        return "", f"remove group {gid} on {key} from policy {index}"
    if op == "replace_pair":
        _, index, gid, key, spec = fix
        policy = _policy(body, index)
        effect = policy.get("effect", "allow") if policy is not None else "allow"
        groups = [g for g in (policy or {}).get("permission_groups") or [] if g.get("id") == gid]
        _remove_pair(body, index, gid, key)
        body["policies"].append(
            {
                "effect": effect,
                "permission_groups": groups or [{"id": gid}],
                "resources": _resources_for(spec),
            }
        )
        return "", f"grant group {gid} on {', '.join(spec[1])} (nested form) instead of {key}"
    if op == "set_expiry":
        body["expires_on"] = fix[1]
        return "", f"set expires_on to {fix[1]}"
    if op == "set_ip":
        _, allow, deny = fix
        ip: dict[str, Any] = {"in": list(allow)}
        if deny:
            ip["not_in"] = list(deny)
        body["condition"] = {"request.ip": ip}
        return "", f"set the IP allowlist to {', '.join(allow)}"
    if op == "restrict":
        # expiry or allow None: the token already has it (kept, never loosened)
        _, expiry, allow = fix
        done = []
        if expiry:
            body["expires_on"] = expiry
            done.append(f"expire on {expiry}")
        if allow:
            body["condition"] = {"request.ip": {"in": list(allow)}}
            done.append(f"allow only {', '.join(allow)}")
        return "", " and ".join(done) or "no change"
    if op == "isolate_minting":
        _, keep, expiry, allow = fix
        for policy in body.get("policies") or []:
            policy["permission_groups"] = [
                g for g in policy.get("permission_groups") or [] if g.get("id") in keep
            ]
        done = ["keep only the token-API groups"]
        if expiry:
            body["expires_on"] = expiry
            done.append(f"expire on {expiry}")
        if allow:
            body["condition"] = {"request.ip": {"in": list(allow)}}
            done.append("add an IP allowlist")
        return "", ", ".join(done)
    if op == "disable":
        body["status"] = "disabled"
        return "", "set status to disabled"
    if op == "roll":
        return "ROLL", "roll the secret"
    if op == "delete":
        return "DELETE", "delete the token"
    raise ValueError(f"unknown fix {op!r}")


def _complete(value: Any) -> bool:
    return "REPLACE-WITH-" not in json.dumps(value)


def apply_fixes(
    payload: Mapping[str, Any],
    fixes: Sequence[tuple[Any, ...]],
    *,
    kind: str,
    owner_id: str | None,
) -> Remediation:
    """The request that applies ``fixes`` to a token (given as its API dict)."""
    token_id = str(payload.get("id"))
    path = token_path(token_id, kind, owner_id)
    if not fixes:
        return Remediation(method="GET", path=path, body=None, summary="no change")
    first = fixes[0][0]
    if first == "split":
        parts = fixes[0][1]
        base = _body(payload)
        bodies = []
        for label, gids in parts:
            part = copy.deepcopy(base)
            part["name"] = f"{payload.get('name', 'token')} ({label})"[:120]
            for policy in part["policies"]:
                policy["permission_groups"] = [
                    g for g in policy.get("permission_groups") or [] if g.get("id") in gids
                ]
            _drop_empty(part)
            bodies.append(part)
        create = (
            f"/accounts/{owner_id}/tokens" if kind == "account" and owner_id else ("/user/tokens")
        )
        return Remediation(
            method="POST",
            path=create,
            body=bodies,
            summary=f"create {len(bodies)} tokens (one per job), then DELETE {path}",
            complete=_complete(bodies),
        )
    if first == "create_token":
        body = fixes[0][1]
        return Remediation(
            method="POST",
            path="/user/tokens",
            body=body,
            summary="create a scoped token for the calls made with the Global API Key",
            complete=_complete(body),
            spec=_spec(body),
        )
    if first == "move_to_account":
        account = fixes[0][1]
        body = _body(payload)
        body.pop("status", None)
        return Remediation(
            method="POST",
            path=f"/accounts/{account}/tokens",
            body=body,
            summary=f"create an account-owned copy on account {account}, then DELETE {path}",
            complete=_complete(body),
            spec=_spec(body),
        )
    body = _body(payload)
    summaries = []
    method = "PUT"
    for fix in fixes:
        override, summary = _apply(body, fix, kind)
        summaries.append(summary)
        if override == "DELETE":
            return Remediation(method="DELETE", path=path, body=None, summary=summary)
        if override == "ROLL":
            method = "ROLL"
    if method == "ROLL" and len(fixes) == 1:
        return Remediation(method="PUT", path=path + "/value", body={}, summary=summaries[0])
    had_policies = bool(payload.get("policies"))
    _drop_empty(body)
    if had_policies and not body["policies"]:
        # Cloudflare refuses a token without policies; say what the edits amount to instead
        return Remediation(
            method="PUT",
            path=path,
            body=body,
            summary="; ".join(summaries)
            + "; this leaves the token no permission at all: delete it instead, or keep the "
            "groups its job needs",
            complete=False,
        )
    return Remediation(
        method="PUT",
        path=path,
        body=body,
        summary="; ".join(summaries),
        complete=_complete(body),
        spec=_spec(body),
    )


def _spec(body: Any) -> TokenSpec | None:
    if not isinstance(body, Mapping) or not _complete(body):
        return None
    try:
        return TokenSpec.from_api(body)
    except Exception:
        return None
