"""Collecting an audit from the API: ``cftokens.run_audit(client)``.

Gathers the user's own tokens, the account-owned tokens of every visible account (or those
named), the accounts and zones, and optionally usage (Audit Logs v2), concurrently. A call the
auditing credential may not make (e.g. no "Account API Tokens Read" on one account) becomes a
row of ``audit.gaps`` and an :class:`AuditGapWarning`, never a crash or a silently smaller
audit.

Where threads cannot start (JupyterLite and other Pyodide builds, or a host that forbids
them), a sync :class:`~cftokens.Client` or a :class:`~cftokens.Sandbox` is collected one call
after the other in the caller's thread, by :func:`run_audit` and by :func:`run_audit_async`
alike; an :class:`~cftokens.AsyncClient` then needs ``await run_audit_async(...)``.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import os
import sys
import threading
import time
import types
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, TypeVar, runtime_checkable

from .._deprecated import warn_renamed
from .._shown import terminal
from .._usage import UsageRow
from ..client import AsyncClient, Client, Pager
from ..client._deadline import overall
from ..errors import AuditTimedOut, CloudflareError, InvalidInput, redacted_texts, shown
from ..model.directory import Account, Zone
from .core import Audit
from .profiles import Profile
from .records import log_row

if TYPE_CHECKING:
    from .suppressions import SuppressionSource
    from .usage import UsageSource

__all__ = [
    "AuditGapWarning",
    "AuditOptions",
    "AuditSource",
    "CollectedRecords",
    "collect_records",
    "run_audit",
    "run_audit_async",
]

T = TypeVar("T")
_DENIED_HINT = {
    "accounts": "needs Account Settings Read or membership of the accounts",
    "zones": "needs Zone Read on the zones",
    "user_tokens": "needs API Tokens Read (user permission)",
    "account_tokens": "needs Account API Tokens Read on this account",
    "audit_logs": "needs Access: Audit Logs Read on this account",
}


class AuditOptions(TypedDict, total=False):
    """The keyword arguments of :func:`run_audit` after the client (for wrappers that pass them
    on: ``**options: Unpack[AuditOptions]``)."""

    accounts: Iterable[str] | None
    include_user: bool
    usage: bool | UsageSource | None
    now: datetime | None
    progress: bool
    profile: str | Profile
    suppressions: SuppressionSource | None


class AuditGapWarning(UserWarning):
    """Part of the inventory could not be collected; see ``audit.gaps``."""


class _Clock(Protocol):
    def now(self) -> datetime: ...


@runtime_checkable
class AuditSource(Protocol):
    """What :func:`run_audit` needs of a source that is not a client (a :class:`~cftokens.Sandbox`):
    its clock, the audit's ``now``, and a client of either kind for its bootstrap token. The
    audit recognises one by these members, so it never imports the sandbox."""

    @property
    def clock(self) -> _Clock: ...

    def client(self) -> Client: ...

    def async_client(self) -> AsyncClient: ...


class _Progress:
    def __init__(self, enabled: bool, total: int):
        self.bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc="cftokens audit", unit="step", leave=False)

    def step(self, label: str, n: int = 1) -> None:
        if self.bar is not None:
            # Names come from the server: never let one write escapes to the terminal.
            self.bar.set_postfix_str(terminal(label), refresh=False)
            self.bar.update(n)

    def grow(self, n: int) -> None:
        if self.bar is not None:
            self.bar.total += n
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# Steps whose failure hides tokens from the audit (the audit is then incomplete: CLI exit 3).
HIDING_STEPS = frozenset({"user_tokens", "account_tokens", "accounts", "tokens"})


def _gap(
    gaps: list[dict[str, Any]],
    what: str,
    subject: str | None,
    step: str,
    exc: Exception | str,
    *,
    hides: bool | None = None,
) -> None:
    hint = _DENIED_HINT.get(step, "")
    reason = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    if hint and type(exc).__name__ in ("PermissionDenied", "AuthenticationError", "NotFound"):
        reason += f" ({hint})"
    gaps.append(
        {
            "kind": "collection",
            "subject": subject,
            "what": what,
            "reason": reason,
            "hides_tokens": step in HIDING_STEPS if hides is None else hides,
        }
    )
    warnings.warn(
        f"cftokens audit: could not collect {what}: {reason}; the audit lists it in audit.gaps",
        AuditGapWarning,
        stacklevel=4,
    )


class CollectedRecords(TypedDict):
    """What :func:`collect_records` gathered: the arguments of :meth:`Audit.from_records`."""

    tokens: list[Mapping[str, Any]]
    account_tokens: dict[str, list[Mapping[str, Any]]]
    accounts: list[Account]
    zones: list[Zone]
    user: dict[str, Any] | None
    usage: UsageSource | None
    gaps: list[dict[str, Any]]


def _is_async(client: object) -> bool:
    return isinstance(client, AsyncClient)


def threads_available() -> bool:
    """Whether this interpreter can start a thread (not in Pyodide, nor where it is forbidden)."""
    if sys.platform == "emscripten":
        return False
    probe = threading.Thread(target=lambda: None, name="cftokens-probe", daemon=True)
    try:
        probe.start()
    except RuntimeError:
        return False
    probe.join()
    return True


def _discard(awaitable: object) -> None:
    """Close a coroutine made but never started (a collection in turn stopped early), and the
    coroutines it was given to await: Python warns of each one left unawaited."""
    if inspect.iscoroutine(awaitable) and (
        inspect.getcoroutinestate(awaitable) == inspect.CORO_CREATED
    ):
        for value in inspect.getcoroutinelocals(awaitable).values():
            _discard(value)
        awaitable.close()


class _TimeLimit:
    """The overall time limit of one audit's collection (``time_limit=``; None: none), from
    when the collection starts. Each request is bounded by the client's own ``deadline=``, but
    that is per attempt, retries multiply it and an audit makes many requests: a server
    dripping every answer could otherwise hold an audit (a CI gate) for hours."""

    def __init__(self, seconds: float | None) -> None:
        if seconds is not None and (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not math.isfinite(seconds)
            or seconds <= 0
        ):
            raise InvalidInput(
                f"time_limit must be a number of seconds > 0, or None for no limit; got "
                f"{shown(seconds)}"
            )
        self.seconds = seconds
        self.ends = None if seconds is None else time.monotonic() + seconds

    def left(self) -> float | None:
        """Seconds left (None: no limit)."""
        return None if self.ends is None else max(self.ends - time.monotonic(), 0.0)

    def check(self) -> None:
        """Raise :meth:`error` once the limit has passed."""
        if self.ends is not None and time.monotonic() >= self.ends:
            raise self.error()

    def error(self) -> AuditTimedOut:
        seconds = self.seconds or 0.0
        return AuditTimedOut(
            f"the audit's collection did not finish within its time limit of {seconds:g} s, "
            "so it was stopped and nothing was audited: the API answered too slowly (each "
            "request is bounded by the client's deadline=, but an audit makes many). Try "
            "again later, or raise the limit: time_limit= of cftokens.run_audit, or "
            "`cftokens audit --time-limit SECONDS` (0 for no limit).",
            limit=seconds,
        )


def _drained(items: Iterable[T], limit: _TimeLimit) -> list[T]:
    """A sync listing read whole, the time limit checked before each item (so before each
    page is fetched)."""
    if limit.ends is None:
        return list(items)
    out: list[T] = []
    each = iter(items)
    while True:
        limit.check()
        try:
            out.append(next(each))
        except StopIteration:
            return out


class _Calls:
    """How the collection calls the client: awaiting an :class:`~cftokens.AsyncClient`; a sync
    :class:`~cftokens.Client` in a pool of worker threads, or in turn in this thread where
    threads cannot start (then nothing suspends, so no event loop is needed either). Each
    call, and each item of a sync listing, checks the collection's time ``limit``."""

    def __init__(self, client: Client | AsyncClient, limit: _TimeLimit) -> None:
        self.is_async = _is_async(client)
        self.limit = limit
        self.inline = not self.is_async and not threads_available()
        self.pool = (
            ThreadPoolExecutor(max_workers=8) if not self.is_async and not self.inline else None
        )
        self.tasks: list[asyncio.Future[Any]] = []  # spawned: cancelled when stopped early
        self.later: list[Awaitable[Any]] = []  # in turn: closed if never awaited
        self.spawn: Callable[[Awaitable[Any]], Awaitable[Any]] = (
            self._later if self.inline else self._task
        )
        self.gather: Callable[..., Awaitable[list[Any]]] = (
            self._in_turn if self.inline else asyncio.gather
        )

    def _later(self, awaitable: Awaitable[T]) -> Awaitable[T]:
        """``asyncio.ensure_future`` without a loop: awaited when its result is needed."""
        self.later.append(awaitable)
        return awaitable

    async def _in_turn(self, *awaitables: Awaitable[T]) -> list[T]:
        """``asyncio.gather`` without a loop: each awaited in turn."""
        self.later.extend(awaitables)
        return [await a for a in awaitables]

    def _task(self, awaitable: Awaitable[T]) -> Awaitable[T]:
        task = asyncio.ensure_future(awaitable)
        self.tasks.append(task)
        return task

    async def call(self, fn: Callable[[], Any]) -> Any:
        """One call (a listing is collected whole)."""
        if self.is_async:
            result = fn()
            if hasattr(result, "collect"):
                return await result.collect()
            return await result

        def run() -> Any:
            self.limit.check()  # (in turn: the calls before took it all; queued for a thread)
            value = fn()
            return _drained(value, self.limit) if isinstance(value, Pager) else value

        if self.pool is None:
            return self._limited(run)
        return await asyncio.get_running_loop().run_in_executor(self.pool, self._limited, run)

    def _limited(self, fn: Callable[[], T]) -> T:
        """``fn()`` with the sync client keeping to the limit in this thread: its retries,
        rate-limit waits and each attempt's deadline too (a thread the collection let go
        stops at the limit, not after its retries)."""
        if self.limit.ends is None:
            return fn()
        var = overall()
        token = var.set(self.limit)
        try:
            return fn()
        finally:
            var.reset(token)

    async def token_listing(self, fn: Callable[[], Any]) -> list[Any]:
        """A token listing: the tokens the client read, plus the payload of each it could
        not read (the audit reads those on its own, so one odd token hides nothing)."""
        pager = fn()
        if self.is_async:
            items = await pager.collect()
        elif self.pool is None:
            items = self._limited(lambda: _drained(pager, self.limit))
        else:
            items = await asyncio.get_running_loop().run_in_executor(
                self.pool, self._limited, lambda: _drained(pager, self.limit)
            )
        return [*items, *(u.payload for u in pager.unreadable)]

    def close(self) -> None:
        for task in self.tasks:  # none is left running after a collection stopped early
            task.cancel()
        for awaitable in self.later:
            _discard(awaitable)
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


