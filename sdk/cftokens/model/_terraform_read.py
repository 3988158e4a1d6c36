"""Tokens declared in Terraform: ``cloudflare_api_token`` and ``cloudflare_account_token``.

Reads, from the root module and every child module:

- ``.tf`` files and directories (HCL, see :mod:`cftokens.model._hcl`; needs the ``terraform``
  extra), with ``terraform.tfvars``, ``*.auto.tfvars`` and any ``var_files``;
- the JSON of ``terraform show -json <plan>`` (``planned_values``, with ``resource_changes``'
  ``after_unknown`` marking values known only after apply), of ``terraform show -json`` on a
  state (``values``), or a raw ``terraform.tfstate`` (``resources[].instances[]``).

Attribute shapes of the Cloudflare provider: v5 ``policies`` (a list of ``{effect,
permission_groups: [{id}], resources}``, ``resources`` a map of keys to ``"*"`` or to a nested
map, either part possibly JSON-encoded with ``jsonencode``), v4 ``policy {}`` blocks
(``permission_groups`` a list of ids), ``condition`` (``{request_ip: {in, not_in}}`` or v4
blocks), ``expires_on``, ``not_before``, ``status``; ``cloudflare_account_token`` carries
``account_id`` (its owner).

**Unknown values are judged at their worst, never as "no grant".** A resource id known only
after apply (``com.cloudflare.api.account.zone.${cloudflare_zone.x.id}``, a whole ``resources``
map unknown in a plan, ``var.zone_id`` without a value) stands for one concrete resource of
its scope: every rule sees one zone (or account, or user), and findings name it "…, resource
known only after apply". A key that is unknown as a whole is read as the widest key of the
policy's scopes (all zones, all accounts), a nested value that is unknown as all zones of that
account: never narrower than the text allows. An unknown IP range, expiry or start is left
out (no allowlist, no expiry: the worst reading). Permission groups that cannot be known
offline make the token a gap (it is not judged, and a gate must not pass on it).

Tokens not created yet have no id: a stable one is derived from the resource address, and no
``issued_on``: the audit's now stands in (:meth:`cftokens.Audit.from_terraform`, which builds
an audit from what :func:`read` returns). The secret ``value`` attribute of a state is never
read. Every malformed value raises :class:`InvalidInput` naming its place in the document.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from ..catalog.groups import permission_groups
from ..errors import InvalidInput
from ._hcl import UNREAD_MODULE, is_tfvars, read_configuration
from ._hclexpr import Template, Unknown, has_unknown
from .resources import (
    ACCOUNT_PREFIX,
    ALL_ACCOUNTS_KEY,
    ALL_ZONES_KEY,
    USER_PREFIX,
    ZONE_PREFIX,
)

__all__ = [
    "PENDING_KEY",
    "UNKNOWN_KEY",
    "UNREAD_MODULE",
    "DeclaredToken",
    "declared_tokens",
    "read",
    "read_configuration",
    "to_token",
]

TYPES = ("cloudflare_api_token", "cloudflare_account_token")
PENDING_KEY = "terraform_pending"  # token dict key: placeholder id -> what it stands for
UNKNOWN_KEY = "terraform_unknown"  # token dict key: restrictions known only after apply
_PREFIXES = ((ZONE_PREFIX, "zone"), (ACCOUNT_PREFIX, "account"), (USER_PREFIX, "user"))


class Unjudgeable(Exception):
    """A token whose permissions cannot be known offline: reported as a gap."""


def _type(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__


def _expect(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    if not isinstance(value, kind):
        raise InvalidInput(f"{where}: expected {what}, got {_type(value)}")
    return value


# -------------------------------------------------------------------------------------------
# JSON documents
# -------------------------------------------------------------------------------------------


def _module_resources(
    module: Any, where: str, unknown: Mapping[str, Any]
) -> Iterator[tuple[str, str, Any]]:
    _expect(module, Mapping, where, "an object")
    resources = _expect(module.get("resources") or [], list, f"{where}.resources", "a list")
    for i, res in enumerate(resources):
        at = f"{where}.resources[{i}]"
        _expect(res, Mapping, at, "an object")
        if res.get("mode", "managed") != "managed" or res.get("type") not in TYPES:
            continue
        address = res.get("address") or f"{res['type']}.{res.get('name')}"
        _expect(address, str, f"{at}.address", "a string")
        values = _expect(res.get("values") or {}, Mapping, f"{at}.values", "an object")
        yield address, res["type"], _with_unknowns(values, unknown.get(address), address)
    children = _expect(module.get("child_modules") or [], list, f"{where}.child_modules", "a list")
    for i, child in enumerate(children):
        yield from _module_resources(child, f"{where}.child_modules[{i}]", unknown)


def _with_unknowns(value: Any, marks: Any, path: str) -> Any:
    """``after`` values with ``after_unknown`` leaves replaced by :class:`Unknown`."""
    if marks is True:
        return Unknown(path)
    if isinstance(marks, Mapping):
        if value is not None and not isinstance(value, Mapping):
            return value  # a type error, reported where it is read
        base = dict(value) if isinstance(value, Mapping) else {}
        for key, mark in marks.items():
            base[key] = _with_unknowns(base.get(key), mark, f"{path}.{key}")
        return base
    if isinstance(marks, list) and isinstance(value, list | type(None)):
        items = list(value or [])
        items += [None] * (len(marks) - len(items))
        return [
            _with_unknowns(v, marks[i] if i < len(marks) else None, f"{path}[{i}]")
            for i, v in enumerate(items)
        ]
    return value


def _check_changes_shown(data: Mapping[str, Any], shown: set[str]) -> None:
    """Every token the plan keeps, creates or updates is in its planned values: one that is
    not (an edited or partial plan) would go unjudged."""
    changes = data.get("resource_changes") or []
    if not isinstance(changes, list):
        raise InvalidInput("resource_changes: expected a list")
    for i, change in enumerate(changes):
        if not isinstance(change, Mapping):
            continue
        rtype, address = change.get("type"), change.get("address")
        if not isinstance(rtype, str) or not isinstance(address, str | None):
            raise InvalidInput(f"resource_changes[{i}]: type and address must be strings")
        if rtype not in TYPES:
            continue
        if change.get("mode", "managed") != "managed" or address in shown:
            continue
        body = change.get("change")
        actions = body.get("actions") if isinstance(body, Mapping) else None
        if (
            isinstance(actions, list)
            and actions
            and all(isinstance(a, str) for a in actions)
            and set(actions) <= {"delete", "forget"}
        ):
            continue  # no longer managed after apply
        raise InvalidInput(
            f"resource_changes plans {actions} for {change.get('address')} but planned_values "
            "does not show it; audit the unedited output of `terraform show -json plan.out`"
        )


def _unknown_marks(data: Mapping[str, Any]) -> dict[str, Any]:
    changes = _expect(data.get("resource_changes") or [], list, "resource_changes", "a list")
    marks: dict[str, Any] = {}
    for i, change in enumerate(changes):
        at = f"resource_changes[{i}]"
        _expect(change, Mapping, at, "an object")
        body = _expect(change.get("change") or {}, Mapping, f"{at}.change", "an object")
        after_unknown = body.get("after_unknown")
        if after_unknown and isinstance(change.get("address"), str):
            marks[change["address"]] = after_unknown
    return marks


def _resources(data: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
    if "planned_values" in data:
        if data.get("errored"):
            raise InvalidInput(
                "the plan errored (errored: true), its planned values are incomplete; fix the "
                "errors and audit a plan that succeeds"
            )
        planned = _expect(data.get("planned_values") or {}, Mapping, "planned_values", "an object")
        found = list(
            _module_resources(
                planned.get("root_module") or {}, "planned_values.root_module", _unknown_marks(data)
            )
        )
        _check_changes_shown(data, {address for address, _, _ in found})
        yield from found
    elif "values" in data and isinstance(data.get("values"), Mapping):
        yield from _module_resources(
            data["values"].get("root_module") or {}, "values.root_module", {}
        )
    elif "resources" in data and "version" in data:  # raw terraform.tfstate
        resources = _expect(data.get("resources") or [], list, "resources", "a list")
        for i, res in enumerate(resources):
            at = f"resources[{i}]"
            _expect(res, Mapping, at, "an object")
            if res.get("mode", "managed") != "managed" or res.get("type") not in TYPES:
                continue
            base = f"{res['type']}.{res.get('name')}"
            if res.get("module"):
                base = f"{res['module']}.{base}"
            instances = _expect(res.get("instances") or [], list, f"{at}.instances", "a list")
            for j, inst in enumerate(instances):
                _expect(inst, Mapping, f"{at}.instances[{j}]", "an object")
                key = inst.get("index_key")
                address = base if key is None else f"{base}[{json.dumps(key)}]"
                attrs = inst.get("attributes") or {}
                _expect(attrs, Mapping, f"{at}.instances[{j}].attributes", "an object")
                yield address, res["type"], attrs
    else:
        raise InvalidInput(
            "not Terraform JSON: expected the output of `terraform show -json` (a plan with "
            "planned_values or a state with values) or a terraform.tfstate file"
        )


# -------------------------------------------------------------------------------------------
# One token
# -------------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, address: str):
        self.address = address
        self.pending: dict[str, str] = {}

    def placeholder(self, what: str) -> str:
        ident = hashlib.sha256(f"pending:{what}".encode()).hexdigest()[:32]
        self.pending[ident] = what
        return ident

    def key(self, key: Any, scopes: set[str], where: str) -> str:
        """A resource key; an unknown id becomes a placeholder, an unknown key the widest."""
        if isinstance(key, str):
            return key
        if isinstance(key, Template):
            parts = key.parts
            if len(parts) == 2 and isinstance(parts[0], str) and isinstance(parts[1], Unknown):
                for prefix, _ in _PREFIXES:
                    if parts[0] == prefix:
                        return prefix + self.placeholder(parts[1].what)
        if isinstance(key, Unknown | Template):
            if "zone" in scopes:
                return ALL_ZONES_KEY
            if "account" in scopes:
                return ALL_ACCOUNTS_KEY
            return USER_PREFIX + self.placeholder(key.what)
        raise InvalidInput(f"{where}: a resource key must be a string, got {_type(key)}")

    def resources(self, value: Any, scopes: set[str], where: str) -> Any:
        if value is None:
            return {}
        if isinstance(value, Unknown | Template):
            # the whole map is known only after apply: one concrete resource per scope
            out: dict[str, Any] = {}
            what = value.what
            for prefix, scope in _PREFIXES:
                if scope in scopes:
                    out[prefix + self.placeholder(f"{what} ({scope})")] = "*"
            return out
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise InvalidInput(f"{where}: a string but not JSON") from None
        _expect(value, Mapping, where, "a map of resource keys")
        result: dict[str, Any] = {}
        for raw_key, inner in value.items():
            key = self.key(raw_key, scopes, where)
            at = f"{where}[{key!r}]"
            if isinstance(inner, str) and inner.strip().startswith("{"):
                try:
                    inner = json.loads(inner)
                except json.JSONDecodeError:
                    raise InvalidInput(f"{at}: not valid JSON") from None
            if isinstance(inner, Unknown | Template):
                nested = key.startswith(ACCOUNT_PREFIX) and key != ALL_ACCOUNTS_KEY
                inner = {ALL_ZONES_KEY: "*"} if nested and "zone" in scopes else "*"
            elif isinstance(inner, Mapping):
                inner = {
                    self.key(k, {"zone"}, at): ("*" if has_unknown(v) else v)
                    for k, v in inner.items()
                }
            result[key] = inner
        return result

    def groups(self, value: Any, where: str) -> tuple[list[Any], set[str]]:
        """The policy's group references: ``{id}`` objects; a name written where an id belongs
        stays a bare string (the audit's CFT-LN-04 reports it and resolves it leniently)."""
        if isinstance(value, Unknown | Template):
            raise Unjudgeable(f"{where} cannot be known offline")
        _expect(value, list, where, "a list")
        refs: list[Any] = []
        scopes: set[str] = set()
        for i, g in enumerate(value):
            at = f"{where}[{i}]"
            if isinstance(g, Mapping):
                gid = g.get("id")
                ref: dict[str, Any] = {"id": gid}
                if isinstance(g.get("name"), str):
                    ref["name"] = g["name"]
            else:
                gid = g
                ref = {"id": gid}
            if isinstance(gid, Unknown | Template):
                raise Unjudgeable(f"{at} ({gid.what}) cannot be known offline")
            _expect(gid, str, f"{at}.id" if isinstance(g, Mapping) else at, "a permission group id")
            group = permission_groups.by_id(str(gid))
            if group is None and not isinstance(g, Mapping):
                group = permission_groups.resolve(str(gid))  # a name, as people write them
                refs.append(g)
            else:
                refs.append(ref)
            if group is not None:
                scopes.add(group.scope.label)
        return refs, scopes

    def policy(self, policy: Any, where: str) -> dict[str, Any]:
        if isinstance(policy, Unknown | Template):
            raise Unjudgeable(f"{where} cannot be known offline")
        _expect(policy, Mapping, where, "an object")
        effect = policy.get("effect", "allow")
        if isinstance(effect, Unknown | Template):
            effect = "allow"  # the worst reading of an unknown effect
        refs, scopes = self.groups(
            policy.get("permission_groups") or [], f"{where}.permission_groups"
        )
        out: dict[str, Any] = {"effect": effect, "permission_groups": refs}
        out["resources"] = self.resources(
            policy.get("resources"), scopes or {"zone", "account"}, f"{where}.resources"
        )
        for key, extra in policy.items():  # kept for CFT-LN-04 (a condition, AWS-style fields)
            if key not in out and extra is not None and not has_unknown(extra):
                out[key] = extra
        return out

    def condition(self, value: Any, where: str) -> dict[str, Any] | None:
        if isinstance(value, list):  # provider v4 blocks
            value = value[0] if value else None
        if value is None or isinstance(value, Unknown | Template):
            return None
        _expect(value, Mapping, where, "an object")
        ip = value.get("request_ip", value.get("request.ip"))
        if isinstance(ip, list):
            ip = ip[0] if ip else None
        if ip is None or isinstance(ip, Unknown | Template):
            return None
        _expect(ip, Mapping, f"{where}.request_ip", "an object")
        cond: dict[str, Any] = {}
        for key in ("in", "not_in"):
            ranges = ip.get(key)
            if ranges is None or isinstance(ranges, Unknown | Template):
                continue
            _expect(ranges, list, f"{where}.request_ip.{key}", "a list of CIDRs")
            known = [r for r in ranges if not isinstance(r, Unknown | Template)]
            for j, r in enumerate(known):
                _expect(r, str, f"{where}.request_ip.{key}[{j}]", "a CIDR string")
            if known:
                cond[key] = known
        return {"request.ip": cond} if cond else None


def _unknown_restrictions(values: Mapping[str, Any]) -> list[str]:
    """The restrictions (expiry, start, allowlist) known only after apply."""
    out = [k for k in ("expires_on", "not_before") if isinstance(values.get(k), Unknown | Template)]
    cond = values.get("condition")
    if isinstance(cond, list):
        cond = cond[0] if cond else None
    ip = cond.get("request_ip", cond.get("request.ip")) if isinstance(cond, Mapping) else cond
    if isinstance(ip, list):
        ip = ip[0] if ip else None
    ranges = ip.get("in") if isinstance(ip, Mapping) else ip
    if isinstance(ranges, Unknown | Template) or (
        isinstance(ranges, list) and any(isinstance(r, Unknown | Template) for r in ranges)
    ):
        out.append("condition")
    return out


def to_token(address: str, values: Any, origin: str = "") -> dict[str, Any]:
    """A token API dict from one resource's attribute values (raises :class:`Unjudgeable`
    when its permissions cannot be known offline, :class:`InvalidInput` when malformed).
    A token not created yet gets an id derived from ``origin`` (the input it came from, when
    several are audited together) and its address."""
    _expect(values, Mapping, address, "an object of attributes")
    builder = _Builder(address)
    policies = values.get("policies")
    label = "policies"
    if policies is None:
        policies, label = values.get("policy") or [], "policy"
    if isinstance(policies, Unknown | Template):
        raise Unjudgeable(f"{address}.{label} cannot be known offline")
    _expect(policies, list, f"{address}.{label}", "a list")
    token_id = values.get("id")
    if not isinstance(token_id, str) or len(token_id) != 32:
        token_id = hashlib.sha256(f"{origin}{address}".encode()).hexdigest()[:32]
    name = values.get("name")
    if isinstance(name, Unknown | Template):
        name = name.what
    token: dict[str, Any] = {
        "id": token_id,
        "name": name if isinstance(name, str) and name else address,
        "status": values.get("status") if isinstance(values.get("status"), str) else "active",
        "policies": [builder.policy(p, f"{address}.{label}[{i}]") for i, p in enumerate(policies)],
        "terraform_address": address,
    }
    if isinstance(values.get("__file__"), str):
        token["terraform_file"] = values["__file__"]
    unknown = _unknown_restrictions(values)
    if unknown:
        token[UNKNOWN_KEY] = unknown
    condition = builder.condition(values.get("condition"), f"{address}.condition")
    if condition:
        token["condition"] = condition
    for key in ("expires_on", "not_before", "issued_on", "modified_on", "last_used_on"):
        value = values.get(key)
        if value is None or value == "" or isinstance(value, Unknown | Template):
            continue
        _expect(value, str, f"{address}.{key}", "an RFC 3339 timestamp")
        token[key] = value
    if builder.pending:
        token[PENDING_KEY] = builder.pending
    return token


class DeclaredToken(NamedTuple):
    """A token a Terraform input declares: its API dict, who owns it (``kind``: ``"account"``
    for a ``cloudflare_account_token``, ``"user"`` for a ``cloudflare_api_token``) and the
    owning account's id when it is known (``None`` for a user token)."""

    payload: dict[str, Any]
    kind: str
    owner_id: str | None


def declared_tokens(
    resources: Iterator[tuple[str, str, Any]] | list[tuple[str, str, Any]],
    origin: str = "",
) -> tuple[list[DeclaredToken], list[dict[str, Any]]]:
    """The tokens declared (owner: the account for account tokens, unknown for user tokens)
    and gap rows for tokens whose permissions cannot be known offline."""
    records: list[DeclaredToken] = []
    gaps: list[dict[str, Any]] = []
    for address, rtype, values in resources:
        if rtype == UNREAD_MODULE:
            gaps.append(
                {
                    "kind": "input",
                    "subject": address,
                    "what": f"{address} (source {values['source']})",
                    "reason": "not read: a registry or remote module is not read offline and "
                    "may declare tokens; audit `terraform show -json plan.out` instead",
                    "hides_tokens": True,
                }
            )
            continue
        try:
            token = to_token(address, values, origin)
        except Unjudgeable as why:
            gaps.append(
                {
                    "kind": "input",
                    "subject": address,
                    "what": f"token {address}",
                    "reason": f"not judged: {why}; audit the plan after the values are known",
                    "hides_tokens": True,  # an unjudged token: the audit is incomplete
                }
            )
            continue
        if rtype == "cloudflare_account_token":
            account = values.get("account_id")
            records.append(
                DeclaredToken(token, "account", account if isinstance(account, str) else None)
            )
        else:
            records.append(DeclaredToken(token, "user", None))
    return records, gaps


def _read_json(file: Path) -> Mapping[str, Any]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{file}: not JSON ({exc.msg} at line {exc.lineno}); a binary plan must be "
            "converted with `terraform show -json plan.out`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{file}: cannot read it ({exc})") from None
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{file}: expected a JSON object")
    return data


