"""Endpoint knowledge of the directory and its records, shared by the sync and async resources:
accounts, zones, the user, DNS records and audit logs (paths, parameters, bodies, result
parsing). Each function returns a :class:`~._protocol.Call` or a pagination walker."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypedDict

from ..errors import CloudflareError, InvalidInput, MaybeCreated
from ..model import (
    Account,
    User,
    Zone,
)
from ..model._util import check_id, format_datetime
from ._calls import _cause, _direction, _expect_mapping, _per_page
from ._paging import CursorWalker, PageWalker
from ._protocol import Call, Core, Safety
from .models import AuditLogRecord, DnsRecord

__all__ = [
    "AUDIT_FILTERS",
    "DNS_CHANGES",
    "DnsChanges",
    "account_get",
    "accounts_walker",
    "audit_log_walker",
    "dns_body",
    "dns_changes",
    "dns_create",
    "dns_delete",
    "dns_get",
    "dns_update",
    "dns_walker",
    "user_get",
    "zone_get",
    "zones_walker",
]

#: Filters of ``audit_logs.list`` (Audit Logs v2 query parameters).
AUDIT_FILTERS = frozenset(
    {
        "id",
        "audit_log_id",
        "account_name",
        "action_description",
        "action_result",
        "action_type",
        "actor_context",
        "actor_email",
        "actor_id",
        "actor_ip_address",
        "actor_token_id",
        "actor_token_name",
        "actor_type",
        "raw_cf_ray_id",
        "raw_cf_rayid",
        "raw_method",
        "raw_status_code",
        "raw_uri",
        "raw_user_agent",
        "resource_id",
        "resource_product",
        "resource_scope",
        "resource_type",
        "zone_id",
        "zone_name",
    }
)


def accounts_walker(
    core: Core, *, name: str | None = None, per_page: int = 50
) -> PageWalker[Account]:
    """``GET /accounts``, page by page."""
    params: dict[str, str | int] = {}
    if name is not None:
        params["name"] = name
    return PageWalker(
        core,
        path="/accounts",
        per_page=_per_page(per_page, 5, 50, "accounts"),
        item=Account.from_api,
        key=lambda a: a.id,
        params=params,
        what="accounts",
    )


def account_get(account_id: str) -> Call[Account]:
    """``GET /accounts/{id}``."""
    account_id = check_id(account_id, "account id")
    return Call(
        method="GET",
        path=f"/accounts/{account_id}",
        parse=lambda e: Account.from_api(_expect_mapping(e, "an account")),
        what=f"account {account_id}",
    )


def zones_walker(
    core: Core,
    *,
    name: str | None = None,
    account_id: str | None = None,
    status: str | None = None,
    per_page: int = 50,
) -> PageWalker[Zone]:
    """``GET /zones`` filtered by domain name, account and status."""
    params: dict[str, str | int] = {}
    if name is not None:
        params["name"] = name
    if account_id is not None:
        params["account.id"] = check_id(account_id, "account id")
    if status is not None:
        params["status"] = status
    return PageWalker(
        core,
        path="/zones",
        per_page=_per_page(per_page, 5, 50, "zones"),
        item=Zone.from_api,
        key=lambda z: z.id,
        params=params,
        what="zones",
    )


def zone_get(zone_id: str) -> Call[Zone]:
    """``GET /zones/{id}``."""
    zone_id = check_id(zone_id, "zone id")
    return Call(
        method="GET",
        path=f"/zones/{zone_id}",
        parse=lambda e: Zone.from_api(_expect_mapping(e, "a zone")),
        what=f"zone {zone_id}",
    )


def user_get() -> Call[User]:
    """``GET /user``."""
    return Call(
        method="GET",
        path="/user",
        parse=lambda e: User.from_api(_expect_mapping(e, "the user")),
        what="the user",
    )


def _record_id(value: str) -> str:
    if not isinstance(value, str) or not value or "/" in value:
        raise InvalidInput(f"a DNS record id must be a non-empty string, got {value!r}")
    return value


def dns_walker(
    core: Core,
    zone_id: str,
    *,
    type: str | None = None,
    name: str | None = None,
    content: str | None = None,
    per_page: int = 100,
) -> PageWalker[DnsRecord]:
    """``GET /zones/{zone_id}/dns_records``."""
    zone_id = check_id(zone_id, "zone id")
    params: dict[str, str | int] = {}
    for key, value in (("type", type), ("name", name), ("content", content)):
        if value is not None:
            params[key] = value
    return PageWalker(
        core,
        path=f"/zones/{zone_id}/dns_records",
        per_page=_per_page(per_page, 5, 5000, "DNS records"),
        item=DnsRecord.from_api,
        key=lambda r: r.id,
        params=params,
        what=f"DNS records of zone {zone_id}",
    )


def dns_get(zone_id: str, record_id: str) -> Call[DnsRecord]:
    """``GET /zones/{zone_id}/dns_records/{id}``."""
    zone_id = check_id(zone_id, "zone id")
    record_id = _record_id(record_id)
    return Call(
        method="GET",
        path=f"/zones/{zone_id}/dns_records/{record_id}",
        parse=lambda e: DnsRecord.from_api(_expect_mapping(e, "a DNS record")),
        what=f"DNS record {record_id} of zone {zone_id}",
    )


def dns_body(
    *,
    type: str,
    name: str,
    content: str | None,
    ttl: int,
    proxied: bool | None,
    comment: str | None,
    tags: tuple[str, ...] | list[str],
    priority: int | None,
) -> dict[str, Any]:
    """The create body of a DNS record, checked."""
    if not isinstance(type, str) or not type:
        raise InvalidInput("a DNS record needs a type, e.g. type='A'")
    if not isinstance(name, str) or not name:
        raise InvalidInput("a DNS record needs a name, e.g. name='www.example.com'")
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not (ttl == 1 or 30 <= ttl <= 86400):
        raise InvalidInput(f"ttl must be 1 (automatic) or 30–86400 seconds, got {ttl!r}")
    body: dict[str, Any] = {"type": type.upper(), "name": name, "ttl": ttl}
    if content is not None:
        body["content"] = content
    if proxied is not None:
        body["proxied"] = proxied
    if comment is not None:
        body["comment"] = comment
    if tags:
        body["tags"] = list(tags)
    if priority is not None:
        body["priority"] = priority
    return body


def dns_create(zone_id: str, body: dict[str, Any], where: str) -> Call[DnsRecord]:
    """``POST /zones/{zone_id}/dns_records``: never repeated after an unclear failure."""
    zone_id = check_id(zone_id, "zone id")
    name = str(body.get("name"))

    def ambiguous(error: CloudflareError) -> CloudflareError:
        return MaybeCreated(
            f"creating DNS record {name!r} failed without a clear answer ({_cause(error)}), so "
            "it may or may not exist now; cftokens does not retry a create (that makes "
            f"duplicate records). Look for it: list({where}.list({zone_id!r}, name={name!r})).",
            name=name,
        )

    return Call(
        method="POST",
        path=f"/zones/{zone_id}/dns_records",
        json=body,
        parse=lambda e: DnsRecord.from_api(_expect_mapping(e, "a DNS record")),
        safety=Safety.CREATE,
        on_ambiguous=ambiguous,
        what="the created DNS record",
    )


class DnsChanges(TypedDict, total=False):
    """What ``dns_records.update(zone_id, record_id, **changes)`` may change; the record keeps
    the rest as it is."""

    type: str
    name: str
    content: str | None
    ttl: int
    proxied: bool | None
    comment: str | None
    tags: Sequence[str]
    priority: int | None


DNS_CHANGES = frozenset(DnsChanges.__annotations__)


def dns_changes(zone_id: str, record_id: str, changes: Mapping[str, Any]) -> None:
    """Check ``dns_records.update`` arguments before any request is made."""
    check_id(zone_id, "zone id")
    _record_id(record_id)
    unknown = sorted(set(changes) - DNS_CHANGES)
    if unknown:
        raise InvalidInput(
            f"dns_records.update() cannot change {', '.join(unknown)}; changeable fields: "
            + ", ".join(sorted(DNS_CHANGES))
        )
    if not changes:
        raise InvalidInput("dns_records.update() needs changes, e.g. content='203.0.113.9'")


def dns_update(
    zone_id: str, record_id: str, current: DnsRecord, changes: Mapping[str, Any]
) -> Call[DnsRecord]:
    """``PUT /zones/{zone_id}/dns_records/{id}`` with the current record and ``changes``."""
    dns_changes(zone_id, record_id, changes)
    body = current.to_body()
    body.update({k: (list(v) if k == "tags" else v) for k, v in changes.items()})
    return Call(
        method="PUT",
        path=f"/zones/{zone_id}/dns_records/{record_id}",
        json=body,
        parse=lambda e: DnsRecord.from_api(_expect_mapping(e, "a DNS record")),
        what=f"DNS record {record_id} of zone {zone_id}",
    )


def dns_delete(zone_id: str, record_id: str) -> Call[None]:
    """``DELETE /zones/{zone_id}/dns_records/{id}``."""
    zone_id = check_id(zone_id, "zone id")
    record_id = _record_id(record_id)
    return Call(
        method="DELETE",
        path=f"/zones/{zone_id}/dns_records/{record_id}",
        parse=lambda e: None,
        gone_is_done=True,
        what=f"DNS record {record_id} of zone {zone_id}",
    )


def _when(value: datetime | date | str, what: str) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInput(
                f"{what} must be timezone-aware, e.g. datetime(2026, 1, 1, tzinfo=timezone.utc)"
            )
        text = format_datetime(value.astimezone(UTC))
        assert text is not None
        return text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value:
        return value
    raise InvalidInput(f"{what} must be a datetime, a date or an RFC 3339 string, got {value!r}")


def audit_log_walker(
    core: Core,
    account_id: str,
    *,
    since: datetime | date | str,
    before: datetime | date | str | None = None,
    direction: str | None = None,
    limit: int = 100,
    filters: Mapping[str, str | int | Sequence[str | int]],
) -> CursorWalker[AuditLogRecord]:
    """``GET /accounts/{account_id}/logs/audit`` (Audit Logs v2), cursor by cursor."""
    account_id = check_id(account_id, "account id")
    unknown = sorted({k for k in filters if k.removesuffix(".not") not in AUDIT_FILTERS})
    if unknown:
        raise InvalidInput(
            f"audit_logs.list() has no filter {', '.join(unknown)}; filters: "
            + ", ".join(sorted(AUDIT_FILTERS))
        )
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise InvalidInput(f"limit must be a whole number from 1 to 1000, got {limit!r}")
    params: dict[str, str | int | tuple[str, ...]] = {
        "since": _when(since, "since"),
        "before": _when(before if before is not None else datetime.now(UTC), "before"),
        "limit": limit,
    }
    if direction := _direction(direction):
        params["direction"] = direction
    for key, value in filters.items():
        if isinstance(value, str | int):
            params[key] = value
        else:
            params[key] = tuple(str(v) for v in value)  # repeated: any of them
    return CursorWalker(
        core,
        path=f"/accounts/{account_id}/logs/audit",
        params=params,
        item=AuditLogRecord.from_api,
        what=f"audit log records of account {account_id}",
    )
