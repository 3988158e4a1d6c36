"""The sans-I/O core shared by :class:`~cftokens.Client` and :class:`~cftokens.AsyncClient`.

It builds requests, reads Cloudflare's envelope, maps failures to the error tree with plain
explanations, tracks pagination, and decides retries. It never sends, sleeps or awaits: the two
clients do only that, so both behave identically.

A request is described by a :class:`Call`: method, path, query, body, how to read the result,
and how safe it is to repeat (:class:`Safety`). An attempt ends in an :class:`Envelope` or a
:class:`Failure`; :meth:`Core.decide` turns a failure into a :class:`RetryAfter` (wait, then
try again), :class:`GiveUp` (raise this error) or :class:`Accept` (the goal is reached, e.g. a
retried DELETE found the object already gone).
"""

from __future__ import annotations

import enum
import json
import logging
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from attrs import field, frozen

from ..errors import (
    APIError,
    AuthenticationError,
    BadRequest,
    CloudflareError,
    ConnectError,
    ErrorDetail,
    InvalidInput,
    NotEmulated,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    Timeout,
    TransportError,
    UnexpectedResponse,
    redact,
    shown,
)
from ..model import Secret
from ._limits import Retry, parse_retry_after
from .recorder import Recorder

if TYPE_CHECKING:
    import httpx

__all__ = [
    "Accept",
    "Call",
    "Core",
    "CursorWalker",
    "Envelope",
    "Failure",
    "GiveUp",
    "PageWalker",
    "RetryAfter",
    "Safety",
]

logger = logging.getLogger("cftokens.client")

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
#: The largest response body a client reads (decoded bytes): Cloudflare's biggest answers
#: (5,000 DNS records a page, the permission-group list) are well under 1 MiB per page.
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
#: The most pages one listing fetches: 10,000 pages of 50 is far above any Cloudflare quota
#: (tokens, zones, DNS records), so only a broken or hostile server reaches it.
DEFAULT_MAX_PAGES = 10_000

# Codes that mean "who you are" failed rather than "what you may do".
_AUTH_CODES = frozenset({9106, 6003, 6100, 6101, 6102, 6103, 6111, 9103, 9109, 1000, 1001})
_NOT_FOUND_CODES = frozenset({7003, 7000, 1003})
_BAD_REQUEST_STATUSES = frozenset({400, 405, 409, 413, 415, 422})
_LOCATION = re.compile(r"location:?\s*\[?([0-9A-Fa-f:.]+)\]?")


class Safety(enum.Enum):
    """How safe a call is to repeat after a failure whose outcome is unknown."""

    #: GET, DELETE and PUTs that replace a whole object: retried on any transient failure.
    IDEMPOTENT = "idempotent"
    #: A POST that creates a token: retried only when the server surely did not act (a 429, a
    #: refused connection); an ambiguous failure raises :class:`~cftokens.MaybeCreated`.
    CREATE = "create"
    #: ``PUT …/value``: the same, raising :class:`~cftokens.MaybeRolled`.
    ROLL = "roll"
    #: Other POST/PATCH calls: retried only when surely not acted on; else the error is raised.
    UNSAFE = "unsafe"


@frozen(kw_only=True)
class Envelope:
    """A successful response: Cloudflare's ``result`` and friends, plus status and headers."""

    result: Any
    result_info: Mapping[str, Any] | None = None
    messages: tuple[Any, ...] = ()
    status: int = 200
    headers: Mapping[str, str] = field(factory=dict, repr=False)


@frozen(kw_only=True)
class Call(Generic[T]):
    """One API call: what to send, how to read the answer, and how safe it is to repeat.

    ``on_ambiguous`` builds the error raised when a CREATE/ROLL call failed without a clear
    answer (it receives the underlying error). ``gone_is_done``: a 404 on a retry after an
    ambiguous attempt means the earlier attempt did the work (used by DELETE).
    """

    method: str
    path: str
    parse: Callable[[Envelope], T]
    params: Mapping[str, str | int | tuple[str, ...]] | None = None
    json: Any = None
    safety: Safety = Safety.IDEMPOTENT
    on_ambiguous: Callable[[CloudflareError], CloudflareError] | None = None
    gone_is_done: bool = False
    what: str = "the result"

    def target(self) -> str:
        """``GET /user/tokens?page=2``: the method and relative URL, for logs and messages."""
        if self.params:
            query = "&".join(
                f"{k}={item}"
                for k, v in self.params.items()
                for item in (v if isinstance(v, tuple) else (v,))
            )
            return f"{self.method} {self.path}?{query}"
        return f"{self.method} {self.path}"


@frozen(kw_only=True)
class Failure:
    """A failed attempt. ``transient``: worth retrying; ``unsent``: the server surely did not
    act on it (a 429 or a refused connection), so even a create may be repeated."""

    error: CloudflareError
    transient: bool
    unsent: bool
    retry_after: float | None = None


