"""Fixtures for client tests (helpers live in ``client_fakes``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from client_fakes import USER_TOKEN, FakeCloudflare, FakeTime

import cftokens as cft


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def cloudflare() -> FakeCloudflare:
    return FakeCloudflare(tokens=3)


@pytest.fixture
def make_client(fake_time: FakeTime) -> Iterator[Callable[..., cft.Client]]:
    """Build a Client on a MockTransport handler with the fake clock; closed afterwards."""
    made: list[cft.Client] = []

    def make(handler: Any = None, **kwargs: Any) -> cft.Client:
        transport = handler.transport() if isinstance(handler, FakeCloudflare) else handler
        if callable(transport) and not isinstance(transport, httpx.BaseTransport):
            transport = httpx.MockTransport(transport)
        kwargs.setdefault("token", USER_TOKEN)
        client = cft.Client(transport=transport, **kwargs)
        client._time = fake_time  # type: ignore[assignment]
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def make_async_client(fake_time: FakeTime) -> Callable[..., cft.AsyncClient]:
    """Build an AsyncClient on a MockTransport handler with the fake clock."""

    def make(handler: Any = None, **kwargs: Any) -> cft.AsyncClient:
        transport = handler.transport() if isinstance(handler, FakeCloudflare) else handler
        if callable(transport) and not isinstance(transport, httpx.AsyncBaseTransport):
            transport = httpx.MockTransport(transport)
        kwargs.setdefault("token", USER_TOKEN)
        client = cft.AsyncClient(transport=transport, **kwargs)
        client._time = fake_time  # type: ignore[assignment]
        return client

    return make


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio only."""
    return "asyncio"
