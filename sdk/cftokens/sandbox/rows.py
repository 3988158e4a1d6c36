"""The sandbox's stored rows as typed objects (users, accounts, zones, DNS records, tokens,
journal entries), the roles of an account's members, and the stored form of times."""

from __future__ import annotations

import enum
import json
import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from ..model._util import utc_text

if TYPE_CHECKING:
    pass


def ts(value: datetime) -> str:
    """Stored form of a time: fixed-width UTC text (four-digit year, microseconds), so text
    order is time order."""
    return utc_text(value, fraction=True)


def parse_ts(value: str) -> datetime:
    """Read a stored time."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


#: A JSON string literal of a str, as ``json.dumps`` (ensure_ascii) writes it (its C escaper).
_quote = json.encoder.encode_basestring_ascii


def api_time(value: str | None) -> str | None:
    """A stored time as the API writes it (``2026-11-02T09:00:00Z``; fractions when present)."""
    return None if value is None else _api_text(value)


def _api_text(value: str) -> str:
    return value[:-8] + "Z" if value.endswith(".000000Z") else value


class Role(enum.StrEnum):
    """A member's role in an account (the three roles the sandbox models)."""

    SUPER_ADMIN = "Super Administrator - All Privileges"
    ADMIN = "Administrator"
    READ_ONLY = "Administrator Read Only"


class UserRow:
    """A user: ``id`` (the user tag), ``email``, names, ``created_on``."""

    __slots__ = ("created_on", "email", "first_name", "id", "last_name")

    def __init__(self, row: sqlite3.Row):
        self.id: str = row["id"]
        self.email: str = row["email"]
        self.first_name: str | None = row["first_name"]
        self.last_name: str | None = row["last_name"]
        self.created_on: str = row["created_on"]


class AccountRow:
    """An account: ``id``, ``name``, ``type``, ``created_on``."""

    __slots__ = ("created_on", "id", "name", "type")

    def __init__(self, row: sqlite3.Row):
        self.id: str = row["id"]
        self.name: str = row["name"]
        self.type: str = row["type"]
        self.created_on: str = row["created_on"]


class ZoneRow:
    """A zone and its owning account."""

    __slots__ = (
        "account_id",
        "account_name",
        "activated_on",
        "created_on",
        "id",
        "modified_on",
        "name",
        "plan",
        "status",
    )

    def __init__(self, row: sqlite3.Row):
        self.id: str = row["id"]
        self.name: str = row["name"]
        self.account_id: str = row["account_id"]
        self.account_name: str = row["account_name"]
        self.status: str = row["status"]
        self.plan: str = row["plan"]
        self.created_on: str = row["created_on"]
        self.modified_on: str = row["modified_on"]
        self.activated_on: str | None = row["activated_on"]


class DnsRow:
    """A DNS record."""

    __slots__ = (
        "comment",
        "content",
        "created_on",
        "id",
        "modified_on",
        "name",
        "priority",
        "proxied",
        "settings",
        "tags",
        "ttl",
        "type",
        "zone_id",
    )

    def __init__(self, row: sqlite3.Row):
        self.id: str = row["id"]
        self.zone_id: str = row["zone_id"]
        settings = row["settings"]
        self.settings: dict[str, Any] = {} if settings == "{}" else json.loads(settings)
        self.type: str = row["type"]
        self.name: str = row["name"]
        self.content: str = row["content"]
        self.ttl: int = row["ttl"]
        self.proxied: bool = bool(row["proxied"])
        self.priority: int | None = row["priority"]
        self.comment: str | None = row["comment"]
        tags = row["tags"]
        self.tags: list[str] = [] if tags == "[]" else json.loads(tags)
        self.created_on: str = row["created_on"]
        self.modified_on: str = row["modified_on"]