@frozen
class RetryAfter:
    """Decision: wait ``delay`` seconds and send the call again."""

    delay: float


@frozen
class GiveUp:
    """Decision: raise ``error``."""

    error: CloudflareError


@frozen
class Accept:
    """Decision: treat the call as done (a retried DELETE found the object gone)."""


Decision = RetryAfter | GiveUp | Accept


def _excerpt(text: str, secrets: Sequence[str], limit: int = 160) -> str:
    """The first ``limit`` characters of ``text`` (whitespace folded), redacted BEFORE the cut
    so a secret straddling it shows no prefix of itself; reads only the start of ``text``."""
    flat = " ".join(text[: limit * 8].split())
    clean = redact(flat, secrets=secrets)
    return clean[:limit] + ("…" if len(clean) > limit or len(text) > limit * 8 else "")


class Core:
    """Request building, envelope reading, error mapping and retry decisions of one client."""

    def __init__(
        self,
        *,
        base_url: str,
        token: Secret | None,
        api_key: Secret | None,
        email: str | None,
        account_id: str | None,
        retry: Retry,
        user_agent: str,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_pages: int = DEFAULT_MAX_PAGES,
    ):
        self.base_url = base_url.rstrip("/")
        self.max_response_bytes = max_response_bytes
        self.max_pages = max_pages
        self.token = token
        self.api_key = api_key
        self.email = email
        self.account_id = account_id
        self.retry = retry
        self.user_agent = user_agent
        self.recorder: Recorder | None = None
        self._secrets = tuple(s.reveal() for s in (token, api_key) if s is not None)

    # -- building ---------------------------------------------------------------------------
    def url(self, path: str) -> str:
        """The absolute URL of an API path."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def build_request(self, call: Call[Any]) -> httpx.Request:
        """The HTTP request for a call, credentials included (built per attempt)."""
        import httpx  # loaded with the first request, not with the client

        headers = {
            "Accept": "application/json",
            "User-Agent": f"{self.user_agent} httpx/{httpx.__version__}",
        }
        if self.token is not None:
            headers["Authorization"] = "Bearer " + self.token.reveal()
        elif self.api_key is not None and self.email is not None:
            headers["X-Auth-Email"] = self.email
            headers["X-Auth-Key"] = self.api_key.reveal()
        params = {
            k: list(v) if isinstance(v, tuple) else str(v) for k, v in (call.params or {}).items()
        }
        if call.json is None:
            return httpx.Request(call.method, self.url(call.path), params=params, headers=headers)
        try:
            return httpx.Request(
                call.method, self.url(call.path), params=params, headers=headers, json=call.json
            )
        except (TypeError, ValueError) as exc:
            raise InvalidInput(
                f"the body of {call.target()} is not JSON-serialisable ({exc}); pass dicts, "
                "lists, strings, numbers, booleans and None (e.g. spec.to_api(), not the spec)"
            ) from None

    def scrub(self, text: str) -> str:
        """``text`` without this client's credentials or anything shaped like one."""
        return redact(text, secrets=self._secrets)

    def holds_secret(self, text: str) -> bool:
        """True when ``text`` contains one of this client's own credentials."""
        return any(secret in text for secret in self._secrets)

    # -- the body cap -----------------------------------------------------------------------
    def announced_too_large(self, response: httpx.Response) -> bool:
        """True when the response's ``Content-Length`` already exceeds the body cap."""
        length = response.headers.get("content-length", "")
        return length.strip().isdigit() and int(length) > self.max_response_bytes

    def take(self, buffer: bytearray, chunk: bytes) -> bool:
        """Add a chunk of the body to ``buffer``; False once the body exceeds the cap (the
        caller stops reading and reports :meth:`too_large`)."""
        buffer += chunk
        return len(buffer) <= self.max_response_bytes

    def too_large(self, call: Call[Any], response: httpx.Response, elapsed: float) -> Failure:
        """The failure for a body over ``max_response_bytes`` (reading stopped at the cap)."""
        status = response.status_code
        logger.debug(
            "%s -> %s, body over the cap, in %.1f ms", call.target(), status, elapsed * 1000
        )
        limit = self.max_response_bytes
        message = (
            f"{call.target()} got an unexpected response (HTTP {status}): the body is larger "
            f"than max_response_bytes ({limit:,} bytes), so cftokens stopped reading it. "
            "Cloudflare's answers are far smaller: check base_url, or ask for fewer items per "
            "page; raise max_response_bytes= on the client only if the server is trusted."
        )
        context = {
            "status": status,
            "method": call.method,
            "url": self.url(call.path),
            "request_id": response.headers.get("cf-ray"),
        }
        message += _ray(context)
        error = UnexpectedResponse(message, **context)
        return Failure(error=error, transient=False, unsent=False)

    # -- reading ----------------------------------------------------------------------------
    def read(
        self,
        call: Call[Any],
        response: httpx.Response,
        elapsed: float,
        body: bytes | None = None,
    ) -> Envelope | Failure:
        """Read a response (its ``body`` when the client read it itself) into an
        :class:`Envelope`, or a :class:`Failure` saying why not."""
        if body is None:
            body = response.content
        status = response.status_code
        logger.debug("%s -> %s in %.1f ms", call.target(), status, elapsed * 1000)
        if self.recorder is not None:
            self.recorder.record(
                call.method,
                call.path,
                status,
                auth="api_token" if self.token is not None else "api_key",
                user_agent=self.user_agent,
            )
        headers = response.headers
        context = {
            "status": status,
            "method": call.method,
            "url": self.url(call.path),
            "request_id": headers.get("cf-ray"),
        }
        retry_after = parse_retry_after(headers)
        data: Any = None
        problem: str | None = None
        if not body.strip():
            problem = "the body is empty"
        else:
            try:
                data = json.loads(body, parse_constant=_no_constant)
            except (ValueError, UnicodeDecodeError) as exc:
                problem = self._undecodable(response, body, exc)
            except RecursionError:
                problem = "the JSON is nested too deeply to be Cloudflare's envelope"
        if problem is None and not isinstance(data, dict):
            problem = f"the body is a JSON {type(data).__name__}, not Cloudflare's envelope object"
        if problem is None and not isinstance(data.get("success"), bool):
            problem = "the envelope has no boolean `success` field"
        if problem is None and not isinstance(data.get("errors", []), list):
            problem = "the envelope's `errors` is not a list"
        excerpt = _excerpt(body[:2048].decode("utf-8", "replace"), self._secrets) if body else ""

        if status == 429:
            details = self._details(data) if problem is None else ()
            return Failure(
                error=RateLimited(
                    self._rate_limited_message(call, retry_after, details),
                    retry_after=retry_after,
                    errors=details,
                    **context,
                ),
                transient=True,
                unsent=True,
                retry_after=retry_after,
            )
        if problem is not None:
            return self._unexpected_failure(call, problem, excerpt, context, retry_after)
        assert isinstance(data, dict)
        if status >= 400 or data["success"] is False:
            return self._api_failure(call, data, context, retry_after)
        if not 200 <= status < 300:
            return self._unexpected_failure(
                call, f"HTTP {status} is not a success status", excerpt, context, retry_after
            )
        if "result" not in data:
            return self._unexpected_failure(
                call, "the envelope has no `result` field", excerpt, context, retry_after
            )
        info = data.get("result_info")
        if info is not None and not isinstance(info, dict):
            return self._unexpected_failure(
                call, "the envelope's `result_info` is not an object", excerpt, context, None
            )
        messages = data.get("messages")
        return Envelope(
            result=data["result"],
            result_info=info,
            messages=tuple(messages) if isinstance(messages, list) else (),
            status=status,
            headers=headers,
        )

    def _undecodable(self, response: httpx.Response, body: bytes, exc: Exception) -> str:
        kind = response.headers.get("content-type", "")
        text = body[:512].decode("utf-8", "replace").lstrip().lower()
        if "html" in kind or text.startswith(("<!doctype", "<html", "<")):
            return (
                "the body is an HTML page, not Cloudflare's JSON: a proxy, firewall or load "
                "balancer between you and the API answered instead of the API"
            )
        stripped = body.strip()
        if isinstance(exc, json.JSONDecodeError) and (
            exc.pos >= len(stripped)
            or (stripped[:1] in (b"{", b"[") and stripped[-1:] not in (b"}", b"]"))
        ):
            return "the JSON body is cut off (truncated): the connection ended early"
        if isinstance(exc, json.JSONDecodeError):
            detail = exc.msg
        elif isinstance(exc, UnicodeDecodeError):
            detail = "not UTF-8"
        else:
            detail = str(exc)
        return f"the body is not valid JSON ({detail})"

    def _unexpected_failure(
        self,
        call: Call[Any],
        problem: str,
        excerpt: str,
        context: dict[str, Any],
        retry_after: float | None,
    ) -> Failure:
        status = context["status"]
        message = (
            f"{call.target()} got an unexpected response (HTTP {status}): {problem}. "
            "Expected Cloudflare's JSON envelope {success, errors, messages, result}."
        )
        if status >= 500:
            message += " This is usually temporary; safe calls were retried."
        if excerpt:
            message += f" Body starts: {excerpt!r}"
        message += _ray(context)
        error = UnexpectedResponse(message, excerpt=excerpt, **context)
        transient = status >= 500 and status != 501
        return Failure(error=error, transient=transient, unsent=False, retry_after=retry_after)

    def _details(self, data: Any) -> tuple[ErrorDetail, ...]:
        if not isinstance(data, dict):
            return ()
        errors = data.get("errors") or []
        if not isinstance(errors, list):
            return ()
        details = []
        for entry in errors:
            detail = ErrorDetail.from_api(entry)
            details.append(_scrub_detail(detail, self._secrets))
        return tuple(details)

    def _api_failure(
        self,
        call: Call[Any],
        data: dict[str, Any],
        context: dict[str, Any],
        retry_after: float | None,
    ) -> Failure:
        details = self._details(data)
        codes = {c for d in details for c in d.codes()}
        status: int = context["status"]
        said = _cloudflare_said(details)
        if codes & _AUTH_CODES:
            message = self._auth_message(call, codes, details)
            return _final(
                AuthenticationError(message + said + _ray(context), errors=details, **context)
            )
        if 10000 in codes or status == 403:
            message, needed = self._permission_message(call)
            return _final(
                PermissionDenied(
                    message + said + _ray(context), needed=needed, errors=details, **context
                )
            )
        if status == 404 or codes & _NOT_FOUND_CODES:
            # Cloudflare answers 7003 both for a path that does not exist ("No route for the
            # URI") and for an unknown id in a real path ("… perhaps your object identifier is
            # invalid?").
            unknown_id = any("object identifier" in d.message for d in details)
            if 7003 in codes and not unknown_id:
                message = (
                    f"{call.target()} failed: no such route. The path does not exist in the API; "
                    "check its spelling, the ids in it, and that base_url ends in /client/v4."
                )
            else:
                message = (
                    f"{call.target()} failed: {call.what} was not found. No object has that id, "
                    "or this token cannot see it (it may belong to another account or user)."
                )
            return _final(NotFound(message + said + _ray(context), errors=details, **context))
        if status == 401:
            message = (
                f"{call.target()} was refused (HTTP 401): the credentials are missing or not "
                "accepted. Check the token, or create a new one."
            )
            return _final(
                AuthenticationError(message + said + _ray(context), errors=details, **context)
            )
        if status == 501:
            message = (
                f"{call.target()} is authorised but not emulated by the sandbox (HTTP 501); "
                "run it against the real API, or use an endpoint the sandbox emulates."
            )
            return _final(NotEmulated(message + said + _ray(context), errors=details, **context))
        if status >= 500:
            message = (
                f"{call.target()} failed on Cloudflare's side (HTTP {status}). This is usually "
                "temporary: try again later (safe calls were already retried)."
            )
            error = ServerError(message + said + _ray(context), errors=details, **context)
            return Failure(error=error, transient=True, unsent=False, retry_after=retry_after)
        if status in _BAD_REQUEST_STATUSES or (status < 300 and not codes & _AUTH_CODES):
            message = (
                f"{call.target()} was refused as invalid (HTTP {status}). Fix the fields "
                "Cloudflare names below and send it again."
            )
            return _final(BadRequest(message + said + _ray(context), errors=details, **context))
        message = f"{call.target()} failed with HTTP {status}."
        return _final(APIError(message + said + _ray(context), errors=details, **context))

    def _auth_message(
        self, call: Call[Any], codes: set[int], details: Sequence[ErrorDetail]
    ) -> str:
        target = call.target()
        if 9109 in codes:
            text = " ".join(d.message for d in details if d.code == 9109)
            found = _LOCATION.search(text)
            if found or "location" in text.lower():
                ip = found.group(1) if found else "an address outside them"
                return (
                    f"{target} was refused: the token's IP condition does not accept {ip} "
                    "(requests must come from its allowed ranges and not from its denied ones). "
                    f"Call from an allowed address, or add {ip} (or its range) to the token's "
                    "allow_ips (and remove it from deny_ips) with "
                    "tokens.update(token_id, allow_ips=[...], deny_ips=[...])."
                )
            return (
                f"{target} was refused: the token is not valid. It may be mistyped, deleted, "
                "expired or disabled, or it was rolled (rolling invalidates the old secret at "
                "once). Check the secret, or create or roll a token and use the new secret."
            )
        if 9106 in codes:
            return (
                f"{target} was refused: no credentials were sent. Pass token= to the client "
                "(or set CLOUDFLARE_API_TOKEN and use Client.from_env())."
            )
        if 9103 in codes:
            return (
                f"{target} was refused: the Global API Key or the e-mail was not accepted. "
                "Check api_key= and email= (CLOUDFLARE_API_KEY and CLOUDFLARE_EMAIL: the key "
                "of that user's profile and its login e-mail), or better, use a scoped API "
                "token (token=)."
            )
        if codes & {6003, 6111, 6100, 6101, 6102, 6103}:
            if self.token is None and self.api_key is not None:
                return (
                    f"{target} was refused: the Global API Key or the e-mail is malformed. "
                    "Check both for quotes, spaces or a trailing newline."
                )
            return (
                f"{target} was refused: the Authorization header is malformed. An API token is "
                "sent as 'Authorization: Bearer <token>'; check the secret for quotes, spaces or "
                "a trailing newline."
            )
        if 1000 in codes:
            kind = self.token.kind if self.token is not None else None
            on_account = call.path.startswith("/accounts/")
            if on_account and call.path.endswith("/tokens/verify") and kind == "user":
                return (
                    f"{target} was refused: Invalid API Token. A user-owned token (cfut_…) "
                    "is only valid at /user/tokens/verify: use client.tokens.verify() "
                    "(not client.account(…).tokens.verify())."
                )
            if call.path.startswith("/user/tokens/verify") and kind != "user":
                return (
                    f"{target} was refused: Invalid API Token. An account-owned token (cfat_…) "
                    "is only valid at /accounts/{account_id}/tokens/verify: use "
                    "client.account(account_id).tokens.verify() or pass account_id= to the "
                    "client. Otherwise the token is deleted, rolled or mistyped."
                )
            return (
                f"{target} was refused: Invalid API Token. It is deleted, rolled or mistyped; "
                "check the secret or create a new token."
            )
        if 1001 in codes:
            return (
                f"{target} was refused: this credential cannot call this endpoint. An "
                "account-owned token works only on /accounts/{account_id}/… paths and the "
                "zones of its account: use client.account(account_id)… or a user-owned token."
            )
        return f"{target} was refused: the credentials were not accepted."

    def _permission_message(self, call: Call[Any]) -> tuple[str, tuple[str, ...]]:
        from ..catalog import operations

        target = call.target()
        found = operations.find(call.method, call.path)
        if found is None:
            return (
                f"{target} was refused: the token is valid but lacks the permission this call "
                "needs. The operations catalogue does not know this path, so check Cloudflare's "
                "API docs for the permission group it needs.",
                (),
            )
        names = found.operation.group_names
        if found.zone_id is not None:
            where = f"zone {found.zone_id}"
            example = f"zones=[{found.zone_id!r}]"
        elif found.account_id is not None:
            where = f"account {found.account_id}"
            example = f"accounts=[{found.account_id!r}]"
        elif found.target.value == "user":
            where = "your user"
            example = "user=<your user id>"
        else:
            where = "the resources it lists"
            example = "the zones or accounts it should reach"
        if not names:
            return (
                f"{target} was refused: the token is valid but lacks the permission this call "
                f"needs on {where}. The API spec does not say which permission group "
                f"{found.operation} needs; check Cloudflare's docs.",
                (),
            )
        needed = tuple(dict.fromkeys(names))
        if len(needed) == 1:
            choice = needed[0]
        elif len(needed) <= 6:
            choice = "one of " + ", ".join(needed)
        else:
            choice = (
                f"one of {len(needed)} groups ({', '.join(needed[:5])}, … see the error's `needed`)"
            )
        suggestion = _suggest(needed, found.operation.path)
        return (
            f"{target} was refused: the token is valid but lacks permission. "
            f"{found.operation} needs {choice} on {where}, and this token holds none of them "
            f"there (or a deny policy removes it). Add an allow policy, e.g. "
            f"Policy.allow([{suggestion!r}], {example}), to this token or use a token that has "
            "it.",
            needed,
        )

    def _rate_limited_message(
        self, call: Call[Any], retry_after: float | None, details: Sequence[ErrorDetail]
    ) -> str:
        wait = f"retry after {retry_after:g} s" if retry_after is not None else "wait a while"
        return (
            f"{call.target()} was rate limited (HTTP 429): the API limits requests per user "
            f"(Cloudflare: 1,200 per 5 minutes); {wait}. cftokens retries safe calls itself and "
            "spaces requests with rate_limit=; lower it if other tools share this user."
            + _cloudflare_said(details)
        )

    def paused(self, call: Call[Any], pause: float) -> RateLimited | None:
        """The error to raise instead of waiting when the server asked every call of this
        client to pause longer than ``max_retry_after``; None when waiting is fine."""
        if pause <= self.retry.max_retry_after:
            return None
        return RateLimited(
            f"{call.target()} was not sent: Cloudflare asked this client to pause for "
            f"{pause:.0f} s more (after a 429 or an exhausted rate-limit window), longer than "
            f"max_retry_after ({self.retry.max_retry_after:g} s). Try again later.",
            retry_after=pause,
            method=call.method,
            url=self.url(call.path),
        )

    def transport_failure(self, call: Call[Any], exc: BaseException, elapsed: float) -> Failure:
        """Map an exception from the transport (no HTTP answer) to a :class:`Failure`."""
        name = type(exc).__name__
        detail = self.scrub(str(exc))[:200] or name
        logger.debug("%s -> %s after %.1f ms", call.target(), name, elapsed * 1000)
        import httpx

        unsent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        url = self.url(call.path)
        if isinstance(exc, httpx.TimeoutException):
            error: TransportError = Timeout(
                f"{call.target()} timed out ({name}: {detail}). The API did not answer in time: "
                "raise timeout= or try again later.",
                method=call.method,
                url=url,
            )
        elif isinstance(exc, httpx.TransportError | OSError):
            what = (
                "the connection could not be made"
                if unsent
                else "the connection was dropped before a full response arrived"
            )
            error = ConnectError(
                f"{call.target()} failed: {what} ({name}: {detail}). Check the network and "
                "base_url, then try again.",
                method=call.method,
                url=url,
            )
        else:
            error = TransportError(
                f"{call.target()} failed without an HTTP answer ({name}: {detail}).",
                method=call.method,
                url=url,
            )
        return Failure(error=error, transient=True, unsent=unsent)

    # -- results ----------------------------------------------------------------------------
    def parse(self, call: Call[T], envelope: Envelope) -> T:
        """Turn an envelope into the call's typed result; a malformed result raises
        :class:`~cftokens.UnexpectedResponse` (or the call's ambiguity error for create/roll)."""
        try:
            return call.parse(envelope)
        except (InvalidInput, KeyError, TypeError, ValueError, RecursionError) as exc:
            problem = (
                "it is nested too deeply"
                if isinstance(exc, RecursionError)
                else self.scrub(str(exc))[:300]
            )
            message = (
                f"{call.target()} returned {call.what} in an unexpected shape: "
                f"{problem}. The API may have changed; please report it."
            )
            error = UnexpectedResponse(
                message,
                status=envelope.status,
                method=call.method,
                url=self.url(call.path),
                request_id=envelope.headers.get("cf-ray"),
                excerpt=_excerpt(repr(envelope.result), self._secrets),
            )
            if call.safety in (Safety.CREATE, Safety.ROLL) and call.on_ambiguous is not None:
                raise call.on_ambiguous(error) from None
            raise error from None

    # -- retries ----------------------------------------------------------------------------
    def decide(
        self, call: Call[Any], retries_done: int, failure: Failure, ambiguous_before: bool
    ) -> Decision:
        """What to do after a failed attempt (``retries_done`` retries were already made)."""
        error = failure.error
        if call.gone_is_done and ambiguous_before and isinstance(error, NotFound):
            logger.info(
                "%s: not found on retry after an unclear attempt; the earlier attempt did it",
                call.target(),
            )
            return Accept()
        may_repeat = call.safety is Safety.IDEMPOTENT or failure.unsent
        if failure.transient and may_repeat and retries_done < self.retry.total:
            delay = self.retry.delay(retries_done, failure.retry_after)
            if delay <= self.retry.max_retry_after:
                logger.info(
                    "retrying %s in %.2f s after %s (retry %d of %d)",
                    call.target(),
                    delay,
                    _short(error),
                    retries_done + 1,
                    self.retry.total,
                )
                return RetryAfter(delay)
            logger.info(
                "not retrying %s: the server asks to wait %.0f s (more than max_retry_after)",
                call.target(),
                delay,
            )
        # Unclear: the server may have acted (a dropped answer, a 5xx, a garbled 2xx body).
        unclear = (failure.transient and not failure.unsent) or isinstance(
            error, UnexpectedResponse
        )
        once_only = call.safety in (Safety.CREATE, Safety.ROLL)
        if unclear and once_only and call.on_ambiguous is not None:
            logger.warning("%s failed ambiguously (%s); not retried", call.target(), _short(error))
            return GiveUp(call.on_ambiguous(error))
        if failure.transient and retries_done:
            error.args = (f"{error.args[0]} (gave up after {retries_done + 1} attempts)",)
        logger.debug("%s: giving up with %s", call.target(), type(error).__name__)
        return GiveUp(error)


