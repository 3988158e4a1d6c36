"""Errors the sandbox answers with: an HTTP status, Cloudflare's error code(s) and a message.

Handlers raise :class:`SandboxError`; the dispatcher turns it into Cloudflare's failure
envelope ``{"success": false, "errors": [{"code", "message", "error_chain"?}], "messages": [],
"result": null}``. The constructors below are the only place codes and statuses are chosen;
``docs/sandbox.md`` (in the repository) lists them (and which ones Cloudflare does not
confirm).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import redact, redact_uri

__all__ = [
    "CODE_BAD_REQUEST",
    "CODE_MALFORMED_JSON",
    "CODE_NOT_EMULATED",
    "CODE_QUOTA",
    "CODE_RATE_LIMITED",
    "CODE_SERVER",
    "SandboxError",
]

# Codes of the sandbox's own choosing where Cloudflare's are unknown (documented in
# docs/sandbox.md).
CODE_BAD_REQUEST = 1004  # invalid request body or parameter (the message names the field)
CODE_MALFORMED_JSON = 6007  # "Malformed JSON in request body"
CODE_QUOTA = 1002  # token quota reached
CODE_NOT_EMULATED = 7501  # authorised, but the sandbox does not emulate the endpoint
CODE_RATE_LIMITED = 971  # "Please wait and consider throttling your request speed"
CODE_SERVER = 10001  # injected 5xx faults and unexpected failures
CODE_BODY_TOO_LARGE = 1005  # request body over the size limit


class SandboxError(Exception):
    """An API failure: ``status``, ``code``, ``message``, optional ``chain`` and headers."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        chain: Sequence[tuple[int, str]] = (),
        headers: Mapping[str, str] | None = None,
    ):
        # A message may quote what the caller sent (a path, a value): a credential pasted
        # there is not echoed back to the caller's logs or SDK errors.
        message = redact(message)
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.chain = tuple((c, redact(m)) for c, m in chain)
        self.headers = dict(headers or {})

    def envelope(self) -> dict[str, Any]:
        """Cloudflare's failure envelope for this error."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.chain:
            error["error_chain"] = [{"code": c, "message": m} for c, m in self.chain]
        return {"success": False, "errors": [error], "messages": [], "result": None}

    # -- authentication ------------------------------------------------------------------
    @classmethod
    def missing_credentials(cls) -> SandboxError:
        """No Authorization header and no X-Auth-Email/X-Auth-Key pair (9106, HTTP 400)."""
        return cls(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")

    @classmethod
    def malformed_authorization(cls) -> SandboxError:
        """An Authorization header that is not ``Bearer <token>`` (6003 + 6111, HTTP 400)."""
        return cls(
            400,
            6003,
            "Invalid request headers",
            chain=[(6111, "Invalid format for Authorization header")],
        )

    @classmethod
    def invalid_token(cls) -> SandboxError:
        """Unknown, rolled-away, deleted, disabled, expired or not-yet-valid (9109, HTTP 401)."""
        return cls(401, 9109, "Invalid access token")

    @classmethod
    def bad_location(cls, ip: str) -> SandboxError:
        """The client IP fails the token's IP condition (9109, HTTP 403)."""
        return cls(403, 9109, f"Cannot use the access token from location: {ip}")

    @classmethod
    def invalid_api_key(cls) -> SandboxError:
        """X-Auth-Email/X-Auth-Key that match no user (9103, HTTP 403)."""
        return cls(403, 9103, "Unknown X-Auth-Key or X-Auth-Email")

    @classmethod
    def verify_invalid(cls) -> SandboxError:
        """``…/tokens/verify`` with a token that is not valid there (1000, HTTP 401)."""
        return cls(401, 1000, "Invalid API Token")

    @classmethod
    def account_token_on_accounts(cls) -> SandboxError:
        """GET /accounts with an account-owned token (1001, HTTP 403)."""
        return cls(
            403,
            1001,
            "Account-owned API tokens cannot list accounts; call GET /accounts/{account_id} "
            "for the token's own account",
        )

    @classmethod
    def forbidden(cls, reason: str = "") -> SandboxError:
        """A valid token without the permission or resource (10000, HTTP 403)."""
        del reason  # Cloudflare's message says no more; the journal keeps the reason.
        return cls(403, 10000, "Authentication error")

    # -- requests ------------------------------------------------------------------------
    @classmethod
    def no_route(cls) -> SandboxError:
        """No operation at this method and path (7003, HTTP 404)."""
        return cls(404, 7003, "No route for the URI")

    @classmethod
    def method_not_allowed(cls, method: str) -> SandboxError:
        """A method Cloudflare's API has no operation for, such as TRACE (7001, HTTP 405)."""
        return cls(
            405,
            7001,
            f"Method {method[:16]} not allowed for the URI; the API answers GET, POST, PUT, "
            "PATCH and DELETE (HEAD as GET)",
            headers={"allow": "GET, HEAD, POST, PUT, PATCH, DELETE"},
        )

    @classmethod
    def not_found(cls, path: str) -> SandboxError:
        """An object named in the path does not exist or is not visible (7003, HTTP 404)."""
        return cls(
            404,
            7003,
            f"Could not route to {redact_uri(path)}, perhaps your object identifier is invalid?",
        )

    @classmethod
    def bad_request(cls, message: str) -> SandboxError:
        """Invalid body or parameter; the message names the field (1004, HTTP 400)."""
        return cls(400, CODE_BAD_REQUEST, message)

    @classmethod
    def malformed_json(cls, detail: str) -> SandboxError:
        """The body is not JSON (6007, HTTP 400)."""
        return cls(400, CODE_MALFORMED_JSON, f"Malformed JSON in request body: {detail}")

    @classmethod
    def body_too_large(cls, size: int, limit: int) -> SandboxError:
        """The body exceeds the size limit (HTTP 413)."""
        return cls(
            413,
            CODE_BODY_TOO_LARGE,
            f"request body is {size} bytes; the sandbox accepts at most {limit} bytes "
            f"({limit // 1024} KiB): send a smaller body",
        )

    @classmethod
    def quota(cls, what: str, limit: int) -> SandboxError:
        """A token quota is reached (1002, HTTP 400)."""
        return cls(
            400,
            CODE_QUOTA,
            f"{what} already has the maximum of {limit} API tokens; delete unused tokens "
            "before creating new ones",
        )

    @classmethod
    def not_emulated(cls, method: str, path: str) -> SandboxError:
        """Authorised, but the sandbox does not emulate the endpoint (HTTP 501)."""
        return cls(
            501,
            CODE_NOT_EMULATED,
            f"authorized, but {method} {redact_uri(path)} is not emulated by the sandbox",
        )

    @classmethod
    def rate_limited(cls, limit: int, retry_after: int, period: float = 300) -> SandboxError:
        """Over the request rate limit (971, HTTP 429, with ``retry-after``)."""
        return cls(
            429,
            CODE_RATE_LIMITED,
            f"More than {limit} requests per {period:g} seconds reached. Please wait and "
            "consider throttling your request speed",
            headers={
                "retry-after": str(retry_after),
                "x-ratelimit-limit": str(limit),
                "x-ratelimit-remaining": "0",
            },
        )

    @classmethod
    def server_error(cls, status: int) -> SandboxError:
        """An injected (or unexpected) server failure."""
        text = {
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
        }.get(status, "Server Error")
        return cls(status, CODE_SERVER, f"{text} (sandbox)")
