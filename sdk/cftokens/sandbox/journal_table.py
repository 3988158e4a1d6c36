"""The store's request journal: an entry is appended in its request's transaction, or, for a
read-only request, deferred and written in batches (a background thread flushes a database
file's), and read back in order. :class:`~cftokens.sandbox.store.Store` is a
:class:`JournalTable`."""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

from .rows import JournalRow

__all__ = ["FLUSH_AFTER", "FLUSH_EVERY", "JournalTable"]

#: Seconds a deferred journal entry (of a read-only request) waits at most before it is written.
FLUSH_AFTER = 0.5
#: Seconds between two looks of a database file's flusher thread at the deferred entries.
FLUSH_EVERY = 0.25


def _flush_periodically(ref: weakref.ref[JournalTable]) -> None:
    """A file-backed store's flusher thread: writes deferred journal entries that are due, so
    other readers of the file see them; ends when the store is closed or collected."""
    while True:
        time.sleep(FLUSH_EVERY)
        store = ref()
        if store is None or not store.flush_if_due():
            return
        del store


class JournalTable:
    """The journal's part of :class:`~cftokens.sandbox.store.Store`: its table's writes and
    reads (the store's connection, lock and state declared below are the store's own)."""

    path: str | None
    lock: threading.RLock
    conn: sqlite3.Connection
    _closed: bool
    _depth: int
    _pending: list[tuple[Any, ...]]
    _pending_since: float
    _flusher: threading.Thread | None

    _JOURNAL_INSERT = (
        f"INSERT INTO journal({', '.join(JournalRow.COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(JournalRow.COLUMNS))})"
    )

    def insert_journal(self, rows: Sequence[JournalRow]) -> None:
        """Append journal entries (after any deferred ones, keeping their order)."""
        self.flush_journal()
        if len(rows) == 1:
            self.conn.execute(self._JOURNAL_INSERT, rows[0].values())
        else:
            self.conn.executemany(self._JOURNAL_INSERT, [r.values() for r in rows])

    def defer_journal(self, row: JournalRow) -> None:
        """Append a journal entry of a read-only request, written in a batch: when 64 are
        pending, :data:`FLUSH_AFTER` (half a second) after the first (a background thread sees
        to it for database files), before any write transaction and before anything reads the
        journal."""
        pending = self._pending
        if not pending:
            self._pending_since = time.monotonic()
            if self.path is not None and self._flusher is None:
                self._flusher = threading.Thread(
                    target=_flush_periodically, args=(weakref.ref(self),), daemon=True
                )
                self._flusher.start()
        pending.append(row.values())
        if len(pending) >= 64 or time.monotonic() - self._pending_since > FLUSH_AFTER:
            self.flush_journal()

    def flush_if_due(self) -> bool:
        """Flush deferred entries older than :data:`FLUSH_AFTER`; False once the store is
        closed."""
        with self.lock:
            if self._closed:
                return False
            if self._pending and time.monotonic() - self._pending_since > FLUSH_AFTER:
                self.flush_journal()
            return True

    def flush_journal(self) -> None:
        """Write deferred journal entries now (one transaction)."""
        pending = self._pending
        if not pending:
            return
        with self.lock:
            self._pending = []
            if self._depth:
                self.conn.executemany(self._JOURNAL_INSERT, pending)
            else:
                self.conn.execute("BEGIN")
                try:
                    self.conn.executemany(self._JOURNAL_INSERT, pending)
                    self.conn.execute("COMMIT")
                except BaseException:  # pragma: no cover - disk full and the like
                    self.conn.execute("ROLLBACK")
                    raise

    def journal_length(self) -> int:
        """The number of journal entries ever written (the last sequence number)."""
        self.flush_journal()
        row = self.conn.execute("SELECT max(seq) FROM journal").fetchone()
        return int(row[0] or 0)

    def journal_columns(self) -> dict[str, tuple[str | int | None, ...]]:
        """Every journal entry, in order, column by column: ``{column: values}`` for each of
        :attr:`JournalRow.COLUMNS` (read as plain tuples: a table's worth of rows at C speed)."""
        self.flush_journal()
        names = ", ".join(JournalRow.COLUMNS)
        cursor = self.conn.cursor()
        cursor.row_factory = None
        rows = cursor.execute(f"SELECT {names} FROM journal ORDER BY time, seq").fetchall()
        values = list(zip(*rows, strict=True)) if rows else [()] * len(JournalRow.COLUMNS)
        return dict(zip(JournalRow.COLUMNS, values, strict=True))

    def journal(
        self, where: str = "", params: Sequence[str | int | float | None] = ()
    ) -> list[sqlite3.Row]:
        """Journal rows (``where`` is an SQL condition over the journal's columns)."""
        self.flush_journal()
        sql = "SELECT * FROM journal"
        if where:
            sql += " WHERE " + where
        return self.conn.execute(sql + " ORDER BY time, seq", params).fetchall()
