"""``Sandbox``: the in-process face of the emulator, and its admin API for seeding."""

from __future__ import annotations

import copy
import os
import threading
import weakref
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from attrs import field, frozen

from ..catalog import templates
from ..client import Client, ClientSettings
from ..errors import InvalidInput
from ..model.condition import parse_address
from ..model.directory import Account, AccountRef, Directory, User, Zone
from ..model.secret import Secret
from ..model.token import CreatedToken, Token
from .asgi import SandboxApp, create_app
from .clock import Clock
from .credentials import Generator
from .demo import seed_demo
from .engine import PREFIX, Engine
from .faults import Faults, RateLimit
from .leak import stage_leak
from .seeding import SandboxSeeding
from .store import Store, parse_ts, ts
from .transport import SandboxTransport

if TYPE_CHECKING:
    import pandas as pd

    from ..client import AsyncClient

__all__ = ["DEFAULT_BASE_URL", "Attendee", "Sandbox", "SandboxOptions", "issued_secrets_everywhere"]

DEFAULT_BASE_URL = "https://sandbox.cftokens.invalid" + PREFIX

# Every Sandbox alive in this process (weakly held), for leak scans across a whole kernel.
_LIVE: weakref.WeakSet[Sandbox] = weakref.WeakSet()

_DEFAULT = object()

# The demo company as seeded, and the empty sandbox, per (content, seed, start time, tick,
# keep_secrets): Sandbox.demo() and Sandbox() copy it (milliseconds) instead of seeding again
# (about 0.15 s of CPU for the demo, half the time of an empty one). Only in-memory sandboxes
# with deterministic secrets (the default) share it: their secrets follow from the seed anyway,
# so the copies sharing the store's HMAC key reveals nothing; ``secure_secrets`` and ``db``
# sandboxes are seeded afresh. The seeded ones are not live sandboxes (``_LIVE``): only the
# copies handed out are.
_SEEDED: dict[tuple[str, str, datetime, timedelta, bool], Sandbox] = {}
_SEEDED_MAX = 4  # of each content
_SEEDED_LOCK = threading.Lock()


@frozen(kw_only=True)
class Attendee:
    """A workshop attendee: their own copy of the demo company and bootstrap token."""

    number: int
    email: str
    user_id: str
    token: Secret = field(repr=lambda s: repr(s))


class SandboxOptions(TypedDict, total=False):
    """The keyword arguments of :class:`Sandbox` but ``content`` (``Sandbox.demo(**options)``)."""

    now: datetime | None
    seed: int
    faults: Faults | str | Mapping[str, Any] | None
    rate_limit: RateLimit | str | int | None
    db: str | os.PathLike[str] | None
    tick: timedelta | None
    clock: Clock | None
    secure_secrets: bool
    keep_secrets: bool
    base_url: str


