"""Is a found secret live? One ``verify`` call per distinct secret, never a retry storm.

A token is checked at ``GET /user/tokens/verify``; an account-owned one (``cfat_``, or a legacy
token the user path refuses) then at ``GET /accounts/{account_id}/tokens/verify`` when an
account id is known (``CLOUDFLARE_ACCOUNT_ID=`` in the same file, or ``account=``). A Global API
Key is checked with ``GET /user`` and its e-mail (``X-Auth-Email``) when one sits in the same
file. Answers:

==================  ==========================================================================
``live``            the API accepts it (an IP condition refusing this machine still means live;
                    a token not valid yet works from its ``not_before``: live, with a note)
``expired/disabled``the token exists but is expired or disabled
``invalid``         every path that applies answered "Invalid API Token" (code 1000, or 9109
                    "Invalid access token"; 9103 for a key); any other refusal is ``unknown``
``unknown``         no answer (network, 5xx, 429) or no way to ask (an account token, or a
                    legacy token the user path refuses, without an account id; a key without
                    its e-mail): treat it as live
==================  ==========================================================================

Every request goes through one shared client-side rate limiter (Cloudflare's 1,200 requests
per 5 minutes by default) and none is retried: a failure is ``unknown``, not a loop. Results
are cached per secret, so a secret found in a hundred files costs one verify.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from attrs import frozen

from .._shown import fields_shown
from ..detect import as_written as written_value
from ..errors import (
    APIError,
    AuthenticationError,
    CloudflareError,
    InvalidInput,
    RateLimited,
    TransportError,
)
from ..model.secret import Secret

if TYPE_CHECKING:
    import httpx

    from ..client import RateLimit
    from ..sandbox import Sandbox

__all__ = ["Verification", "Verifier", "verifier_of"]


@frozen(kw_only=True, field_transformer=fields_shown)
class Verification:
    """The answer for one secret: ``status``, the token id and owner kind when known, a note."""

    status: str
    token_id: str | None = None
    owner: str | None = None  # "user", "account" or "key"
    account_id: str | None = None
    note: str = ""
    expires_on: str | None = None
    not_before: str | None = None
    token_status: str | None = None


def as_written(secret: Secret) -> Secret:
    """``secret`` with its prefix as Cloudflare writes it, in lower case: ``CFUT_…`` (a log in
    capitals, a sentence's first word) is ``cfut_…`` to whoever lowers it again, the secret the
    leak scanner reports (:func:`cftokens.detect.as_written`); any other secret as it is."""
    value = secret.reveal()
    written = written_value(value)
    return secret if written == value else Secret(written)


class Verifier:
    """Asks the API (or a sandbox) about secrets; ``calls`` counts the requests it sent.

    ``Verifier()`` uses ``CLOUDFLARE_BASE_URL`` (default: the real API);
    ``Verifier(sandbox=sb)`` an in-process sandbox; ``transport=`` any httpx transport.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        sandbox: Sandbox | None = None,
        transport: httpx.BaseTransport | None = None,
        ip: str | None = None,
        rate_limit: RateLimit | tuple[int, float] | None = None,
        timeout: float = 10.0,
        environ: Mapping[str, str] | None = None,
    ):
        # The client loads when a secret is first verified: a scan without verification (the
        # pre-commit hook) does not pay for it.
        from ..client._limits import RateLimit, RateLimiter
        from ..client._protocol import DEFAULT_BASE_URL

        env = os.environ if environ is None else environ
        if sandbox is not None:
            transport = sandbox.transport(ip)
            base_url = base_url or sandbox.base_url
        self.base_url = base_url or env.get("CLOUDFLARE_BASE_URL") or DEFAULT_BASE_URL
        self.transport = transport
        self.timeout = timeout
        self.limiter = RateLimiter(RateLimit.of(rate_limit) if rate_limit else RateLimit())
        self.calls = 0
        self._cache: dict[str, Verification] = {}

    def _client(self, **auth: Any) -> Any:
        # the client (httpx) loads when a secret is first verified: see __init__
        from ..client import Client

        client = Client(
            base_url=self.base_url,
            transport=self.transport,
            max_retries=0,
            timeout=self.timeout,
            **auth,
        )
        client._limiter = self.limiter  # one limiter for every secret checked
        return client

    def check(
        self, secret: Secret, *, account_id: str | None = None, email: str | None = None
    ) -> Verification:
        """Verify one secret (cached: the same secret is never asked twice). A prefix in
        another case (``CFUT_…``) is verified as Cloudflare writes it (:func:`as_written`)."""
        secret = as_written(secret)
        key = hashlib.sha256(secret.reveal().encode()).hexdigest()
        if key not in self._cache:
            self._cache[key] = self._check(secret, account_id, email)
        return self._cache[key]

    def _check(self, secret: Secret, account_id: str | None, email: str | None) -> Verification:
        value = secret.reveal()
        if value.startswith("cfk_") or (len(value) < 46 and _is_hex(value)):
            return self._key(secret, email)
        account_path_only = value.startswith("cfat_")
        if not account_path_only:
            answer = self._verify(secret, None)
            if answer is not None:
                return answer
            if value.startswith("cfut_"):
                return Verification(status="invalid", note="the API does not know this token")
        if account_id is None:
            if account_path_only:
                return Verification(
                    status="unknown",
                    owner="account",
                    note="an account-owned token verifies on /accounts/{account_id}/tokens/"
                    "verify: no account id was found next to it; pass account= (--account)",
                )
            # a legacy token may be account-owned: one path refused is not every path
            return Verification(
                status="unknown",
                note="refused on the user path; it may be an account-owned token, which "
                "verifies on /accounts/{account_id}/tokens/verify: pass account= (--account)",
            )
        answer = self._verify(secret, account_id)
        if answer is not None:
            return answer
        return Verification(
            status="invalid",
            note=f"refused on the user path and on account {account_id}"
            if not account_path_only
            else f"refused on account {account_id}",
        )

    def _verify(self, secret: Secret, account_id: str | None) -> Verification | None:
        """The answer of one verify path, or None when that path says "Invalid API Token"."""
        owner = "account" if account_id else "user"
        try:
            with self._client(token=secret, account_id=account_id) as client:
                self.calls += 1
                tokens = client.account(account_id).tokens if account_id else client.tokens
                result = tokens.verify()
        except AuthenticationError as exc:
            if 9109 in exc.codes and "location" in str(exc).lower():
                return Verification(
                    status="live",
                    owner=owner,
                    account_id=account_id,
                    note="valid, but its IP condition refuses the address that asked",
                )
            if _INVALID_TOKEN.intersection(exc.codes):
                return None
            # not Cloudflare's answer for a bad token (a proxy, another service, a new code):
            # it says nothing about the secret
            return Verification(status="unknown", note=_unexpected(exc))
        except (TransportError, RateLimited) as exc:
            return Verification(status="unknown", note=f"no answer: {type(exc).__name__}")
        except APIError as exc:
            return Verification(status="unknown", note=f"the API answered HTTP {exc.status}")
        except CloudflareError as exc:
            return Verification(status="unknown", note=f"{type(exc).__name__}")
        status = result.status.value
        expires_on = result.expires_on.isoformat() if result.expires_on else None
        not_before = result.not_before.isoformat() if result.not_before else None
        pending = status == "active" and "not valid yet" in (result.message or "")
        if status == "active":
            # a token not valid yet works from its not_before: live for the gate and triage
            return Verification(
                status="live",
                token_id=result.id,
                owner=owner,
                account_id=account_id,
                token_status="not yet valid" if pending else status,
                note=f"not valid yet: it works from {not_before or 'its not_before'}"
                if pending
                else "",
                expires_on=expires_on,
                not_before=not_before,
            )
        return Verification(
            status="expired/disabled",
            token_id=result.id,
            owner=owner,
            account_id=account_id,
            token_status=status,
            note=f"the token exists but is {status}",
            expires_on=expires_on,
            not_before=not_before,
        )

    def _key(self, secret: Secret, email: str | None) -> Verification:
        if email is None:
            return Verification(
                status="unknown",
                owner="key",
                note="a Global API Key is checked together with its account e-mail "
                "(X-Auth-Email); none was found next to it",
            )
        try:
            with self._client(api_key=secret, email=email) as client:
                self.calls += 1
                user = client.user.get()
        except AuthenticationError as exc:
            if _INVALID_KEY.intersection(exc.codes):
                return Verification(status="invalid", owner="key", note=f"refused for {email}")
            return Verification(status="unknown", owner="key", note=_unexpected(exc))
        except (TransportError, RateLimited) as exc:
            return Verification(
                status="unknown", owner="key", note=f"no answer: {type(exc).__name__}"
            )
        except CloudflareError as exc:
            return Verification(status="unknown", owner="key", note=f"{type(exc).__name__}")
        return Verification(status="live", owner="key", note=f"the Global API Key of {user.email}")


