"""Fixtures shared by every test area: the demo company, seeded once per session (per xdist
worker) and copied for each test that asks for it (a copy takes milliseconds, seeding about a
second), so a test may change its copy freely."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cftokens.sandbox import Sandbox


@pytest.fixture(scope="session")
def demo_company() -> Iterator[Sandbox]:
    """The demo company as ``Sandbox.demo()`` seeds it. Never handed to a test: take a copy
    (the ``demo`` fixture, or ``demo_company.copy()``)."""
    with Sandbox.demo() as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def leak_company(demo_company: Sandbox) -> Iterator[Sandbox]:
    """The demo company with the leak scenario (``Sandbox.demo(leak=True)``); copy it too."""
    with demo_company.copy() as sandbox:
        sandbox.stage_leak()
        yield sandbox


@pytest.fixture
def demo(demo_company: Sandbox) -> Iterator[Sandbox]:
    """A fresh copy of the demo company (default rate limit), this test's own."""
    with demo_company.copy() as sandbox:
        yield sandbox
