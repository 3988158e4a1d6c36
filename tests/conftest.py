"""Fixtures shared by every test area: the demo company, seeded once per session (per xdist
worker) and copied for each test that asks for it (a copy takes milliseconds, seeding about a
second), so a test may change its copy freely; and its audits, computed once per session and
read-only (an audit of the demo company takes about a second)."""

from __future__ import annotations

import gc
import hashlib
import json
import warnings
from collections.abc import Callable, Iterator

import pytest

import cftokens as cft  # the package only: its parts load on first use (cft.Sandbox, ...)


def _fingerprint(value: object) -> str:
    """Secrets by their fingerprint (never revealed), anything else by its repr."""
    return value.fingerprint if isinstance(value, cft.Secret) else repr(value)


def _state(company: cft.Sandbox) -> str:
    """A digest of a sandbox's state (tokens, users, directory, journal length, clock,
    secrets' fingerprints, extras), to notice a test that changed a shared one."""
    parts = (
        [t.to_api() for t in company.tokens()],
        [repr(u) for u in company.users()],
        repr(company.directory()),
        company.store.journal_length(),  # append-only: a request the sandbox answered adds one
        company.clock.now().isoformat(),
        company.bootstrap_token,
        company.global_api_key,
        company.issued_secrets(),
        company.extras,
    )
    text = json.dumps(parts, sort_keys=True, default=_fingerprint)
    return hashlib.sha256(text.encode()).hexdigest()


def _unchanged(company: cft.Sandbox) -> Iterator[cft.Sandbox]:
    before = _state(company)
    yield company
    assert _state(company) == before, "a test changed the session's demo company: take a .copy()"


@pytest.fixture(scope="session")
def demo_company() -> Iterator[cft.Sandbox]:
    """The demo company as ``Sandbox.demo()`` seeds it. Never changed by a test: take a copy
    (the ``demo`` fixture, or ``demo_company.copy()``); the session fails at its end if a
    test changed it (the shared audits and every copy read it, so a change would make other
    tests pass or fail depending on their order)."""
    with cft.Sandbox.demo() as sandbox:
        yield from _unchanged(sandbox)


@pytest.fixture(scope="session")
def leak_company(demo_company: cft.Sandbox) -> Iterator[cft.Sandbox]:
    """The demo company with the leak scenario (``Sandbox.demo(leak=True)``); copy it too
    (checked at the session's end like ``demo_company``)."""
    with demo_company.copy() as sandbox:
        sandbox.stage_leak()
        yield from _unchanged(sandbox)


@pytest.fixture
def demo(demo_company: cft.Sandbox) -> Iterator[cft.Sandbox]:
    """A fresh copy of the demo company (default rate limit), this test's own."""
    with demo_company.copy() as sandbox:
        yield sandbox


def _audit_of(company: cft.Sandbox, *, usage: bool) -> cft.Audit:
    """The demo company audited as the README's main job does (the bootstrap token, the
    company's journal as usage when ``usage``, its clock), its one planted gap not warned."""
    # here, not at the top: the xdist controller loads this file too and never audits
    from cftokens.audit.collect import AuditGapWarning

    with company.copy() as sb, warnings.catch_warnings():
        warnings.simplefilter("ignore", AuditGapWarning)
        return cft.run_audit(
            sb.client(), usage=sb.journal if usage else None, now=sb.clock.now(), progress=False
        )


def _digest(audit: cft.Audit) -> str:
    """A digest of the audit's frames and of what its reports, diffs and reruns read besides
    (its clock, profile, source, user, directory, suppressions), to notice a test that
    changed a shared one."""
    frames = (audit.tokens, audit.grants, audit.findings, audit.gaps, audit.usage)
    texts = ["" if f is None else f.to_csv() for f in frames]  # no usage: None
    inputs = (audit.now, audit.profile, audit.source, audit.user, audit.directory)
    texts.append(repr((*inputs, audit.suppressions)))
    return hashlib.sha256("\0".join(texts).encode()).hexdigest()


def _shared(audit: cft.Audit) -> Iterator[cft.Audit]:
    before = _digest(audit)
    yield audit
    assert _digest(audit) == before, (
        "a test changed a shared demo audit: change a frame's .copy(), or audit.rerun(...)"
    )


@pytest.fixture
def collect_garbage() -> Iterator[Callable[[], object]]:
    """``collect_garbage()`` frees what the test made and dropped that only a reference cycle
    kept alive, as ``gc.collect()`` does, but looks only at the objects made since this fixture
    was set up: the worker's older objects (every module, the session's shared fixtures) are
    frozen out of the collection meanwhile (``gc.freeze``), so it takes milliseconds instead of
    a walk over the whole heap (0.2-0.5 s of CPU). An object something still references stays
    alive either way; only an older cycle dropped during the test waits for a later collection."""
    gc.freeze()
    try:
        yield gc.collect
    finally:
        gc.unfreeze()


@pytest.fixture(scope="session")
def demo_audit(demo_company: cft.Sandbox) -> Iterator[cft.Audit]:
    """The demo company's audit with usage, shared by the whole session: read it, never
    change its frames (a test that needs to change one takes a ``.copy()``; the session
    fails at its end if one changed)."""
    yield from _shared(_audit_of(demo_company, usage=True))


@pytest.fixture(scope="session")
def demo_audit_without_usage(demo_company: cft.Sandbox) -> Iterator[cft.Audit]:
    """The same audit without usage (the usage rules not evaluated); read-only too."""
    yield from _shared(_audit_of(demo_company, usage=False))
