"""The asynchronous client: :class:`AsyncClient` and its resources (same names as the sync
ones). Listings fetch pages concurrently once the first page tells the total."""

from __future__ import annotations

import asyncio
import builtins
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ..errors import AuthenticationError, InvalidInput, PermissionDenied
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
from ._adaptive import CEILING, AdaptiveBound, Bound, FixedBound
from ._base import DEFAULT_RETRIES, DEFAULT_TIMEOUT, AsyncPager, ClientBase, http_timeout
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

#: Requests in flight at once for one listing (or one ``tokens_by_account`` gathering):
#: None adapts to the latency and rate-limit headers observed (see ``_adaptive``).
DEFAULT_CONCURRENCY: int | None = None


def _concurrency(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= CEILING:
        raise InvalidInput(
            f"concurrency must be a whole number from 1 to {CEILING}, or None to adapt, "
            f"got {value!r}"
        )
    return value


class AsyncClient(ClientBase):
    """The asynchronous twin of :class:`~cftokens.Client` (same arguments, same resources,
    ``await``-ed methods, ``async for`` listings, ``async with``/``aclose()``).

    >>> async with cft.AsyncClient(token=secret) as client:          # doctest: +SKIP
    ...     tokens = await client.tokens.list().collect()
    ...     by_account = await client.tokens_by_account()

    Listings fetch page 1, then the other pages concurrently, yielding items in order. By
    default the number in flight adapts (from 8 up to 64) to the latency and the rate-limit
    headers the server shows, and halves on a 429; ``concurrency=N`` fixes it. All calls
    share one rate limiter.
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
            max_retries=max_retries,
            rate_limit=rate_limit,
            api_key=api_key,
            email=email,
            recorder=recorder,
            max_response_bytes=max_response_bytes,
            max_pages=max_pages,
        )
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=http_timeout(self._timeout),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
        )
        self.tokens = AsyncTokens(self, None)
        self.accounts = AsyncAccounts(self)
        self.zones = AsyncZones(self)
        self.dns_records = AsyncDnsRecords(self)
        self.user = AsyncUserResource(self)
        #: The permission groups tokens may use (same as ``client.tokens.permission_groups``).
        self.permission_groups = self.tokens.permission_groups

    # -- lifecycle --------------------------------------------------------------------------
    async def aclose(self) -> None:
        """Close the connections. The client cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            await self._http.aclose()

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
        """The accounts and zones this token can see (both listed concurrently)."""
        accounts, zones = await asyncio.gather(
            self.accounts.list().collect(), self.zones.list().collect()
        )
        return Directory(accounts=accounts, zones=zones)

    async def tokens_by_account(
        self,
        account_ids: Iterable[str] | None = None,
        *,
        concurrency: int | None = DEFAULT_CONCURRENCY,
        skip_denied: bool = False,
    ) -> dict[str, list[Token]]:
        """The account-owned tokens of many accounts, gathered concurrently.

        ``account_ids`` defaults to every visible account. Every account's pages share one
        bound on the requests in flight: adaptive by default, at most ``concurrency`` when
        given. With ``skip_denied=True``
        accounts whose tokens this credential may not list are left out (and logged) instead
        of raising :class:`~cftokens.PermissionDenied`.
        """
        bound = self._bound(concurrency)
        if account_ids is None:
            ids = [a.id for a in await self.accounts.list().collect()]
        else:
            ids = [self._account(a) for a in account_ids]

        async def one(account_id: str) -> tuple[str, list[Token] | None]:
            walker = _calls.TokenCalls(self._core, account_id).list()
            try:
                return account_id, [t async for t in self._iterate(walker, bound)]
            except (PermissionDenied, AuthenticationError) as exc:
                if not skip_denied:
                    raise
                logger.warning(
                    "skipped the tokens of account %s: %s", account_id, type(exc).__name__
                )
                return account_id, None

        tasks = [asyncio.ensure_future(one(a)) for a in dict.fromkeys(ids)]
        try:
            done = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return {account_id: tokens for account_id, tokens in done if tokens is not None}

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Call any endpoint that answers with Cloudflare's envelope; return its ``result``.

        Same rules as :meth:`cftokens.Client.request`.
        """
        return await self._execute(
            _calls.generic_call(
                self._core, method, path, params=params, json=json, idempotent=idempotent
            )
        )

    # -- machinery --------------------------------------------------------------------------
    async def _send(self, call: Call[Any]) -> Envelope:
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
                await clock.asleep(wait)
            self._check_open()
            request = core.build_request(call)
            start = clock.monotonic()
            outcome: Envelope | Failure
            try:
                response = await self._http.send(request, stream=True)
                try:
                    body = bytearray()
                    fits = not core.announced_too_large(response)
                    if fits:
                        async for chunk in response.aiter_bytes():
                            if not core.take(body, chunk):
                                fits = False
                                break
                finally:
                    await response.aclose()
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
            await clock.asleep(decision.delay)

    async def _execute(self, call: Call[T]) -> T:
        return self._core.parse(call, await self._send(call))

    def _bound(self, concurrency: int | None) -> Bound:
        size = _concurrency(concurrency)
        return AdaptiveBound(self._limiter) if size is None else FixedBound(size)

    async def _iterate(self, walker: PageWalker[T], bound: Bound) -> AsyncIterator[T]:
        """Page 1, then the other pages concurrently under ``bound``, items in page order.

        At most twice the bound's size of pages are scheduled ahead of the page being read,
        so a reader that stops early (even without ``aclose()``) leaves a few requests, not
        the whole listing.
        """

        async def fetch(page: int) -> Envelope:
            async with bound as started:
                try:
                    envelope = await self._send(walker.call(page))
                except BaseException:
                    bound.observe(started, False)
                    raise
                bound.observe(started, True)
                return envelope

        first = await fetch(1)
        for item in walker.accept(1, first):
            yield item
        total = walker.total_pages
        if total is None:
            page = walker.next_page()
            while page is not None:
                envelope = await fetch(page)
                for item in walker.accept(page, envelope):
                    yield item
                page = walker.next_page()
            return
        if walker.next_page() is None:
            return
        pages = iter(range(2, total + 1))
        ahead: deque[tuple[int, asyncio.Future[Envelope]]] = deque()

        def schedule() -> None:
            while len(ahead) < 2 * bound.size:
                page = next(pages, None)
                if page is None:
                    return
                ahead.append((page, asyncio.ensure_future(fetch(page))))

        try:
            schedule()
            while ahead:
                page, task = ahead.popleft()
                envelope = await task
                schedule()
                for item in walker.accept(page, envelope):
                    yield item
                if walker.next_page() is None:
                    break
        finally:
            tasks = [task for _, task in ahead]
            for task in tasks:
                task.cancel()
            # Collect outcomes so no exception is left unretrieved.
            await asyncio.gather(*tasks, return_exceptions=True)

    def _walk(self, walker: PageWalker[T], concurrency: int | None) -> AsyncPager[T]:
        return AsyncPager(
            self._iterate(walker, self._bound(concurrency)), walker.what, walker.unreadable
        )


class _Resource:
    def __init__(self, client: AsyncClient):
        self._client = client


class AsyncPermissionGroups(_Resource):
    """``client.tokens.permission_groups``: the groups a token of this owner may use."""

    def __init__(self, client: AsyncClient, calls: _calls.TokenCalls):
        super().__init__(client)
        self._calls = calls

    def list(
        self, name: str | None = None, scope: str | Scope | None = None
    ) -> AsyncPager[PermissionGroup]:
        """The permission groups, optionally filtered by ``name`` and ``scope``."""
        call = self._calls.permission_groups(name=name, scope=scope)
        client = self._client

        async def items() -> AsyncIterator[PermissionGroup]:
            for group in await client._execute(call):
                yield group

        return AsyncPager(items(), "permission groups")


class AsyncTokens(_Resource):
    """API tokens of your user (``client.tokens``) or of one account
    (``client.account(id).tokens``)."""

    def __init__(self, client: AsyncClient, account_id: str | None):
        super().__init__(client)
        self._calls = _calls.TokenCalls(client._core, account_id)
        self.permission_groups = AsyncPermissionGroups(client, self._calls)

    @property
    def account_id(self) -> str | None:
        """The owning account, or None for user-owned tokens."""
        return self._calls.account_id

    async def verify(self) -> VerifyResult:
        """Check the client's own token (path chosen as in :meth:`cftokens.Client`)."""
        return await self._client._execute(self._calls.verify())

    def list(
        self,
        *,
        per_page: int = 50,
        direction: str | None = None,
        include_expired: bool = False,
        concurrency: int | None = DEFAULT_CONCURRENCY,
    ) -> AsyncPager[Token]:
        """Every token: page 1, then the rest concurrently; items in order, each once."""
        return self._client._walk(
            self._calls.list(
                per_page=per_page, direction=direction, include_expired=include_expired
            ),
            concurrency,
        )

    async def get(self, token_id: str) -> Token:
        """One token by id."""
        return await self._client._execute(self._calls.get(token_id))

    async def create(self, spec: TokenSpec) -> CreatedToken:
        """Create a token (never retried after an unclear failure: :class:`MaybeCreated`)."""
        return await self._client._execute(self._calls.create(spec))

    async def update(
        self,
        token_id: str,
        spec_or_changes: TokenSpec | Mapping[str, Any] | None = None,
        /,
        **changes: Any,
    ) -> Token:
        """Change a token, keeping what the changes do not name (see ``Client``)."""
        spec_or_changes = _calls.whole_token(spec_or_changes)
        merged = _calls.token_changes(spec_or_changes, changes)
        current = None if isinstance(spec_or_changes, TokenSpec) else await self.get(token_id)
        spec = _calls.merge_token(current, spec_or_changes, merged)
        return await self._client._execute(self._calls.update(token_id, spec))

    async def delete(self, token_id: str) -> None:
        """Delete a token."""
        await self._client._execute(self._calls.delete(token_id))

    async def roll(self, token_id: str) -> Secret:
        """Issue a new secret (never retried after an unclear failure: :class:`MaybeRolled`)."""
        return await self._client._execute(self._calls.roll(token_id))


class AsyncAccounts(_Resource):
    """``client.accounts``: the accounts this credential can see."""

    def list(
        self,
        *,
        name: str | None = None,
        per_page: int = 50,
        concurrency: int | None = DEFAULT_CONCURRENCY,
    ) -> AsyncPager[Account]:
        """Every account."""
        return self._client._walk(
            _calls.accounts_walker(self._client._core, name=name, per_page=per_page), concurrency
        )

    async def get(self, account_id: str) -> Account:
        """One account by id."""
        return await self._client._execute(_calls.account_get(account_id))


class AsyncAuditLogs(_Resource):
    """``client.account(id).audit_logs``: Cloudflare Audit Logs v2 of one account."""

    def __init__(self, client: AsyncClient, account_id: str):
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
    ) -> AsyncPager[AuditLogRecord]:
        """Audit-log records between ``since`` and ``before`` (cursor pages, in order)."""
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

        async def items() -> AsyncIterator[AuditLogRecord]:
            while not walker.done:
                for record in walker.accept(await client._send(walker.call())):
                    yield record

        return AsyncPager(items(), walker.what, walker.unreadable)