def _no_constant(name: str) -> Any:
    """``json.loads`` hook: NaN and Infinity are not JSON (and overflow any count)."""
    raise ValueError(f"{name} is not a JSON value")


def _suggest(needed: Sequence[str], template: str) -> str:
    """The group to show in an example: the least privilege that fits the path's object.

    Read groups before others; among them, the shortest whose name mentions the last literal
    segment of the path (``/zones/{zone_id}`` -> Zone Read, ``…/dns_records`` -> DNS Read).
    """
    reads = [n for n in needed if n.endswith("Read")] or list(needed)
    literals = [s for s in template.split("/") if s and not s.startswith("{")]
    words = [w.rstrip("s") for w in (literals[-1].split("_") if literals else []) if len(w) > 2]
    fitting = [n for n in reads if any(w in n.lower() for w in words)]
    return min(fitting, key=len) if fitting else reads[0]


def _final(error: CloudflareError) -> Failure:
    return Failure(error=error, transient=False, unsent=False)


def _short(error: CloudflareError) -> str:
    if isinstance(error, APIError) and error.status is not None:
        return f"{type(error).__name__} (HTTP {error.status})"
    return type(error).__name__


def _ray(context: Mapping[str, Any]) -> str:
    ray = context.get("request_id")
    return f" [cf-ray {ray}]" if ray else ""


