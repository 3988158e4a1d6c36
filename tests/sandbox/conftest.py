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


@pytest.fixture
def demo(demo_company: Sandbox) -> Iterator[Sandbox]:
    """A copy of the demo company, this test's own, rate limit off."""
    with demo_company.copy(rate_limit=None) as sandbox:
        yield sandbox