class AsyncAccountScope(_Resource):
    """``client.account(id)``: the account's tokens and audit logs."""

    def __init__(self, client: AsyncClient, account_id: str):
        super().__init__(client)
        self.id = account_id
        self.tokens = AsyncTokens(client, account_id)
        self.audit_logs = AsyncAuditLogs(client, account_id)

    async def get(self) -> Account:
        """The account itself."""
        return await self._client._execute(_calls.account_get(self.id))

    def __repr__(self) -> str:
        return f"<AsyncAccountScope {self.id}>"


class AsyncZones(_Resource):
    """``client.zones``: the zones this credential can see."""

    def list(
        self,
        *,
        name: str | None = None,
        account_id: str | None = None,
        status: str | None = None,
        per_page: int = 50,
        concurrency: int | None = DEFAULT_CONCURRENCY,
    ) -> AsyncPager[Zone]:
        """Every zone; filter by domain ``name``, owning ``account_id`` or ``status``."""
        return self._client._walk(
            _calls.zones_walker(
                self._client._core,
                name=name,
                account_id=account_id,
                status=status,
                per_page=per_page,
            ),
            concurrency,
        )

    async def get(self, zone_id: str) -> Zone:
        """One zone by id."""
        return await self._client._execute(_calls.zone_get(zone_id))