class Sandbox(SandboxSeeding):
    """A local, permission-enforcing emulator of Cloudflare's token API.

    ``Sandbox()`` holds one user (``analyst@example.com``), their account "Example Account" with
    the zone ``example.com``, and a bootstrap token made from the "Create Additional Tokens"
    template (:attr:`bootstrap_token`). :meth:`demo` seeds the demo company instead.

    Deterministic: the same ``seed`` gives the same ids, times and secrets; the clock reads
    ``now`` (default 2026-11-02T09:00:00Z) until moved (:attr:`clock`). ``db=PATH`` keeps the
    state in an SQLite file (reopened on the next run); ``faults`` injects failures (a SPEC
    string or :class:`~cftokens.sandbox.Faults`); ``rate_limit`` is 1,200 requests per 5
    minutes per user unless given (``None`` turns it off). ``content`` is ``"empty"`` (the
    default above), ``"demo"`` (as :meth:`demo`) or ``"none"`` (no user at all, e.g. before
    :meth:`add_attendees`). The empty and demo contents are seeded once per process for each
    ``seed``, ``now``, ``tick`` and ``keep_secrets``, and each sandbox gets an independent copy
    (a sandbox with ``db``, ``clock`` or ``secure_secrets`` is seeded afresh).
    """

    def __init__(
        self,
        *,
        now: datetime | None = None,
        seed: int = 0,
        faults: Faults | str | Mapping[str, Any] | None = None,
        rate_limit: RateLimit | str | int | object | None = _DEFAULT,
        db: str | os.PathLike[str] | None = None,
        tick: timedelta | None = None,
        clock: Clock | None = None,
        secure_secrets: bool = False,
        keep_secrets: bool = True,
        base_url: str = DEFAULT_BASE_URL,
        content: str = "empty",
    ):
        if content not in ("empty", "demo", "none"):
            raise InvalidInput("content must be 'empty', 'demo' or 'none'")
        limit = RateLimit() if rate_limit is _DEFAULT else RateLimit.of(rate_limit)  # type: ignore[arg-type]
        if content != "none" and db is None and clock is None and not secure_secrets:
            start = Clock(now, tick=tick or timedelta(0))  # checks now and tick
            seeded = _seeded(content, str(seed), start, tick or timedelta(0), keep_secrets)
            self._adopt(seeded, faults=Faults.of(faults), rate_limit=limit, base_url=base_url)
            return
        self._wire(
            Store(db, seed=seed),
            clock or Clock(now, tick=tick or timedelta(0)),
            faults=Faults.of(faults),
            rate_limit=limit,
            secure_secrets=secure_secrets,
            keep_secrets=keep_secrets,
            base_url=base_url,
        )
        if self.store.fresh and content != "none":
            if content == "demo":
                seed_demo(self)
            else:
                self._seed_empty()

    def _wire(
        self,
        store: Store,
        clock: Clock,
        *,
        faults: Faults | None,
        rate_limit: RateLimit | None,
        secure_secrets: bool,
        keep_secrets: bool,
        base_url: str,
        requests: int | None = None,
    ) -> None:
        self.clock = clock
        self.store = store
        self.seed = store.seed
        self.engine = Engine(
            store=store,
            clock=clock,
            generator=Generator(self.seed, secure=secure_secrets),
            faults=faults,
            rate_limit=rate_limit,
            keep_secrets=keep_secrets,
            requests=requests,
        )
        self.base_url = base_url.rstrip("/")
        self._bootstrap: Secret | None = None
        self._api_key: Secret | None = None
        self.extras: dict[str, Any] = {}
        _LIVE.add(self)

    # -- construction --------------------------------------------------------------------
    @classmethod
    def demo(cls, *, leak: bool = False, **options: Unpack[SandboxOptions]) -> Sandbox:
        """A sandbox holding the demo company (see :mod:`cftokens.sandbox.demo`).

        ``leak=True`` adds the leak scenario (:mod:`cftokens.sandbox.leak`): a repository in
        ``sb.extras["repository"]`` with a committed secret, and its abuse in Audit Logs v2.

        The company is seeded once per process for each ``seed``, ``now``, ``tick`` and
        ``keep_secrets`` and each call gets an independent copy of it (milliseconds instead of
        a seeding); a sandbox with ``db``, ``clock`` or ``secure_secrets`` is seeded afresh.
        """
        sb = cls(content="demo", **options)
        if leak:
            sb.stage_leak()
        return sb

    def copy(
        self,
        *,
        faults: Faults | str | Mapping[str, Any] | object | None = _DEFAULT,
        rate_limit: RateLimit | str | int | object | None = _DEFAULT,
    ) -> Sandbox:
        """An independent sandbox in this one's state, in memory: every user, account, zone,
        token and journal entry, the clock's time, the secrets this object knows (bootstrap
        token, Global API Key, :meth:`issued_secrets`) and :attr:`extras`. Changes to one never
        reach the other. Much faster than seeding again: seed the demo company once and copy
        it for each experiment (or test).

        ``faults`` and ``rate_limit`` (as :class:`Sandbox` takes them) replace this one's; the
        rate limiter's count starts afresh.
        """
        engine = self.engine
        twin = object.__new__(Sandbox)
        twin._adopt(
            self,
            faults=engine.faults if faults is _DEFAULT else Faults.of(faults),  # type: ignore[arg-type]
            rate_limit=(
                engine.rate_limit if rate_limit is _DEFAULT else RateLimit.of(rate_limit)  # type: ignore[arg-type]
            ),
            base_url=self.base_url,
        )
        return twin

    def _adopt(
        self,
        source: Sandbox,
        *,
        faults: Faults | None,
        rate_limit: RateLimit | None,
        base_url: str,
    ) -> None:
        """Wire this new sandbox to a copy of ``source``'s state (see :meth:`copy`)."""
        engine = source.engine
        self._wire(
            source.store.copy(),
            source.clock.copy(),
            faults=faults,
            rate_limit=rate_limit,
            secure_secrets=engine.generator.secure,
            keep_secrets=engine.keep_secrets,
            base_url=base_url,
            requests=engine.requests_answered,
        )
        self._bootstrap, self._api_key = source._bootstrap, source._api_key
        self.extras = copy.deepcopy(source.extras)
        self.engine.issued.extend(engine.issued)

    def stage_leak(self) -> dict[str, Any]:
        """Add the demo's leak scenario (once); returns its facts, also in ``extras["leak"]``."""
        return stage_leak(self)

    def _seed_empty(self) -> None:
        now = self.clock.now()
        with self.store.transaction():
            user = self.add_user(
                "analyst@example.com", first_name="Ada", last_name="Analyst", created=now
            )
            account = self.add_account("Example Account", owner=user.id, created=now)
            self.add_zone("example.com", account=account.id, created=now)
            spec = templates["Create Additional Tokens"].build(
                name="cftokens-bootstrap", user=user.id
            )
            created = self.create_token(spec, user=user.id, issued=now)
            self.set_bootstrap(created)
            self._api_key = self.issue_api_key(user.id)

    def add_attendees(self, n: int) -> list[Attendee]:
        """Add ``n`` workshop attendees, each an isolated user with their own copy of the demo
        company (accounts, zones, tokens, history) and bootstrap token. Attendees cannot see
        each other's accounts or tokens (they are members of their own accounts only)."""
        if not isinstance(n, int) or n < 1:
            raise InvalidInput("the number of attendees must be a positive integer")
        first = int(self.store.get_meta("attendees") or 0) + 1
        attendees = []
        for number in range(first, first + n):
            info = seed_demo(self, tag=f"attendee{number:02d}")
            attendees.append(
                Attendee(
                    number=number,
                    email=info["email"],
                    user_id=info["user_id"],
                    token=info["bootstrap"],
                )
            )
            self.store.set_meta("attendees", str(number))
        return attendees

    def set_bootstrap(self, created: CreatedToken) -> None:
        """Make ``created`` the token :meth:`client` uses by default."""
        self._bootstrap = created.secret
        self.store.set_meta("bootstrap_token_id", created.id)
        self.store.set_meta("main_user_id", self._owner_of(created.id))

    def _owner_of(self, token_id: str) -> str:
        row = self.store.token(token_id)
        if row is None:
            raise InvalidInput(f"no token {token_id}")
        return row.owner_id

    # -- properties ----------------------------------------------------------------------
    @property
    def bootstrap_token(self) -> Secret:
        """The bootstrap token's secret (a :class:`~cftokens.Secret`)."""
        if self._bootstrap is None:
            raise InvalidInput(
                "this sandbox's bootstrap secret is not known (a reopened database keeps only "
                "hashes); call sb.roll_bootstrap() for a new one"
            )
        return self._bootstrap

    @property
    def bootstrap_token_id(self) -> str | None:
        """The bootstrap token's id."""
        return self.store.get_meta("bootstrap_token_id")

    @property
    def user(self) -> User:
        """The main user."""
        return self._user_model(self.user_id)

    @property
    def global_api_key(self) -> Secret:
        """The main user's Global API Key (use with ``X-Auth-Email``/``X-Auth-Key``)."""
        if self._api_key is None:
            raise InvalidInput("the Global API Key is not known; call sb.issue_api_key(user_id)")
        return self._api_key

    def roll_bootstrap(self) -> Secret:
        """Give the bootstrap token a new secret (e.g. after reopening a database)."""
        token_id = self.bootstrap_token_id
        if token_id is None:
            raise InvalidInput("this sandbox has no bootstrap token")
        with self.store.transaction():
            row = self.store.token(token_id)
            if row is None:
                raise InvalidInput("the bootstrap token was deleted")
            self._bootstrap = Secret(self.engine.roll_secret(row, self.clock.now()))
        return self._bootstrap

    # -- faces ---------------------------------------------------------------------------
    def transport(self, ip: str | None = None) -> SandboxTransport:
        """An ``httpx.MockTransport`` into this sandbox (sync and async clients).

        ``ip`` is the client address the sandbox sees (default 127.0.0.1), so IP conditions
        can be shown: ``sb.transport(ip="198.51.100.4")``.
        """
        address = "127.0.0.1" if not ip else str(parse_address(ip))
        return SandboxTransport(self.engine, ip=address)

    def _client_defaults(self, settings: ClientSettings) -> ClientSettings:
        settings.setdefault("base_url", self.base_url)
        if self.engine.rate_limit is None:
            # Nothing to protect: a client-side limit would only stall after 1,200 requests.
            settings.setdefault("rate_limit", None)
        return settings

    def client(
        self,
        token: Secret | str | None = None,
        ip: str | None = None,
        **client_kwargs: Unpack[ClientSettings],
    ) -> Client:
        """A :class:`cftokens.Client` wired to this sandbox (the bootstrap token by default).

        ``client_kwargs`` (:class:`~cftokens.client.ClientSettings`: ``max_retries``,
        ``rate_limit``, ``recorder``...) go to the client; a sandbox without a rate limit
        gives clients without a client-side limit (``rate_limit=None``) unless one is passed.
        """
        return Client(
            token=token if token is not None else self.bootstrap_token,
            transport=self.transport(ip),
            **self._client_defaults(client_kwargs),
        )

    def async_client(
        self,
        token: Secret | str | None = None,
        ip: str | None = None,
        **client_kwargs: Unpack[ClientSettings],
    ) -> AsyncClient:
        """A :class:`cftokens.AsyncClient` wired to this sandbox (``client_kwargs`` as for
        :meth:`client`)."""
        from ..client import AsyncClient  # lazy like cftokens.AsyncClient: it imports asyncio

        return AsyncClient(
            token=token if token is not None else self.bootstrap_token,
            transport=self.transport(ip),
            **self._client_defaults(client_kwargs),
        )

    def asgi_app(self, *, trusted_proxies: Iterable[str] = ()) -> SandboxApp:
        """The ASGI app serving this sandbox (for uvicorn or Starlette's TestClient).

        The client address is the TCP peer's; ``trusted_proxies`` (addresses or CIDRs of a
        reverse proxy in front of the sandbox) makes their ``X-Forwarded-For`` count."""
        return create_app(self.engine, trusted_proxies=trusted_proxies)

    def close(self) -> None:
        """Close the database."""
        self.store.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        with self.store.lock:
            counts = self.store.conn.execute(
                "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM accounts), "
                "(SELECT count(*) FROM zones), (SELECT count(*) FROM tokens)"
            ).fetchone()
        return (
            f"<Sandbox seed={self.seed} now={self.clock.now():%Y-%m-%dT%H:%M:%SZ} "
            f"users={counts[0]} accounts={counts[1]} zones={counts[2]} tokens={counts[3]}>"
        )

    # -- inspection ----------------------------------------------------------------------
    @property
    def journal(self) -> pd.DataFrame:
        """Every request the sandbox answered, one row each (a pandas DataFrame).

        Columns: time (UTC), token_id, token_name, owner_type, owner_id, owner (email or
        account name), user_id, auth (``api_token``/``api_key``; missing when unauthenticated),
        method, path, query, operation_id, account_id, zone_id, status, error_code, reason (the
        policy engine's sentence), ip, user_agent, ray_id, fault. Never a secret or header.
        """
        store = self.store
        with store.lock:
            emails: dict[Any, str] = {u.id: u.email for u in store.users()}
            names: dict[Any, str] = {a.id: a.name for a in store.accounts()}
            # the journal only grows: the same last entry and owners' names, the same frame
            key = (store.journal_length(), tuple(emails.items()), tuple(names.items()))
            cached = store.journal_frame
            if cached is not None and cached[0] == key:
                frame: pd.DataFrame = cached[1].copy()
                return frame
            data = store.journal_columns()
        frame = self._journal_frame(data, emails, names)
        store.journal_frame = (key, frame)
        store.share_journal_frame(key, frame)
        return frame.copy()

    @staticmethod
    def _journal_frame(
        data: dict[str, tuple[str | int | None, ...]],
        emails: dict[Any, str],
        names: dict[Any, str],
    ) -> pd.DataFrame:
        """The journal's columns as :attr:`journal`'s frame."""
        import numpy as np
        import pandas as pd

        owners = [
            emails.get(o) if t == "user" else names.get(o) if t == "account" else None
            for t, o in zip(data["owner_type"], data["owner_id"], strict=True)
        ]
        # each column made in its final dtype at once
        columns: dict[str, Any] = {}
        for name, raw in data.items():
            values: list[Any] = list(raw)
            if name == "time":
                columns[name] = pd.to_datetime(values, utc=True, format="ISO8601")
            elif name == "status":
                columns[name] = np.array(values, dtype="int64")
            elif name == "error_code":
                columns[name] = pd.array(values, dtype="Int64")
            elif name in ("method", "auth", "owner_type", "fault"):
                # categories of the dtype a frame infers from the values (as before)
                columns[name] = pd.DataFrame({name: values})[name].astype("category")
            else:
                columns[name] = pd.array(values, dtype="string")
            if name == "owner_id":
                columns["owner"] = pd.array(owners, dtype="string")
        return pd.DataFrame(columns)

    def issued_secrets(self) -> list[Secret]:
        """Every secret this Sandbox object issued (tokens, rolls, API keys), as Secrets.

        Kept in memory only (never in the database), for tests and leak scans; empty when the
        sandbox was made with ``keep_secrets=False`` (the HTTP server's default).
        """
        return list(self.engine.issued)

    def directory(self, user: str | None = None) -> Directory:
        """Accounts and zones (all of them, or those a user is a member of)."""
        with self.store.lock:
            if user is None:
                accounts = self.store.accounts()
            else:
                accounts = self.store.accounts(a for a, _ in self.store.memberships(user))
            zones = self.store.zones(a.id for a in accounts)
        return Directory(
            accounts=[
                Account(id=a.id, name=a.name, type=a.type, created_on=parse_ts(a.created_on))
                for a in accounts
            ],
            zones=[
                Zone(
                    id=z.id,
                    name=z.name,
                    status=z.status,
                    account=AccountRef(id=z.account_id, name=z.account_name),
                )
                for z in zones
            ],
        )

    def token(self, token_id: str) -> Token:
        """A stored token as a :class:`~cftokens.Token` (as GET would return it)."""
        with self.store.lock:
            row = self.store.token(token_id)
            if row is None:
                raise InvalidInput(f"no token {token_id} in the sandbox")
            return Token.from_api(row.to_api(ts(self.clock.now())))

    def tokens(self, *, owner: str | None = None) -> list[Token]:
        """Every stored token (or those of one user or account id), in creation order."""
        now = ts(self.clock.now())
        with self.store.lock:
            rows = self.store.all_tokens()
        return [Token.from_api(r.to_api(now)) for r in rows if owner in (None, r.owner_id)]

    def _user_model(self, user_id: str) -> User:
        row = self.store.user(user_id)
        if row is None:
            raise InvalidInput(f"no user {user_id} in the sandbox")
        return User(id=row.id, email=row.email, first_name=row.first_name, last_name=row.last_name)

    def users(self) -> list[User]:
        """Every user."""
        with self.store.lock:
            return [self._user_model(u.id) for u in self.store.users()]


