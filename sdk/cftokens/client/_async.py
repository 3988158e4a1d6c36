"""The asynchronous client: :class:`AsyncClient` and its resources."""

# The source of _sync.py (see scripts/unasync.py).  # unasync: async-only

from __future__ import annotations

import builtins
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar, Unpack

from .._exports import export  # unasync: async-only
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
from . import _calls, _directory_calls
from . import _io_async as _io
from ._base import DEFAULT_RETRIES, DEFAULT_TIMEOUT, AsyncClientOptions, AsyncPager, ClientBase
from ._deadline import AUTO, DeadlineOption, OverallLimit, overall
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
    "AsyncAccountScope",
    "AsyncAccounts",
    "AsyncAuditLogs",
    "AsyncClient",
    "AsyncDnsRecords",
    "AsyncPermissionGroups",
    "AsyncTokens",
    "AsyncUserResource",
    "AsyncZones",
]

T = TypeVar("T")


class AsyncClient(ClientBase):
    """The asynchronous client for Cloudflare's token API (and the sandbox).

    >>> import cftokens as cft
    >>> async with cft.AsyncClient(token=secret) as client:          # doctest: +SKIP
    ...     async for token in client.tokens.list():
    ...         print(token.name, token.status)

    Keyword-only arguments: ``token`` (a :class:`~cftokens.Secret` or str), ``base_url``,
    ``account_id`` (default account, e.g. for verifying an account-owned token), ``timeout``
    (seconds or an ``httpx.Timeout``: each connect, read, write and pool wait), ``deadline``
    (the most seconds one request attempt may take as a whole, so a server dripping its
    answer just under the read timeout cannot hold it: ``"auto"``, the default, is the sum
    of the four timeouts, 120 s at ``timeout=30``; None for none; an attempt past it raises
    :class:`~cftokens.RequestTimedOut` and is retried like a timeout), ``max_retries`` (an int or a
    :class:`~cftokens.client.Retry`), ``rate_limit`` (a :class:`~cftokens.client.RateLimit`,
    ``(requests, seconds)`` or None), ``transport`` (any httpx transport: the sandbox's, a
    ``MockTransport``…), ``api_key`` + ``email`` (a legacy Global API Key),
    ``max_response_bytes`` (the largest response body read, default 8 MiB, enforced while
    streaming; a gzip/deflate body is inflated only up to it) and ``max_pages`` (the most
    pages one listing fetches, default 10,000): a broken or hostile server that passes
    either gets :class:`~cftokens.UnexpectedResponse` naming the cap.

    Listings are lazy pagers. The sync client fetches their pages one by one; the async
    client fetches page 1, then the other pages concurrently, items in order: by default
    the number in flight adapts (from 8 up to 64) to the latency and the rate-limit headers
    the server shows, and halves on a 429; ``concurrency=N`` fixes it. All calls of a
    client share one rate limiter.

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
        deadline: DeadlineOption = AUTO,
        max_retries: int | Retry = DEFAULT_RETRIES,
        rate_limit: RateLimit | tuple[int, float] | None = RateLimit(),  # noqa: B008 - frozen
        transport: httpx.AsyncBaseTransport | None = None,
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
            deadline=deadline,
            max_retries=max_retries,
            rate_limit=rate_limit,
            api_key=api_key,
            email=email,
            recorder=recorder,
            max_response_bytes=max_response_bytes,
            max_pages=max_pages,
        )
        self._transport = transport
        self._http_client: httpx.AsyncClient | None = None
        self.tokens = AsyncTokens(self, None)
        self.accounts = AsyncAccounts(self)
        self.zones = AsyncZones(self)
        self.dns_records = AsyncDnsRecords(self)
        self.user = AsyncUserResource(self)
        #: The permission groups tokens may use (same as ``client.tokens.permission_groups``).
        self.permission_groups = self.tokens.permission_groups

    @property
    def _http(self) -> httpx.AsyncClient:
        """The httpx client, made (and httpx imported) with the first request."""
        if self._http_client is None:
            self._http_client = _io.new_http(self._transport, self._timeout)
        return self._http_client

    @classmethod
    def from_env(
        cls, *, environ: Mapping[str, str] | None = None, **options: Unpack[AsyncClientOptions]
    ) -> Self:
        """A client configured from environment variables (keyword arguments win).

        ``CLOUDFLARE_API_TOKEN`` (the token), ``CLOUDFLARE_BASE_URL``, ``CLOUDFLARE_ACCOUNT_ID``;
        ``CLOUDFLARE_API_KEY`` + ``CLOUDFLARE_EMAIL`` (a legacy Global API Key) only when no
        token is set. When both are set the token wins and a warning says so: unlike other
        tools, an e-mail variable never silently replaces your scoped token. ``options`` are
        the client's own keyword arguments (``account_id=``, ``max_retries=``…).
        """
        return cls(**cls._env_options(environ, options))

    # -- lifecycle --------------------------------------------------------------------------
    async def aclose(self) -> None:
        """Close the connections. The client cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            if self._http_client is not None:
                await self._http_client.aclose()

    def _close_idle(self) -> None:
        """Close the pooled connections that belong to an event loop about to end (``run_audit``
        runs the collection in a loop of its own): under a new loop the pool starts afresh, so
        they could not be used again. A sync client's belong to no loop and stay. The client
        stays usable."""
        if self._http_client is not None:
            _io.close_idle(self._http_client)

    async def __aenter__(self) -> AsyncClient:
        self._check_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- resources --------------------------------------------------------------------------
    def account(self, account_id: str | None = None) -> AsyncAccountScope:
        """The resources of one account (default: the client's ``account_id``)."""
        return AsyncAccountScope(self, self._account(account_id))

    async def directory(self) -> Directory:
        """The accounts and zones this token can see, for names and zone → account lookups
        (the async client lists both at once)."""
        accounts, zones = await _io.both(
            self.accounts.list().collect(), self.zones.list().collect()
        )
        return Directory(accounts=accounts, zones=zones)

    async def tokens_by_account(
        self,
        account_ids: Iterable[str] | None = None,
        *,
        skip_denied: bool = False,
        concurrency: int | None = _io.DEFAULT_CONCURRENCY,  # unasync: async-only
    ) -> dict[str, list[Token]]:
        """The account-owned tokens of several accounts (default: every visible account).

        With ``skip_denied=True`` accounts whose tokens this credential may not list are left
        out (and logged) instead of raising :class:`~cftokens.PermissionDenied`. The async
        client gathers the accounts concurrently, every account's pages sharing one bound on
        the requests in flight: adaptive by default (every account's first page in the first
        round trip, up to 64, then adapting), at most ``concurrency`` when given.
        """
        lister = _io.Lister(
            self,
            concurrency,  # unasync: async-only
        )
        if account_ids is None:
            ids = [a.id for a in await self.accounts.list().collect()]
        else:
            ids = [self._account(a) for a in account_ids]
        lister.start_with(len(set(ids)))  # unasync: async-only

        async def one(account_id: str) -> tuple[str, list[Token] | None]:
            walker = _calls.TokenCalls(self._core, account_id).list()
            try:
                return account_id, await lister.pages(walker).collect()
            except (PermissionDenied, AuthenticationError) as exc:
                if not skip_denied:
                    raise
                logger.warning(
                    "skipped the tokens of account %s: %s", account_id, type(exc).__name__
                )
                return account_id, None

        done = await _io.gather([one(a) for a in dict.fromkeys(ids)])
        return {account_id: tokens for account_id, tokens in done if tokens is not None}

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, _calls.QueryValue] | None = None,
        json: _calls.JSONBody = None,
        idempotent: bool | None = None,
    ) -> _calls.JSONValue:
        """Call any endpoint that answers with Cloudflare's envelope; return its ``result``.

        ``path`` is relative to ``base_url`` (``"/zones/<id>/firewall/rules"``). Errors,
        retries and rate limits work as for every other call: GET, HEAD, DELETE and PUT are
        retried; POST and PATCH only when the server surely did not act, unless you pass
        ``idempotent=True``. ``params`` values are strings, numbers, booleans or lists of them
        (a list repeats the key); ``json`` is the body (a dict, a list or a scalar). The
        result is the envelope's ``result`` as the JSON decoder gave it (a
        :data:`~cftokens.client.JSONValue`: check its shape before use).
        """
        return await self._execute(
            _calls.generic_call(
                self._core, method, path, params=params, json=json, idempotent=idempotent
            )
        )

    # -- machinery --------------------------------------------------------------------------
    async def _send(self, call: Call[Any]) -> Envelope:
        import httpx  # already loaded by the first request's build

        self._check_open()
        core = self._core
        clock = self._time
        retries = 0
        ambiguous = False
        limit = overall().get()  # (an audit's time limit, set in this thread or task)
        while True:
            refused = core.paused(call, self._limiter.server_pause(clock.monotonic()))
            if refused is not None:
                raise refused
            wait = self._limiter.reserve(clock.monotonic())
            if wait > 0:
                level = logging.INFO if wait >= 1 else logging.DEBUG
                logger.log(level, "rate limit: %s waits %.2f s", call.target(), wait)
                await self._wait(wait, limit)
            self._check_open()
            deadline = self._deadline
            if limit is not None:
                limit.check()
                left = limit.left()
                if left is not None:
                    deadline = left if deadline is None else min(deadline, left)
            request = core.build_request(call)
            start = clock.monotonic()
            outcome: Envelope | Failure
            attempt = _io.Attempt(deadline)  # the whole attempt's deadline
            try:
                async with attempt:
                    response = await self._http.send(request, stream=True)
                    try:
                        body = core.body_reader(response)  # inflates it itself, up to the cap
                        fits = not core.announced_too_large(response)
                        if fits and response.is_stream_consumed:
                            # an in-process transport's answer, read (and inflated) when made
                            fits = body.take_inflated(response.content)
                        elif fits:
                            async for chunk in response.aiter_raw():
                                attempt.check()
                                if not body.take(chunk):
                                    fits = False
                                    break
                            else:
                                fits = body.finish()
                    finally:
                        await response.aclose()
            except (httpx.HTTPError, OSError) as exc:
                outcome = core.transport_failure(
                    call, exc, clock.monotonic() - start, deadline=attempt.missed
                )
            else:
                now = clock.monotonic()
                self._limiter.observe(response.status_code, response.headers, now)
                if fits:
                    outcome = core.read(call, response, now - start, bytes(body.body))
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
            await self._wait(decision.delay, limit)

    async def _wait(self, seconds: float, limit: OverallLimit | None) -> None:
        """Sleep ``seconds``, or until ``limit`` passes (then raise its error)."""
        if limit is not None:
            limit.check()
            left = limit.left()
            if left is not None and left < seconds:
                await self._time.asleep(left)
                limit.check()
                return  # (the next attempt's check stops it)
        await self._time.asleep(seconds)

    async def _execute(self, call: Call[T]) -> T:
        return self._core.parse(call, await self._send(call))

    def _walk(
        self,
        walker: PageWalker[T],
        concurrency: int | None,  # unasync: async-only
    ) -> AsyncPager[T]:
        return _io.Lister(
            self,
            concurrency,  # unasync: async-only
        ).pages(walker)