# Cloudflare's answers for a secret it does not accept: 1000 "Invalid API Token" (verify),
# 9109 "Invalid access token"; 9103 "Unknown X-Auth-Key or X-Auth-Email" for a key.
_INVALID_TOKEN = frozenset({1000, 9109})
_INVALID_KEY = frozenset({9103})


def _unexpected(exc: CloudflareError) -> str:
    codes = ", ".join(str(c) for c in sorted(getattr(exc, "codes", ()))) or "none"
    status = getattr(exc, "status", "?")
    return f"the API answered HTTP {status} (codes: {codes}), not an 'invalid secret' answer"


def _is_hex(value: str) -> bool:
    return all(c in "0123456789abcdef" for c in value)


def verifier_of(value: bool | Verifier | Sandbox) -> Verifier:
    """A :class:`Verifier` from ``scan(verify=...)``: True, a Verifier or a Sandbox."""
    if isinstance(value, Verifier):
        return value
    if value is True:
        return Verifier()
    if not isinstance(value, bool) and hasattr(value, "transport") and hasattr(value, "base_url"):
        return Verifier(sandbox=value)
    raise InvalidInput(
        "verify= takes True (the API in CLOUDFLARE_BASE_URL), a cftokens.leak.Verifier or a "
        f"Sandbox, not {type(value).__name__}"
    )