def _cloudflare_said(details: Sequence[ErrorDetail]) -> str:
    if not details:
        return ""
    parts = []
    for detail in details[:3]:
        code = f"{detail.code}: " if detail.code is not None else ""
        chain = "".join(
            f" ({c.code}: {c.message})" if c.code is not None else f" ({c.message})"
            for c in detail.error_chain
        )
        parts.append(f"{code}{detail.message}{chain}")
    said = "; ".join(parts)
    return " Cloudflare said: " + said + ("" if said.endswith((".", "?", "!")) else ".")


def _scrub_detail(detail: ErrorDetail, secrets: Sequence[str]) -> ErrorDetail:
    return ErrorDetail(
        detail.code,
        redact(detail.message, secrets=secrets),
        [_scrub_detail(c, secrets) for c in detail.error_chain],
    )


# -- pagination ---------------------------------------------------------------------------------


def _info_int(info: Mapping[str, Any], key: str) -> int | None:
    value = info.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"result_info.{key} must be a number, got {shown(value)}")
    return int(value)


def _page_cap(core: Core, path: str, what: str, total_pages: int | None) -> UnexpectedResponse:
    """The error that stops a listing at the client's ``max_pages``."""
    announced = f" (the server announces {total_pages:,} pages)" if total_pages else ""
    return UnexpectedResponse(
        f"GET {path}: stopped listing {what} after max_pages ({core.max_pages:,}) pages"
        f"{announced}. The server keeps sending more, far beyond any Cloudflare quota: check "
        "base_url points at Cloudflare's API; raise max_pages= on the client only if this "
        "listing really is that long.",
        method="GET",
        url=core.url(path),
    )