def issued_secrets_everywhere() -> list[Secret]:
    """Every secret issued by every :class:`Sandbox` still alive in this process.

    The notebooks' leak scan runs this in the kernel after the notebook (sandboxes are held
    weakly: one already garbage-collected is not counted). See :meth:`Sandbox.issued_secrets`.
    """
    return [secret for sandbox in list(_LIVE) for secret in sandbox.issued_secrets()]


def _seeded(content: str, seed: str, start: Clock, tick: timedelta, keep_secrets: bool) -> Sandbox:
    """The sandbox of ``content`` (``"demo"`` or ``"empty"``) seeded once per process for these
    options (``_SEEDED``); never handed out, only copied. ``start`` is the clock the seeding
    starts from (ticking by ``tick``)."""
    key = (content, seed, start.now(), tick, keep_secrets)
    with _SEEDED_LOCK:
        seeded = _SEEDED.get(key)
        if seeded is None:
            seeded = object.__new__(Sandbox)
            seeded._wire(
                Store(seed=seed),
                start,
                faults=None,
                rate_limit=None,
                secure_secrets=False,
                keep_secrets=keep_secrets,
                base_url=DEFAULT_BASE_URL,
            )
            _LIVE.discard(seeded)
            if content == "demo":
                seed_demo(seeded)
            else:
                seeded._seed_empty()
            same = [k for k in _SEEDED if k[0] == content]  # oldest first
            if len(same) >= _SEEDED_MAX:
                del _SEEDED[same[0]]
            _SEEDED[key] = seeded
        return seeded
