"""An audit's overall time limit (``time_limit=``, ``cftokens audit --time-limit``).

The client's ``deadline=`` bounds one request attempt; retries multiply it and an audit makes
many requests, so a server dripping every answer could hold ``cftokens audit`` (a CI gate)
for hours. Past the limit the collection stops, every request it started is let go, and the
audit fails closed: :class:`~cftokens.AuditTimedOut` naming the limit and how to raise it, the
incomplete audit's exit code (3) from the command line, and no report."""

from __future__ import annotations

import asyncio
import math
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from client_fakes import USER_TOKEN, envelope, token_payload
from test_client_deadline import SLOW_HEAD, dripping

import cftokens as cft
from cftokens.audit import collect
from cftokens.client._base import tls_context

#: The limit the tests give: the dripping server never answers, so the audit is stopped at
#: the limit however short it is (or however late a loaded machine gets to it); only a test
#: that needs a first request made before the limit passes gives more (``IN_TURN_LIMIT``).
LIMIT = 0.05
#: What the dripping server would hold an audit for without the limit (each request's own
#: deadline is off, and each dripped byte comes well within the read timeout).
DRIP_FOR = 5.0


@pytest.fixture(scope="module")
def dripper() -> Iterator[Any]:
    """One dripping server for the module's tests (each connection drips on its own thread,
    let go when its client hangs up)."""
    with dripping(SLOW_HEAD, drip_for=DRIP_FOR) as server:
        yield server


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def server(dripper: Any, no_proxy: None) -> Any:
    return dripper


def options(**kwargs: Any) -> dict[str, Any]:
    base = {"token": USER_TOKEN, "timeout": 1.0, "deadline": None, "max_retries": 0}
    return base | {"rate_limit": None} | kwargs


def check(exc: cft.AuditTimedOut, started: float, limit: float = LIMIT) -> None:
    elapsed = time.monotonic() - started
    assert elapsed < DRIP_FOR / 2, f"the audit ran {elapsed:.2f} s past its {limit} s limit"
    message = str(exc)
    assert f"time limit of {limit:g} s" in message and "nothing was audited" in message
    assert "time_limit=" in message and "--time-limit SECONDS" in message
    assert exc.limit == limit and isinstance(exc, cft.CloudflareError)
    assert USER_TOKEN not in message


def test_the_async_client_stops_at_the_limit(server: Any) -> None:
    client = cft.AsyncClient(**options(base_url=server.url))
    started = time.monotonic()
    with pytest.raises(cft.AuditTimedOut) as caught:
        cft.run_audit(client, progress=False, time_limit=LIMIT)
    check(caught.value, started)


def test_the_sync_client_stops_at_the_limit(server: Any) -> None:
    """Its calls run in worker threads, each bounded by its own deadline here (1 s): the
    collection does not wait for them."""
    with cft.Client(**options(base_url=server.url, deadline=1.0)) as client:
        started = time.monotonic()
        with pytest.raises(cft.AuditTimedOut) as caught:
            cft.run_audit(client, progress=False, time_limit=LIMIT)
        check(caught.value, started)


#: A limit the first request is made within, even on a loaded machine (the calls in turn
#: check it before each call), and a deadline past it, so a call in flight outlives it.
IN_TURN_LIMIT = 0.1


def test_without_threads_each_call_checks_the_limit(
    no_proxy: None, monkeypatch: pytest.MonkeyPatch, collect_garbage: Callable[[], object]
) -> None:
    """Where threads cannot start (JupyterLite) the calls run in turn: a call in flight ends
    at its own deadline, and the next one is not made. (A server of its own: it counts the
    connections.)"""
    monkeypatch.setattr(collect, "threads_available", lambda: False)
    with (
        dripping(SLOW_HEAD, drip_for=DRIP_FOR) as server,
        cft.Client(**options(base_url=server.url, deadline=2 * IN_TURN_LIMIT)) as client,
    ):
        # the process's TLS context (the CA bundle: tens of milliseconds, more on a loaded
        # machine) is built at its first client's first request: here, before the limit's
        # clock starts, or run alone this test's first request came after IN_TURN_LIMIT
        tls_context()
        started = time.monotonic()
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            with pytest.raises(cft.AuditTimedOut) as caught:
                cft.run_audit(client, progress=False, time_limit=IN_TURN_LIMIT)
            check(caught.value, started, IN_TURN_LIMIT)
            del caught  # (its traceback holds the collection's frames)
            collect_garbage()  # the calls it never made: closed, not left for Python to warn about
        assert server.connections == 1
        assert [str(w.message) for w in warned if "never awaited" in str(w.message)] == []


#: How long the listing's API takes to answer each request.
PAGE = 0.025


class SlowPages:
    """An API answering each request in ``PAGE`` seconds, whose user token listing has 40
    pages of 50: each page well within any deadline, the listing (1 s) far past the limit.
    Counts the requests."""

    def __init__(self) -> None:
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        time.sleep(PAGE)
        path = request.url.path.removeprefix("/client/v4")
        if path == "/user":
            return httpx.Response(200, json=envelope({"id": "c" * 32, "email": "a@b.example"}))
        if path == "/user/tokens":
            page = int(request.url.params.get("page", "1"))
            items = [token_payload(page * 50 + i) for i in range(50)]
            info = {"page": page, "per_page": 50, "count": 50, "total_count": 2_000}
            return httpx.Response(200, json=envelope(items, result_info=info | {"total_pages": 40}))
        info = {"page": 1, "per_page": 50, "count": 0, "total_count": 0, "total_pages": 1}
        return httpx.Response(200, json=envelope([], result_info=info))