class _Collection:
    """The steps of :func:`collect_records`, in order: the directory (user, accounts, zones),
    the accounts named but not listed, the user's tokens, each account's tokens, the usage.
    Each call the credential may not make becomes a gap (:func:`_gap`)."""

    def __init__(
        self,
        client: Client | AsyncClient,
        accounts: Iterable[str] | None,
        progress: bool,
        limit: _TimeLimit,
    ) -> None:
        self.client: Any = client  # either client: the same calls, awaited or not (_Calls)
        self.calls = _Calls(client, limit)
        self.gaps: list[dict[str, Any]] = []
        self.wanted = list(dict.fromkeys(accounts)) if accounts is not None else None
        self.bar = _Progress(progress, 4)
        self.accounts: dict[str, Account] = {}
        self.ids: list[str] = []

    def close(self) -> None:
        self.bar.close()
        self.calls.close()

    async def run(
        self,
        *,
        include_user: bool,
        usage: bool | UsageSource | None,
        now: datetime | None,
        usage_days: int,
    ) -> CollectedRecords:
        """Every step; the records as :meth:`Audit.from_records` takes them."""
        client, spawn = self.client, self.calls.spawn
        user_task = spawn(_try(self.calls.call(lambda: client.user.get())))
        acct_task = spawn(_try(self.calls.call(lambda: client.accounts.list())))
        zone_task = spawn(_try(self.calls.call(lambda: client.zones.list())))
        user_tokens_task = (
            spawn(_try(self.calls.token_listing(lambda: client.tokens.list(include_expired=True))))
            if include_user
            else None
        )
        user = await self._user(user_task)
        await self._accounts(acct_task)
        zones = await self._zones(zone_task)
        await self._named_accounts()
        user_tokens = await self._user_tokens(user_tokens_task, user)
        self.bar.grow(len(self.ids) * (2 if usage is True else 1))
        by_account = await self._account_tokens()
        usage_rows: Any = None
        if usage is True:
            usage_rows = await self._audit_logs(
                (now or datetime.now(UTC)) - timedelta(days=usage_days)
            )
        elif usage is not None and usage is not False:
            usage_rows = usage  # a usage source given: the audit reads it
        return {
            "tokens": [_wire(t) for t in user_tokens],
            "account_tokens": {
                a: [_wire(t) for t in items] for a, items in by_account.items() if items is not None
            },
            "accounts": list(self.accounts.values()),
            "zones": zones,
            "user": user.to_api() if user is not None else None,
            "usage": usage_rows,
            "gaps": self.gaps,
        }

    async def _user(self, task: Awaitable[tuple[Any, Exception | None]]) -> Any:
        user, exc = await task
        self.bar.step("user")
        if exc is not None:
            _gap(self.gaps, "the user (owner of user tokens)", None, "user", exc)
        return user

    async def _accounts(self, task: Awaitable[tuple[Any, Exception | None]]) -> None:
        """The account list; without it, the tokens of accounts not named are not seen."""
        listed, exc = await task
        self.bar.step("accounts")
        if exc is not None:
            hides = self.wanted is None
            _gap(self.gaps, "the account list", None, "accounts", exc, hides=hides)
            listed = []
        self.accounts = {a.id: a for a in listed or []}
        self.ids = self.wanted if self.wanted is not None else list(self.accounts)

    async def _zones(self, task: Awaitable[tuple[Any, Exception | None]]) -> list[Zone]:
        zones, exc = await task
        self.bar.step("zones")
        if exc is not None:
            _gap(self.gaps, "the zone list", None, "zones", exc)
            return []
        return list(zones or [])

    async def _named_accounts(self) -> None:
        """Each account to audit that the list did not give, read by id (a gap only when it
        was named: an account that is neither listed nor named is not audited)."""
        for account_id in self.ids:
            if account_id not in self.accounts:
                getter = _getter(self.client, account_id)
                found, exc = await _try(self.calls.call(getter))
                if found is not None:
                    self.accounts[account_id] = found
                elif exc is not None and self.wanted is not None:
                    what = f"account {account_id}"
                    _gap(self.gaps, what, account_id, "accounts", exc, hides=False)

    async def _user_tokens(
        self, task: Awaitable[tuple[Any, Exception | None]] | None, user: Any
    ) -> list[Any]:
        tokens: list[Any] = []
        if task is not None:
            found, exc = await task
            if exc is not None:
                owner = user.id if user else None
                _gap(self.gaps, "the user's own tokens", owner, "user_tokens", exc)
            else:
                tokens = list(found or [])
        self.bar.step("user tokens")
        return tokens

    async def _account_tokens(self) -> dict[str, list[Any] | None]:
        """Each account's tokens, concurrently (None: the account's listing failed)."""
        client = self.client

        async def listing(account_id: str) -> tuple[str, list[Any] | None]:
            found, exc = await _try(
                self.calls.token_listing(
                    lambda: client.account(account_id).tokens.list(include_expired=True)
                )
            )
            name = self.accounts[account_id].name if account_id in self.accounts else account_id
            name = redacted_texts([name]).get(0, name)  # a credential in it is never shown
            self.bar.step(f"tokens of {name}")
            if exc is not None:
                what = f"account-owned tokens of {name}"
                _gap(self.gaps, what, account_id, "account_tokens", exc)
                return account_id, None
            return account_id, list(found or [])

        return dict(await self.calls.gather(*(listing(a) for a in self.ids)))

    async def _audit_logs(self, since: datetime) -> list[UsageRow]:
        """Audit Logs v2 of each account since ``since``, as usage rows."""
        client = self.client

        async def logs(account_id: str) -> list[Any]:
            found, exc = await _try(
                self.calls.call(lambda: client.account(account_id).audit_logs.list(since=since))
            )
            self.bar.step(f"audit logs of {account_id}")
            if exc is not None:
                what = f"Audit Logs v2 of account {account_id}"
                _gap(self.gaps, what, account_id, "audit_logs", exc)
                return []
            return list(found or [])

        chunks = await self.calls.gather(*(logs(a) for a in self.ids))
        return [log_row(r) for chunk in chunks for r in chunk]

    def check_tokens_seen(self, records: CollectedRecords, *, include_user: bool) -> None:
        """No token listed at all, with nothing named and no gap hiding tokens: the auditing
        token cannot see the tokens (not even itself), which is a gap, not a clean audit."""
        if (
            self.wanted is None
            and include_user
            and not any(g.get("hides_tokens") for g in self.gaps)
            and not records["tokens"]
            and not any(records["account_tokens"].values())
        ):
            _gap(
                self.gaps,
                "every token",
                None,
                "tokens",
                "the API listed no token at all, not even the auditing token itself: the "
                "auditing token cannot see the tokens (use one with API Tokens Read and Account "
                "API Tokens Read, owned by the user or account to audit)",
            )


