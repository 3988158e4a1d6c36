"""The sandbox's typed backend: users, accounts, memberships, zones, DNS records, tokens and the
request journal, in SQLite (stdlib ``sqlite3``).

In memory by default; ``Store(path)`` uses a file in WAL mode (it survives restarts: the HMAC key,
the id counter and the seed live in the ``meta`` table). Every API call runs in one transaction
(:meth:`Store.transaction`), so a failed call leaves nothing behind. All access is serialised
by one re-entrant lock, so one store may serve threads and an event loop at once.

Rows come back as small typed objects (:class:`TokenRow`, :class:`ZoneRow` …, declared in
:mod:`.rows`); the token model the policy engine evaluates is built once per token version and
cached (:meth:`Store.model`). The journal's writes and reads are
:class:`.journal_table.JournalTable`'s (a base of :class:`Store`); the cache of list pages is
:mod:`.page_cache`'s.
"""

from __future__ import annotations

import hmac
import json
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput
from ..model.condition import Condition
from ..model.policy import Policy
from ..model.token import Token
from .credentials import keyed_hash
from .journal_table import JournalTable
from .page_cache import PageCache
from .rows import (
    AccountRow,
    DnsRow,
    JournalRow,
    JournalValues,
    Role,
    TokenRow,
    UserRow,
    ZoneRow,
    api_time,
    parse_ts,
    ts,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AccountRow",
    "DnsRow",
    "JournalRow",
    "JournalValues",
    "PageCache",
    "Role",
    "Store",
    "TokenRow",
    "UserRow",
    "ZoneRow",
    "api_time",
    "parse_ts",
    "ts",
]

SCHEMA_VERSION = "1"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, first_name TEXT, last_name TEXT,
    created_on TEXT NOT NULL, api_key_hash TEXT UNIQUE, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, created_on TEXT NOT NULL,
    seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS memberships (
    user_id TEXT NOT NULL REFERENCES users(id), account_id TEXT NOT NULL REFERENCES accounts(id),
    role TEXT NOT NULL, PRIMARY KEY (user_id, account_id));