@pytest.mark.parametrize("threads", [True, False], ids=["worker threads", "in turn"])
def test_a_listing_stops_between_its_pages(threads: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sync listing whose every page comes in time stops at the limit, before its next page
    (in a worker thread too: the thread stops, not only the wait for it)."""
    monkeypatch.setattr(collect, "threads_available", lambda: threads)
    api = SlowPages()
    with cft.Client(**options(transport=httpx.MockTransport(api))) as client:
        started = time.monotonic()
        with pytest.raises(cft.AuditTimedOut) as caught:
            cft.run_audit(client, progress=False, time_limit=IN_TURN_LIMIT)
        check(caught.value, started, IN_TURN_LIMIT)
        time.sleep(2 * PAGE)  # a page in flight ends; a thread left running fetches ~3 more
        made = api.requests
        time.sleep(3 * PAGE)
    assert made <= 3 + IN_TURN_LIMIT / PAGE + 2 and api.requests == made


@pytest.mark.anyio
async def test_in_a_running_loop_no_request_is_left_running(server: Any) -> None:
    """``await run_audit_async`` in a notebook's loop: stopped, it leaves no task behind."""
    async with cft.AsyncClient(**options(base_url=server.url)) as client:
        before = asyncio.all_tasks()
        started = time.monotonic()
        with pytest.raises(cft.AuditTimedOut) as caught:
            await cft.run_audit_async(client, progress=False, time_limit=LIMIT)
        check(caught.value, started)
        for _ in range(3):
            await asyncio.sleep(0)
        assert asyncio.all_tasks() - before == set()


@pytest.mark.filterwarnings("ignore::cftokens.audit.collect.AuditGapWarning")
def test_within_the_limit_the_audit_is_the_same() -> None:
    sb = cft.Sandbox()
    bounded = cft.run_audit(sb, progress=False, time_limit=60)
    unbounded = cft.run_audit(sb, progress=False)
    assert bounded.findings.equals(unbounded.findings) and len(bounded.tokens) == 1


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, True, "soon", USER_TOKEN])
def test_a_bad_limit_is_refused(bad: object) -> None:
    with pytest.raises(cft.InvalidInput, match="time_limit must be a number of seconds") as e:
        cft.run_audit(cft.Sandbox(), progress=False, time_limit=bad)  # type: ignore[arg-type]
    assert USER_TOKEN not in str(e.value)


def test_the_cli_gate_fails_closed_at_its_time_limit(
    server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """`cftokens audit --time-limit 0.05` against an API that drips (the client's own deadline
    off): exit 3 in well under a second, the limit named, no report written."""
    import pandas  # noqa: F401  (imported now, not while the audit's requests are in flight)

    import cftokens.client as client_module
    from cftokens.cli import main

    class Patient(cft.AsyncClient):
        """The CLI's client without a deadline per attempt: only the audit's limit stops it."""

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs, deadline=None, max_retries=0, timeout=1.0)

    monkeypatch.setattr(client_module, "AsyncClient", Patient)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", USER_TOKEN)
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", server.url)
    report = tmp_path / "report.html"
    started = time.monotonic()
    code = main(["audit", "--no-progress", "--time-limit", str(LIMIT), "--output", str(report)])
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code == 3, (out, err)
    assert elapsed < DRIP_FOR / 2
    assert "AuditTimedOut" in err and f"time limit of {LIMIT:g} s" in err
    assert "--time-limit SECONDS" in err
    assert not report.exists() and "Audited" not in out
    assert USER_TOKEN not in out + err


@pytest.mark.parametrize("bad", ["-1", "nan", "inf"])
def test_the_cli_refuses_a_bad_time_limit(
    bad: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cftokens.cli import main

    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", USER_TOKEN)
    assert main(["audit", "--no-progress", "--time-limit", bad]) == 2
    assert "--time-limit" in capsys.readouterr().err


def test_the_cli_default_limit_is_documented() -> None:
    from cftokens.cli.audit import DEFAULT_TIME_LIMIT

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "--time-limit SECONDS" in readme and f"{DEFAULT_TIME_LIMIT:g} s" in readme


class Busy:
    """An API answering every request at once with 429 and ``retry-after: 0.3``: the sync
    client retries each call, waiting 0.3 s before each retry. Counts the requests."""

    def __init__(self) -> None:
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        body = {"success": False, "errors": [{"code": 971, "message": "busy"}], "result": None}
        return httpx.Response(429, headers={"retry-after": "0.3"}, json=body)


@pytest.mark.parametrize(
    "threads",
    [pytest.param(True, marks=pytest.mark.slow), False],  # (threads: 0.4 s of watching)
    ids=["worker threads", "in turn"],
)
def test_a_call_retrying_stops_at_the_limit(threads: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sync call's retries and the waits before them stop at the limit too: in turn, the
    audit ran 1.2 s (four 0.3 s retry-after waits) past a 0.1 s limit; in worker threads,
    the audit stopped but its threads went on calling the API after it returned."""
    monkeypatch.setattr(collect, "threads_available", lambda: threads)
    api = Busy()
    client = cft.Client(**options(transport=httpx.MockTransport(api), max_retries=4))
    with client:
        started = time.monotonic()
        with pytest.raises(cft.AuditTimedOut) as caught:
            cft.run_audit(client, progress=False, time_limit=IN_TURN_LIMIT)
        check(caught.value, started, IN_TURN_LIMIT)
        assert time.monotonic() - started < 0.3
        made = api.requests
        if threads:
            time.sleep(0.4)  # a thread left waiting would retry within 0.3 s: none is left
        assert api.requests == made
