"""Cloudflare Audit Logs (version 2) served from the request journal.

``GET /accounts/{account_id}/logs/audit?since=…&before=…`` (both required, as on Cloudflare;
a date ``2026-10-01`` or an RFC 3339 time; Audit Logs v2 keeps 30 days, so a ``since`` before
the first day of that window, midnight UTC 30 days before the sandbox's clock, is refused with a
400 that names the oldest date allowed: the journal keeps everything, the API serves 30 days)
returns the authenticated requests whose target is the account (its own paths, or a zone of
the account) and whose actor belongs to it (a member user, or one of its account-owned tokens:
another account's refused attempts stay out of this account's log, with their email, token,
address and User-Agent), newest first (``direction=asc`` for oldest first), ``limit`` records
per page (default 100, at most 1000) and an opaque ``cursor``.
``result_info`` carries ``count`` and the next cursor both as ``cursor`` and as
``cursors.after`` (the two shapes Cloudflare's SDKs read); no cursor on the last page.

Each record has Cloudflare's v2 shape: ``id``, ``account {id, name}``, ``action {description,
result, time, type}``, ``actor {id, context, email, ip_address, token_id, token_name, type}``,
``raw {cf_ray_id, method, status_code, uri, user_agent}``, ``resource {id, product, scope,
type}`` and ``zone {id, name}`` for zone requests. Request and response bodies are not logged.

Filters: any record field by its flattened name (``action_type``, ``action_result``,
``actor_context``, ``actor_token_id``, ``actor_email``, ``actor_ip_address``, ``raw_method``,
``raw_status_code``, ``resource_type``, ``zone_id`` …), repeatable (OR), with ``.not`` to
exclude (``actor_context.not=api_key``); the dotted names ``actor.token_id`` work too.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from ..catalog import operations
from ..errors import InvalidInput
from ..model._util import parse_datetime
from .context import Call, ok
from .errors import SandboxError
from .store import api_time, ts
from .validate import query_choice, query_int

__all__ = ["list_audit_logs", "record_of"]

_ACTION_TYPES = {
    "GET": "view",
    "POST": "create",
    "PUT": "update",
    "PATCH": "update",
    "DELETE": "delete",
}
#: Audit Logs v2 retention, in days (Cloudflare keeps 30 days of audit logs).
RETENTION_DAYS = 30

_PAGING = {"since", "before", "cursor", "limit", "direction", "per_page", "page"}

# Emulated products: operationId prefix -> (product, resource type).
_PRODUCTS = (
    ("user-api-tokens", "api_tokens", "token"),
    ("account-api-tokens", "api_tokens", "account_token"),
    ("permission-groups", "api_tokens", "permission_group"),
    ("dns-records", "dns", "dns_record"),
    ("zones", "zones", "zone"),
    ("accounts", "accounts", "account"),
    ("audit-logs", "audit_logs", "audit_log"),
)

_FIELDS = {
    "id": ("id",),
    "audit_log_id": ("id",),
    "account_id": ("account", "id"),
    "account_name": ("account", "name"),
    "action_description": ("action", "description"),
    "action_result": ("action", "result"),
    "action_type": ("action", "type"),
    "actor_context": ("actor", "context"),
    "actor_email": ("actor", "email"),
    "actor_id": ("actor", "id"),
    "actor_ip_address": ("actor", "ip_address"),
    "actor_token_id": ("actor", "token_id"),
    "actor_token_name": ("actor", "token_name"),
    "actor_type": ("actor", "type"),
    "raw_cf_ray_id": ("raw", "cf_ray_id"),
    "raw_cf_rayid": ("raw", "cf_ray_id"),
    "raw_method": ("raw", "method"),
    "raw_status_code": ("raw", "status_code"),
    "raw_uri": ("raw", "uri"),
    "raw_user_agent": ("raw", "user_agent"),
    "resource_id": ("resource", "id"),
    "resource_product": ("resource", "product"),
    "resource_scope": ("resource", "scope"),
    "resource_type": ("resource", "type"),
    "zone_id": ("zone", "id"),
    "zone_name": ("zone", "name"),
}


@lru_cache(maxsize=512)
def _operation_facts(operation_id: str) -> tuple[str, str, str]:
    """(description, product, resource type) of an operation."""
    try:
        op = operations.get(operation_id)
    except InvalidInput:
        return operation_id, "api", "unknown"
    for prefix, product, kind in _PRODUCTS:
        if operation_id.startswith(prefix):
            return op.summary or operation_id, product, kind
    product = re.sub(r"[^a-z0-9]+", "_", op.tag.lower()).strip("_") or "api"
    literals = [s for s in op.path.split("/") if s and not s.startswith("{")]
    kind = literals[-1].rstrip("s") if literals else "resource"
    return op.summary or operation_id, product, kind


def _time(value: str | None, name: str) -> str:
    if not value:
        raise SandboxError.bad_request(
            f"{name}: required; give a date (2026-10-01) or an RFC 3339 time"
        )
    text = value.strip()
    try:
        if len(text) == 10:
            moment = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        else:
            parsed = parse_datetime(text, name)
            assert parsed is not None
            moment = parsed
    except (ValueError, InvalidInput):
        raise SandboxError.bad_request(
            f"{name}: {value!r} is neither a date (2026-10-01) nor an RFC 3339 time"
        ) from None
    return ts(moment)


def record_of(
    row: sqlite3.Row, names: Callable[[str, str], str | None], seed: str
) -> dict[str, Any]:
    """One journal row as an Audit Logs v2 record (``names(kind, id)`` gives names/emails)."""
    description, product, kind = _operation_facts(row["operation_id"] or "")
    path = row["path"]
    segments = [s for s in path.split("/") if s]
    owner_type = row["owner_type"] or "user"
    actor: dict[str, Any] = {
        "id": row["user_id"] if owner_type == "user" else row["owner_id"],
        "context": row["auth"],
        "ip_address": row["ip"],
        "type": owner_type,
    }
    if owner_type == "user" and row["user_id"]:
        email = names("email", row["user_id"])
        if email:
            actor["email"] = email
    if row["token_id"]:
        actor["token_id"] = row["token_id"]
        actor["token_name"] = row["token_name"]
    uri = "/client/v4" + path + (f"?{row['query']}" if row["query"] else "")
    resource_id = segments[-1] if segments and re.fullmatch(r"[0-9a-f]{32}", segments[-1]) else None
    if resource_id is None:
        for segment in reversed(segments):
            if re.fullmatch(r"[0-9a-f]{32}", segment):
                resource_id = segment
                break
    record: dict[str, Any] = {
        "id": _uuid(seed, row["seq"]),
        "account": {"id": row["account_id"], "name": names("account", row["account_id"])},
        "action": {
            "description": description,
            "result": "success" if row["status"] < 400 else "failure",
            "time": api_time(row["time"]),
            "type": _ACTION_TYPES.get(row["method"], "view"),
        },
        "actor": actor,
        "raw": {
            "cf_ray_id": row["ray_id"],
            "method": row["method"],
            "status_code": row["status"],
            "uri": uri,
            "user_agent": row["user_agent"],
        },
        "resource": {
            "id": resource_id,
            "product": product,
            "scope": "zones" if row["zone_id"] else "accounts",
            "type": kind,
        },
    }
    if row["zone_id"]:
        record["zone"] = {"id": row["zone_id"], "name": names("zone", row["zone_id"])}
    return record


def _uuid(seed: str, seq: int) -> str:
    h = hashlib.sha256(f"cftokens-sandbox/{seed}/audit/{seq}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _get(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = record
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _filters(call: Call) -> list[Callable[[dict[str, Any]], bool]]:
    wanted: dict[tuple[tuple[str, ...], bool], list[str]] = {}
    for key, value in call.request.query:
        if key in _PAGING:
            continue
        negate = key.endswith(".not")
        name = key[: -len(".not")] if negate else key
        name = name.replace(".", "_")
        path = _FIELDS.get(name)
        if path is None:
            raise SandboxError.bad_request(
                f"{key}: unknown filter; use a record field such as action_type, actor_context, "
                "actor_token_id, actor_email, raw_method, resource_type or zone_id (add .not "
                "to exclude)"
            )
        wanted.setdefault((path, negate), []).append(value)
    tests: list[Callable[[dict[str, Any]], bool]] = []
    for (path, negate), values in wanted.items():
        allowed = {v.lower() for v in values}

        def test(
            record: dict[str, Any],
            path: tuple[str, ...] = path,
            allowed: set[str] = allowed,
            negate: bool = negate,
        ) -> bool:
            value = _get(record, path)
            hit = value is not None and str(value).lower() in allowed
            return not hit if negate else hit

        tests.append(test)
    return tests


def _actor_tokens(call: Call) -> set[str] | None:
    """The token ids an ``actor_token_id`` filter (``actor.token_id``) asks for, lowercased as
    :func:`_filters` compares them; None without one. A record's ``actor.token_id`` is its
    journal row's ``token_id`` (absent when the row has none)."""
    wanted = [
        value.lower()
        for key, value in call.request.query
        if key not in _PAGING and key.replace(".", "_") == "actor_token_id"
    ]
    return set(wanted) if wanted else None