CREATE TABLE IF NOT EXISTS zones (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, account_id TEXT NOT NULL REFERENCES accounts(id),
    status TEXT NOT NULL, plan TEXT NOT NULL, created_on TEXT NOT NULL, modified_on TEXT NOT NULL,
    activated_on TEXT, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS zones_account ON zones(account_id);
CREATE TABLE IF NOT EXISTS dns_records (
    id TEXT PRIMARY KEY, zone_id TEXT NOT NULL REFERENCES zones(id), type TEXT NOT NULL,
    name TEXT NOT NULL, content TEXT NOT NULL, ttl INTEGER NOT NULL, proxied INTEGER NOT NULL,
    priority INTEGER, comment TEXT, tags TEXT NOT NULL, created_on TEXT NOT NULL,
    modified_on TEXT NOT NULL, seq INTEGER NOT NULL, settings TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS dns_zone ON dns_records(zone_id, seq);
CREATE INDEX IF NOT EXISTS dns_zone_name ON dns_records(zone_id, name);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY, owner_kind TEXT NOT NULL, owner_id TEXT NOT NULL, name TEXT NOT NULL,
    status TEXT NOT NULL, policies TEXT NOT NULL, condition TEXT, not_before TEXT,
    expires_on TEXT, issued_on TEXT NOT NULL, modified_on TEXT NOT NULL, last_used_on TEXT,
    secret_hash TEXT NOT NULL UNIQUE, secret_changed_on TEXT NOT NULL, created_by TEXT,
    version INTEGER NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS tokens_owner ON tokens(owner_kind, owner_id, seq);
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, token_id TEXT, token_name TEXT,
    owner_type TEXT, owner_id TEXT, user_id TEXT, auth TEXT, method TEXT NOT NULL,
    path TEXT NOT NULL, query TEXT, operation_id TEXT, account_id TEXT, zone_id TEXT,
    status INTEGER NOT NULL, error_code INTEGER, reason TEXT, ip TEXT, user_agent TEXT,
    ray_id TEXT, fault TEXT);
CREATE INDEX IF NOT EXISTS journal_account ON journal(account_id, time);
CREATE INDEX IF NOT EXISTS journal_token ON journal(token_id);
"""


def _create_private(path: str) -> None:
    """Create a new database file readable by its owner only (0600) before SQLite opens it:
    SQLite gives the ``-wal`` and ``-shm`` files the database file's permissions, and all
    three hold the HMAC key or the journal. ``O_NOFOLLOW``: a symbolic link planted at the
    path is refused, not followed."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        if os.path.islink(path):
            raise InvalidInput(
                f"{path} is a symbolic link; give the database file's real path"
            ) from None
        return  # an existing database: reopened as it is
    except OSError as exc:
        raise InvalidInput(
            f"cannot open {path} as a database ({exc.strerror}); give a file path in a folder "
            "that exists and that you may write to"
        ) from None
    os.close(fd)


#: What :attr:`Store.journal_frame` was read from (``Sandbox.journal``'s key): the journal's
#: length, then the users' e-mails and the accounts' names by id.
JournalKey = tuple[int, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]


class Store(JournalTable):
    """The SQLite backend. ``path=None`` keeps everything in memory; a new database file is
    created 0600 (so are its ``-wal`` and ``-shm`` files)."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, seed: int | str = 0):
        self.path = None if path is None else os.fspath(path)
        self.lock = threading.RLock()
        if self.path is not None:
            _create_private(self.path)
        try:
            self.conn = sqlite3.connect(
                ":memory:" if self.path is None else self.path,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise InvalidInput(
                f"cannot open {self.path} as a database ({exc}); give a file path in a folder "
                "that exists and that you may write to"
            ) from None
        self.conn.row_factory = sqlite3.Row
        try:
            if self.path is not None:
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.executescript(_SCHEMA)
            self._migrate()
            meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise InvalidInput(
                f"{self.path} is not a sandbox database ({exc}); give a new file name or "
                "one a sandbox created"
            ) from None
        if meta.get("schema", SCHEMA_VERSION) != SCHEMA_VERSION:
            self.conn.close()
            raise InvalidInput(
                f"{self.path} was written by another version of the sandbox (schema "
                f"{meta['schema']}, this one reads {SCHEMA_VERSION}); use a new file"
            )
        self.fresh = "hmac_key" not in meta
        if self.fresh:
            key = os.urandom(32).hex()
            self.conn.execute("BEGIN")
            self.conn.executemany(
                "INSERT INTO meta(key, value) VALUES (?, ?)",
                [
                    ("schema", SCHEMA_VERSION),
                    ("hmac_key", key),
                    ("seed", str(seed)),
                    ("counter", "0"),
                ],
            )
            self.conn.execute("COMMIT")
            meta = {"hmac_key": key, "seed": str(seed), "counter": "0"}
        self._start(meta)

    def _start(self, meta: dict[str, str]) -> None:
        """The state beside the database: its key, seed and counter (from ``meta``) and empty
        read caches."""
        self.key = bytes.fromhex(meta["hmac_key"])
        self.seed = meta["seed"]
        self._counter = int(meta["counter"])
        self._saved_counter = self._counter
        self._depth = 0
        self._models: dict[str, tuple[int, Token]] = {}
        self._zone_accounts: dict[str, str] | None = None
        # Read caches for the request path, valid while no write transaction commits or
        # rolls back (``generation`` counts those); GET requests write only the journal.
        self.generation = 0
        self._cache_generation = 0
        self._by_hash: dict[str, TokenRow] = {}
        self._zone_rows: dict[str, ZoneRow | None] = {}
        self.responses: PageCache[tuple[str, dict[str, Any]]] = PageCache()  # text, info
        self._pending: list[tuple[Any, ...]] = []
        # The journal as a DataFrame, with what it was read from (Sandbox.journal): the journal
        # only grows, so while the key is the same the frame is too; copies of the store share
        # it (a frame handed out is always a copy of it).
        self.journal_frame: tuple[JournalKey, pd.DataFrame] | None = None
        # The store this one is a copy of, and the journal's length then (see copy()).
        self._copied_from: tuple[weakref.ref[Store], int] | None = None
        self._closed = False
        self._flusher: threading.Thread | None = None
        self._pending_since = 0.0

    def _migrate(self) -> None:
        """Add the columns later versions introduced to a database an earlier one wrote."""
        columns = {r[1] for r in self.conn.execute("PRAGMA table_info(dns_records)")}
        if "settings" not in columns:
            self.conn.execute(
                "ALTER TABLE dns_records ADD COLUMN settings TEXT NOT NULL DEFAULT '{}'"
            )

    def _caches(self) -> None:
        """Drop the read caches if anything was written since they were filled."""
        if self._cache_generation != self.generation:
            self._by_hash.clear()
            self._zone_rows.clear()
            self.responses.clear()
            self._zone_accounts = None
            self._cache_generation = self.generation

    def _written(self) -> None:
        self.generation += 1
        self._zone_accounts = None

    # -- transactions --------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction (re-entrant: nested calls join the outer one)."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.flush_journal()
            self.conn.execute("BEGIN IMMEDIATE" if self.path is not None else "BEGIN")
            self._depth = 1
            try:
                yield self.conn
                if self._counter != self._saved_counter:
                    self.conn.execute(
                        "UPDATE meta SET value = ? WHERE key = 'counter'", (str(self._counter),)
                    )
                self.conn.execute("COMMIT")
                self._saved_counter = self._counter
            except BaseException:
                self.conn.execute("ROLLBACK")
                self._models.clear()
                raise
            finally:
                self._depth = 0
                self._written()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint inside the current transaction: rolled back alone on error."""
        self.conn.execute("SAVEPOINT call")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK TO call")
            self.conn.execute("RELEASE call")
            self._models.clear()
            self._written()
            raise
        self.conn.execute("RELEASE call")

    def next_counter(self) -> int:
        """The next value of the id counter (persisted with the transaction)."""
        self._counter += 1
        return self._counter

    def copy(self) -> Store:
        """An independent in-memory store holding everything this one holds (every row, the
        HMAC key, the seed and the id counter), made with SQLite's backup API: milliseconds,
        where seeding the demo company takes about a second. Writes to one never reach the
        other; a copy of a file-backed store lives in memory."""
        with self.lock:
            if self._closed:
                raise InvalidInput("this store is closed; copy it before closing it")
            if self._depth:
                raise InvalidInput("a store cannot be copied inside a transaction")
            self.flush_journal()
            # a bare connection: the backup brings the schema and every row (creating the
            # schema first, as a new store does, would cost as much as the backup)
            twin = object.__new__(Store)
            twin.path = None
            twin.lock = threading.RLock()
            twin.conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            twin.conn.row_factory = sqlite3.Row
            self.conn.backup(twin.conn)
            counter = self._counter
            copied = (weakref.ref(self), self.journal_length())
        twin.conn.execute("PRAGMA foreign_keys=ON")  # a setting of the connection, not copied
        twin._start(dict(twin.conn.execute("SELECT key, value FROM meta").fetchall()))
        twin.fresh = False
        twin._counter = counter
        twin.journal_frame = self.journal_frame
        twin._copied_from = copied
        return twin

    def share_journal_frame(self, key: JournalKey, frame: pd.DataFrame) -> None:
        """Hand the journal frame this store built for ``key`` (``Sandbox.journal``'s) to the
        store it is a copy of, while neither journal grew since the copy: both hold the
        journal copied then, and that store's later copies share the frame too (the demo
        company's copies build it once). That store uses it only for its own equal key."""
        if self._copied_from is None:
            return
        ref, length = self._copied_from
        source = ref()
        if source is None or key[0] != length:  # this journal grew: not the copied one
            return
        with source.lock:
            if not source._closed and source.journal_length() == length:
                source.journal_frame = (key, frame)

    def get_meta(self, key: str) -> str | None:
        """A value of the ``meta`` table."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the ``meta`` table."""
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def __repr__(self) -> str:
        # Where it lives; never its key or its rows.
        return "<Store in memory>" if self.path is None else f"<Store at {self.path!r}>"

    def hash(self, secret: str) -> str:
        """The keyed hash under which a secret is stored."""
        return keyed_hash(self.key, secret)

    def close(self) -> None:
        """Write deferred journal entries and close the database."""
        with self.lock:
            if self._closed:
                return
            self.flush_journal()
            self.conn.close()
            self._closed = True

    # -- users, accounts, memberships ---------------------------------------------------
    def insert_user(
        self,
        *,
        id: str,
        email: str,
        first_name: str | None,
        last_name: str | None,
        created_on: datetime,
    ) -> None:
        """Add a user."""
        self.conn.execute(
            "INSERT INTO users(id, email, first_name, last_name, created_on, seq) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (id, email, first_name, last_name, ts(created_on), self.next_counter()),
        )

    def set_api_key(self, user_id: str, key_hash: str) -> None:
        """Store the keyed hash of a user's Global API Key."""
        self.conn.execute("UPDATE users SET api_key_hash = ? WHERE id = ?", (key_hash, user_id))

    def user(self, user_id: str) -> UserRow | None:
        """A user by id."""
        row = self.conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        return None if row is None else UserRow(row)

    def user_by_email(self, email: str) -> UserRow | None:
        """A user by email (case-insensitive)."""
        row = self.conn.execute(
            "SELECT * FROM users WHERE lower(email) = lower(?)", (email,)
        ).fetchone()
        return None if row is None else UserRow(row)

    def api_key_hash(self, user_id: str) -> str | None:
        """The stored hash of a user's Global API Key."""
        row = self.conn.execute(
            "SELECT api_key_hash FROM users WHERE id = ?", (user_id,)
        ).fetchone()
        return None if row is None else row[0]

    def users(self) -> list[UserRow]:
        """Every user, in creation order."""
        return [UserRow(r) for r in self.conn.execute("SELECT * FROM users ORDER BY seq")]

    def insert_account(self, *, id: str, name: str, type: str, created_on: datetime) -> None:
        """Add an account."""
        self.conn.execute(
            "INSERT INTO accounts(id, name, type, created_on, seq) VALUES (?, ?, ?, ?, ?)",
            (id, name, type, ts(created_on), self.next_counter()),
        )

    def account(self, account_id: str) -> AccountRow | None:
        """An account by id."""
        row = self.conn.execute("SELECT * FROM accounts WHERE id = ?", (account_id,)).fetchone()
        return None if row is None else AccountRow(row)

    def accounts(self, ids: Iterable[str] | None = None) -> list[AccountRow]:
        """Accounts (all, or those with the given ids), in creation order."""
        rows = self.conn.execute("SELECT * FROM accounts ORDER BY seq").fetchall()
        if ids is not None:
            wanted = set(ids)
            rows = [r for r in rows if r["id"] in wanted]
        return [AccountRow(r) for r in rows]

    def insert_membership(self, user_id: str, account_id: str, role: Role) -> None:
        """Make a user a member of an account with a role (replacing an earlier role)."""
        self.conn.execute(
            "INSERT OR REPLACE INTO memberships(user_id, account_id, role) VALUES (?, ?, ?)",
            (user_id, account_id, Role(role).value),
        )

    def memberships(self, user_id: str) -> list[tuple[str, Role]]:
        """``(account_id, role)`` of a user's accounts, in account creation order."""
        rows = self.conn.execute(
            "SELECT m.account_id, m.role FROM memberships m JOIN accounts a ON a.id = m.account_id "
            "WHERE m.user_id = ? ORDER BY a.seq",
            (user_id,),
        ).fetchall()
        return [(r[0], Role(r[1])) for r in rows]

    # -- zones and DNS records ----------------------------------------------------------
    def insert_zone(
        self,
        *,
        id: str,
        name: str,
        account_id: str,
        status: str,
        plan: str,
        created_on: datetime,
    ) -> None:
        """Add a zone."""
        when = ts(created_on)
        self.conn.execute(
            "INSERT INTO zones(id, name, account_id, status, plan, created_on, modified_on, "
            "activated_on, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                id,
                name,
                account_id,
                status,
                plan,
                when,
                when,
                when if status == "active" else None,
                self.next_counter(),
            ),
        )
        self._zone_accounts = None

    _ZONE_SELECT = (
        "SELECT z.*, a.name AS account_name FROM zones z JOIN accounts a ON a.id = z.account_id "
    )

    def zone(self, zone_id: str) -> ZoneRow | None:
        """A zone by id (cached between writes)."""
        self._caches()
        if zone_id in self._zone_rows:
            return self._zone_rows[zone_id]
        row = self.conn.execute(self._ZONE_SELECT + "WHERE z.id = ?", (zone_id,)).fetchone()
        zone = None if row is None else ZoneRow(row)
        if len(self._zone_rows) < 10_000:
            self._zone_rows[zone_id] = zone
        return zone

    def zones(self, account_ids: Iterable[str] | None = None) -> list[ZoneRow]:
        """Zones (all, or of the given accounts), in creation order."""
        rows = self.conn.execute(self._ZONE_SELECT + "ORDER BY z.seq").fetchall()
        result = [ZoneRow(r) for r in rows]
        if account_ids is not None:
            wanted = set(account_ids)
            result = [z for z in result if z.account_id in wanted]
        return result

    def zone_account(self, zone_id: str) -> str | None:
        """The account owning a zone (cached), or None for an unknown zone."""
        self._caches()
        table = self._zone_accounts
        if table is None:
            table = dict(self.conn.execute("SELECT id, account_id FROM zones").fetchall())
            self._zone_accounts = table
        return table.get(zone_id)

    def insert_dns(
        self,
        *,
        id: str,
        zone_id: str,
        type: str,
        name: str,
        content: str,
        ttl: int,
        proxied: bool,
        priority: int | None,
        comment: str | None,
        tags: Sequence[str],
        when: datetime,
        settings: dict[str, Any] | None = None,
    ) -> None:
        """Add a DNS record."""
        stamp = ts(when)
        self.conn.execute(
            "INSERT INTO dns_records(id, zone_id, type, name, content, ttl, proxied, priority, "
            "comment, tags, created_on, modified_on, seq, settings) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                id,
                zone_id,
                type,
                name,
                content,
                ttl,
                int(proxied),
                priority,
                comment,
                json.dumps(list(tags)),
                stamp,
                stamp,
                self.next_counter(),
                json.dumps(settings or {}),
            ),
        )

    def update_dns(self, row: DnsRow, when: datetime) -> None:
        """Write a changed DNS record back."""
        self.conn.execute(
            "UPDATE dns_records SET type=?, name=?, content=?, ttl=?, proxied=?, priority=?, "
            "comment=?, tags=?, settings=?, modified_on=? WHERE id=?",
            (
                row.type,
                row.name,
                row.content,
                row.ttl,
                int(row.proxied),
                row.priority,
                row.comment,
                json.dumps(row.tags),
                json.dumps(row.settings),
                ts(when),
                row.id,
            ),
        )

    def dns(self, zone_id: str, record_id: str) -> DnsRow | None:
        """One DNS record of a zone."""
        row = self.conn.execute(
            "SELECT * FROM dns_records WHERE zone_id = ? AND id = ?", (zone_id, record_id)
        ).fetchone()
        return None if row is None else DnsRow(row)

    def dns_records(self, zone_id: str) -> list[DnsRow]:
        """Every DNS record of a zone, in creation order."""
        rows = self.conn.execute(
            "SELECT * FROM dns_records WHERE zone_id = ? ORDER BY seq", (zone_id,)
        ).fetchall()
        return [DnsRow(r) for r in rows]

    def dns_named(self, zone_id: str, name: str) -> list[DnsRow]:
        """The DNS records of a zone with this (full) name."""
        rows = self.conn.execute(
            "SELECT * FROM dns_records WHERE zone_id = ? AND name = ? ORDER BY seq", (zone_id, name)
        ).fetchall()
        return [DnsRow(r) for r in rows]

    def count_dns(self, zone_id: str) -> int:
        """How many DNS records a zone holds."""
        row = self.conn.execute(
            "SELECT count(*) FROM dns_records WHERE zone_id = ?", (zone_id,)
        ).fetchone()
        return int(row[0])

    def delete_dns(self, record_id: str) -> None:
        """Remove a DNS record."""
        self.conn.execute("DELETE FROM dns_records WHERE id = ?", (record_id,))

    # -- tokens -------------------------------------------------------------------------
    _TOKEN_COLUMNS = (
        "id",
        "owner_kind",
        "owner_id",
        "name",
        "status",
        "policies",
        "condition",
        "not_before",
        "expires_on",
        "issued_on",
        "modified_on",
        "last_used_on",
        "secret_hash",
        "secret_changed_on",
        "created_by",
        "version",
        "seq",
    )

    def insert_tokens(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert token rows (dicts with the table's columns; ``seq`` is assigned here)."""
        columns = self._TOKEN_COLUMNS
        values = []
        for row in rows:
            row = dict(row)
            row.setdefault("version", 1)
            row.setdefault("created_by", None)
            row.setdefault("last_used_on", None)
            row["seq"] = self.next_counter()
            values.append(tuple(row.get(c) for c in columns))
        self.conn.executemany(
            f"INSERT INTO tokens({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            values,
        )

    def token(self, token_id: str) -> TokenRow | None:
        """A token by id."""
        row = self.conn.execute("SELECT * FROM tokens WHERE id = ?", (token_id,)).fetchone()
        return None if row is None else TokenRow(row)

    def token_by_hash(self, secret_hash: str) -> TokenRow | None:
        """The token whose secret has this keyed hash (an index lookup, then a constant-time
        comparison of the stored hash); cached between writes."""
        self._caches()
        cached = self._by_hash.get(secret_hash)
        if cached is not None:
            return cached
        row = self.conn.execute(
            "SELECT * FROM tokens WHERE secret_hash = ?", (secret_hash,)
        ).fetchone()
        if row is None or not hmac.compare_digest(row["secret_hash"], secret_hash):
            return None
        token = TokenRow(row)
        if len(self._by_hash) < 100_000:
            self._by_hash[secret_hash] = token
        return token

    def count_tokens(self, owner_kind: str, owner_id: str) -> int:
        """How many tokens an owner has."""
        row = self.conn.execute(
            "SELECT count(*) FROM tokens WHERE owner_kind = ? AND owner_id = ?",
            (owner_kind, owner_id),
        ).fetchone()
        return int(row[0])

    def list_tokens(
        self,
        owner_kind: str,
        owner_id: str,
        *,
        now: str,
        include_expired: bool,
        descending: bool,
        offset: int,
        limit: int,
    ) -> tuple[list[TokenRow], int]:
        """One page of an owner's tokens (creation order) and the total count."""
        where = "owner_kind = ? AND owner_id = ?"
        params: list[Any] = [owner_kind, owner_id]
        if not include_expired:
            where += " AND NOT (status = 'active' AND expires_on IS NOT NULL AND expires_on <= ?)"
            params.append(now)
        total = int(
            self.conn.execute(f"SELECT count(*) FROM tokens WHERE {where}", params).fetchone()[0]
        )
        if offset >= total:  # past the end (also offsets beyond SQLite's 64-bit integers)
            return [], total
        order = "DESC" if descending else "ASC"
        rows = self.conn.execute(
            f"SELECT * FROM tokens WHERE {where} ORDER BY seq {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return [TokenRow(r) for r in rows], total

    def all_tokens(self) -> list[TokenRow]:
        """Every token, in creation order."""
        return [TokenRow(r) for r in self.conn.execute("SELECT * FROM tokens ORDER BY seq")]

    def update_token(
        self,
        token_id: str,
        *,
        name: str,
        status: str,
        policies: str,
        condition: str | None,
        not_before: str | None,
        expires_on: str | None,
        modified_on: str,
    ) -> None:
        """Replace a token's editable fields (PUT) and bump its version."""
        self.conn.execute(
            "UPDATE tokens SET name=?, status=?, policies=?, condition=?, not_before=?, "
            "expires_on=?, modified_on=?, version = version + 1 WHERE id=?",
            (name, status, policies, condition, not_before, expires_on, modified_on, token_id),
        )
        self._models.pop(token_id, None)

    def set_secret(self, token_id: str, secret_hash: str, when: str) -> None:
        """Replace a token's secret (roll): the old one stops working at once."""
        self.conn.execute(
            "UPDATE tokens SET secret_hash = ?, secret_changed_on = ? WHERE id = ?",
            (secret_hash, when, token_id),
        )

    def touch(self, token_id: str, when: str) -> None:
        """Record a use of a token (``last_used_on``); the caller updates its row object."""
        self.conn.execute("UPDATE tokens SET last_used_on = ? WHERE id = ?", (when, token_id))

    def delete_token(self, token_id: str) -> None:
        """Remove a token (its secret stops working at once)."""
        self.conn.execute("DELETE FROM tokens WHERE id = ?", (token_id,))
        self._models.pop(token_id, None)

    def model(self, row: TokenRow) -> Token:
        """The :class:`~cftokens.Token` the policy engine evaluates, cached per version.

        The engine caches its compiled form on this object, so repeated requests with one
        token compile its policies once.
        """
        cached = self._models.get(row.id)
        if cached is not None and cached[0] == row.version:
            return cached[1]
        model = Token(
            id=row.id,
            name=row.name,
            status=row.status,
            policies=[Policy.from_api(p) for p in json.loads(row.policies)],
            condition=Condition.from_api(json.loads(row.condition) if row.condition else None),
            not_before=None if row.not_before is None else parse_ts(row.not_before),
            expires_on=None if row.expires_on is None else parse_ts(row.expires_on),
        )
        self._models[row.id] = (row.version, model)
        return model
