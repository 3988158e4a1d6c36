"""Every error cftokens raises, in one tree rooted at :class:`CloudflareError`.

::

    CloudflareError
    ├── InvalidInput (ValueError)          a caller's argument is wrong; the message says the fix
    │   ├── UnknownPermissionGroup (LookupError)   no such group; suggests the closest names
    │   ├── AmbiguousPermissionGroup       the name exists in several scopes; pass scope=
    │   ├── ScopeMismatch                  a group cannot apply to the chosen resources
    │   ├── UnknownOperation (LookupError) no API operation matches a method and path
    │   └── UnknownTemplate (LookupError)  no dashboard template of that name
    ├── MissingExtra (ImportError)         a feature's optional dependencies are not installed
    ├── ClientClosed (RuntimeError)        a closed client was used again
    ├── TransportError                     the request never got an HTTP answer
    │   ├── RequestTimedOut                no answer in time (formerly ``Timeout``)
    │   └── ConnectError
    ├── AuditTimedOut                      an audit's collection ran past its time limit
    ├── MaybeCreated                       POST /tokens failed ambiguously: a token may exist
    ├── MaybeRolled                        PUT …/value failed ambiguously: a new secret may exist
    └── APIError                           an HTTP answer that is not a success
        ├── BadRequest                     400, 405, 409, 413, 415, 422
        ├── AuthenticationError            9106, 6003/6111, 9109, 1000, 1001 (401, 400 or 403)
        ├── PermissionDenied               10000: valid token, missing permission or resource
        ├── NotFound                       404 (7003: no route; 7000/1003: no such object)
        ├── RateLimited                    429; ``retry_after`` in seconds
        ├── ServerError                    5xx except the sandbox's 501
        ├── NotEmulated                    the sandbox authorised the call but does not emulate it
        └── UnexpectedResponse             not Cloudflare's envelope: proxy HTML, truncated JSON…

Every message says what happened and what to do. No message, repr or attribute ever holds a
token secret or an ``Authorization`` header: error bodies are redacted before they are stored,
a value echoed from input is shown through :func:`shown` (redacted, then cut), and every
message and ``url`` passes through :func:`redact` when the error is built, so a secret given in
the wrong place (an id, an e-mail, a base URL) is never printed back. Where credentials must
still be told apart (a grant key the audit groups by), :func:`labelled` shows each as its own
:func:`credential_label` instead.

Renamed errors keep their old name for one release, as a deprecated alias that warns
(:class:`DeprecationWarning`) when used: ``Timeout`` is now :class:`RequestTimedOut`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TypedDict, Unpack

from ._redaction import (
    credential_label,
    describe,
    labelled,
    labelled_texts,
    labelled_tree,
    redact,
    redact_uri,
    redacted_once,
    redacted_texts,
    shown,
    unredacted,
    unredacted_json,
)

__all__ = [
    "APIError",
    "APIErrorFields",
    "AmbiguousPermissionGroup",
    "AuditTimedOut",
    "AuthenticationError",
    "BadRequest",
    "ClientClosed",
    "CloudflareError",
    "ConnectError",
    "ErrorDetail",
    "InvalidInput",
    "MaybeCreated",
    "MaybeRolled",
    "MissingExtra",
    "NotEmulated",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "RequestTimedOut",
    "ScopeMismatch",
    "ServerError",
    "TransportError",
    "UnexpectedResponse",
    "UnknownOperation",
    "UnknownPermissionGroup",
    "UnknownTemplate",
    "credential_label",
    "describe",
    "labelled",
    "labelled_texts",
    "labelled_tree",
    "redact",
    "redact_uri",
    "redacted_once",
    "redacted_texts",
    "require_extra",
    "shown",
    "unredacted",
    "unredacted_json",
]


class CloudflareError(Exception):
    """Root of every error cftokens raises. Its message is redacted when it is built."""

    def __init__(self, *args: object):
        if args and isinstance(args[0], str):
            args = (redact(args[0]), *args[1:])
        super().__init__(*args)

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled as its class, its (already redacted) args and its attributes: Exception's
        # default calls ``cls(*args)``, which the errors with keyword-only fields refuse.
        return (_restore, (type(self), self.args), self.__dict__)


def _restore(cls: type[CloudflareError], args: tuple[object, ...]) -> CloudflareError:
    """A pickled error rebuilt without calling its ``__init__`` (its attributes follow)."""
    error = cls.__new__(cls)
    error.args = args
    return error


class InvalidInput(CloudflareError, ValueError):
    """An argument given to cftokens is invalid; the message names it and says what to give."""


class UnknownPermissionGroup(InvalidInput, LookupError):
    """No permission group has this name or id.

    ``suggestions`` holds the closest names in the catalogue.
    """

    def __init__(self, message: str, *, query: str = "", suggestions: Sequence[str] = ()):
        super().__init__(message)
        self.query = query
        self.suggestions = tuple(suggestions)


class AmbiguousPermissionGroup(InvalidInput, LookupError):
    """A permission-group name exists in several scopes and no scope was given."""

    def __init__(self, message: str, *, query: str = "", scopes: Sequence[str] = ()):
        super().__init__(message)
        self.query = query
        self.scopes = tuple(scopes)


class ScopeMismatch(InvalidInput):
    """A permission group was put on resources of another scope (for example a zone group on
    an account)."""


class UnknownOperation(InvalidInput, LookupError):
    """No API operation in the catalogue matches a method and path."""


class UnknownTemplate(InvalidInput, LookupError):
    """No dashboard token template has this name."""


class MissingExtra(CloudflareError, ImportError):
    """A feature needs packages of an optional extra that is not installed; the message names
    the feature, the missing module and the ``pip install 'cftokens[extra]'`` that adds it."""

    def __init__(self, message: str, *, extra: str, module: str):
        super().__init__(message)
        self.extra = extra
        self.module = module


def require_extra(extra: str, feature: str, *modules: str) -> None:
    """Import ``modules``; if one is missing, raise :class:`MissingExtra` naming ``extra``."""
    import importlib

    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise MissingExtra(
                f"{feature} needs {module}, which is not installed: "
                f"pip install 'cftokens[{extra}]' (or add the [{extra}] extra to your "
                "requirements)",
                extra=extra,
                module=module,
            ) from exc


class ClientClosed(CloudflareError, RuntimeError):
    """A client was used after ``close()``; create a new client."""


class TransportError(CloudflareError):
    """The request did not get an HTTP response (network, DNS, TLS, timeout)."""

    def __init__(self, message: str, *, method: str = "", url: str = ""):
        super().__init__(message)
        self.method = method
        self.url = redact(url)


class RequestTimedOut(TransportError):
    """The request got no answer in time; raise ``timeout=`` or retry later.

    Named so that it cannot be confused with ``httpx.Timeout``, the timeout *setting* a
    client takes as ``timeout=``: this is the *error* raised when that time ran out. It was
    called ``Timeout``: that name still works for one more release, with a
    :class:`DeprecationWarning`.
    """


class ConnectError(TransportError):
    """The connection failed or was dropped before a response arrived."""


class MaybeCreated(CloudflareError):
    """Creating a token failed in a way that leaves it unknown whether the token exists.

    cftokens never retries a create blindly (that is how duplicate tokens are born). Look for
    it with ``tokens.list()`` and compare names; delete any duplicate.
    """

    def __init__(self, message: str, *, name: str):
        super().__init__(message)
        self.name = name


class AuditTimedOut(CloudflareError):
    """An audit's collection did not finish within its overall time limit (``time_limit=``
    of :func:`cftokens.run_audit`, ``cftokens audit --time-limit``): it was stopped, and
    nothing was audited. ``limit``: the limit, in seconds."""

    def __init__(self, message: str, *, limit: float):
        super().__init__(message)
        self.limit = limit


class MaybeRolled(CloudflareError):
    """Rolling a token failed ambiguously: a new secret may have been issued and lost.

    The old secret may already be invalid. Roll the token again to get a secret you hold.
    """

    def __init__(self, message: str, *, token_id: str):
        super().__init__(message)
        self.token_id = token_id


class ErrorDetail:
    """One entry of the envelope's ``errors``: ``code``, ``message`` and ``error_chain``."""

    __slots__ = ("code", "error_chain", "message")

    def __init__(self, code: int | None, message: str, error_chain: Sequence[ErrorDetail] = ()):
        self.code = code
        self.message = message
        self.error_chain = tuple(error_chain)

    @classmethod
    def from_api(cls, payload: object, redacted: dict[str, str] | None = None) -> ErrorDetail:
        """Read one error entry, tolerating missing or odd fields. Each distinct text is
        redacted once (``redacted``: the redactions made so far, shared by the entries of one
        answer): a chain repeating one message (a hostile server's, by the ten thousand)
        costs one redaction, not one per entry."""
        return cls._read(payload, {} if redacted is None else redacted)

    @classmethod
    def _read(cls, payload: object, redacted: dict[str, str]) -> ErrorDetail:
        if not isinstance(payload, Mapping):
            return cls(None, redacted_once(str(payload), redacted)[:200])
        code = payload.get("code")
        chain = payload.get("error_chain") or ()
        return cls(
            code if isinstance(code, int) else None,
            redacted_once(str(payload.get("message", "")), redacted),
            [cls._read(c, redacted) for c in chain] if isinstance(chain, list) else (),
        )

    def codes(self) -> tuple[int, ...]:
        """This error's code followed by the codes of its chain (depth first)."""
        found: list[int] = []
        self._add_codes(found)
        return tuple(found)

    def _add_codes(self, found: list[int]) -> None:
        # into one list: a tuple per entry made a chain of thousands quadratic-ish in copies
        if self.code is not None:
            found.append(self.code)
        for entry in self.error_chain:
            if entry.error_chain:
                entry._add_codes(found)
            elif entry.code is not None:
                found.append(entry.code)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ErrorDetail):
            return NotImplemented
        return (self.code, self.message, self.error_chain) == (
            other.code,
            other.message,
            other.error_chain,
        )

    def __hash__(self) -> int:
        return hash((self.code, self.message, self.error_chain))

    def __repr__(self) -> str:
        chain = f", error_chain={list(self.error_chain)!r}" if self.error_chain else ""
        return f"ErrorDetail(code={self.code!r}, message={self.message!r}{chain})"


