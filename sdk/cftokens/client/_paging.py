"""Pagination state for the client's listings, sans I/O: which page (or cursor) to ask for
next, when to stop, and reading each page's items on their own.

:class:`PageWalker` follows ``page``/``per_page`` (most listings), :class:`CursorWalker`
``cursor`` (Audit Logs v2). Both refuse a server that would make a listing endless, and stop at
the client's ``max_pages``. An item the client cannot read is set aside as :class:`Unreadable`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from attrs import field, frozen

from ..errors import InvalidInput, UnexpectedResponse, shown
from ._messages import server_text
from ._protocol import Call, Core, Envelope

if TYPE_CHECKING:
    from ._calls import JSONValue

__all__ = ["CursorWalker", "PageWalker", "Unreadable", "UnreadableItemWarning", "read_items"]

T = TypeVar("T")


def _info_int(info: Mapping[str, Any], key: str) -> int | None:
    value = info.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"result_info.{key} must be a number, got {shown(value)}")
    return int(value)


def _page_cap(core: Core, path: str, what: str, total_pages: int | None) -> UnexpectedResponse:
    """The error that stops a listing at the client's ``max_pages``."""
    announced = f" (the server announces {total_pages:,} pages)" if total_pages else ""
    return UnexpectedResponse(
        f"GET {path}: stopped listing {what} after max_pages ({core.max_pages:,}) pages"
        f"{announced}. The server keeps sending more, far beyond any Cloudflare quota: check "
        "base_url points at Cloudflare's API; raise max_pages= on the client only if this "
        "listing really is that long.",
        method="GET",
        url=core.url(path),
    )


class UnreadableItemWarning(UserWarning):
    """An item of a listing could not be read; it is left out and kept in ``pager.unreadable``."""


@frozen(kw_only=True)
class Unreadable:
    """One item of a listing the client could not read: its ``id`` (when it has one), why,
    and the ``payload`` as the server sent it (a token's secret ``value``, if any, removed)."""

    id: str | None
    reason: str
    payload: JSONValue = field(repr=False)


def read_items(
    entries: list[Any], item: Callable[[Any], T], what: str, unreadable: list[Unreadable]
) -> list[T]:
    """Read each entry of a page on its own: one unreadable entry is set aside in
    ``unreadable`` (with an :class:`UnreadableItemWarning`) and never hides the others."""
    out: list[T] = []
    for entry in entries:
        try:
            out.append(item(entry))
        except (InvalidInput, KeyError, TypeError, ValueError, AttributeError) as exc:
            ident = entry.get("id") if isinstance(entry, Mapping) else None
            ident = ident if isinstance(ident, str) else None
            payload = (
                {k: v for k, v in entry.items() if k != "value"}
                if isinstance(entry, Mapping)
                else entry
            )
            reason = f"{type(exc).__name__}: {exc}"
            unreadable.append(Unreadable(id=ident, reason=reason, payload=payload))
            warnings.warn(
                f"cftokens: one of the {what} ({ident or 'without an id'}) could not be read "
                f"({reason}); it is left out of the listing and kept in pager.unreadable",
                UnreadableItemWarning,
                stacklevel=2,
            )
    return out