class _Resource:
    """A part of the API reached through ``client`` (for one account when ``account_id``)."""

    def __init__(self, client: AsyncClient, account_id: str | None = None):
        self._client = client
        self._owner = account_id

    def __repr__(self) -> str:
        # the client's base_url (checked free of credentials) and the account id, never the
        # token: ``<Tokens of account '…' on Client(base_url='…')>``
        client = f"{type(self._client).__name__}(base_url={self._client.base_url!r})"
        where = f"account {self._owner!r} on " if self._owner else ""
        return f"<{type(self).__name__} of {where}{client}>"


class AsyncPermissionGroups(_Resource):
    """``client.tokens.permission_groups``: the groups a token of this owner may use."""

    def __init__(self, client: AsyncClient, calls: _calls.TokenCalls):
        super().__init__(client, calls.account_id)
        self._calls = calls

    def list(
        self, name: str | None = None, scope: str | Scope | None = None
    ) -> AsyncPager[PermissionGroup]:
        """The permission groups, optionally filtered by ``name`` and ``scope`` (``"zone"``…).

        Each is a catalogue :class:`~cftokens.PermissionGroup`, usable in ``Policy.allow``.
        """
        call = self._calls.permission_groups(name=name, scope=scope)
        return _io.call_pager(self._client, call, "permission groups")