async def collect_records(
    client: Client | AsyncClient,
    *,
    accounts: Iterable[str] | None = None,
    include_user: bool = True,
    usage: bool | UsageSource | None = None,
    now: datetime | None = None,
    usage_days: int = 30,
    progress: bool = True,
    time_limit: float | None = None,
) -> CollectedRecords:
    """Everything :meth:`Audit.from_records` needs, fetched concurrently through ``client``
    (an :class:`~cftokens.AsyncClient`; a sync :class:`~cftokens.Client` is driven from worker
    threads). ``usage=True`` fetches Audit Logs v2 of each account for the last ``usage_days``.
    ``time_limit``: seconds the whole collection may take (None: no limit); past it the
    collection stops and :class:`~cftokens.AuditTimedOut` is raised.
    """
    limit = _TimeLimit(time_limit)
    collection = _Collection(client, accounts, progress, limit)
    try:
        run = collection.run(include_user=include_user, usage=usage, now=now, usage_days=usage_days)
        if limit.ends is None or collection.calls.inline:  # (inline: each call checks it)
            records = await run
        else:
            try:
                records = await asyncio.wait_for(run, limit.left())
            except TimeoutError:
                raise limit.error() from None
    finally:
        collection.close()
    collection.check_tokens_seen(records, include_user=include_user)
    return records