class AsyncDnsRecords(_Resource):
    """``client.dns_records``: DNS records of a zone."""

    def list(
        self,
        zone_id: str,
        *,
        type: str | None = None,
        name: str | None = None,
        content: str | None = None,
        per_page: int = 100,
        concurrency: int | None = DEFAULT_CONCURRENCY,
    ) -> AsyncPager[DnsRecord]:
        """The zone's records; filter by ``type``, ``name`` or ``content``."""
        return self._client._walk(
            _calls.dns_walker(
                self._client._core,
                zone_id,
                type=type,
                name=name,
                content=content,
                per_page=per_page,
            ),
            concurrency,
        )

    async def get(self, zone_id: str, record_id: str) -> DnsRecord:
        """One record."""
        return await self._client._execute(_calls.dns_get(zone_id, record_id))

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
        """Create a record (never retried after an unclear failure)."""
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
        return await self._client._execute(_calls.dns_create(zone_id, body, "client.dns_records"))

    async def update(self, zone_id: str, record_id: str, **changes: Any) -> DnsRecord:
        """Change fields of a record; the rest is kept."""
        _calls.dns_changes(zone_id, record_id, changes)
        current = await self.get(zone_id, record_id)
        return await self._client._execute(_calls.dns_update(zone_id, record_id, current, changes))

    async def delete(self, zone_id: str, record_id: str) -> None:
        """Delete a record."""
        await self._client._execute(_calls.dns_delete(zone_id, record_id))


class AsyncUserResource(_Resource):
    """``client.user``: the user behind the credential."""

    async def get(self) -> User:
        """The user (``GET /user``)."""
        return await self._client._execute(_calls.user_get())
