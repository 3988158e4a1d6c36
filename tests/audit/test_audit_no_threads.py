"""The audit where threads cannot start (JupyterLite, Pyodide): same result, no thread started."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import cftokens as cft
from cftokens.audit import Audit
from cftokens.audit.collect import threads_available


@pytest.fixture
def no_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Thread.start raises, as in Pyodide; the names of the threads asked for are recorded."""
    asked: list[str] = []

    def refuse(self: threading.Thread) -> None:
        asked.append(self.name)
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    return asked


def _summary(audit: Any) -> tuple[Any, ...]:
    findings = audit.findings
    return (
        sorted(audit.tokens["name"]),
        sorted(map(str, findings["token_name"] + " " + findings["rule_id"].astype(str))),
        sorted(audit.gaps["what"]),
    )


@pytest.fixture(scope="module")
def expected(demo_audit: Audit) -> tuple[Any, ...]:
    """The same audit with threads (the session's shared one)."""
    return _summary(demo_audit)


@pytest.fixture(scope="module")
def expected_without_usage(demo_audit_without_usage: Audit) -> tuple[Any, ...]:
    """The same audit without usage, with threads: usage given as a table is read in the
    caller's thread whatever the collection does, so the tests of the other entry points
    audit without it (its rows cost most of a demo audit's time); the running-loop test
    above passes it, as the README's job does."""
    return _summary(demo_audit_without_usage)


def test_the_probe_sees_that_threads_cannot_start(no_threads: list[str]) -> None:
    """threads_available() is False when Thread.start raises."""
    assert threads_available() is False


def test_audit_in_a_running_loop_without_threads(
    demo: cft.Sandbox, no_threads: list[str], expected: tuple[Any, ...]
) -> None:
    """cft.run_audit called inside a running event loop collects in turn, in the caller's thread."""
    sb = demo

    async def cell() -> Any:  # a notebook cell: the kernel's loop is running
        return cft.run_audit(sb.client(), usage=sb.journal, now=sb.clock.now(), progress=False)

    with pytest.warns(UserWarning, match="could not collect"):
        audit = asyncio.run(cell())
    assert _summary(audit) == expected
    assert set(no_threads) == {"cftokens-probe"}  # asked once per audit, nothing else


@pytest.mark.parametrize("source", ["client", "sandbox", "async_client"])
def test_await_run_audit_async_without_threads(
    demo: cft.Sandbox,
    no_threads: list[str],
    expected_without_usage: tuple[Any, ...],
    source: str,
) -> None:
    """`await cft.run_audit_async(...)` gives the same audit from a Client, a Sandbox or an
    AsyncClient, without a thread."""
    sb = demo
    client = {"client": sb.client, "sandbox": lambda: sb, "async_client": sb.async_client}[source]()

    async def cell() -> Any:
        return await cft.run_audit_async(client, now=sb.clock.now(), progress=False)

    with pytest.warns(UserWarning, match="could not collect"):
        audit = asyncio.run(cell())
    assert _summary(audit) == expected_without_usage
    assert set(no_threads) <= {"cftokens-probe"}


def test_audit_outside_a_loop_without_threads(
    demo: cft.Sandbox, no_threads: list[str], expected_without_usage: tuple[Any, ...]
) -> None:
    """A script in Pyodide: cft.run_audit(sandbox) works without a thread."""
    sb = demo
    with pytest.warns(UserWarning, match="could not collect"):
        audit = cft.run_audit(sb, progress=False)
    assert _summary(audit) == expected_without_usage


def test_an_async_client_in_a_running_loop_without_threads_says_to_await(
    demo: cft.Sandbox,
    no_threads: list[str],
) -> None:
    """No thread, a running loop and an AsyncClient: the error says to await run_audit_async."""
    sb = demo

    async def cell() -> Any:
        return cft.run_audit(sb.async_client(), progress=False)

    with pytest.raises(cft.InvalidInput, match=r"await cft\.run_audit_async\(client"):
        asyncio.run(cell())


def test_run_audit_async_is_exported() -> None:
    """cft.run_audit_async is public, next to cft.audit."""
    assert "run_audit_async" in cft.__all__
    assert asyncio.iscoroutinefunction(cft.run_audit_async)
