"""Fixtures for the leaked-token tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cftokens.sandbox import Sandbox


@pytest.fixture
def demo(demo_company: Sandbox) -> Iterator[Sandbox]:
    """A copy of the demo company, this test's own (tests here roll and disable tokens)."""
    with demo_company.copy(rate_limit=None) as sandbox:
        yield sandbox