class UnreadableItemWarning(UserWarning):
    """An item of a listing could not be read; it is left out and kept in ``pager.unreadable``."""


@frozen(kw_only=True)
class Unreadable:
    """One item of a listing the client could not read: its ``id`` (when it has one), why,
    and the ``payload`` as the server sent it (a token's secret ``value``, if any, removed)."""

    id: str | None
    reason: str
    payload: Any = field(repr=False)


def read_items(
    entries: list[Any], item: Callable[[Any], T], what: str, unreadable: list[Unreadable]
) -> list[T]:
    """Read each entry of a page on its own: one unreadable entry is set aside in
    ``unreadable`` (with an :class:`UnreadableItemWarning`) and never hides the others."""
    out: list[T] = []
    for entry in entries:
        try:
            out.append(item(entry))
        except (InvalidInput, KeyError, TypeError, ValueError, AttributeError) as exc:
            ident = entry.get("id") if isinstance(entry, Mapping) else None
            ident = ident if isinstance(ident, str) else None
            payload = (
                {k: v for k, v in entry.items() if k != "value"}
                if isinstance(entry, Mapping)
                else entry
            )
            reason = f"{type(exc).__name__}: {exc}"
            unreadable.append(Unreadable(id=ident, reason=reason, payload=payload))
            warnings.warn(
                f"cftokens: one of the {what} ({ident or 'without an id'}) could not be read "
                f"({reason}); it is left out of the listing and kept in pager.unreadable",
                UnreadableItemWarning,
                stacklevel=2,
            )
    return out


