"""Fixtures for the sandbox tests (helpers live in ``sandbox_helpers``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox_helpers import Api

from cftokens.sandbox import Attendee, Sandbox


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


@pytest.fixture(scope="session")
def _two_attendees() -> Iterator[tuple[Sandbox, list[Attendee]]]:
    """A workshop sandbox (no main user) with two attendees, seeded once per session: each
    attendee's copy of the demo company is a seeding of its own (~0.1 s each)."""
    with Sandbox(content="none", rate_limit=None) as sandbox:
        yield sandbox, sandbox.add_attendees(2)


@pytest.fixture
def two_attendees(
    _two_attendees: tuple[Sandbox, list[Attendee]],
) -> Iterator[tuple[Sandbox, list[Attendee]]]:
    """A copy of the workshop sandbox with two attendees (``Sandbox(content="none")`` and
    ``add_attendees(2)``), this test's own, and the two attendees."""
    sandbox, attendees = _two_attendees
    with sandbox.copy() as twin:
        yield twin, list(attendees)
