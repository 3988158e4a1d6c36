"""The list pages a sandbox serves, kept serialised between writes (the store clears them on
every write)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    pass


V = TypeVar("V")


class PageCache(Generic[V]):
    """Serialised list pages, kept between writes (the store clears it on every write).

    Keyed by the parameters the handler reads (never the raw query, so junk parameters
    cannot mint entries) and bounded by bytes: at most ``max_bytes`` in all, least recently
    used first out; a page over ``max_entry`` bytes is served but never kept."""

    def __init__(self, max_bytes: int = 8 << 20, max_entry: int = 1 << 20):
        self.max_bytes = max_bytes
        self.max_entry = max_entry
        self.bytes = 0
        self._entries: OrderedDict[Hashable, tuple[int, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> V | None:
        """The cached value, or None."""
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[1]

    def put(self, key: Hashable, value: V, size: int) -> None:
        """Keep ``value`` (``size`` bytes) unless it is too large; evict to stay in bounds."""
        if size > self.max_entry:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old[0]
        self._entries[key] = (size, value)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, (dropped, _) = self._entries.popitem(last=False)
            self.bytes -= dropped

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
        self.bytes = 0
