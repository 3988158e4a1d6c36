"""What :class:`~cftokens.Client` and :class:`~cftokens.AsyncClient` share besides the core:
constructor checks, ``from_env``, the time source, and the lazy pagers they return."""

from __future__ import annotations

import functools
import os
import sys
import time
import warnings
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar

from .. import __version__
from ..errors import ClientClosed, InvalidInput, redact, shown
from ..model import Secret
from ..model._util import check_id
from ._deadline import AUTO, DeadlineOption, resolve
from ._limits import RateLimit, RateLimiter, Retry
from ._paging import Unreadable
from ._protocol import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RESPONSE_BYTES,
    Core,
    logger,
)
from .recorder import Recorder

if TYPE_CHECKING:
    import ssl

    import httpx

__all__ = [
    "AsyncClientOptions",
    "AsyncPager",
    "ClientBase",
    "ClientOptions",
    "ClientSettings",
    "Pager",
    "SystemTime",
]

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 4


class SystemTime:
    """The clock and sleeps a client uses; tests swap in a fake that advances instantly."""

    def monotonic(self) -> float:
        """Seconds on a monotonic clock."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        """Wait ``seconds`` without blocking the event loop."""
        if seconds > 0:
            import asyncio

            await asyncio.sleep(seconds)


def _secret(value: Secret | str | None, what: str) -> Secret | None:
    if value is None or isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a str or a cftokens.Secret, got {type(value).__name__}")
    try:
        return Secret(value)
    except ValueError as exc:
        raise InvalidInput(f"{what}: {exc}") from None


def _timeout(value: float | httpx.Timeout | None) -> float | httpx.Timeout | None:
    """``value`` checked: seconds > 0, None (no timeout) or an ``httpx.Timeout`` (httpx itself
    is imported with the first request: an ``httpx.Timeout`` passed here means it is loaded
    already, whatever module its class claims: the official ``cloudflare`` SDK renames it)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        loaded = sys.modules.get("httpx")
        accepted = loaded is not None and isinstance(value, loaded.Timeout)
        if accepted:
            return value
    elif value > 0:
        return float(value)
    raise InvalidInput(
        f"timeout must be a number of seconds > 0, an httpx.Timeout or None, got {value!r}"
    )


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings of every client of this process without a transport of its own:
    httpx's defaults (certifi's CA bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` as set when
    the first client is made), built once. Loading the CA bundle costs tens of milliseconds
    of CPU, which each new client paid again; an ``SSLContext`` may be shared by clients."""
    import httpx

    return httpx.create_ssl_context()


def http_timeout(value: float | httpx.Timeout | None) -> httpx.Timeout:
    """The ``httpx.Timeout`` of a checked timeout value."""
    import httpx

    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)


def _cap(value: object, name: str, unit: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{name} must be a whole number of {unit} >= 1, got {shown(value)}")
    return value


class ClientSettings(TypedDict, total=False):
    """The keyword arguments both clients take, ``token`` and ``transport`` aside: what
    ``Sandbox.client(token, ip, **settings)`` passes on (the sandbox gives the transport)."""

    base_url: str
    account_id: str | None
    timeout: float | httpx.Timeout | None
    deadline: DeadlineOption
    max_retries: int | Retry
    rate_limit: RateLimit | tuple[int, float] | None
    api_key: Secret | str | None
    email: str | None
    recorder: Recorder | None
    max_response_bytes: int
    max_pages: int


class _Options(ClientSettings, total=False):
    token: Secret | str | None


class ClientOptions(_Options, total=False):
    """The keyword arguments of :class:`~cftokens.Client` (``Client.from_env(**options)``)."""

    transport: httpx.BaseTransport | None


class AsyncClientOptions(_Options, total=False):
    """The keyword arguments of :class:`~cftokens.AsyncClient`
    (``AsyncClient.from_env(**options)``)."""

    transport: httpx.AsyncBaseTransport | None


class ClientBase:
    """Constructor and configuration shared by both clients (keyword-only, like httpx)."""

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
        api_key: Secret | str | None = None,
        email: str | None = None,
        recorder: Recorder | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_pages: int = DEFAULT_MAX_PAGES,
    ):
        secret = _secret(token, "token")
        key = _secret(api_key, "api_key")
        if secret is not None and key is not None:
            raise InvalidInput(
                "pass either token= (an API token) or api_key= with email= (a legacy Global "
                "API Key), not both; API tokens are scoped and safer"
            )
        if (key is None) != (email is None):
            raise InvalidInput(
                "a Global API Key needs both api_key= and email= (the account's login e-mail)"
            )
        held = tuple(s.reveal() for s in (secret, key) if s is not None)
        if email is not None and (not isinstance(email, str) or "@" not in email):
            raise InvalidInput(f"email must be an e-mail address, got {shown(email, secrets=held)}")
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise InvalidInput(
                f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}, got "
                f"{shown(base_url, secrets=held)}"
            )
        if redact(base_url, secrets=held) != base_url:
            raise InvalidInput(
                f"base_url holds a credential ({shown(base_url, secrets=held)}): it would be "
                "sent in every URL and end up in logs. Give the API's address only (e.g. "
                f"{DEFAULT_BASE_URL!r}); the token goes in token= or CLOUDFLARE_API_TOKEN"
            )
        if account_id is not None:
            account_id = check_id(account_id, "account_id", secrets=held)
        self._core = Core(
            base_url=base_url,
            token=secret,
            api_key=key,
            email=email,
            account_id=account_id,
            retry=Retry.of(max_retries),
            user_agent=f"cftokens/{__version__}",
            max_response_bytes=_cap(max_response_bytes, "max_response_bytes", "bytes"),
            max_pages=_cap(max_pages, "max_pages", "pages per listing"),
        )
        if recorder is not None and not isinstance(recorder, Recorder):
            raise InvalidInput(
                f"recorder must be a cftokens.Recorder, got {type(recorder).__name__}"
            )
        self._core.recorder = recorder
        self._timeout = _timeout(timeout)
        self._deadline = resolve(deadline, self._timeout)
        self._limiter = RateLimiter(RateLimit.of(rate_limit))
        self._time = SystemTime()
        self._closed = False

    # -- construction from the environment --------------------------------------------------
    @staticmethod
    def _env_options(
        environ: Mapping[str, str] | None, given: Mapping[str, object]
    ) -> dict[str, Any]:
        """The client's keyword arguments from environment variables, ``given`` winning (see
        ``from_env``; called by it, so a warning points at the caller of ``from_env``)."""
        env = os.environ if environ is None else environ

        def read(name: str) -> str | None:
            value = env.get(name)
            if value is None:
                return None
            value = value.strip()
            return value or None

        token = read("CLOUDFLARE_API_TOKEN")
        api_key = read("CLOUDFLARE_API_KEY")
        email = read("CLOUDFLARE_EMAIL")
        options: dict[str, Any] = {}
        if "token" not in given and "api_key" not in given:
            if token is not None:
                options["token"] = token
                if api_key is not None or email is not None:
                    message = (
                        "CLOUDFLARE_API_TOKEN and CLOUDFLARE_API_KEY/CLOUDFLARE_EMAIL are all "
                        "set: using the API token and ignoring the Global API Key"
                    )
                    warnings.warn(message, UserWarning, stacklevel=3)
                    logger.warning(message)
            elif api_key is not None or email is not None:
                if api_key is None or email is None:
                    raise InvalidInput(
                        "CLOUDFLARE_API_KEY and CLOUDFLARE_EMAIL must be set together (or set "
                        "CLOUDFLARE_API_TOKEN instead, which is safer)"
                    )
                options["api_key"] = api_key
                options["email"] = email
            else:
                raise InvalidInput(
                    "no credentials in the environment: set CLOUDFLARE_API_TOKEN (create a token "
                    "at dash.cloudflare.com → My Profile → API Tokens)"
                )
        base_url = read("CLOUDFLARE_BASE_URL")
        if base_url is not None:
            options["base_url"] = base_url
        account = read("CLOUDFLARE_ACCOUNT_ID")
        if account is not None:
            options["account_id"] = account
        options.update(given)
        return options

    # -- facts ------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The API base URL, e.g. ``https://api.cloudflare.com/client/v4``."""
        return self._core.base_url

    @property
    def account_id(self) -> str | None:
        """The default account id (used by ``verify()`` of account-owned tokens)."""
        return self._core.account_id

    @property
    def deadline(self) -> float | None:
        """The most seconds one request attempt may take as a whole (``deadline=``; with the
        default ``"auto"``, the sum of the timeout's connect, write, read and pool timeouts),
        or None when attempts have no overall deadline."""
        return self._deadline

    @property
    def rate_limit(self) -> RateLimit | None:
        """The client-side rate limit (``rate_limit=`` as a :class:`~cftokens.client.RateLimit`),
        or None when the client does not throttle itself."""
        return self._limiter.limit

    @property
    def closed(self) -> bool:
        """True once the client is closed."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            closer = "aclose()" if hasattr(self, "aclose") else "close()"
            raise ClientClosed(
                f"this {type(self).__name__} is closed (by {closer} or by leaving its `with` "
                f"block); create a new {type(self).__name__}"
            )

    def _account(self, account_id: str | None) -> str:
        if account_id is None:
            if self._core.account_id is None:
                raise InvalidInput(
                    "account() needs an account id: pass it, or create the client with "
                    "account_id= (or CLOUDFLARE_ACCOUNT_ID)"
                )
            return self._core.account_id
        return check_id(account_id, "account id")

    def __repr__(self) -> str:
        core = self._core
        if core.token is not None:
            auth = f"token={core.token!r}"
        elif core.api_key is not None:
            auth = f"api_key={core.api_key!r}, email={core.email!r}"
        else:
            auth = "no credentials"
        state = ", closed" if self._closed else ""
        account = f", account_id={core.account_id!r}" if core.account_id else ""
        return f"{type(self).__name__}(base_url={core.base_url!r}, {auth}{account}{state})"


class Pager(Generic[T], Iterator[T]):
    """A lazy iterator over every item of a listing: pages are fetched as you iterate.

    ``list(pager)`` or :meth:`collect` gives them all; breaking out early stops fetching.
    An item the client cannot read (a field in a shape it does not know) does not hide the
    others: it is left out, warned about (:class:`UnreadableItemWarning`) and listed in
    :attr:`unreadable` with its id, the reason and the payload as sent.
    """

    def __init__(self, items: Iterator[T], what: str, unreadable: list[Unreadable] | None = None):
        self._items = items
        self._what = what
        self.unreadable: list[Unreadable] = unreadable if unreadable is not None else []

    def __iter__(self) -> Pager[T]:
        return self

    def __next__(self) -> T:
        return next(self._items)

    def collect(self) -> list[T]:
        """Every remaining item, as a list."""
        return list(self._items)

    def __repr__(self) -> str:
        return f"<Pager over {self._what}>"


class AsyncPager(Generic[T], AsyncIterator[T]):
    """A lazy async iterator over every item of a listing (``async for``).

    ``await pager.collect()`` gives them all. Pages are fetched concurrently once the first
    page reveals the total, in a bounded number of requests at a time. Unreadable items are
    set aside in :attr:`unreadable`, as with :class:`Pager`.
    """

    def __init__(
        self, items: AsyncIterator[T], what: str, unreadable: list[Unreadable] | None = None
    ):
        self._items = items
        self._what = what
        self.unreadable: list[Unreadable] = unreadable if unreadable is not None else []

    def __aiter__(self) -> AsyncPager[T]:
        return self

    async def __anext__(self) -> T:
        return await self._items.__anext__()

    async def collect(self) -> list[T]:
        """Every remaining item, as a list."""
        return [item async for item in self._items]

    async def aclose(self) -> None:
        """Stop fetching (cancels pages still in flight)."""
        closer = getattr(self._items, "aclose", None)
        if closer is not None:
            await closer()

    def __repr__(self) -> str:
        return f"<AsyncPager over {self._what}>"
