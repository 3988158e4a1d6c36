"""Client methods as intents: which API requests each method of :class:`~cftokens.Client`
(and :class:`~cftokens.AsyncClient`) makes.

``least_privilege([client.dns_records.create, client.zones.list], zone=zid)`` works because
of :data:`CLIENT_METHODS`: ``"ClassName.method"`` → the ``(METHOD, path template)`` requests
it sends, in order. ``{tokens}`` stands for the token collection of the bound resource
(``/user/tokens`` or ``/accounts/<id>/tokens``), ``{account}`` for ``/accounts/<id>`` of an
account-scoped resource; ``{zone_id}``/``{account_id}`` are bound by the advisor's arguments.
Async classes (``AsyncDnsRecords``) share their sync twin's entry. The table is checked
against the client's classes and the operations catalogue by the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import InvalidInput

__all__ = ["CLIENT_METHODS", "NOT_REQUESTS", "describe_method", "intent_of_method"]

CLIENT_METHODS: dict[str, tuple[tuple[str, str], ...]] = {
    "Client.directory": (("GET", "/accounts"), ("GET", "/zones")),
    "Client.tokens_by_account": (("GET", "/accounts"), ("GET", "/accounts/{account_id}/tokens")),
    "Tokens.verify": (("GET", "{tokens}/verify"),),
    "Tokens.list": (("GET", "{tokens}"),),
    "Tokens.get": (("GET", "{tokens}/{token_id}"),),
    "Tokens.create": (("POST", "{tokens}"),),
    # With keyword changes update() reads the token first (PUT replaces the whole token).
    "Tokens.update": (("GET", "{tokens}/{token_id}"), ("PUT", "{tokens}/{token_id}")),
    "Tokens.delete": (("DELETE", "{tokens}/{token_id}"),),
    "Tokens.roll": (("PUT", "{tokens}/{token_id}/value"),),
    "PermissionGroups.list": (("GET", "{tokens}/permission_groups"),),
    "Accounts.list": (("GET", "/accounts"),),
    "Accounts.get": (("GET", "/accounts/{account_id}"),),
    "AccountScope.get": (("GET", "{account}"),),
    "AuditLogs.list": (("GET", "{account}/logs/audit"),),
    "Zones.list": (("GET", "/zones"),),
    "Zones.get": (("GET", "/zones/{zone_id}"),),
    "DnsRecords.list": (("GET", "/zones/{zone_id}/dns_records"),),
    "DnsRecords.get": (("GET", "/zones/{zone_id}/dns_records/{dns_record_id}"),),
    "DnsRecords.create": (("POST", "/zones/{zone_id}/dns_records"),),
    # update() reads the record, then PUTs it with the changes.
    "DnsRecords.update": (
        ("GET", "/zones/{zone_id}/dns_records/{dns_record_id}"),
        ("PUT", "/zones/{zone_id}/dns_records/{dns_record_id}"),
    ),
    "DnsRecords.delete": (("DELETE", "/zones/{zone_id}/dns_records/{dns_record_id}"),),
    "UserResource.get": (("GET", "/user"),),
}

# Public client methods that are not one fixed request (the tests check every public method
# is in one of the two tables, so a new client method cannot be forgotten).
NOT_REQUESTS: dict[str, str] = {
    "Client.request": "it sends whatever request it is given",
    "Client.close": "it closes the connections and sends no request",
    "Client.account": "it returns the account's resources; name their methods instead",
    "Client.from_env": "it builds a client and sends no request",
}

# Where each resource hangs off a client, for readable intent names.
_ATTRIBUTE = {
    "Client": "client",
    "Accounts": "client.accounts",
    "Zones": "client.zones",
    "DnsRecords": "client.dns_records",
    "UserResource": "client.user",
}


def _class_key(obj: Any) -> tuple[Any, str]:
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", None)
    if owner is None or not isinstance(name, str):
        raise InvalidInput(
            "a client-method intent is a bound method such as client.dns_records.create "
            f"(not called); got {type(obj).__name__}"
        )
    cls = owner if isinstance(owner, type) else type(owner)
    if not cls.__module__.startswith("cftokens.client"):
        raise InvalidInput(
            f"{cls.__name__}.{name} is not a method of cftokens' client; write the intent as "
            "'METHOD /path'"
        )
    base = cls.__name__.removeprefix("Async")
    return owner, f"{base}.{name}"


def _prefixes(owner: Any) -> dict[str, str]:
    calls = getattr(owner, "_calls", None)
    values: dict[str, str] = {}
    prefix = getattr(calls, "prefix", None)
    if isinstance(prefix, str):
        values["{tokens}"] = prefix
    account = getattr(owner, "_account_id", None) or getattr(owner, "id", None)
    if isinstance(account, str):
        values["{account}"] = f"/accounts/{account}"
    return values


def describe_method(obj: Callable[..., object]) -> str:
    """A readable name: ``client.dns_records.create``, ``client.account('…').tokens.list``."""
    owner, key = _class_key(obj)
    cls_name, method = key.split(".", 1)
    if cls_name in ("Tokens", "PermissionGroups"):
        account = getattr(getattr(owner, "_calls", None), "account_id", None)
        base = f"client.account({account!r}).tokens" if account else "client.tokens"
        attribute = base + (".permission_groups" if cls_name == "PermissionGroups" else "")
    elif cls_name in ("AuditLogs", "AccountScope"):
        account = getattr(owner, "_account_id", None) or getattr(owner, "id", None)
        attribute = f"client.account({account!r})" + (
            ".audit_logs" if cls_name == "AuditLogs" else ""
        )
    else:
        attribute = _ATTRIBUTE.get(cls_name, cls_name)
    return f"{attribute}.{method}"


def intent_of_method(obj: Callable[..., object]) -> list[tuple[str, str]]:
    """The ``(METHOD, path template)`` requests a bound client method sends."""
    owner, key = _class_key(obj)
    requests = CLIENT_METHODS.get(key)
    if requests is None:
        why = NOT_REQUESTS.get(key, "the advisor does not know which requests it sends")
        raise InvalidInput(f"{key}: {why}; write the intent as 'METHOD /path'")
    prefixes = _prefixes(owner)
    result = []
    for method, template in requests:
        for placeholder, value in prefixes.items():
            template = template.replace(placeholder, value)
        if "{tokens}" in template or "{account}" in template:  # pragma: no cover - table bug
            raise InvalidInput(f"{key}: cannot tell which account its requests go to")
        result.append((method, template))
    return result