class PageWalker(Generic[T]):
    """Page-number pagination state (``page``/``per_page``, ``result_info``).

    Knows when to stop without asking for an empty extra page: at ``total_count`` when the
    server gives it, else at the first page shorter than ``per_page``. A server that ignores
    ``page`` (answers another page number, or the same items again) raises
    :class:`~cftokens.UnexpectedResponse` instead of looping. Items are yielded once each by
    ``key``, even if the list shifts between pages.
    """

    def __init__(
        self,
        core: Core,
        *,
        path: str,
        per_page: int,
        item: Callable[[Any], T],
        key: Callable[[T], str],
        params: Mapping[str, str | int] | None = None,
        what: str = "items",
    ):
        self._core = core
        self.path = path
        self.per_page = per_page
        self._item = item
        self._key = key
        self._params = dict(params or {})
        self.what = what
        self.total_pages: int | None = None
        self._page_size = per_page
        self._seen: set[str] = set()
        self._last_keys: tuple[str, ...] | None = None
        self._done = False
        self._last_page = 0
        self.unreadable: list[Unreadable] = []

    def call(self, page: int) -> Call[list[T]]:
        """The call fetching page ``page`` (1-based); past the client's ``max_pages`` it
        raises :class:`~cftokens.UnexpectedResponse` instead (nothing is sent)."""
        params: dict[str, str | int] = {**self._params, "page": page, "per_page": self.per_page}
        if page > self._core.max_pages:
            raise _page_cap(self._core, self.path, self.what, self.total_pages)
        return Call(
            method="GET",
            path=self.path,
            params=params,
            parse=lambda envelope: self._parse(envelope),
            what=self.what,
        )

    def _parse(self, envelope: Envelope) -> list[T]:
        if not isinstance(envelope.result, list):
            raise InvalidInput(
                f"a list of {self.what} was expected, got {type(envelope.result).__name__}"
            )
        return read_items(envelope.result, self._item, self.what, self.unreadable)

    def accept(self, page: int, envelope: Envelope) -> list[T]:
        """Read page ``page`` (pages must be accepted in order); return its new items."""
        call = self.call(page)
        items = self._core.parse(call, envelope)
        info = envelope.result_info
        try:
            reported = _info_int(info, "page") if info is not None else None
            per_page = _info_int(info, "per_page") if info is not None else None
            total = _info_int(info, "total_count") if info is not None else None
        except InvalidInput as exc:
            raise self._unexpected(call, envelope, str(exc)) from None
        if reported is not None and reported != page:
            raise self._unexpected(
                call,
                envelope,
                f"asked for page {page} and got page {reported}: the server ignores `page`",
            )
        keys = tuple(self._key(item) for item in items)
        if page > 1 and keys and keys == self._last_keys:
            raise self._unexpected(
                call,
                envelope,
                f"page {page} holds exactly the items of page {page - 1}: the server ignores "
                "`page`, and listing would never end",
            )
        self._last_keys = keys
        if per_page:
            self._page_size = per_page
        if page == 1 and total is not None:
            self.total_pages = max(1, math.ceil(total / max(1, self._page_size)))
        elif page == 1 and info is None:
            self.total_pages = 1  # not paginated: the whole list came at once
        self._last_page = page
        if not items:
            self._done = True
        elif self.total_pages is not None:
            self._done = page >= self.total_pages
        else:
            self._done = len(items) < self._page_size
        fresh = []
        for key, item in zip(keys, items, strict=True):
            if key not in self._seen:
                self._seen.add(key)
                fresh.append(item)
        if page > 1 and items and not fresh and self.total_pages is None:
            # Without a total the walk ends only at a short page: a server cycling through
            # pages it already sent (1, 2, 1, 2 …) would keep it going for ever.
            raise self._unexpected(
                call,
                envelope,
                f"page {page} holds only items already listed: the server ignores `page`, "
                "and listing would never end",
            )
        return fresh

    def next_page(self) -> int | None:
        """The next page to fetch in a sequential walk, or None when done."""
        return None if self._done else self._last_page + 1

    def _unexpected(self, call: Call[Any], envelope: Envelope, problem: str) -> UnexpectedResponse:
        return UnexpectedResponse(
            f"{call.target()}: {problem}. Stopped listing {self.what} to avoid an endless loop; "
            "check base_url points at Cloudflare's API.",
            status=envelope.status,
            method="GET",
            url=self._core.url(self.path),
            request_id=envelope.headers.get("cf-ray"),
        )


class CursorWalker(Generic[T]):
    """Cursor pagination state (``cursor`` in, ``result_info.cursor`` out), as Audit Logs v2.

    Stops at an empty cursor or an empty page; the same cursor twice raises
    :class:`~cftokens.UnexpectedResponse`.
    """

    def __init__(
        self,
        core: Core,
        *,
        path: str,
        params: Mapping[str, str | int | tuple[str, ...]],
        item: Callable[[Any], T],
        what: str,
    ):
        self._core = core
        self.path = path
        self._params = dict(params)
        self._item = item
        self.what = what
        self._cursor: str | None = None
        self._cursors: set[str] = set()
        self._done = False
        self.unreadable: list[Unreadable] = []

    def call(self) -> Call[list[T]]:
        """The call fetching the next batch (past ``max_pages`` batches it raises
        :class:`~cftokens.UnexpectedResponse`: the cursor never ends)."""
        if len(self._cursors) >= self._core.max_pages:
            raise _page_cap(self._core, self.path, self.what, None)
        params = dict(self._params)
        if self._cursor:
            params["cursor"] = self._cursor
        return Call(method="GET", path=self.path, params=params, parse=self._parse, what=self.what)

    def _parse(self, envelope: Envelope) -> list[T]:
        if not isinstance(envelope.result, list):
            raise InvalidInput(
                f"a list of {self.what} was expected, got {type(envelope.result).__name__}"
            )
        return read_items(envelope.result, self._item, self.what, self.unreadable)

    @property
    def done(self) -> bool:
        """True when there is nothing more to fetch."""
        return self._done

    def accept(self, envelope: Envelope) -> list[T]:
        """Read one batch and remember the next cursor."""
        call = self.call()
        items = self._core.parse(call, envelope)
        info = envelope.result_info or {}
        cursor = info.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise UnexpectedResponse(
                f"{call.target()}: result_info.cursor must be a string, got {cursor!r}",
                status=envelope.status,
                method="GET",
                url=self._core.url(self.path),
            )
        if not cursor or not items:
            self._done = True
        elif cursor in self._cursors:
            raise UnexpectedResponse(
                f"{call.target()}: the server returned cursor {server_text(repr(cursor[:40]))} "
                "twice, so listing "
                f"{self.what} would never end. Stopped.",
                status=envelope.status,
                method="GET",
                url=self._core.url(self.path),
                request_id=envelope.headers.get("cf-ray"),
            )
        else:
            self._cursors.add(cursor)
            self._cursor = cursor
        return items