class AsyncTokens(_Resource):
    """API tokens of your user (``client.tokens``) or of one account
    (``client.account(id).tokens``)."""

    def __init__(self, client: AsyncClient, account_id: str | None):
        super().__init__(client, account_id)
        self._calls = _calls.TokenCalls(client._core, account_id)
        self.permission_groups = AsyncPermissionGroups(client, self._calls)

    @property
    def account_id(self) -> str | None:
        """The owning account, or None for user-owned tokens."""
        return self._calls.account_id

    async def verify(self) -> VerifyResult:
        """Check the client's own token: its id and status.

        A ``cfat_`` token (or a legacy 40-character token on a client with ``account_id``)
        verifies at ``/accounts/{account_id}/tokens/verify``; a ``cfut_`` token at
        ``/user/tokens/verify``, even on a client with ``account_id``.
        """
        return await self._client._execute(self._calls.verify())

    def list(
        self,
        *,
        per_page: int = 50,
        direction: str | None = None,
        include_expired: bool = False,
        concurrency: int | None = _io.DEFAULT_CONCURRENCY,  # unasync: async-only
    ) -> AsyncPager[Token]:
        """Every token, lazily, each once and in order (no empty extra page is requested)."""
        return self._client._walk(
            self._calls.list(
                per_page=per_page, direction=direction, include_expired=include_expired
            ),
            concurrency,  # unasync: async-only
        )

    async def get(self, token_id: str) -> Token:
        """One token by id."""
        return await self._client._execute(self._calls.get(token_id))

    async def create(self, spec: TokenSpec) -> CreatedToken:
        """Create a token; the result holds its secret, shown only this once.

        Never retried after an unclear failure: that raises :class:`~cftokens.MaybeCreated`.
        """
        return await self._client._execute(self._calls.create(spec))

    async def update(
        self,
        token_id: str,
        spec_or_changes: TokenSpec | Mapping[str, object] | None = None,
        /,
        **changes: Unpack[_calls.TokenChanges],
    ) -> Token:
        """Change a token. PUT replaces the whole token, so with changes (``name="x"``,
        ``allow_ips=[...]``, ``status="disabled"``…) the current token is read first and kept
        as it is apart from them; with a :class:`~cftokens.TokenSpec`, or a whole token body as
        the API writes it (a GET result, an audit fix's ``put_body``), that token replaces it."""
        spec_or_changes = _calls.whole_token(spec_or_changes)
        merged = _calls.token_changes(spec_or_changes, changes)
        current = None if isinstance(spec_or_changes, TokenSpec) else await self.get(token_id)
        spec = _calls.merge_token(current, spec_or_changes, merged)
        return await self._client._execute(self._calls.update(token_id, spec))

    async def delete(self, token_id: str) -> None:
        """Delete a token (its secret stops working at once)."""
        await self._client._execute(self._calls.delete(token_id))

    async def roll(self, token_id: str) -> Secret:
        """Issue a new secret for a token; the old one stops working at once.

        Never retried after an unclear failure: that raises :class:`~cftokens.MaybeRolled`.
        """
        return await self._client._execute(self._calls.roll(token_id))


