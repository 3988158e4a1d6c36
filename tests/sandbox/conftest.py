"""Fixtures for the sandbox tests (helpers live in ``sandbox_helpers``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox_helpers import Api

from cftokens.sandbox import Sandbox


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    """An empty sandbox (one user, account, zone, bootstrap token), rate limit off."""
    with Sandbox(rate_limit=None) as sandbox:
        yield sandbox


@pytest.fixture
def api(sb: Sandbox) -> Api:
    """Raw httpx access with the bootstrap token."""
    return Api(sb, sb.bootstrap_token)


@pytest.fixture(scope="module")
def demo() -> Iterator[Sandbox]:
    """The demo company (shared by a module's tests; do not mutate it)."""
    with Sandbox.demo(rate_limit=None) as sandbox:
        yield sandbox
