"""Typed sync and async clients for Cloudflare's token API (and the cftokens sandbox).

::

    import cftokens as cft

    with cft.Client.from_env() as client:                  # or cft.Client(token=secret)
        client.tokens.verify()
        for token in client.tokens.list():                  # lazy; pages fetched as needed
            print(token.name, token.status)
        created = client.tokens.create(spec)                # CreatedToken, secret shown once
        client.tokens.update(created.id, name="renamed")    # keeps policies: read, change, PUT
        client.account(account_id).tokens.list()            # account-owned tokens

    async with cft.AsyncClient(token=secret) as client:
        tokens = await client.tokens.list().collect()       # pages fetched concurrently
        by_account = await client.tokens_by_account()       # many accounts at once

Architecture (as httpx): one sans-I/O core (``_protocol``: requests, envelopes, error
mapping, retry decisions; ``_messages``: what each error says; ``_paging``: pagination state;
``_limits``: backoff and rate limiting; ``_calls``: the endpoints) shared by :class:`Client`
(``_sync``) and :class:`AsyncClient` (``_async``), which only send, sleep and await. ``_sync``
is generated from ``_async`` by ``scripts/unasync.py`` (as httpcore does); what the two do
differently on purpose (concurrent pages under an adaptive bound) is in ``_io_async`` and
its sequential twin ``_io_sync``. Without a transport of the caller's, the async client sends
through ``_http11`` (HTTP/1.1 keep-alive on asyncio, h11 for the protocol: a fraction of
httpx's default transport's CPU per request), or httpx's own when a proxy is configured.

Behaviour worth knowing:

- Every method returns a typed model (:class:`~cftokens.Token`, :class:`DnsRecord`,
  :class:`AuditLogRecord`…) or a lazy :class:`Pager`/:class:`AsyncPager` of them.
  ``request(method, path)`` returns the envelope's ``result`` for any other endpoint.
- A listed item the client cannot read is left out with an :class:`UnreadableItemWarning`
  and kept in ``pager.unreadable`` (id, reason, payload): one odd token never hides a page.
- Listings stop at ``total_count`` (or the first short page) without an empty extra request;
  a server that ignores ``page`` raises :class:`~cftokens.UnexpectedResponse`.
- GET, DELETE and whole-object PUTs are retried (exponential backoff, full jitter, honouring
  ``retry-after``) on connection errors, timeouts, 429 and 5xx. Creates and rolls are retried
  only when the server surely did not act (429, refused connection); otherwise they raise
  :class:`~cftokens.MaybeCreated` / :class:`~cftokens.MaybeRolled`.
- One rate limiter per client (default 1,200 requests per 300 s, Cloudflare's limit), which
  also reads ``x-ratelimit-remaining`` and pauses every call after a 429.
- Logging under ``cftokens.client``: method, path, status, elapsed time and retry decisions
  (DEBUG/INFO); never headers, bodies or secrets.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .._exports import export
from ._base import AsyncClientOptions, AsyncPager, ClientOptions, ClientSettings, Pager
from ._calls import JSONBody, JSONValue, QueryValue, TokenChanges
from ._directory_calls import DnsChanges
from ._limits import RateLimit, Retry
from ._paging import Unreadable, UnreadableItemWarning
from ._sync import AccountScope, Client, Tokens
from .models import AuditLogRecord, DnsRecord
from .recorder import Recorder

# The async client (and asyncio) load on first use: a sync-only program never pays for them.
_LAZY = {"AsyncAccountScope": "._async", "AsyncClient": "._async", "AsyncTokens": "._async"}

if TYPE_CHECKING:  # pragma: no cover
    from ._async import AsyncAccountScope, AsyncClient, AsyncTokens


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cftokens.client' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "AccountScope",
    "AsyncAccountScope",
    "AsyncClient",
    "AsyncClientOptions",
    "AsyncPager",
    "AsyncTokens",
    "AuditLogRecord",
    "Client",
    "ClientOptions",
    "ClientSettings",
    "DnsChanges",
    "DnsRecord",
    "JSONBody",
    "JSONValue",
    "Pager",
    "QueryValue",
    "RateLimit",
    "Recorder",
    "Retry",
    "TokenChanges",
    "Tokens",
    "Unreadable",
    "UnreadableItemWarning",
]

export(__name__)  # the exported classes report cftokens as their module