class AsyncAccounts(_Resource):
    """``client.accounts``: the accounts this credential can see."""

    def list(
        self,
        *,
        name: str | None = None,
        per_page: int = 50,
        concurrency: int | None = _io.DEFAULT_CONCURRENCY,  # unasync: async-only
    ) -> AsyncPager[Account]:
        """Every account, lazily."""
        return self._client._walk(
            _directory_calls.accounts_walker(self._client._core, name=name, per_page=per_page),
            concurrency,  # unasync: async-only
        )

    async def get(self, account_id: str) -> Account:
        """One account by id."""
        return await self._client._execute(_directory_calls.account_get(account_id))


class AsyncAuditLogs(_Resource):
    """``client.account(id).audit_logs``: Cloudflare Audit Logs v2 of one account."""

    def __init__(self, client: AsyncClient, account_id: str):
        super().__init__(client, account_id)
        self._account_id = account_id

    def list(
        self,
        *,
        since: datetime | date | str,
        before: datetime | date | str | None = None,
        direction: str | None = None,
        limit: int = 100,
        **filters: str | int | Sequence[str | int],
    ) -> AsyncPager[AuditLogRecord]:
        """Audit-log records between ``since`` and ``before`` (default: now), lazily.

        Filters are Audit Logs v2 query parameters, e.g. ``actor_token_id=...``,
        ``action_type="create"``, ``actor_context="api_key"``, ``zone_id=...``; a list means
        any of its values, and ``**{"actor_context.not": "dash"}`` excludes.
        """
        walker = _directory_calls.audit_log_walker(
            self._client._core,
            self._account_id,
            since=since,
            before=before,
            direction=direction,
            limit=limit,
            filters=filters,
        )
        return _io.cursor_pager(self._client, walker)