class PageWalker(Generic[T]):
    """Page-number pagination state (``page``/``per_page``, ``result_info``).

    Knows when to stop without asking for an empty extra page: at ``total_count`` when the
    server gives it, else at the first page shorter than ``per_page``. A server that ignores
    ``page`` (answers another page number, or the same items again) raises
    :class:`~cftokens.UnexpectedResponse` instead of looping. Items are yielded once each by
    ``key``, even if the list shifts between pages.
    """

    def __init__(
        self,
        core: Core,
        *,
        path: str,
        per_page: int,
        item: Callable[[Any], T],
        key: Callable[[T], str],
        params: Mapping[str, str | int] | None = None,
        what: str = "items",
    ):
        self._core = core
        self.path = path
        self.per_page = per_page
        self._item = item
        self._key = key
        self._params = dict(params or {})
        self.what = what
        self.total_pages: int | None = None
        self._page_size = per_page
        self._seen: set[str] = set()
        self._last_keys: tuple[str, ...] | None = None
        self._done = False
        self._last_page = 0
        self.unreadable: list[Unreadable] = []

    def call(self, page: int) -> Call[list[T]]:
        """The call fetching page ``page`` (1-based); past the client's ``max_pages`` it
        raises :class:`~cftokens.UnexpectedResponse` instead (nothing is sent)."""
        params: dict[str, str | int] = {**self._params, "page": page, "per_page": self.per_page}
        if page > self._core.max_pages:
            raise _page_cap(self._core, self.path, self.what, self.total_pages)
        return Call(
            method="GET",
            path=self.path,
            params=params,
            parse=lambda envelope: self._parse(envelope),
            what=self.what,
        )

    def _parse(self, envelope: Envelope) -> list[T]:
        if not isinstance(envelope.result, list):
            raise InvalidInput(
                f"a list of {self.what} was expected, got {type(envelope.result).__name__}"
            )
        return read_items(envelope.result, self._item, self.what, self.unreadable)

    def accept(self, page: int, envelope: Envelope) -> list[T]:
        """Read page ``page`` (pages must be accepted in order); return its new items."""
        call = self.call(page)
        items = self._core.parse(call, envelope)
        info = envelope.result_info
        try:
            reported = _info_int(info, "page") if info is not None else None
            per_page = _info_int(info, "per_page") if info is not None else None
            total = _info_int(info, "total_count") if info is not None else None
        except InvalidInput as exc:
            raise self._unexpected(call, envelope, str(exc)) from None
        if reported is not None and reported != page:
            raise self._unexpected(
                call,
                envelope,
                f"asked for page {page} and got page {reported}: the server ignores `page`",
            )
        keys = tuple(self._key(item) for item in items)
        if page > 1 and keys and keys == self._last_keys:
            raise self._unexpected(
                call,
                envelope,
                f"page {page} holds exactly the items of page {page - 1}: the server ignores "
                "`page`, and listing would never end",
            )
        self._last_keys = keys
        if per_page:
            self._page_size = per_page
        if page == 1 and total is not None:
            self.total_pages = max(1, math.ceil(total / max(1, self._page_size)))
        elif page == 1 and info is None:
            self.total_pages = 1  # not paginated: the whole list came at once
        self._last_page = page
        if not items:
            self._done = True
        elif self.total_pages is not None:
            self._done = page >= self.total_pages
        else:
            self._done = len(items) < self._page_size
        fresh = []
        for key, item in zip(keys, items, strict=True):
            if key not in self._seen:
                self._seen.add(key)
                fresh.append(item)
        if page > 1 and items and not fresh and self.total_pages is None:
            # Without a total the walk ends only at a short page: a server cycling through
            # pages it already sent (1, 2, 1, 2 …) would keep it going for ever.
            raise self._unexpected(
                call,
                envelope,
                f"page {page} holds only items already listed: the server ignores `page`, "
                "and listing would never end",
            )
        return fresh

    def next_page(self) -> int | None:
        """The next page to fetch in a sequential walk, or None when done."""
        return None if self._done else self._last_page + 1

    def _unexpected(self, call: Call[Any], envelope: Envelope, problem: str) -> UnexpectedResponse:
        return UnexpectedResponse(
            f"{call.target()}: {problem}. Stopped listing {self.what} to avoid an endless loop; "
            "check base_url points at Cloudflare's API.",
            status=envelope.status,
            method="GET",
            url=self._core.url(self.path),
            request_id=envelope.headers.get("cf-ray"),
        )


