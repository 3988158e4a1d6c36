"""The request pipeline: faults → route → authenticate → rate limit → authorise → handle →
journal, in one transaction per request.

:meth:`Engine.handle` takes a transport-neutral :class:`~.context.Request` and returns a
:class:`~.context.Response`; the httpx transport and the ASGI app are thin shells around it.
Authorisation is the policy engine's (:func:`cftokens.policy.evaluate_request`), asked twice:
about the token, and about its owner's rights (:mod:`.roles`), so a token never does more than
its owner may.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from ..catalog import operations
from ..errors import redact, redact_uri
from ..model.secret import Secret
from ..model.token import Token
from ..policy import check_token, evaluate_request
from .clock import Clock
from .context import Call, Principal, PrincipalKind, RawJSON, Request, Response
from .credentials import Generator
from .errors import SandboxError
from .faults import FaultInjector, Faults, RateLimit, RateLimiter
from .roles import account_ceiling, user_ceiling
from .routes import ROUTES
from .store import JournalRow, Store, TokenRow, ZoneRow, ts

__all__ = ["PREFIX", "Engine"]

log = logging.getLogger("cftokens.sandbox")

PREFIX = "/client/v4"
_BEARER = re.compile(r"Bearer ([!-~]+)", re.IGNORECASE)
_PRE_FAULTS = frozenset({"500", "502", "503", "429", "drop"})
_JSON_HEADERS = ("content-type", "application/json")
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


def _dumps(envelope: dict[str, Any]) -> bytes:
    result = envelope.get("result")
    if isinstance(result, RawJSON):  # a cached, already serialised result
        head = json.dumps(
            {k: v for k, v in envelope.items() if k != "result"}, separators=(",", ":")
        )
        return (head[:-1] + ',"result":' + result + "}").encode()
    return json.dumps(envelope, separators=(",", ":")).encode()


def _journal_path(path: str) -> str:
    """``path`` with any secret pasted into it redacted, for the journal (and the Audit Logs
    built from it), also when percent-encoded. The cheap test first (on the hot path): only a
    segment longer than an id, a ``cf…_`` prefix, whitespace, ``:``, ``=`` or ``%`` can hold
    something :func:`~cftokens.errors.redact_uri` would remove."""
    if (
        "cf" in path
        or ":" in path
        or "=" in path
        or "%" in path
        or len(path.split()) > 1
        or any(len(segment) > 32 for segment in path.split("/"))
    ):
        return redact_uri(path)
    return path


def _scrub_ids(entry: JournalRow) -> None:
    """A secret pasted where an account or zone id goes: the path is already redacted; so are
    the ids taken from it and the policy engine's sentence that names them."""
    for name in ("account_id", "zone_id"):
        value = getattr(entry, name)
        if value and redact_uri(value) != value:
            setattr(entry, name, "[redacted]")
            if entry.reason:
                entry.reason = entry.reason.replace(value, "[redacted]")


def _journal_query(query: str) -> str:
    """The query string for the journal: every key or value holding a credential, decoded or
    not, redacted."""
    return redact_uri("?" + query)[1:]


