"""Models the client returns that the token model does not cover: DNS records and audit-log rows.

Both are attrs ``@frozen(kw_only=True)`` like the rest of cftokens, read with ``from_api`` and
written with ``to_api``; keys cftokens does not know are kept in ``extra``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from attrs import field, frozen

from .._shown import fields_shown
from ..errors import InvalidInput, redact
from ..model._util import (
    FrozenDict,
    format_datetime,
    frozen_extra,
    parse_datetime,
    require_mapping,
    split_known,
)

__all__ = ["AuditLogRecord", "DnsRecord"]


def _tags(value: str | Iterable[object] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _opt_str(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string, got {type(value).__name__}")
    return value


def _opt_bool(value: object, what: str) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise InvalidInput(f"{what} must be true or false, got {value!r}")
    return value


def _opt_int(value: object, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise InvalidInput(f"{what} must be a whole number, got {value!r}")
    return int(value)


@frozen(kw_only=True, field_transformer=fields_shown)
class DnsRecord:
    """A DNS record of a zone (``GET /zones/{zone_id}/dns_records``).

    ``ttl`` 1 means "automatic". ``proxied`` is None for record types that cannot be proxied.
    Type-specific fields (``priority`` of MX, ``data`` of SRV/CAA…) are kept: ``priority`` as a
    field, the rest in ``extra``.
    """

    id: str
    type: str
    name: str
    content: str | None = None
    ttl: int = 1
    proxied: bool | None = None
    proxiable: bool | None = None
    priority: int | None = None
    comment: str | None = None
    tags: tuple[str, ...] = field(default=(), converter=_tags)
    created_on: datetime | None = None
    modified_on: datetime | None = None
    extra: FrozenDict = field(factory=FrozenDict, converter=frozen_extra, repr=False)

    _KNOWN = frozenset(
        {
            "id",
            "type",
            "name",
            "content",
            "ttl",
            "proxied",
            "proxiable",
            "priority",
            "comment",
            "tags",
            "created_on",
            "modified_on",
        }
    )

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> DnsRecord:
        """Read a DNS record object."""
        payload = require_mapping(payload, "a DNS record")
        record_id = payload.get("id")
        if not isinstance(record_id, str) or not record_id:
            raise InvalidInput(f"a DNS record needs a string id, got {record_id!r}")
        record_type = payload.get("type")
        name = payload.get("name")
        if not isinstance(record_type, str) or not isinstance(name, str):
            raise InvalidInput("a DNS record needs a string type and name")
        ttl = _opt_int(payload.get("ttl"), "a DNS record's ttl")
        tags = payload.get("tags")
        if tags is not None and not isinstance(tags, list):
            raise InvalidInput("a DNS record's tags must be a list of strings")
        return cls(
            id=record_id,
            type=record_type,
            name=name,
            content=_opt_str(payload.get("content"), "a DNS record's content"),
            ttl=1 if ttl is None else ttl,
            proxied=_opt_bool(payload.get("proxied"), "a DNS record's proxied flag"),
            proxiable=_opt_bool(payload.get("proxiable"), "a DNS record's proxiable flag"),
            priority=_opt_int(payload.get("priority"), "a DNS record's priority"),
            comment=_opt_str(payload.get("comment"), "a DNS record's comment"),
            tags=tags or (),
            created_on=parse_datetime(payload.get("created_on"), "created_on"),
            modified_on=parse_datetime(payload.get("modified_on"), "modified_on"),
            extra=split_known(payload, cls._KNOWN),
        )

    def to_api(self) -> dict[str, Any]:
        """The wire form (all fields; server-side fields included)."""
        result: dict[str, Any] = {"id": self.id, **self.to_body()}
        if self.proxiable is not None:
            result["proxiable"] = self.proxiable
        for key in ("created_on", "modified_on"):
            value = getattr(self, key)
            if value is not None:
                result[key] = format_datetime(value)
        return result

    def to_body(self) -> dict[str, Any]:
        """The create/update body: the writable fields and any kept type-specific keys."""
        result: dict[str, Any] = {"type": self.type, "name": self.name}
        if self.content is not None:
            result["content"] = self.content
        result["ttl"] = self.ttl
        if self.proxied is not None:
            result["proxied"] = self.proxied
        if self.priority is not None:
            result["priority"] = self.priority
        if self.comment is not None:
            result["comment"] = self.comment
        if self.tags:
            result["tags"] = list(self.tags)
        extra = self.extra.thaw()
        for server_side in ("zone_id", "zone_name", "meta", "locked", "settings"):
            extra.pop(server_side, None)
        result.update(extra)
        return result


# Keys whose values may be credentials in an audit log's request/response copy.
_SECRET_KEYS = frozenset(
    {"value", "secret", "token", "key", "api_key", "password", "authorization"}
)


def _scrub(value: Any) -> Any:
    """A deep copy of a JSON value with credential-looking keys and strings redacted."""
    if isinstance(value, Mapping):
        return {
            str(k): "[redacted]" if str(k).lower() in _SECRET_KEYS else _scrub(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, str):
        return redact(value)
    return value


def _section(payload: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = payload.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"an audit log record's {key!r} must be an object")
    return value


@frozen(kw_only=True, field_transformer=fields_shown)
class AuditLogRecord:
    """One row of Cloudflare Audit Logs v2 (``GET /accounts/{account_id}/logs/audit``), flattened.

    The nested ``account``, ``action``, ``actor``, ``raw``, ``resource`` and ``zone`` objects
    become prefixed fields (``actor_token_id``, ``raw_method``…). ``actor_context`` tells which
    credential acted: ``api_token``, ``api_key`` (a Global API Key), ``dash``, ``oauth``…
    Everything else, including the resource's request/response copies with credential-looking
    keys redacted, is kept in ``extra``.
    """

    id: str
    time: datetime | None = None
    action_type: str | None = None
    action_result: str | None = None
    action_description: str | None = None
    actor_id: str | None = None
    actor_type: str | None = None
    actor_context: str | None = None
    actor_email: str | None = None
    actor_ip: str | None = None
    actor_token_id: str | None = None
    actor_token_name: str | None = None
    account_id: str | None = None
    account_name: str | None = None
    zone_id: str | None = None
    zone_name: str | None = None
    raw_method: str | None = None
    raw_uri: str | None = None
    raw_status_code: int | None = None
    raw_user_agent: str | None = None
    raw_ray_id: str | None = None
    resource_id: str | None = None
    resource_type: str | None = None
    resource_product: str | None = None
    extra: FrozenDict = field(factory=FrozenDict, converter=frozen_extra, repr=False)

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> AuditLogRecord:
        """Read one audit-log object."""
        payload = require_mapping(payload, "an audit log record")
        record_id = payload.get("id")
        if not isinstance(record_id, str) or not record_id:
            raise InvalidInput(f"an audit log record needs a string id, got {record_id!r}")
        account = _section(payload, "account")
        action = _section(payload, "action")
        actor = _section(payload, "actor")
        raw = _section(payload, "raw")
        resource = _section(payload, "resource")
        zone = _section(payload, "zone")

        def text(section: Mapping[str, Any], key: str, what: str) -> str | None:
            value = section.get(key)
            return None if value is None else _opt_str(value, f"an audit log record's {what}")

        extra: dict[str, Any] = dict(
            split_known(
                payload, frozenset({"id", "account", "action", "actor", "raw", "zone", "resource"})
            )
        )
        rest = {k: v for k, v in resource.items() if k not in ("id", "type", "product")}
        if rest:
            extra["resource"] = _scrub(rest)
        return cls(
            id=record_id,
            time=parse_datetime(action.get("time"), "an audit log record's action.time"),
            action_type=text(action, "type", "action.type"),
            action_result=text(action, "result", "action.result"),
            action_description=text(action, "description", "action.description"),
            actor_id=text(actor, "id", "actor.id"),
            actor_type=text(actor, "type", "actor.type"),
            actor_context=text(actor, "context", "actor.context"),
            actor_email=text(actor, "email", "actor.email"),
            actor_ip=text(actor, "ip_address", "actor.ip_address"),
            actor_token_id=text(actor, "token_id", "actor.token_id"),
            actor_token_name=text(actor, "token_name", "actor.token_name"),
            account_id=text(account, "id", "account.id"),
            account_name=text(account, "name", "account.name"),
            zone_id=text(zone, "id", "zone.id"),
            zone_name=text(zone, "name", "zone.name"),
            raw_method=text(raw, "method", "raw.method"),
            raw_uri=text(raw, "uri", "raw.uri"),
            raw_status_code=_opt_int(raw.get("status_code"), "raw.status_code"),
            raw_user_agent=text(raw, "user_agent", "raw.user_agent"),
            raw_ray_id=text(raw, "cf_ray_id", "raw.cf_ray_id"),
            resource_id=text(resource, "id", "resource.id"),
            resource_type=text(resource, "type", "resource.type"),
            resource_product=text(resource, "product", "resource.product"),
            extra=extra,
        )

    def to_api(self) -> dict[str, Any]:
        """The nested wire form (``None`` fields left out; redacted copies stay redacted)."""

        def section(**values: Any) -> dict[str, Any]:
            return {k: v for k, v in values.items() if v is not None}

        extra = self.extra.thaw()
        resource = section(
            id=self.resource_id, type=self.resource_type, product=self.resource_product
        )
        resource.update(extra.pop("resource", {}))
        result: dict[str, Any] = {"id": self.id}
        parts = {
            "account": section(id=self.account_id, name=self.account_name),
            "action": section(
                description=self.action_description,
                result=self.action_result,
                time=format_datetime(self.time),
                type=self.action_type,
            ),
            "actor": section(
                id=self.actor_id,
                context=self.actor_context,
                email=self.actor_email,
                ip_address=self.actor_ip,
                token_id=self.actor_token_id,
                token_name=self.actor_token_name,
                type=self.actor_type,
            ),
            "raw": section(
                cf_ray_id=self.raw_ray_id,
                method=self.raw_method,
                status_code=self.raw_status_code,
                uri=self.raw_uri,
                user_agent=self.raw_user_agent,
            ),
            "resource": resource,
            "zone": section(id=self.zone_id, name=self.zone_name),
        }
        result.update({k: v for k, v in parts.items() if v})
        result.update(extra)
        return result
