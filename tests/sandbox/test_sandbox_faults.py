"""Fault injection (SPEC parsing, rate, schedule, drop, lost, latency) and the rate limit."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import pytest
from sandbox_helpers import Api, token_body

from cftokens.errors import InvalidInput
from cftokens.sandbox import Faults, RateLimit, Sandbox


def test_spec_parsing() -> None:
    """A SPEC string parses into the plan it describes; bad specs say what is wrong."""
    plan = Faults.parse("rate=0.3,kinds=500+502+503+429+drop,latency=50ms,seed=1")
    assert plan.rate == 0.3 and plan.kinds == ("500", "502", "503", "429", "drop")
    assert plan.latency == (0.05, 0.05) and plan.seed == 1
    ranged = Faults.parse("schedule=2:503+4:lost,latency=10ms-0.2s,match=/user/tokens*,every=7")
    assert ranged.schedule == {2: "503", 4: "lost"} and ranged.latency == (0.01, 0.2)
    assert ranged.match == "/user/tokens*" and ranged.every == 7
    for bad in ("rate=2", "kinds=418", "speed=1", "schedule=x", "latency=fast", "rate"):
        with pytest.raises(InvalidInput):
            Faults.parse(bad)


def test_a_bad_faults_mapping_is_invalid_input() -> None:
    """Sandbox(faults={...}) with an unknown key or a wrong type says so (no TypeError)."""
    for bad in ({"speed": 1}, {"rate": "0.3"}, {"every": "3"}):
        with pytest.raises(InvalidInput, match="faults"):
            Faults.of(bad)


def test_rate_faults_are_seeded_and_mixed() -> None:
    """With rate=0.3 about 30% of requests fail, with every kind, identically per seed."""

    def outcomes(seed: int, requests: int = 300) -> list[str]:
        sb = Sandbox(faults=f"rate=0.3,seed={seed}", rate_limit=None)
        client = Api(sb, sb.bootstrap_token)
        result = []
        for _ in range(requests):
            try:
                result.append(str(client.get("/user/tokens/verify").status_code))
            except httpx.RemoteProtocolError:
                result.append("drop")
        return result

    first = outcomes(1)
    # the same seed, the same faults in the same order; another seed, others (in 100 requests)
    assert first == outcomes(1) and first[:100] != outcomes(2, 100)
    failures = [o for o in first if o != "200"]
    assert 60 <= len(failures) <= 120
    assert set(failures) == {"500", "502", "503", "429", "drop"}


def test_schedule_and_injected_bodies() -> None:
    """Scheduled faults hit the given request numbers with Cloudflare envelopes; a 429 fault
    carries retry-after."""
    sb = Sandbox(faults="schedule=1:503+2:429,retry_after=3", rate_limit=None)
    client = Api(sb, sb.bootstrap_token)
    first = client.get("/user/tokens/verify")
    assert first.status_code == 503 and first.json()["success"] is False
    second = client.get("/user/tokens/verify")
    assert second.status_code == 429 and second.headers["retry-after"] == "3"
    assert client.get("/user/tokens/verify").status_code == 200
    assert list(sb.journal["fault"].astype(str)[:2]) == ["503", "429"]


def test_drop_processes_nothing_but_lost_commits() -> None:
    """A dropped request is not processed; a lost one is processed (the token exists) but
    the client gets no answer."""
    sb = Sandbox(faults="schedule=1:drop+2:lost", rate_limit=None)
    zone = sb.directory().zones[0].id
    client = Api(sb, sb.bootstrap_token)
    before = len(sb.tokens())
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/user/tokens", json=token_body(zone, "dropped"))
    assert len(sb.tokens()) == before
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/user/tokens", json=token_body(zone, "lost"))
    assert [t.name for t in sb.tokens()][-1] == "lost"


def test_latency_sync_and_async() -> None:
    """Latency delays sync and async clients by about the configured time."""
    sb = Sandbox(faults="latency=40ms", rate_limit=None)
    client = Api(sb, sb.bootstrap_token)
    start = time.perf_counter()
    client.get("/user/tokens/verify")
    assert time.perf_counter() - start >= 0.035

    async def call() -> float:
        async with httpx.AsyncClient(
            transport=sb.transport(),
            base_url=sb.base_url,
            headers={"Authorization": f"Bearer {sb.bootstrap_token.reveal()}"},
        ) as http:
            begin = time.perf_counter()
            r = await http.get("/user/tokens/verify")
            assert r.status_code == 200
            return time.perf_counter() - begin

    assert asyncio.run(call()) >= 0.035


def test_match_limits_faults_to_paths() -> None:
    """match= confines faults to matching paths."""
    sb = Sandbox(faults="rate=1,kinds=500,match=/zones*", rate_limit=None)
    client = Api(sb, sb.bootstrap_token)
    assert client.get("/user/tokens/verify").status_code == 200
    assert client.get("/zones").status_code == 500


def test_rate_limit_on_sandbox_clock() -> None:
    """Over the limit a user gets 429 with retry-after and x-ratelimit headers (successes carry
    limit, remaining and reset); the next window (sandbox clock) lets requests through again."""
    sb = Sandbox(rate_limit=RateLimit(limit=3, period=60, clock="sandbox"))
    client = Api(sb, sb.bootstrap_token)
    responses = [client.get("/user/tokens/verify") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[0].headers["x-ratelimit-limit"] == "3"
    assert responses[2].headers["x-ratelimit-remaining"] == "0"
    assert 1 <= int(responses[2].headers["x-ratelimit-reset"]) <= 60
    limited = responses[3]
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["errors"][0]["code"] == 971
    sb.clock.advance(timedelta(seconds=61))
    assert client.get("/user/tokens/verify").status_code == 200


def test_rate_limit_default_and_parsing() -> None:
    """The default is 1,200 per 5 minutes; specs parse; off turns it off."""
    assert Sandbox().engine.rate_limit == RateLimit(limit=1200, period=300.0)
    assert RateLimit.parse("10/1s@sandbox") == RateLimit(limit=10, period=1.0, clock="sandbox")
    assert RateLimit.parse("off") is None
    with pytest.raises(InvalidInput):
        RateLimit.parse("fast")


def test_clock_is_fixed_unless_told_or_ticking() -> None:
    """The default clock stands still; tick= moves it per request; advance/set move it."""
    from datetime import UTC, datetime

    fixed = Sandbox(rate_limit=None)
    Api(fixed, fixed.bootstrap_token).get("/user/tokens/verify")
    assert fixed.clock.now() == datetime(2026, 11, 2, 9, tzinfo=UTC)
    ticking = Sandbox(rate_limit=None, tick=timedelta(seconds=2))
    client = Api(ticking, ticking.bootstrap_token)
    for _ in range(3):
        client.get("/user/tokens/verify")
    times = list(ticking.journal["time"])
    assert [t.second for t in times] == [2, 4, 6]
    ticking.clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    assert ticking.clock.advance(timedelta(days=1)) == datetime(2027, 1, 2, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        ticking.clock.advance(timedelta(seconds=-1))
    with pytest.raises(InvalidInput):
        Sandbox(now=datetime(2026, 1, 1))