class Engine:
    """Everything a request needs: the store, clock, id/secret generator, faults, rate limit."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        generator: Generator,
        faults: Faults | None = None,
        rate_limit: RateLimit | None = None,
        keep_secrets: bool = True,
        user_token_quota: int = 50,
        account_token_quota: int = 500,
        requests: int | None = None,
    ):
        self.store = store
        self.clock = clock
        self.generator = generator
        self.faults = faults
        self.injector = FaultInjector(faults) if faults is not None else None
        self.rate_limit = rate_limit
        self.limiter = RateLimiter(rate_limit) if rate_limit is not None else None
        self.keep_secrets = keep_secrets
        self.user_token_quota = user_token_quota
        self.account_token_quota = account_token_quota
        self.issued: list[Secret] = []
        self._ceilings: dict[str, Token] = {}
        self._decisions: dict[tuple[Any, ...], tuple[bool, str]] = {}
        self._lock = threading.Lock()
        self._last_now: datetime | None = None
        self._last_ts = ""
        # Requests are numbered (for Ray ids) from the journal's length, so a reopened
        # database continues the sequence; a copied sandbox continues its original's.
        self._requests = store.journal_length() if requests is None else requests

    @property
    def requests_answered(self) -> int:
        """How many requests this engine has numbered (Ray ids come from this count)."""
        return self._requests

    def __repr__(self) -> str:
        # What it serves and how, never what it issued (``issued`` holds the secrets).
        limit = "no rate limit" if self.rate_limit is None else repr(self.rate_limit)
        faults = "no faults" if self.faults is None else repr(self.faults)
        return f"<Engine on {self.store!r}, {self.clock!r}, {limit}, {faults}>"

    # -- ids, secrets, ceilings -----------------------------------------------------------
    def new_id(self) -> str:
        """A fresh 32-hex id (deterministic per seed)."""
        return self.generator.id(self.store.next_counter())

    def remember(self, secret: str) -> None:
        """Keep an issued secret in memory (as a Secret) for leak scans, when enabled."""
        if self.keep_secrets:
            with self._lock:
                self.issued.append(Secret(secret))

    def new_secret(self, owner_kind: str) -> str:
        """A fresh token secret for a user- or account-owned token."""
        prefix = "cfut_" if owner_kind == "user" else "cfat_"
        secret = self.generator.token_secret(prefix, self.store.next_counter())
        self.remember(secret)
        return secret

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
        status: str = "active",
        secret: str | None = None,
        token_id: str | None = None,
        issued_on: datetime | None = None,
        modified_on: datetime | None = None,
        last_used_on: datetime | None = None,
    ) -> tuple[TokenRow, str]:
        """Store a new token and return its row and secret (validation is the caller's)."""
        token_id = token_id or self.new_id()
        if secret is None:
            secret = self.new_secret(owner_kind)
        else:
            self.remember(secret)
        issued = issued_on or when
        self.store.insert_tokens(
            [
                {
                    "id": token_id,
                    "owner_kind": owner_kind,
                    "owner_id": owner_id,
                    "name": name,
                    "status": status,
                    "policies": json.dumps(policies),
                    "condition": None if condition is None else json.dumps(condition),
                    "not_before": None if not_before is None else ts(not_before),
                    "expires_on": None if expires_on is None else ts(expires_on),
                    "issued_on": ts(issued),
                    "modified_on": ts(modified_on or issued),
                    "last_used_on": None if last_used_on is None else ts(last_used_on),
                    "secret_hash": self.store.hash(secret),
                    "secret_changed_on": ts(issued),
                    "created_by": created_by,
                }
            ]
        )
        row = self.store.token(token_id)
        assert row is not None
        return row, secret

    def roll_secret(self, row: TokenRow, when: datetime) -> str:
        """Give a token a new secret; the old one stops working at once."""
        secret = self.new_secret(row.owner_kind)
        self.store.set_secret(row.id, self.store.hash(secret), ts(when))
        return secret

    def user_ceiling(self, user_id: str) -> Token:
        """The user's rights as a token (cached until memberships change)."""
        key = "user:" + user_id
        ceiling = self._ceilings.get(key)
        if ceiling is None:
            ceiling = user_ceiling(user_id, self.store.memberships(user_id))
            self._ceilings[key] = ceiling
        return ceiling

    def account_ceiling(self, account_id: str) -> Token:
        """An account-owned token's bound: its account (cached)."""
        key = "account:" + account_id
        ceiling = self._ceilings.get(key)
        if ceiling is None:
            ceiling = account_ceiling(account_id)
            self._ceilings[key] = ceiling
        return ceiling

    def invalidate_roles(self) -> None:
        """Forget cached rights and decisions (after memberships change)."""
        self._ceilings.clear()
        self._decisions.clear()

    # -- authentication ----------------------------------------------------------------
    def _lookup(self, secret: str) -> TokenRow | None:
        return self.store.token_by_hash(self.store.hash(secret))

    def authenticate(self, request: Request, now: datetime, *, verify: bool) -> Principal:
        """Who is calling; raises the Cloudflare error for missing or bad credentials.

        A found token comes back even when unusable (``principal.refusal`` says why), so that
        verify can report a disabled token's status.
        """
        headers = request.headers
        auth = headers.get("authorization")
        if auth is not None:
            # Two Authorization headers arrive joined by ", " (context.header_map): refused.
            m = _BEARER.fullmatch(auth.strip()) if "," not in auth else None
            if m is None:
                raise SandboxError.malformed_authorization()
            row = self._lookup(m.group(1))
            if row is None:
                raise SandboxError.verify_invalid() if verify else SandboxError.invalid_token()
            model = self.store.model(row)
            if row.owner_kind == "user":
                principal = Principal(
                    PrincipalKind.USER_TOKEN,
                    model=model,
                    ceiling=self.user_ceiling(row.owner_id),
                    token=row,
                    user_id=row.owner_id,
                )
            else:
                principal = Principal(
                    PrincipalKind.ACCOUNT_TOKEN,
                    model=model,
                    ceiling=self.account_ceiling(row.owner_id),
                    token=row,
                    account_id=row.owner_id,
                )
            usable = check_token(model, at=now)
            if not usable.allowed:
                principal.refusal, principal.reason = "invalid", usable.reason
            elif not model.condition.empty:
                located = check_token(model, at=now, ip=request.ip)
                if not located.allowed:
                    principal.refusal, principal.reason = "location", located.reason
            return principal
        email = headers.get("x-auth-email")
        key = headers.get("x-auth-key")
        if not email or not key:
            raise SandboxError.missing_credentials()
        user = self.store.user_by_email(email.strip())
        stored = self.store.api_key_hash(user.id) if user is not None else None
        if (
            user is None
            or stored is None
            or not hmac.compare_digest(stored, self.store.hash(key.strip()))
        ):
            raise SandboxError.invalid_api_key()
        return Principal(
            PrincipalKind.API_KEY,
            model=self.user_ceiling(user.id),
            ceiling=None,
            user_id=user.id,
            email=user.email,
        )

    # -- authorisation -----------------------------------------------------------------
    def allowed(
        self,
        principal: Principal,
        method: str,
        path: str,
        *,
        ip: str,
        at: datetime,
        zone_account: str | None = None,
        cache: bool = False,
    ) -> tuple[bool, str]:
        """May ``principal`` call ``METHOD path``? ``(allowed, the engine's reason)``.

        ``cache=True`` only for a principal that passed the token-level checks at ``at``."""
        match = operations.find(method, path)
        if match is None:
            return False, f"denied: no operation matches {method} {path}"
        return self._authorise(
            principal, match, ip=ip, at=at, zone_account=zone_account, cache=cache
        )

    def _decide(
        self,
        subject: Token,
        key: tuple[Any, ...] | None,
        match: Any,
        *,
        user: str | None,
        ip: str,
        at: datetime,
        zone_account: str | None,
    ) -> tuple[bool, str]:
        """The policy engine's decision, memoised per (subject version, operation, target).

        Only requests whose token already passed the token-level checks (status, window, IP)
        use the memo, so a memoised decision depends on the policies alone.
        """
        full: tuple[Any, ...] = ()
        if key is not None:
            full = (
                *key,
                match.operation.method,
                match.operation.path,
                match.zone_id,
                match.account_id,
                zone_account,
            )
            found = self._decisions.get(full)
            if found is not None:
                return found
        decision = evaluate_request(
            subject,
            match.operation.method,
            match.path,
            zone_account=zone_account,
            user=user,
            ip=ip,
            at=at,
            match=match,
        )
        result = (decision.allowed, decision.reason)
        if key is not None:
            if len(self._decisions) > 50_000:
                self._decisions.clear()
            self._decisions[full] = result
        return result

    def _authorise(
        self,
        principal: Principal,
        match: Any,
        *,
        ip: str,
        at: datetime,
        zone_account: str | None,
        cache: bool = True,
    ) -> tuple[bool, str]:
        user = principal.user_id
        token = principal.token
        key: tuple[Any, ...] | None
        ceiling_key: tuple[Any, ...] | None
        if not cache:
            key = ceiling_key = None
        elif token is not None:
            key = ("token", token.id, token.version)
            ceiling_key = ("ceiling", principal.owner_type, principal.owner_id)
        else:
            key = ("api_key", user)
            ceiling_key = None
        allowed, reason = self._decide(
            principal.model, key, match, user=user, ip=ip, at=at, zone_account=zone_account
        )
        if not allowed:
            return False, reason
        ceiling = principal.ceiling
        if ceiling is not None:
            bound_allowed, bound_reason = self._decide(
                ceiling, ceiling_key, match, user=user, ip=ip, at=at, zone_account=zone_account
            )
            if not bound_allowed:
                owner = "account" if principal.kind is PrincipalKind.ACCOUNT_TOKEN else "user"
                return False, (
                    f"denied: the token allows it ({reason[len('allowed: ') :]}), but "
                    f"its {owner} may not: {bound_reason[len('denied: ') :]}"
                )
        return True, reason

    def visible_zones(self, call: Call) -> list[ZoneRow]:
        """Zones the caller may read (GET /zones/{id} would be allowed), in creation order."""
        principal = call.principal
        if principal.kind is PrincipalKind.ACCOUNT_TOKEN:
            accounts = [str(principal.account_id)]
        else:
            accounts = [a for a, _ in self.store.memberships(str(principal.user_id))]
        ip, at = call.request.ip, call.now
        return [
            z
            for z in self.store.zones(accounts)
            if self.allowed(
                principal,
                "GET",
                f"/zones/{z.id}",
                ip=ip,
                at=at,
                zone_account=z.account_id,
                cache=True,
            )[0]
        ]

    def visible_accounts(self, call: Call) -> list[str]:
        """Accounts the caller can reach: allowed GET /accounts/{id}, or a visible zone."""
        principal = call.principal
        ip, at = call.request.ip, call.now
        accounts = [a for a, _ in self.store.memberships(str(principal.user_id))]
        with_zones = {z.account_id for z in self.visible_zones(call)}
        return [
            a
            for a in accounts
            if a in with_zones
            or self.allowed(principal, "GET", f"/accounts/{a}", ip=ip, at=at, cache=True)[0]
        ]

    # -- the pipeline ------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """Answer one request (never raises for a bad request: errors are envelopes)."""
        now = self.clock.on_request()
        if now != self._last_now:
            self._last_now, self._last_ts = now, ts(now)
        now_ts = self._last_ts
        path = request.path
        relative = path[len(PREFIX) :] if path.startswith(PREFIX + "/") else path
        fault = self.injector.next(relative) if self.injector is not None else None
        latency = fault.latency if fault is not None else 0.0
        kind = fault.kind if fault is not None else None
        store = self.store
        # GET handlers only read: their one write (the journal entry, and last_used_on once
        # per second and token) commits on its own, so the read caches stay valid.
        writes = request.verb != "GET"
        with store.lock, store.transaction() if writes else nullcontext():
            self._requests += 1
            ray = self.generator.ray(self._requests)
            agent = request.headers.get("user-agent")
            entry = JournalRow(
                time=now_ts,
                method=request.method,
                path=_journal_path(relative),
                query=_journal_query(request.raw_query) if request.raw_query else None,
                ip=request.ip,
                user_agent=redact(agent) if agent else None,
                ray_id=ray,
            )
            headers = [_JSON_HEADERS, ("cf-ray", ray + "-SBX")]
            if kind in _PRE_FAULTS:
                entry.fault = kind
                if kind == "drop":
                    entry.status = 0
                    store.insert_journal([entry])
                    return Response(0, b"", [], drop=True, latency=latency)
                error = SandboxError.server_error(int(kind)) if kind != "429" else None
                if error is None:
                    assert self.faults is not None
                    limit = self.rate_limit.limit if self.rate_limit is not None else 1200
                    error = SandboxError.rate_limited(limit, self.faults.retry_after)
                entry.status, entry.error_code = error.status, error.code
                store.insert_journal([entry])
                headers.extend(error.headers.items())
                return Response(error.status, _dumps(error.envelope()), headers, latency=latency)
            try:
                _principal, envelope, extra = self._process(request, path, entry, now, now_ts)
                status = 200
                headers.extend(extra)
            except SandboxError as error:
                status, envelope = error.status, error.envelope()
                entry.error_code = error.code
                headers.extend(error.headers.items())
            except Exception:  # a sandbox bug must still answer with an envelope
                log.exception(
                    "sandbox: unexpected error handling %s %s (request %s-SBX, answered 500)",
                    request.method,
                    entry.path,
                    ray,
                )
                failure = SandboxError.server_error(500)
                status, envelope = 500, failure.envelope()
                entry.error_code = failure.code
            entry.status = status
            if entry.path != relative:  # something in the path was redacted
                _scrub_ids(entry)
            if kind == "lost":
                entry.fault = "lost"
            if writes:
                store.insert_journal([entry])
            else:
                store.defer_journal(entry)
            body = _dumps(envelope)
        if kind == "lost":
            return Response(status, b"", [], drop=True, latency=latency)
        return Response(status, body, headers, latency=latency)

    def _process(
        self, request: Request, path: str, entry: JournalRow, now: datetime, now_ts: str
    ) -> tuple[Principal, dict[str, Any], Sequence[tuple[str, str]]]:
        store = self.store
        if not (path == PREFIX or path.startswith(PREFIX + "/")):
            raise SandboxError.no_route()
        if request.verb not in _METHODS:
            raise SandboxError.method_not_allowed(request.method)
        match = operations.find(request.verb, path)
        if match is None:
            raise SandboxError.no_route()
        op = match.operation
        entry.operation_id = op.operation_id
        route = ROUTES.get((op.method, op.path))
        mode = route.mode if route is not None else "policy"
        zone_account = None
        if match.zone_id is not None:
            zone_account = store.zone_account(match.zone_id)
            entry.zone_id = match.zone_id
            entry.account_id = zone_account
        else:
            entry.account_id = match.account_id
        principal = self.authenticate(request, now, verify=mode == "verify")
        entry.auth = principal.auth
        entry.owner_type = principal.owner_type
        entry.owner_id = principal.owner_id
        entry.user_id = principal.user_id
        if principal.token is not None:
            entry.token_id = principal.token.id
            entry.token_name = principal.token.name
        try:
            envelope, extra = self._authorised(
                request, match, route, mode, principal, entry, now, now_ts, zone_account
            )
            return principal, envelope, extra
        finally:
            token = principal.token
            if principal.refusal is None and token is not None and token.last_used_on != now_ts:
                store.touch(token.id, now_ts)
                token.last_used_on = now_ts

    def _authorised(
        self,
        request: Request,
        match: Any,
        route: Any,
        mode: str,
        principal: Principal,
        entry: JournalRow,
        now: datetime,
        now_ts: str,
        zone_account: str | None,
    ) -> tuple[dict[str, Any], Sequence[tuple[str, str]]]:
        op = match.operation
        if principal.refusal is not None:
            entry.reason = principal.reason
            if mode != "verify":
                if principal.refusal == "location":
                    raise SandboxError.bad_location(request.ip)
                raise SandboxError.invalid_token()
        extra: list[tuple[str, str]] = []
        if self.limiter is not None:
            key = f"{principal.owner_type}:{principal.owner_id}"
            allowed, remaining, retry = self.limiter.hit(key, now.timestamp())
            limit = self.limiter.config.limit
            if not allowed:
                entry.reason = "rate limited"
                raise SandboxError.rate_limited(limit, retry, self.limiter.config.period)
            extra = [
                ("x-ratelimit-limit", str(limit)),
                ("x-ratelimit-remaining", str(remaining)),
                ("x-ratelimit-reset", str(retry)),
            ]
        if mode == "policy":
            if not op.mapped and route is None:
                entry.reason = "Cloudflare's schema names no permission group for this operation"
                raise SandboxError(
                    501,
                    SandboxError.not_emulated(op.method, match.path).code,
                    f"{op.method} {match.path} is not emulated by the sandbox, and Cloudflare's "
                    "schema names no permission group for it, so the sandbox cannot decide "
                    "whether your token may call it",
                )
            allowed_, reason = self._authorise(
                principal, match, ip=request.ip, at=now, zone_account=zone_account
            )
            entry.reason = reason
            if not allowed_:
                raise SandboxError.forbidden(reason)
        if route is None:
            raise SandboxError.not_emulated(op.method, match.path)
        call = Call(
            engine=self,
            request=request,
            match=match,
            principal=principal,
            now=now,
            now_ts=now_ts,
        )
        if request.verb == "GET":  # read-only handlers: nothing to roll back
            return route.handler(call), extra
        with self.store.savepoint():
            envelope = route.handler(call)
        return envelope, extra