def _read_one(
    file: Path, now: datetime, var_files: list[Path], origin: str
) -> tuple[list[DeclaredToken], list[dict[str, Any]]]:
    if file.is_dir() or file.suffix == ".tf" or is_tfvars(file):
        if not file.exists():
            raise InvalidInput(f"no Terraform configuration at {file}")

        resources = read_configuration(file, now=now, var_files=var_files)
    elif not file.is_file():
        raise InvalidInput(
            f"no Terraform input at {file}: give a .tf file, a directory of them, or the JSON "
            "of `terraform show -json plan.out > plan.json`"
        )
    else:
        data = _read_json(file)
        try:
            resources = list(_resources(data))
        except InvalidInput as exc:
            raise InvalidInput(f"{file}: {exc}") from None
    try:
        records, gaps = declared_tokens(resources, origin)
    except InvalidInput as exc:
        raise InvalidInput(f"{file}: {exc}") from None
    for record in records:
        if isinstance(record.payload, dict):
            record.payload.setdefault("terraform_file", str(file))
    return records, gaps


def read(
    path: str | Path | Sequence[str | Path],
    *,
    now: datetime | None = None,
    var_files: Sequence[str | Path] | None = None,
) -> tuple[list[DeclaredToken], list[dict[str, Any]]]:
    """The tokens Terraform configurations, plans or states declare, and gap rows for what
    cannot be judged offline (``now``: the time ``timestamp()`` stands for, default the current
    time; ``var_files``: ``.tfvars`` files a configuration is read with)."""
    paths = [Path(p) for p in ([path] if isinstance(path, str | Path) else path)]
    if not paths:
        raise InvalidInput("give at least one Terraform input (.tf file, directory, plan JSON)")
    var_paths = [Path(v) for v in var_files or []]
    if var_paths and not any(p.is_dir() or p.suffix == ".tf" or is_tfvars(p) for p in paths):
        raise InvalidInput("var_files apply to .tf configurations, not to plan or state JSON")
    now = now or datetime.now(UTC)
    records: list[DeclaredToken] = []
    gaps: list[dict[str, Any]] = []
    seen: set[str] = set()
    for file in paths:
        base = file.parent if file.suffix == ".tf" or is_tfvars(file) else file
        origin = f"{base.resolve()}:" if len(paths) > 1 else ""
        found, missing = _read_one(file, now, var_paths, origin)
        for record in found:
            key = str(record.payload.get("id"))
            if key not in seen:  # a file given with its directory is read once
                seen.add(key)
                records.append(record)
        gaps += missing
    return records, gaps