class APIErrorFields(TypedDict, total=False):
    """The keyword arguments every :class:`APIError` takes (its subclasses pass them on)."""

    status: int | None
    method: str
    url: str
    errors: Sequence[ErrorDetail]
    request_id: str | None


class APIError(CloudflareError):
    """Cloudflare (or the sandbox) answered with an error.

    Attributes: ``status`` (HTTP status), ``method``, ``url`` (without query secrets),
    ``errors`` (tuple of :class:`ErrorDetail`), ``request_id`` (the ``cf-ray`` header).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str = "",
        url: str = "",
        errors: Sequence[ErrorDetail] = (),
        request_id: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.method = method
        self.url = redact(url)
        self.errors = tuple(errors)
        self.request_id = request_id

    @property
    def codes(self) -> tuple[int, ...]:
        """Every Cloudflare error code in the response, chains included."""
        found: list[int] = []
        for error in self.errors:
            error._add_codes(found)
        return tuple(found)


class BadRequest(APIError):
    """The request was refused as invalid (400 and similar); the message names the field."""


class AuthenticationError(APIError):
    """The credentials were missing, malformed, invalid, expired, or used from a refused IP."""


class PermissionDenied(APIError):
    """The token is valid but lacks the permission group or the resource this call needs.

    ``needed`` lists the permission groups any one of which would allow the call.
    """

    def __init__(
        self, message: str, *, needed: Sequence[str] = (), **fields: Unpack[APIErrorFields]
    ):
        super().__init__(message, **fields)
        self.needed = tuple(needed)


class NotFound(APIError):
    """No route, or no object with that id (or the token may not see it)."""


class RateLimited(APIError):
    """Too many requests (429). ``retry_after`` is the server's advice in seconds, if any."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        **fields: Unpack[APIErrorFields],
    ):
        super().__init__(message, **fields)
        self.retry_after = retry_after


