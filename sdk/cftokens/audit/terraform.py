"""Tokens declared in Terraform: ``cloudflare_api_token`` and ``cloudflare_account_token``.

Reads the JSON of ``terraform show -json <plan>`` (``planned_values``), ``terraform show -json``
on a state (``values``), or a raw ``terraform.tfstate`` (``resources[].instances[]``), from the
root module and every child module. Attribute shapes of the Cloudflare provider v5:

- ``policies``: a list of ``{effect, permission_groups: [{id, meta?}], resources}``, where
  ``resources`` is a map of resource keys to ``"*"`` or to a JSON-encoded nested map (as
  written with ``jsonencode``), or the whole map JSON-encoded as one string;
- ``condition``: ``{request_ip: {in: [...], not_in: [...]}}``;
- ``cloudflare_account_token`` carries ``account_id`` (its owner).

Provider v4's ``policy`` blocks (``permission_groups`` as a list of ids) are read too. Tokens
not created yet have no id: a stable one is derived from the resource address. The secret
``value`` attribute of a state is never read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput
from ._inventory import TokenRecord

if TYPE_CHECKING:
    from .core import Audit

__all__ = ["read_terraform", "token_records"]

TYPES = ("cloudflare_api_token", "cloudflare_account_token")


def _module_resources(module: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for res in module.get("resources") or []:
        if res.get("mode", "managed") == "managed" and res.get("type") in TYPES:
            yield (
                res.get("address") or f"{res['type']}.{res.get('name')}",
                res["type"],
                res.get("values") or {},
            )
    for child in module.get("child_modules") or []:
        yield from _module_resources(child)


def _resources(data: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    if "planned_values" in data:
        yield from _module_resources((data.get("planned_values") or {}).get("root_module") or {})
    elif "values" in data and isinstance(data.get("values"), Mapping):
        yield from _module_resources(data["values"].get("root_module") or {})
    elif "resources" in data and "version" in data:  # raw terraform.tfstate
        for res in data.get("resources") or []:
            if res.get("mode", "managed") != "managed" or res.get("type") not in TYPES:
                continue
            base = f"{res['type']}.{res.get('name')}"
            if res.get("module"):
                base = f"{res['module']}.{base}"
            for inst in res.get("instances") or []:
                key = inst.get("index_key")
                address = base if key is None else f"{base}[{json.dumps(key)}]"
                yield address, res["type"], inst.get("attributes") or {}
    else:
        raise InvalidInput(
            "not Terraform JSON: expected the output of `terraform show -json` (a plan with "
            "planned_values or a state with values) or a terraform.tfstate file"
        )


def _resources_map(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise InvalidInput(f"{where}: resources is a string but not JSON") from None
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{where}: resources must be a map")
    out: dict[str, Any] = {}
    for key, inner in value.items():
        if isinstance(inner, str) and inner.strip().startswith("{"):
            try:
                inner = json.loads(inner)
            except json.JSONDecodeError:
                raise InvalidInput(f"{where}: resources[{key!r}] is not valid JSON") from None
        out[str(key)] = inner
    return out


def _policy(policy: Mapping[str, Any], where: str) -> dict[str, Any]:
    groups = policy.get("permission_groups") or []
    refs: list[dict[str, Any]] = []
    for g in groups:
        if isinstance(g, str):
            refs.append({"id": g})
        elif isinstance(g, Mapping):
            ref: dict[str, Any] = {"id": g.get("id")}
            if g.get("name"):
                ref["name"] = g["name"]
            refs.append(ref)
    return {
        "effect": policy.get("effect", "allow"),
        "permission_groups": refs,
        "resources": _resources_map(policy.get("resources"), where),
    }


def to_token(address: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """A token API dict from one resource's attribute values."""
    policies = values.get("policies")
    if policies is None:
        policies = values.get("policy") or []
    token_id = values.get("id")
    if not isinstance(token_id, str) or len(token_id) != 32:
        token_id = hashlib.sha256(address.encode()).hexdigest()[:32]
    token: dict[str, Any] = {
        "id": token_id,
        "name": values.get("name") or address,
        "status": values.get("status") or "active",
        "policies": [_policy(p, f"{address} policy {i}") for i, p in enumerate(policies, start=1)],
        "terraform_address": address,
    }
    condition = values.get("condition")
    if isinstance(condition, list):  # provider v4 blocks
        condition = condition[0] if condition else None
    if isinstance(condition, Mapping):
        ip = condition.get("request_ip") or condition.get("request.ip")
        if isinstance(ip, list):
            ip = ip[0] if ip else None
        if isinstance(ip, Mapping):
            cond: dict[str, Any] = {}
            if ip.get("in"):
                cond["in"] = list(ip["in"])
            if ip.get("not_in"):
                cond["not_in"] = list(ip["not_in"])
            if cond:
                token["condition"] = {"request.ip": cond}
    for key in ("expires_on", "not_before", "issued_on", "modified_on", "last_used_on"):
        if values.get(key):
            token[key] = values[key]
    return token


def token_records(data: Mapping[str, Any]) -> list[TokenRecord]:
    """Token records (owner: the account for account tokens, unknown for user tokens)."""
    records = []
    for address, rtype, values in _resources(data):
        token = to_token(address, values)
        if rtype == "cloudflare_account_token":
            account = values.get("account_id")
            records.append(
                TokenRecord(token, "account", account if isinstance(account, str) else None, None)
            )
        else:
            records.append(TokenRecord(token, "user", None, None))
    return records


def read_terraform(cls: type[Audit], path: str | Path, kwargs: dict[str, Any]) -> Audit:
    """Build an audit of the tokens a Terraform plan or state declares."""
    from ..model.directory import Account, Zone

    file = Path(path)
    if not file.is_file():
        raise InvalidInput(
            f"no Terraform JSON at {file}; create it with "
            "`terraform show -json plan.out > plan.json`"
        )
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{file}: not JSON ({exc.msg} at line {exc.lineno}); a binary plan must be "
            "converted with `terraform show -json plan.out`"
        ) from None
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{file}: expected a JSON object")
    records = token_records(data)
    accounts = [
        a if isinstance(a, Account) else Account.from_api(a) for a in kwargs.pop("accounts", ())
    ]
    zones = [z if isinstance(z, Zone) else Zone.from_api(z) for z in kwargs.pop("zones", ())]
    return cls(records, accounts=accounts, zones=zones, source=f"terraform:{file}", **kwargs)
