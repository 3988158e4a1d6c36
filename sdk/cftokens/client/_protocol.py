"""The sans-I/O protocol shared by :class:`~cftokens.Client` and :class:`~cftokens.AsyncClient`.

It builds requests, reads Cloudflare's envelope, maps failures to the error tree (the texts
are in ``_messages``), and decides retries. It never sends, sleeps or awaits: the two clients
do only that, so both behave identically. Pagination state lives in ``_paging``.

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
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from attrs import field, frozen

from .._text import may_hold_surrogates, unicode_tree
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
    RequestTimedOut,
    ServerError,
    TransportError,
    UnexpectedResponse,
    redact,
)
from ..model import Secret
from ._body import ACCEPT_ENCODING, BodyReader
from ._limits import Retry, parse_retry_after
from ._messages import (
    auth_message,
    body_excerpt,
    cloudflare_said,
    permission_message,
    rate_limited_message,
    ray_suffix,
    scrub_detail,
    server_text,
    short_name,
    undecodable,
)
from .recorder import Recorder

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_PAGES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "Accept",
    "Call",
    "Core",
    "Decision",
    "Envelope",
    "Failure",
    "GiveUp",
    "RetryAfter",
    "Safety",
    "logger",
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
        """``GET /user/tokens?page=2``: the method and relative URL, for logs and messages
        (the query, which may carry a server's cursor, through :func:`server_text`)."""
        if self.params:
            query = "&".join(
                f"{k}={item}"
                for k, v in self.params.items()
                for item in (v if isinstance(v, tuple) else (v,))
            )
            return f"{self.method} {self.path}?{server_text(query)}"
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
            "Accept-Encoding": ACCEPT_ENCODING,  # the codings BodyReader inflates
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

    def body_reader(self, response: httpx.Response) -> BodyReader:
        """The reader of ``response``'s raw body: it inflates it up to the cap, and its
        ``take``/``finish`` return False once the body exceeds it (the caller stops reading
        and reports :meth:`too_large`)."""
        return BodyReader(response, self.max_response_bytes)

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
        message += ray_suffix(context)
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
                actor=self.email if self.token is None else None,
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
                if may_hold_surrogates(body):  # "\\ud800" decodes to a lone surrogate
                    data = unicode_tree(data)
            except (ValueError, UnicodeDecodeError) as exc:
                problem = undecodable(response, body, exc)
            except RecursionError:
                problem = "the JSON is nested too deeply to be Cloudflare's envelope"
        if problem is None and not isinstance(data, dict):
            problem = f"the body is a JSON {type(data).__name__}, not Cloudflare's envelope object"
        if problem is None and not isinstance(data.get("success"), bool):
            problem = "the envelope has no boolean `success` field"
        if problem is None and not isinstance(data.get("errors", []), list):
            problem = "the envelope's `errors` is not a list"

        if status == 429:
            details = self._details(data) if problem is None else ()
            return Failure(
                error=RateLimited(
                    rate_limited_message(call, retry_after, details),
                    retry_after=retry_after,
                    errors=details,
                    **context,
                ),
                transient=True,
                unsent=True,
                retry_after=retry_after,
            )
        if problem is not None:
            return self._unexpected_failure(call, problem, body, context, retry_after)
        assert isinstance(data, dict)
        if status >= 400 or data["success"] is False:
            return self._api_failure(call, data, context, retry_after)
        if not 200 <= status < 300:
            return self._unexpected_failure(
                call, f"HTTP {status} is not a success status", body, context, retry_after
            )
        if "result" not in data:
            return self._unexpected_failure(
                call, "the envelope has no `result` field", body, context, retry_after
            )
        info = data.get("result_info")
        if info is not None and not isinstance(info, dict):
            return self._unexpected_failure(
                call, "the envelope's `result_info` is not an object", body, context, None
            )
        messages = data.get("messages")
        return Envelope(
            result=data["result"],
            result_info=info,
            messages=tuple(messages) if isinstance(messages, list) else (),
            status=status,
            headers=headers,
        )

    def _unexpected_failure(
        self,
        call: Call[Any],
        problem: str,
        body: bytes,
        context: dict[str, Any],
        retry_after: float | None,
    ) -> Failure:
        # the (redacted) excerpt is made for a failure only, not for every page read
        excerpt = (
            body_excerpt(body[:2048].decode("utf-8", "replace"), self._secrets) if body else ""
        )
        status = context["status"]
        message = (
            f"{call.target()} got an unexpected response (HTTP {status}): {problem}. "
            "Expected Cloudflare's JSON envelope {success, errors, messages, result}."
        )
        if status >= 500:
            message += " This is usually temporary; safe calls were retried."
        if excerpt:
            message += f" Body starts: {server_text(repr(excerpt), 400)}"
        message += ray_suffix(context)
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
        read: dict[str, str] = {}  # each distinct text redacted once, however often repeated
        scrubbed: dict[str, str] = {}
        for entry in errors:
            detail = ErrorDetail.from_api(entry, read)
            details.append(scrub_detail(detail, self._secrets, scrubbed))
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
        said = cloudflare_said(details)
        if codes & _AUTH_CODES:
            message = auth_message(call, codes, details, self.token, self.api_key)
            return _final(
                AuthenticationError(message + said + ray_suffix(context), errors=details, **context)
            )
        if 10000 in codes or status == 403:
            message, needed = permission_message(call)
            return _final(
                PermissionDenied(
                    message + said + ray_suffix(context), needed=needed, errors=details, **context
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
            return _final(NotFound(message + said + ray_suffix(context), errors=details, **context))
        if status == 401:
            message = (
                f"{call.target()} was refused (HTTP 401): the credentials are missing or not "
                "accepted. Check the token, or create a new one."
            )
            return _final(
                AuthenticationError(message + said + ray_suffix(context), errors=details, **context)
            )
        if status == 501:
            message = (
                f"{call.target()} is authorised but not emulated by the sandbox (HTTP 501); "
                "run it against the real API, or use an endpoint the sandbox emulates."
            )
            return _final(
                NotEmulated(message + said + ray_suffix(context), errors=details, **context)
            )
        if status >= 500:
            message = (
                f"{call.target()} failed on Cloudflare's side (HTTP {status}). This is usually "
                "temporary: try again later (safe calls were already retried)."
            )
            error = ServerError(message + said + ray_suffix(context), errors=details, **context)
            return Failure(error=error, transient=True, unsent=False, retry_after=retry_after)
        if status in _BAD_REQUEST_STATUSES or (status < 300 and not codes & _AUTH_CODES):
            message = (
                f"{call.target()} was refused as invalid (HTTP {status}). Fix the fields "
                "Cloudflare names below and send it again."
            )
            return _final(
                BadRequest(message + said + ray_suffix(context), errors=details, **context)
            )
        message = f"{call.target()} failed with HTTP {status}."
        return _final(APIError(message + said + ray_suffix(context), errors=details, **context))

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

    def transport_failure(
        self,
        call: Call[Any],
        exc: BaseException,
        elapsed: float,
        *,
        deadline: float | None = None,
    ) -> Failure:
        """Map an exception from the transport (no HTTP answer) to a :class:`Failure`;
        ``deadline`` is the attempt's overall deadline when it is what stopped it."""
        name = type(exc).__name__
        detail = self.scrub(str(exc))[:200] or name
        logger.debug("%s -> %s after %.1f ms", call.target(), name, elapsed * 1000)
        import httpx

        unsent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        url = self.url(call.path)
        if deadline is not None:
            error: TransportError = RequestTimedOut(
                f"{call.target()} timed out: the attempt took longer than the client's "
                f"overall deadline of {deadline:g} s (the server did not finish its answer in "
                "time, though each read may have been within timeout=). Raise deadline= "
                "(seconds per attempt; by default the sum of timeout='s connect, write, read "
                "and pool timeouts) or try again later.",
                method=call.method,
                url=url,
            )
            # unsent only when it is known (the sync client's connect timing out)
            return Failure(error=error, transient=True, unsent=unsent)
        if isinstance(exc, httpx.TimeoutException):
            error = RequestTimedOut(
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
                else server_text(self.scrub(str(exc)), 300)
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
                excerpt=body_excerpt(repr(envelope.result), self._secrets),
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
                    short_name(error),
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
            logger.warning(
                "%s failed ambiguously (%s); not retried", call.target(), short_name(error)
            )
            return GiveUp(call.on_ambiguous(error))
        if failure.transient and retries_done:
            error.args = (f"{error.args[0]} (gave up after {retries_done + 1} attempts)",)
        logger.debug("%s: giving up with %s", call.target(), type(error).__name__)
        return GiveUp(error)


def _no_constant(name: str) -> Any:
    """``json.loads`` hook: NaN and Infinity are not JSON (and overflow any count)."""
    raise ValueError(f"{name} is not a JSON value")


def _final(error: CloudflareError) -> Failure:
    return Failure(error=error, transient=False, unsent=False)
