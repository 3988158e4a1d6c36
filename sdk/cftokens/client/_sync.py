"""The synchronous client: :class:`Client` and its resources."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import AuthenticationError, PermissionDenied
from ..model import (
    Account,
    CreatedToken,
    Directory,
    Scope,
    Secret,
    Token,
    TokenSpec,
    User,
    VerifyResult,
    Zone,
)
from . import _calls
from ._base import DEFAULT_RETRIES, DEFAULT_TIMEOUT, ClientBase, Pager, http_timeout
from ._limits import RateLimit, Retry
from ._paging import PageWalker
from ._protocol import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RESPONSE_BYTES,
    Accept,
    Call,
    Envelope,
    Failure,
    GiveUp,
    logger,
)
from .models import AuditLogRecord, DnsRecord
from .recorder import Recorder

if TYPE_CHECKING:
    import httpx

    from ..catalog import PermissionGroup

__all__ = [
    "AccountScope",
    "Accounts",
    "AuditLogs",
    "Client",
    "DnsRecords",
    "PermissionGroups",
    "Tokens",
    "UserResource",
    "Zones",
]

T = TypeVar("T")


class Client(ClientBase):
    """A synchronous client for Cloudflare's token API (and the sandbox).

    >>> import cftokens as cft
    >>> with cft.Client(token=secret) as client:          # doctest: +SKIP
    ...     for token in client.tokens.list():
    ...         print(token.name, token.status)

    Keyword-only arguments: ``token`` (a :class:`~cftokens.Secret` or str), ``base_url``,
    ``account_id`` (default account, e.g. for verifying an account-owned token), ``timeout``
    (seconds or an ``httpx.Timeout``), ``max_retries`` (an int or a
    :class:`~cftokens.client.Retry`), ``rate_limit`` (a :class:`~cftokens.client.RateLimit`,
    ``(requests, seconds)`` or None), ``transport`` (any httpx transport: the sandbox's, a
    ``MockTransport``…), ``api_key`` + ``email`` (a legacy Global API Key),
    ``max_response_bytes`` (the largest response body read, default 8 MiB, enforced while
    streaming) and ``max_pages`` (the most pages one listing fetches, default 10,000): a
    broken or hostile server that passes either gets :class:`~cftokens.UnexpectedResponse`
    naming the cap.

    Safe calls (GET, DELETE, PUT updates) are retried with exponential backoff and full
    jitter on connection errors, timeouts, 429 and 5xx; a create or roll never is after an
    unclear failure (:class:`~cftokens.MaybeCreated`, :class:`~cftokens.MaybeRolled`).
    """

    def __init__(
        self,
        *,
        token: Secret | str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        account_id: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int | Retry = DEFAULT_RETRIES,
        rate_limit: RateLimit | tuple[int, float] | None = RateLimit(),  # noqa: B008 - frozen
        transport: httpx.BaseTransport | None = None,
        api_key: Secret | str | None = None,
        email: str | None = None,
        recorder: Recorder | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_pages: int = DEFAULT_MAX_PAGES,
    ):
        super().__init__(
            token=token,
            base_url=base_url,
            account_id=account_id,
            timeout=timeout,
            max_retries=max_retries,
            rate_limit=rate_limit,
            api_key=api_key,
            email=email,
            recorder=recorder,
            max_response_bytes=max_response_bytes,
            max_pages=max_pages,
        )
        self._transport = transport
        self._http_client: httpx.Client | None = None
        self.tokens = Tokens(self, None)
        self.accounts = Accounts(self)
        self.zones = Zones(self)
        self.dns_records = DnsRecords(self)
        self.user = UserResource(self)
        #: The permission groups tokens may use (same as ``client.tokens.permission_groups``).
        self.permission_groups = self.tokens.permission_groups

    @property
    def _http(self) -> httpx.Client:
        """The httpx client, made (and httpx imported) with the first request."""
        if self._http_client is None:
            import httpx

            self._http_client = httpx.Client(
                transport=self._transport, timeout=http_timeout(self._timeout)
            )
        return self._http_client

    # -- lifecycle --------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connections. The client cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            if self._http_client is not None:
                self._http_client.close()

    def __enter__(self) -> Client:
        self._check_open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- resources --------------------------------------------------------------------------
    def account(self, account_id: str | None = None) -> AccountScope:
        """The resources of one account (default: the client's ``account_id``)."""
        return AccountScope(self, self._account(account_id))

    def directory(self) -> Directory:
        """The accounts and zones this token can see, for names and zone → account lookups."""
        return Directory(accounts=self.accounts.list().collect(), zones=self.zones.list().collect())

    def tokens_by_account(
        self, account_ids: Iterable[str] | None = None, *, skip_denied: bool = False
    ) -> dict[str, list[Token]]:
        """The account-owned tokens of several accounts (default: every visible account).

        With ``skip_denied=True`` accounts whose tokens this credential may not list are left
        out (and logged) instead of raising :class:`~cftokens.PermissionDenied`.
        """
        ids = (
            [a.id for a in self.accounts.list()]
            if account_ids is None
            else [self._account(a) for a in account_ids]
        )
        result: dict[str, list[Token]] = {}
        for account_id in dict.fromkeys(ids):
            try:
                result[account_id] = self.account(account_id).tokens.list().collect()
            except (PermissionDenied, AuthenticationError) as exc:
                if not skip_denied:
                    raise
                logger.warning(
                    "skipped the tokens of account %s: %s", account_id, type(exc).__name__
                )
        return result

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Call any endpoint that answers with Cloudflare's envelope; return its ``result``.

        ``path`` is relative to ``base_url`` (``"/zones/<id>/firewall/rules"``). Errors,
        retries and rate limits work as for every other call: GET, HEAD, DELETE and PUT are
        retried; POST and PATCH only when the server surely did not act, unless you pass
        ``idempotent=True``.
        """
        return self._execute(
            _calls.generic_call(
                self._core, method, path, params=params, json=json, idempotent=idempotent
            )
        )

    # -- machinery --------------------------------------------------------------------------
    def _send(self, call: Call[Any]) -> Envelope:
        import httpx  # already loaded by the first request's build

        self._check_open()
        core = self._core
        clock = self._time
        retries = 0
        ambiguous = False
        while True:
            refused = core.paused(call, self._limiter.server_pause(clock.monotonic()))
            if refused is not None:
                raise refused
            wait = self._limiter.reserve(clock.monotonic())
            if wait > 0:
                level = logging.INFO if wait >= 1 else logging.DEBUG
                logger.log(level, "rate limit: %s waits %.2f s", call.target(), wait)
                clock.sleep(wait)
            self._check_open()
            request = core.build_request(call)
            start = clock.monotonic()
            outcome: Envelope | Failure
            try:
                response = self._http.send(request, stream=True)
                try:
                    body = bytearray()
                    fits = not core.announced_too_large(response) and all(
                        core.take(body, chunk) for chunk in response.iter_bytes()
                    )
                finally:
                    response.close()
            except (httpx.HTTPError, OSError) as exc:
                outcome = core.transport_failure(call, exc, clock.monotonic() - start)
            else:
                now = clock.monotonic()
                self._limiter.observe(response.status_code, response.headers, now)
                if fits:
                    outcome = core.read(call, response, now - start, bytes(body))
                else:
                    outcome = core.too_large(call, response, now - start)
                del body
            finally:
                del request
            if isinstance(outcome, Envelope):
                return outcome
            decision = core.decide(call, retries, outcome, ambiguous)
            if isinstance(decision, Accept):
                return Envelope(result=None)
            if isinstance(decision, GiveUp):
                raise decision.error from None
            ambiguous = ambiguous or not outcome.unsent
            retries += 1
            clock.sleep(decision.delay)

    def _execute(self, call: Call[T]) -> T:
        return self._core.parse(call, self._send(call))

    def _walk(self, walker: PageWalker[T]) -> Pager[T]:
        def items() -> Iterator[T]:
            page: int | None = 1
            while page is not None:
                envelope = self._send(walker.call(page))
                yield from walker.accept(page, envelope)
                page = walker.next_page()

        return Pager(items(), walker.what, walker.unreadable)


class _Resource:
    def __init__(self, client: Client):
        self._client = client


class PermissionGroups(_Resource):
    """``client.tokens.permission_groups``: the groups a token of this owner may use."""

    def __init__(self, client: Client, calls: _calls.TokenCalls):
        super().__init__(client)
        self._calls = calls

    def list(
        self, name: str | None = None, scope: str | Scope | None = None
    ) -> Pager[PermissionGroup]:
        """The permission groups, optionally filtered by ``name`` and ``scope`` (``"zone"``…).

        Each is a catalogue :class:`~cftokens.PermissionGroup`, usable in ``Policy.allow``.
        """
        call = self._calls.permission_groups(name=name, scope=scope)
        client = self._client

        def items() -> Iterator[PermissionGroup]:
            yield from client._execute(call)

        return Pager(items(), "permission groups")


class Tokens(_Resource):
    """API tokens of your user (``client.tokens``) or of one account
    (``client.account(id).tokens``)."""

    def __init__(self, client: Client, account_id: str | None):
        super().__init__(client)
        self._calls = _calls.TokenCalls(client._core, account_id)
        self.permission_groups = PermissionGroups(client, self._calls)

    @property
    def account_id(self) -> str | None:
        """The owning account, or None for user-owned tokens."""
        return self._calls.account_id

    def verify(self) -> VerifyResult:
        """Check the client's own token: its id and status.

        A ``cfat_`` token (or a legacy 40-character token on a client with ``account_id``)
        verifies at ``/accounts/{account_id}/tokens/verify``; a ``cfut_`` token at
        ``/user/tokens/verify``, even on a client with ``account_id``.
        """
        return self._client._execute(self._calls.verify())

    def list(
        self, *, per_page: int = 50, direction: str | None = None, include_expired: bool = False
    ) -> Pager[Token]:
        """Every token, lazily, page by page (no empty extra page is requested)."""
        return self._client._walk(
            self._calls.list(
                per_page=per_page, direction=direction, include_expired=include_expired
            )
        )

    def get(self, token_id: str) -> Token:
        """One token by id."""
        return self._client._execute(self._calls.get(token_id))

    def create(self, spec: TokenSpec) -> CreatedToken:
        """Create a token; the result holds its secret, shown only this once.

        Never retried after an unclear failure: that raises :class:`~cftokens.MaybeCreated`.
        """
        return self._client._execute(self._calls.create(spec))

    def update(
        self,
        token_id: str,
        spec_or_changes: TokenSpec | Mapping[str, Any] | None = None,
        /,
        **changes: Any,
    ) -> Token:
        """Change a token. PUT replaces the whole token, so with changes (``name="x"``,
        ``allow_ips=[...]``, ``status="disabled"``…) the current token is read first and kept
        as it is apart from them; with a :class:`~cftokens.TokenSpec`, or a whole token body as
        the API writes it (a GET result, an audit fix's ``put_body``), that token replaces it."""
        spec_or_changes = _calls.whole_token(spec_or_changes)
        merged = _calls.token_changes(spec_or_changes, changes)
        current = None if isinstance(spec_or_changes, TokenSpec) else self.get(token_id)
        spec = _calls.merge_token(current, spec_or_changes, merged)
        return self._client._execute(self._calls.update(token_id, spec))

    def delete(self, token_id: str) -> None:
        """Delete a token (its secret stops working at once)."""
        self._client._execute(self._calls.delete(token_id))

    def roll(self, token_id: str) -> Secret:
        """Issue a new secret for a token; the old one stops working at once.

        Never retried after an unclear failure: that raises :class:`~cftokens.MaybeRolled`.
        """
        return self._client._execute(self._calls.roll(token_id))


class Accounts(_Resource):
    """``client.accounts``: the accounts this credential can see."""

    def list(self, *, name: str | None = None, per_page: int = 50) -> Pager[Account]:
        """Every account, lazily."""
        return self._client._walk(
            _calls.accounts_walker(self._client._core, name=name, per_page=per_page)
        )

    def get(self, account_id: str) -> Account:
        """One account by id."""
        return self._client._execute(_calls.account_get(account_id))


class AuditLogs(_Resource):
    """``client.account(id).audit_logs``: Cloudflare Audit Logs v2 of one account."""

    def __init__(self, client: Client, account_id: str):
        super().__init__(client)
        self._account_id = account_id

    def list(
        self,
        *,
        since: datetime | date | str,
        before: datetime | date | str | None = None,
        direction: str | None = None,
        limit: int = 100,
        **filters: str | int | Sequence[str | int],
    ) -> Pager[AuditLogRecord]:
        """Audit-log records between ``since`` and ``before`` (default: now), lazily.

        Filters are Audit Logs v2 query parameters, e.g. ``actor_token_id=...``,
        ``action_type="create"``, ``actor_context="api_key"``, ``zone_id=...``; a list means
        any of its values, and ``**{"actor_context.not": "dash"}`` excludes.
        """
        walker = _calls.audit_log_walker(
            self._client._core,
            self._account_id,
            since=since,
            before=before,
            direction=direction,
            limit=limit,
            filters=filters,
        )
        client = self._client

        def items() -> Iterator[AuditLogRecord]:
            while not walker.done:
                yield from walker.accept(client._send(walker.call()))

        return Pager(items(), walker.what, walker.unreadable)


class AccountScope(_Resource):
    """``client.account(id)``: the account's tokens and audit logs."""

    def __init__(self, client: Client, account_id: str):
        super().__init__(client)
        self.id = account_id
        self.tokens = Tokens(client, account_id)
        self.audit_logs = AuditLogs(client, account_id)

    def get(self) -> Account:
        """The account itself."""
        return self._client._execute(_calls.account_get(self.id))

    def __repr__(self) -> str:
        return f"<AccountScope {self.id}>"


class Zones(_Resource):
    """``client.zones``: the zones this credential can see."""

    def list(
        self,
        *,
        name: str | None = None,
        account_id: str | None = None,
        status: str | None = None,
        per_page: int = 50,
    ) -> Pager[Zone]:
        """Every zone, lazily; filter by domain ``name``, owning ``account_id`` or ``status``."""
        return self._client._walk(
            _calls.zones_walker(
                self._client._core,
                name=name,
                account_id=account_id,
                status=status,
                per_page=per_page,
            )
        )

    def get(self, zone_id: str) -> Zone:
        """One zone by id."""
        return self._client._execute(_calls.zone_get(zone_id))


class DnsRecords(_Resource):
    """``client.dns_records``: DNS records of a zone (a real product surface for demos)."""

    def list(
        self,
        zone_id: str,
        *,
        type: str | None = None,
        name: str | None = None,
        content: str | None = None,
        per_page: int = 100,
    ) -> Pager[DnsRecord]:
        """The zone's records, lazily; filter by ``type``, ``name`` or ``content``."""
        return self._client._walk(
            _calls.dns_walker(
                self._client._core,
                zone_id,
                type=type,
                name=name,
                content=content,
                per_page=per_page,
            )
        )

    def get(self, zone_id: str, record_id: str) -> DnsRecord:
        """One record."""
        return self._client._execute(_calls.dns_get(zone_id, record_id))

    def create(
        self,
        zone_id: str,
        *,
        type: str,
        name: str,
        content: str | None = None,
        ttl: int = 1,
        proxied: bool | None = None,
        comment: str | None = None,
        tags: tuple[str, ...] | builtins.list[str] = (),
        priority: int | None = None,
    ) -> DnsRecord:
        """Create a record (``ttl=1`` is automatic). Never retried after an unclear failure."""
        body = _calls.dns_body(
            type=type,
            name=name,
            content=content,
            ttl=ttl,
            proxied=proxied,
            comment=comment,
            tags=tags,
            priority=priority,
        )
        return self._client._execute(_calls.dns_create(zone_id, body, "client.dns_records"))

    def update(self, zone_id: str, record_id: str, **changes: Any) -> DnsRecord:
        """Change fields of a record (``content=``, ``ttl=``, ``proxied=``…); the rest is kept."""
        _calls.dns_changes(zone_id, record_id, changes)
        current = self.get(zone_id, record_id)
        return self._client._execute(_calls.dns_update(zone_id, record_id, current, changes))

    def delete(self, zone_id: str, record_id: str) -> None:
        """Delete a record."""
        self._client._execute(_calls.dns_delete(zone_id, record_id))


class UserResource(_Resource):
    """``client.user``: the user behind the credential."""

    def get(self) -> User:
        """The user (``GET /user``); its ``id`` is the tag used in user resource keys."""
        return self._client._execute(_calls.user_get())