class CursorWalker(Generic[T]):
    """Cursor pagination state (``cursor`` in, ``result_info.cursor`` out), as Audit Logs v2.

    Stops at an empty cursor or an empty page; the same cursor twice raises
    :class:`~cftokens.UnexpectedResponse`.
    """

    def __init__(
        self,
        core: Core,
        *,
        path: str,
        params: Mapping[str, str | int | tuple[str, ...]],
        item: Callable[[Any], T],
        what: str,
    ):
        self._core = core
        self.path = path
        self._params = dict(params)
        self._item = item
        self.what = what
        self._cursor: str | None = None
        self._cursors: set[str] = set()
        self._done = False
        self.unreadable: list[Unreadable] = []

    def call(self) -> Call[list[T]]:
        """The call fetching the next batch (past ``max_pages`` batches it raises
        :class:`~cftokens.UnexpectedResponse`: the cursor never ends)."""
        if len(self._cursors) >= self._core.max_pages:
            raise _page_cap(self._core, self.path, self.what, None)
        params = dict(self._params)
        if self._cursor:
            params["cursor"] = self._cursor
        return Call(method="GET", path=self.path, params=params, parse=self._parse, what=self.what)

    def _parse(self, envelope: Envelope) -> list[T]:
        if not isinstance(envelope.result, list):
            raise InvalidInput(
                f"a list of {self.what} was expected, got {type(envelope.result).__name__}"
            )
        return read_items(envelope.result, self._item, self.what, self.unreadable)

    @property
    def done(self) -> bool:
        """True when there is nothing more to fetch."""
        return self._done

    def accept(self, envelope: Envelope) -> list[T]:
        """Read one batch and remember the next cursor."""
        call = self.call()
        items = self._core.parse(call, envelope)
        info = envelope.result_info or {}
        cursor = info.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise UnexpectedResponse(
                f"{call.target()}: result_info.cursor must be a string, got {cursor!r}",
                status=envelope.status,
                method="GET",
                url=self._core.url(self.path),
            )
        if not cursor or not items:
            self._done = True
        elif cursor in self._cursors:
            raise UnexpectedResponse(
                f"{call.target()}: the server returned cursor {cursor[:40]!r} twice, so listing "
                f"{self.what} would never end. Stopped.",
                status=envelope.status,
                method="GET",
                url=self._core.url(self.path),
                request_id=envelope.headers.get("cf-ray"),
            )
        else:
            self._cursors.add(cursor)
            self._cursor = cursor
        return items