def _wire(token: Any) -> Mapping[str, Any]:
    """A listed token as a wire dict (an unreadable one is its payload already)."""
    return token if isinstance(token, Mapping) else token.to_api()


def _getter(client: Any, account_id: str) -> Callable[[], Any]:
    return lambda: client.account(account_id).get()


async def _try(awaitable: Awaitable[T]) -> tuple[T | None, Exception | None]:
    """The result, or the error that makes a gap (the time limit stops the collection)."""
    try:
        return await awaitable, None
    except AuditTimedOut:
        raise
    except CloudflareError as exc:
        return None, exc


async def run_audit_async(
    client: Client | AsyncClient | AuditSource,
    *,
    accounts: Iterable[str] | None = None,
    include_user: bool = True,
    usage: bool | UsageSource | None = None,
    now: datetime | None = None,
    progress: bool = True,
    profile: str | Profile = "baseline",
    suppressions: SuppressionSource | None = None,
    time_limit: float | None = None,
) -> Audit:
    """``await``-able :func:`run_audit`, for code already inside an event loop (Jupyter,
    JupyterLite): ``audit = await cft.run_audit_async(client, usage=..., now=...)``.

    Takes what :func:`run_audit` takes. With an :class:`~cftokens.AsyncClient` (or a Sandbox) the
    calls run concurrently on the running loop; a sync :class:`~cftokens.Client` runs in
    worker threads, or one call after the other where threads cannot start.
    """
    client, now = _source(client, now, sync=not threads_available())
    # Gap warnings are issued again at the caller's line (a notebook cell), not asyncio's.
    stacklevel = _caller_stacklevel()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AuditGapWarning)
        collected = await collect_records(
            client,
            accounts=accounts,
            include_user=include_user,
            usage=usage,
            now=now,
            progress=progress,
            time_limit=time_limit,
        )
    for warning in caught:
        warnings.warn(warning.message, warning.category, stacklevel=stacklevel)
    return Audit._assemble(  # the client's decoding made its answers Unicode
        decoded=True,
        tokens=collected["tokens"],
        account_tokens=collected["account_tokens"],
        accounts=collected["accounts"],
        zones=collected["zones"],
        user=collected["user"],
        usage=collected["usage"],
        gaps=collected["gaps"],
        now=now,
        profile=profile,
        suppressions=suppressions,
    )