class TokenRow:
    """A stored token (never its secret; only the keyed hash stays in the database)."""

    __slots__ = (
        "condition",
        "created_by",
        "expires_on",
        "id",
        "issued_on",
        "last_used_on",
        "modified_on",
        "name",
        "not_before",
        "owner_id",
        "owner_kind",
        "policies",
        "secret_changed_on",
        "status",
        "version",
    )

    def __init__(self, row: sqlite3.Row):
        self.id: str = row["id"]
        self.owner_kind: str = row["owner_kind"]
        self.owner_id: str = row["owner_id"]
        self.name: str = row["name"]
        self.status: str = row["status"]
        self.policies: str = row["policies"]
        self.condition: str | None = row["condition"]
        self.not_before: str | None = row["not_before"]
        self.expires_on: str | None = row["expires_on"]
        self.issued_on: str = row["issued_on"]
        self.modified_on: str = row["modified_on"]
        self.last_used_on: str | None = row["last_used_on"]
        self.secret_changed_on: str = row["secret_changed_on"]
        self.created_by: str | None = row["created_by"]
        self.version: int = row["version"]

    def effective_status(self, now: str) -> str:
        """``expired`` once ``expires_on`` has passed, else the stored status."""
        if self.status == "active" and self.expires_on is not None and self.expires_on <= now:
            return "expired"
        return self.status

    def to_api(self, now: str) -> dict[str, Any]:
        """The token object as the API returns it (no secret)."""
        result = self._scalars(now)
        result["policies"] = json.loads(self.policies)
        if self.condition is not None:
            result["condition"] = json.loads(self.condition)
        return result

    def to_json(self, now: str) -> str:
        """:meth:`to_api` serialised as ``json.dumps(…, separators=(",", ":"))`` would, for list
        pages: the stored policies and condition (JSON the sandbox wrote) are spliced in as they
        are, not decoded and encoded again, and the scalars (all strings) are written by the
        JSON encoder's own string escaper, without a dict and an encoder per token."""
        parts = [
            '{"id":',
            _quote(self.id),
            ',"name":',
            _quote(self.name),
            ',"status":',
            _quote(self.effective_status(now)),
        ]
        for key, value in (
            ("issued_on", self.issued_on),
            ("modified_on", self.modified_on),
            ("last_used_on", self.last_used_on),
            ("not_before", self.not_before),
            ("expires_on", self.expires_on),
        ):
            if value is not None:
                parts += (',"', key, '":', _quote(_api_text(value)))
        parts += (',"policies":', self.policies)
        if self.condition is not None:
            parts += (',"condition":', self.condition)
        parts.append("}")
        return "".join(parts)

    def _scalars(self, now: str) -> dict[str, Any]:
        result: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "status": self.effective_status(now),
            "issued_on": api_time(self.issued_on),
            "modified_on": api_time(self.modified_on),
        }
        if self.last_used_on is not None:
            result["last_used_on"] = api_time(self.last_used_on)
        if self.not_before is not None:
            result["not_before"] = api_time(self.not_before)
        if self.expires_on is not None:
            result["expires_on"] = api_time(self.expires_on)
        return result


class JournalValues(TypedDict, total=False):
    """The columns of a :class:`JournalRow` (``JournalRow(**values)``), each optional."""

    time: str
    token_id: str | None
    token_name: str | None
    owner_type: str | None
    owner_id: str | None
    user_id: str | None
    auth: str | None
    method: str
    path: str
    query: str | None
    operation_id: str | None
    account_id: str | None
    zone_id: str | None
    status: int
    error_code: int | None
    reason: str | None
    ip: str | None
    user_agent: str | None
    ray_id: str | None
    fault: str | None


class JournalRow:
    """Fields of one journal entry (a request the sandbox answered)."""

    __slots__ = (
        "account_id",
        "auth",
        "error_code",
        "fault",
        "ip",
        "method",
        "operation_id",
        "owner_id",
        "owner_type",
        "path",
        "query",
        "ray_id",
        "reason",
        "status",
        "time",
        "token_id",
        "token_name",
        "user_agent",
        "user_id",
        "zone_id",
    )

    COLUMNS = (
        "time",
        "token_id",
        "token_name",
        "owner_type",
        "owner_id",
        "user_id",
        "auth",
        "method",
        "path",
        "query",
        "operation_id",
        "account_id",
        "zone_id",
        "status",
        "error_code",
        "reason",
        "ip",
        "user_agent",
        "ray_id",
        "fault",
    )

    def __init__(self, **values: Unpack[JournalValues]):
        unknown = values.keys() - _JOURNAL_COLUMNS
        if unknown:
            raise TypeError(f"unknown journal columns: {', '.join(sorted(unknown))}")
        self.time: str = values.get("time") or ""
        self.token_id: str | None = values.get("token_id")
        self.token_name: str | None = values.get("token_name")
        self.owner_type: str | None = values.get("owner_type")
        self.owner_id: str | None = values.get("owner_id")
        self.user_id: str | None = values.get("user_id")
        self.auth: str | None = values.get("auth")
        self.method: str = values.get("method") or ""
        self.path: str = values.get("path") or ""
        self.query: str | None = values.get("query")
        self.operation_id: str | None = values.get("operation_id")
        self.account_id: str | None = values.get("account_id")
        self.zone_id: str | None = values.get("zone_id")
        self.status: int = values.get("status", 0)
        self.error_code: int | None = values.get("error_code")
        self.reason: str | None = values.get("reason")
        self.ip: str | None = values.get("ip")
        self.user_agent: str | None = values.get("user_agent")
        self.ray_id: str | None = values.get("ray_id")
        self.fault: str | None = values.get("fault")

    def values(self) -> tuple[str | int | None, ...]:
        """The values in :attr:`COLUMNS` order."""
        return (
            self.time,
            self.token_id,
            self.token_name,
            self.owner_type,
            self.owner_id,
            self.user_id,
            self.auth,
            self.method,
            self.path,
            self.query,
            self.operation_id,
            self.account_id,
            self.zone_id,
            self.status,
            self.error_code,
            self.reason,
            self.ip,
            self.user_agent,
            self.ray_id,
            self.fault,
        )


_JOURNAL_COLUMNS = frozenset(JournalRow.COLUMNS)
