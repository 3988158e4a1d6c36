"""uvicorn's ``Server``, stopped promptly from another thread (:class:`.BackgroundServer`).

uvicorn polls ``should_exit`` every 0.1 s, then sleeps a fixed 0.1 s after asking the open
connections to close and polls every 0.1 s until they have: stopping a background server took
0.15-0.3 s of idle waiting (a notebook's ``with BackgroundServer(...)`` cell, every test
that serves a sandbox). Here :meth:`PromptServer.wake` ends the main loop at once, and the
shutdown polls every few milliseconds instead; it does what uvicorn's does otherwise (closes
the listeners, asks each connection to finish its answer and close, waits for them unless
forced, within ``timeout_graceful_shutdown`` if one is configured, then cancels what is left).
Imported only when a server is made: uvicorn loads on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from types import FrameType

import uvicorn

__all__ = ["PromptServer"]

#: Seconds between two looks at the connections still open while shutting down.
POLL = 0.005
#: uvicorn's main-loop tick (it refreshes its default headers on it).
TICK = 0.1


class PromptServer(uvicorn.Server):
    """A uvicorn server :meth:`wake` stops without waiting for the next tick."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        #: The running loop and the event its main loop waits on (one attribute, set at once:
        #: read from another thread or a signal handler).
        self._waker: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    def wake(self) -> None:
        """Ask the server to exit (from any thread) and end its main loop's wait now."""
        self.should_exit = True
        waker = self._waker
        if waker is not None:
            loop, wake = waker
            # (a RuntimeError: the loop has closed, the server has stopped already)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Ctrl-C (or SIGTERM) in the foreground (``cftokens sandbox serve``): as uvicorn does
        (a second Ctrl-C forces the exit), woken at once."""
        super().handle_exit(sig, frame)
        self.wake()

    async def main_loop(self) -> None:
        wake = asyncio.Event()
        self._waker = (asyncio.get_running_loop(), wake)
        counter = 0
        # should_exit is set before wake() reads _wake: a stop asked before this point is
        # seen by the first on_tick, one asked after it sets the event
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), TICK)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        grace = self.config.timeout_graceful_shutdown
        until = None if grace is None else loop.time() + grace
        state = self.server_state
        while (state.connections or state.tasks) and not self.force_exit:
            if until is not None and loop.time() >= until:
                for task in state.tasks:
                    task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
                break
            await asyncio.sleep(POLL)
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()