class ServerError(APIError):
    """Cloudflare failed (5xx). Safe calls are retried before this is raised."""


class NotEmulated(APIError):
    """The sandbox authorised the call but does not emulate this endpoint (HTTP 501)."""


class UnexpectedResponse(APIError):
    """The response is not Cloudflare's JSON envelope (a proxy's HTML page, a truncated body,
    missing fields, a server that ignores pagination). ``excerpt`` is a short redacted sample."""

    def __init__(self, message: str, *, excerpt: str = "", **fields: Unpack[APIErrorFields]):
        super().__init__(message, **fields)
        self.excerpt = excerpt


#: Errors renamed, kept one release under their old name: old name -> new name.
RENAMED = {"Timeout": "RequestTimedOut"}


def renamed(module: str, name: str) -> type[CloudflareError]:
    """The error an old ``name`` of ``module`` stands for, with a :class:`DeprecationWarning`
    naming the new one (for the modules' ``__getattr__``); AttributeError for other names."""
    new = RENAMED.get(name)
    if new is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    warnings.warn(
        f"{module}.{name} is deprecated and will be removed in the next release: use "
        f"{module}.{new} (the same class)",
        DeprecationWarning,
        stacklevel=3,
    )
    error: type[CloudflareError] = globals()[new]
    return error


def __getattr__(name: str) -> type[CloudflareError]:
    return renamed(__name__, name)
