"""Serving a sandbox over HTTP with uvicorn: in the foreground (the CLI) or in a background
thread (tests, benchmarks, notebooks that want a real URL for curl or other SDKs).

::

    with BackgroundServer(Sandbox.demo()) as server:
        print(server.base_url)          # http://127.0.0.1:<free port>/client/v4
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import require_extra
from .asgi import DroppedConnection
from .core import Sandbox

if TYPE_CHECKING:
    from ._prompt_server import PromptServer

__all__ = ["BackgroundServer", "console_errors", "make_server", "quiet_dropped_connections"]


class _DropFilter(logging.Filter):
    """Hide uvicorn's traceback for connections the fault injector drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedConnection)


def quiet_dropped_connections() -> None:
    """Install the filter on uvicorn's error logger (idempotent)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropFilter) for f in logger.filters):
        logger.addFilter(_DropFilter())


def console_errors() -> None:
    """Send the sandbox's error log (every 500, with its request id) to the server's console
    (stderr), unless the application configured the ``cftokens.sandbox`` logger itself."""
    logger = logging.getLogger("cftokens.sandbox")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        handler.setLevel(logging.WARNING)
        logger.addHandler(handler)


def make_server(
    sb: Sandbox,
    *,
    host: str = "127.0.0.1",
    port: int = 8787,
    log_level: str = "warning",
    trusted_proxies: Sequence[str] = (),
) -> PromptServer:
    """A uvicorn server (one worker, no access log) for ``sb``'s ASGI app, which another
    thread stops at once (:meth:`~._prompt_server.PromptServer.wake`, without waiting for
    uvicorn's 0.1 s ticks).

    The client address is the TCP peer's: uvicorn's proxy headers are off (by default it
    believes ``X-Forwarded-For`` from loopback). ``trusted_proxies`` names the reverse
    proxies whose ``X-Forwarded-For`` the sandbox believes (see :mod:`.asgi`)."""
    require_extra("server", "serving the sandbox over HTTP", "uvicorn")
    import uvicorn

    from ._prompt_server import PromptServer  # imports uvicorn: here, on first use

    app = sb.asgi_app(trusted_proxies=trusted_proxies)
    quiet_dropped_connections()
    console_errors()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        server_header=False,
        date_header=False,
        proxy_headers=False,
    )
    return PromptServer(config)


class BackgroundServer:
    """Serve a sandbox from a daemon thread on a free loopback port until :meth:`stop`."""

    def __init__(
        self,
        sb: Sandbox,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        trusted_proxies: Sequence[str] = (),
    ):
        self.sb = sb
        self.host = host
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this: without it, Nagle's algorithm meets the peer's
        # delayed ACK and every keep-alive request waits ~40 ms.
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind((host, port))
        self.port: int = self._socket.getsockname()[1]
        try:
            self.server = make_server(
                sb, host=host, port=self.port, trusted_proxies=trusted_proxies
            )
        except BaseException:
            self._socket.close()
            raise
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """``http://host:port/client/v4``."""
        return f"http://{self.host}:{self.port}/client/v4"

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        """Start serving and wait until the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread (at once: no tick of uvicorn's to wait for)."""
        self.server.wake()
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