def _encode_cursor(time: str, seq: int) -> str:
    return base64.urlsafe_b64encode(f"{time}|{seq}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        time, seq = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        return time, int(seq)
    except (ValueError, UnicodeDecodeError):
        raise SandboxError.bad_request(
            "cursor: not a cursor this endpoint returned; start again without it"
        ) from None


def list_audit_logs(call: Call) -> dict[str, Any]:
    """GET /accounts/{account_id}/logs/audit."""
    account_id = call.params["account_id"]
    store = call.store
    if store.account(account_id) is None:
        raise call.not_found()
    query = call.query
    since = _time(query.get("since"), "since")
    before = _time(query.get("before"), "before")
    oldest = (call.now - timedelta(days=RETENTION_DAYS)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    if since < ts(oldest):
        raise SandboxError.bad_request(
            f"since: Audit Logs v2 keeps {RETENTION_DAYS} days of history, so since may not be "
            f"earlier than {oldest:%Y-%m-%d} (the API's clock reads "
            f"{call.now:%Y-%m-%dT%H:%M:%SZ}); for older activity use a Logpush job's copies"
        )
    if since >= before:
        raise SandboxError.bad_request("since: must be earlier than before")
    direction = query_choice(query, "direction", ("asc", "desc"), "desc")
    limit = query_int(query, "limit", 100, 1, 1000)
    tests = _filters(call)
    order = "ASC" if direction == "asc" else "DESC"
    # An entry belongs to the account of its actor: a request another account's member
    # made (refused, since they hold no rights here) is not in this account's log, and their
    # email, user id, token, address and User-Agent never reach this account's readers.
    params: list[Any] = [account_id, since, before, account_id, account_id]
    where = (
        "account_id = ? AND auth IS NOT NULL AND time >= ? AND time < ? AND ("
        "(owner_type = 'account' AND owner_id = ?) OR (owner_type = 'user' AND user_id IN "
        "(SELECT user_id FROM memberships WHERE account_id = ?)))"
    )
    cursor = query.get("cursor")
    if cursor:
        c_time, c_seq = _decode_cursor(cursor)
        op = ">" if direction == "asc" else "<"
        where += f" AND (time {op} ? OR (time = ? AND seq {op} ?))"
        params += [c_time, c_time, c_seq]
    store.flush_journal()
    rows = store.conn.execute(
        f"SELECT * FROM journal WHERE {where} ORDER BY time {order}, seq {order}", params
    )
    cache: dict[tuple[str, str], str | None] = {}

    def names(kind: str, ident: str) -> str | None:
        key = (kind, ident)
        if key not in cache:
            if kind == "email":
                user = store.user(ident)
                cache[key] = user.email if user else None
            elif kind == "account":
                account = store.account(ident)
                cache[key] = account.name if account else None
            else:
                zone = store.zone(ident)
                cache[key] = zone.name if zone else None
        return cache[key]

    # the records an actor_token_id filter keeps: told from the row before it is made into a
    # record (a triage asks one token's entries of an account's whole log)
    tokens = _actor_tokens(call)
    result: list[dict[str, Any]] = []
    last: tuple[str, int] | None = None
    more = False
    for row in rows:
        if tokens is not None and (
            not row["token_id"] or str(row["token_id"]).lower() not in tokens
        ):
            continue
        record = record_of(row, names, store.seed)
        if not all(t(record) for t in tests):
            continue
        if len(result) == limit:
            more = True
            break
        result.append(record)
        last = (row["time"], row["seq"])
    info: dict[str, Any] = {"count": len(result)}
    if more and last is not None:
        next_cursor = _encode_cursor(*last)
        info["cursor"] = next_cursor
        info["cursors"] = {"after": next_cursor}
    return ok(result, result_info=info)
