"""Fixtures for the leaked-token tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cftokens.sandbox import Sandbox


@pytest.fixture
def demo() -> Iterator[Sandbox]:
    """A fresh demo company (tests here roll and disable tokens)."""
    with Sandbox.demo(rate_limit=None) as sandbox:
        yield sandbox