def _source(
    client: Any, now: datetime | None, *, sync: bool = False
) -> tuple[Client | AsyncClient, datetime | None]:
    """The client to collect with, and the audit's clock: a Sandbox (an :class:`AuditSource`)
    gives its bootstrap client (a sync one when ``sync``) and its own clock (unless ``now`` is
    given)."""
    if isinstance(client, AuditSource) and not isinstance(client, AsyncClient | Client):
        now = client.clock.now() if now is None else now
        client = client.client() if sync else client.async_client()
    if not isinstance(client, AsyncClient | Client):
        raise InvalidInput(
            f"run_audit() takes a cftokens.Client, AsyncClient or Sandbox, got "
            f"{type(client).__name__}; for offline data use cftokens.Audit.from_records(...)"
        )
    return client, now


def run_audit(
    client: Client | AsyncClient | AuditSource,
    *,
    accounts: Iterable[str] | None = None,
    include_user: bool = True,
    usage: bool | UsageSource | None = None,
    now: datetime | None = None,
    progress: bool = True,
    profile: str | Profile = "baseline",
    suppressions: SuppressionSource | None = None,
    time_limit: float | None = None,
) -> Audit:
    """Audit every token ``client`` can see.

    ``client``: a :class:`~cftokens.AsyncClient` (collected concurrently), a
    :class:`~cftokens.Client`, or a :class:`~cftokens.Sandbox` (its bootstrap token, and its
    clock as ``now`` unless given: a sandbox's clock is not the wall clock).
    ``accounts``: account ids to audit (default: every visible account).
    ``include_user``: also the user's own tokens.
    ``usage``: None (usage rules are reported as not evaluated), ``True`` (fetch Audit Logs
    v2 for the last 30 days), or a usage source (the sandbox journal, Audit Logs v2 records,
    a usage table).
    ``now``: the audit's clock. ``progress``: a tqdm progress bar (a widget in Jupyter).
    ``time_limit``: seconds the collection may take in all (None, the default: no limit; the
    client's ``deadline=`` bounds each request attempt, not the audit's many requests); past
    it the collection stops and :class:`~cftokens.AuditTimedOut` is raised (nothing is
    audited: an audit that could not see every token must not pass a gate).
    Works inside a running event loop too (Jupyter): the collection then runs in a worker
    thread with its own loop, or, where threads cannot start (JupyterLite, Pyodide), one call
    after the other in this thread with a sync Client or a Sandbox (an AsyncClient there needs
    ``await cft.run_audit_async(...)``).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        in_loop = False
    else:
        in_loop = True
    threads = threads_available()
    client, now = _source(client, now, sync=not threads)
    if in_loop and not threads and _is_async(client):
        raise InvalidInput(
            "cftokens.run_audit() cannot run an AsyncClient here: an event loop is running and "
            "threads cannot start (JupyterLite, Pyodide). Use "
            "`audit = await cft.run_audit_async(client, ...)`, or pass a sync cft.Client or the "
            "Sandbox itself"
        )
    coro = run_audit_async(
        client,
        accounts=accounts,
        include_user=include_user,
        usage=usage,
        now=now,
        progress=progress,
        profile=profile,
        suppressions=suppressions,
        time_limit=time_limit,
    )
    # Gap warnings are recorded while collecting (in an event loop, perhaps a worker thread)
    # and issued again here, so they point at the caller's line rather than asyncio's.
    stacklevel = _caller_stacklevel()
    result: dict[str, Any] = {}

    def runner() -> None:
        with warnings.catch_warnings(record=True) as caught:
            try:
                result["value"] = asyncio.run(_closing_idle(coro, client))
            except BaseException as exc:  # re-raised in the caller's thread
                result["error"] = exc
        result["warnings"] = caught

    if not in_loop:
        runner()
    elif threads:  # inside a running loop (Jupyter): a worker thread with its own loop
        thread = threading.Thread(target=runner, name="cftokens-audit")
        thread.start()
        thread.join()
    else:  # a running loop and no threads: a sync client's collection never suspends
        with warnings.catch_warnings(record=True) as caught:
            try:
                result["value"] = _run_without_loop(coro)
            except BaseException as exc:
                result["error"] = exc
        result["warnings"] = caught
    for caught in result["warnings"]:
        warnings.warn(caught.message, caught.category, stacklevel=stacklevel)
    if "error" in result:
        raise result["error"]
    value: Audit = result["value"]
    return value


async def _closing_idle(coro: Coroutine[Any, Any, Audit], client: object) -> Audit:
    """``await coro``, then close the client's idle connections while their loop (the one
    ``run_audit`` made) still runs: left open, the garbage collector finds them unclosed."""
    try:
        return await coro
    finally:
        if isinstance(client, AsyncClient):
            client._close_idle()


def _run_without_loop(coro: Any) -> Any:
    """Run a coroutine that never suspends (a sync client collected in turn) to its end."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("cftokens audit: the collection waited on the event loop; report this")


def _caller_stacklevel() -> int:
    """The ``stacklevel`` (from :func:`run_audit`) of the first frame outside this package."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    level = 2
    frame: types.FrameType | None = sys._getframe(2)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


# The functions' names of the last release (one release more, with a DeprecationWarning).
RENAMED: dict[str, Callable[..., object]] = {"audit": run_audit, "audit_async": run_audit_async}


def renamed(module: str, name: str) -> Callable[..., object]:
    """The function an old ``name`` of ``module`` stands for, with a DeprecationWarning naming
    the new one at the caller's line (for the modules' ``__getattr__``)."""
    function = RENAMED.get(name)
    if function is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    warn_renamed(f"{module}.{name}", f"cftokens.{function.__name__}", stacklevel=4)
    return function


def __getattr__(name: str) -> Callable[..., object]:
    return renamed(__name__, name)