class AsyncAccountScope(_Resource):
    """``client.account(id)``: the account's tokens and audit logs."""

    def __init__(self, client: AsyncClient, account_id: str):
        super().__init__(client, account_id)
        self.id = account_id
        self.tokens = AsyncTokens(client, account_id)
        self.audit_logs = AsyncAuditLogs(client, account_id)

    async def get(self) -> Account:
        """The account itself."""
        return await self._client._execute(_directory_calls.account_get(self.id))


class AsyncZones(_Resource):
    """``client.zones``: the zones this credential can see."""

    def list(
        self,
        *,
        name: str | None = None,
        account_id: str | None = None,
        status: str | None = None,
        per_page: int = 50,
        concurrency: int | None = _io.DEFAULT_CONCURRENCY,  # unasync: async-only
    ) -> AsyncPager[Zone]:
        """Every zone, lazily; filter by domain ``name``, owning ``account_id`` or ``status``."""
        return self._client._walk(
            _directory_calls.zones_walker(
                self._client._core,
                name=name,
                account_id=account_id,
                status=status,
                per_page=per_page,
            ),
            concurrency,  # unasync: async-only
        )

    async def get(self, zone_id: str) -> Zone:
        """One zone by id."""
        return await self._client._execute(_directory_calls.zone_get(zone_id))


class AsyncDnsRecords(_Resource):
    """``client.dns_records``: DNS records of a zone (a real product surface for demos)."""

    def list(
        self,
        zone_id: str,
        *,
        type: str | None = None,
        name: str | None = None,
        content: str | None = None,
        per_page: int = 100,
        concurrency: int | None = _io.DEFAULT_CONCURRENCY,  # unasync: async-only
    ) -> AsyncPager[DnsRecord]:
        """The zone's records, lazily; filter by ``type``, ``name`` or ``content``."""
        return self._client._walk(
            _directory_calls.dns_walker(
                self._client._core,
                zone_id,
                type=type,
                name=name,
                content=content,
                per_page=per_page,
            ),
            concurrency,  # unasync: async-only
        )

    async def get(self, zone_id: str, record_id: str) -> DnsRecord:
        """One record."""
        return await self._client._execute(_directory_calls.dns_get(zone_id, record_id))

    async def create(
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
        body = _directory_calls.dns_body(
            type=type,
            name=name,
            content=content,
            ttl=ttl,
            proxied=proxied,
            comment=comment,
            tags=tags,
            priority=priority,
        )
        return await self._client._execute(
            _directory_calls.dns_create(zone_id, body, "client.dns_records")
        )

    async def update(
        self, zone_id: str, record_id: str, **changes: Unpack[_directory_calls.DnsChanges]
    ) -> DnsRecord:
        """Change fields of a record (``content=``, ``ttl=``, ``proxied=``…); the rest is kept."""
        _directory_calls.dns_changes(zone_id, record_id, changes)
        current = await self.get(zone_id, record_id)
        return await self._client._execute(
            _directory_calls.dns_update(zone_id, record_id, current, changes)
        )

    async def delete(self, zone_id: str, record_id: str) -> None:
        """Delete a record."""
        await self._client._execute(_directory_calls.dns_delete(zone_id, record_id))


class AsyncUserResource(_Resource):
    """``client.user``: the user behind the credential."""

    async def get(self) -> User:
        """The user (``GET /user``); its ``id`` is the tag used in user resource keys."""
        return await self._client._execute(_directory_calls.user_get())


export(__name__)  # the exported classes report cftokens as their module  # unasync: async-only
