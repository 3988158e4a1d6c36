"""The objects a request passes through: :class:`Request`, :class:`Principal`, :class:`Call`
(what a handler sees) and :class:`Response`, plus the success envelope handlers return
(:func:`ok`, :func:`page_info`, :class:`RawJSON`). Transport-neutral: the httpx transport and
the ASGI app both build a :class:`Request` and send back a :class:`Response`.

A :class:`Call` reaches the engine only through :class:`Services` (what a handler may ask of
it), so this module and the handlers sit below the engine: the engine imports them, never the
reverse."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl

from ..catalog.operations import OperationMatch
from ..model.token import Token
from .errors import SandboxError
from .store import Store, TokenRow, ZoneRow
from .validate import parse_json

if TYPE_CHECKING:
    from ..client._calls import JSONValue

__all__ = [
    "Call",
    "Principal",
    "PrincipalKind",
    "RawJSON",
    "Request",
    "Response",
    "Services",
    "header_map",
    "ok",
    "page_info",
]


def header_map(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers by lower-case name; a repeated header's values are joined with ``", "`` (how
    HTTP combines repeated fields), so two ``Authorization`` headers never pass for one."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


class Request:
    """A request as the sandbox sees it. ``path`` is the path as sent (percent-encoded, never
    decoded: the router matches it raw), ``headers`` has lower-case names (see
    :func:`header_map`), ``size`` the body's real length when ``body`` holds only its start.
    """

    __slots__ = ("body", "headers", "ip", "method", "path", "query", "raw_query", "size")

    def __init__(
        self,
        method: str,
        path: str,
        *,
        raw_query: str = "",
        query: list[tuple[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        ip: str = "127.0.0.1",
        size: int | None = None,
    ):
        self.method = method.upper()
        self.path = path
        self.raw_query = raw_query
        if query is None:
            query = parse_qsl(raw_query, keep_blank_values=True)
        self.query = query
        self.headers: Mapping[str, str] = headers or {}
        self.body = body
        self.ip = ip
        self.size = len(body) if size is None else size

    @property
    def verb(self) -> str:
        """The method the request is routed and authorised as: HEAD is GET without a body."""
        return "GET" if self.method == "HEAD" else self.method


class Response:
    """What the sandbox answers: status, headers, JSON body bytes; ``drop`` = no answer."""

    __slots__ = ("body", "drop", "headers", "latency", "status")

    def __init__(
        self,
        status: int,
        body: bytes,
        headers: list[tuple[str, str]],
        *,
        drop: bool = False,
        latency: float = 0.0,
    ):
        self.status = status
        self.body = body
        self.headers = headers
        self.drop = drop
        self.latency = latency

    def json(self) -> JSONValue:
        """The body parsed as JSON."""
        parsed: JSONValue = json.loads(self.body)
        return parsed


class PrincipalKind(enum.StrEnum):
    """Who is calling: a user-owned token, an account-owned token, or a Global API Key."""

    USER_TOKEN = "user"
    ACCOUNT_TOKEN = "account"
    API_KEY = "api_key"


class Principal:
    """The authenticated caller.

    ``model`` is what the policy engine evaluates (the token, or for a Global API Key the
    user's rights); ``ceiling`` bounds a token by its owner's rights (None for an API key).
    ``refusal`` is None for a usable token, ``"invalid"`` (status or validity window) or
    ``"location"`` (client IP), with ``reason`` from the engine.
    """

    __slots__ = (
        "account_id",
        "ceiling",
        "email",
        "kind",
        "model",
        "reason",
        "refusal",
        "token",
        "user_id",
    )

    def __init__(
        self,
        kind: PrincipalKind,
        *,
        model: Token,
        ceiling: Token | None,
        token: TokenRow | None = None,
        user_id: str | None = None,
        account_id: str | None = None,
        email: str | None = None,
    ):
        self.kind = kind
        self.model = model
        self.ceiling = ceiling
        self.token = token
        self.user_id = user_id
        self.account_id = account_id
        self.email = email
        self.refusal: str | None = None
        self.reason = ""

    @property
    def auth(self) -> str:
        """How the caller authenticated, in Audit Logs terms: ``api_token`` or ``api_key``."""
        return "api_key" if self.kind is PrincipalKind.API_KEY else "api_token"

    @property
    def owner_type(self) -> str:
        """``user`` or ``account``."""
        return "account" if self.kind is PrincipalKind.ACCOUNT_TOKEN else "user"

    @property
    def owner_id(self) -> str | None:
        """The owning user or account id."""
        return self.account_id if self.kind is PrincipalKind.ACCOUNT_TOKEN else self.user_id


class Services(Protocol):
    """What a handler may ask of the engine (:class:`~.engine.Engine` provides it)."""

    store: Store
    user_token_quota: int
    account_token_quota: int

    def new_id(self) -> str: ...

    def issue_token(
        self,
        *,
        owner_kind: str,
        owner_id: str,
        name: str,
        policies: list[dict[str, Any]],
        condition: dict[str, Any] | None,
        not_before: datetime | None,
        expires_on: datetime | None,
        when: datetime,
        created_by: str | None = None,
    ) -> tuple[TokenRow, str]: ...

    def roll_secret(self, row: TokenRow, when: datetime) -> str: ...

    def visible_zones(self, call: Call) -> list[ZoneRow]: ...

    def visible_accounts(self, call: Call) -> list[str]: ...


class Call:
    """What a handler sees: the request, its match, the caller, the time, the store."""

    __slots__ = (
        "_query",
        "engine",
        "match",
        "now",
        "now_ts",
        "params",
        "principal",
        "request",
        "store",
    )

    def __init__(
        self,
        *,
        engine: Services,
        request: Request,
        match: OperationMatch,
        principal: Principal,
        now: datetime,
        now_ts: str,
    ):
        self.engine = engine
        self.store: Store = engine.store
        self.request = request
        self.match = match
        self.params = match.params
        self.principal = principal
        self.now = now
        self.now_ts = now_ts
        self._query: dict[str, str] | None = None

    @property
    def query(self) -> dict[str, str]:
        """Query parameters (the first value of each name)."""
        if self._query is None:
            query: dict[str, str] = {}
            for key, value in self.request.query:
                query.setdefault(key, value)
            self._query = query
        return self._query

    def json(self) -> object:
        """The request body as JSON (400 envelope when it is not): someone else's, so check
        its shape before use."""
        return parse_json(self.request.body, self.request.size)

    def not_found(self) -> SandboxError:
        """404 for the object the path names."""
        return SandboxError.not_found(self.match.path)


class RawJSON(str):
    """An already serialised JSON value, spliced into the envelope as is (cached results)."""


def ok(
    result: object,
    *,
    result_info: dict[str, Any] | None = None,
    messages: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """Cloudflare's success envelope."""
    envelope: dict[str, Any] = {
        "success": True,
        "errors": [],
        "messages": list(messages),
        "result": result,
    }
    if result_info is not None:
        envelope["result_info"] = result_info
    return envelope


def page_info(
    page: int, per_page: int, count: int, total: int, *, pages: bool = False
) -> dict[str, Any]:
    """``result_info`` of a paged list (``total_pages`` for zones and DNS records)."""
    info: dict[str, Any] = {
        "page": page,
        "per_page": per_page,
        "count": count,
        "total_count": total,
    }
    if pages:
        info["total_pages"] = (total + per_page - 1) // per_page if per_page else 0
    return info
