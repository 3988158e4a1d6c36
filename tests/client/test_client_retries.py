"""Retries (backoff, jitter, retry-after), create/roll safety, and the client-side rate limiter."""

from __future__ import annotations

import logging
import random

import httpx
import pytest
from client_fakes import FakeCloudflare, FakeTime, envelope, error, token_payload

import cftokens as cft
from cftokens.client import RateLimit, Retry
from cftokens.client._limits import RateLimiter, parse_retry_after

TOKEN_ID = f"{1:032x}"


def spec(name: str = "ci-dns") -> cft.TokenSpec:
    return cft.TokenSpec(name=name, policies=[cft.Policy.allow(["DNS Read"], zones=["f" * 32])])


def fail_with(exc: type[Exception]):
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc("boom", request=request)

    return answer


def status(code: int, **headers: str):
    return lambda request: error(code, 0, f"HTTP {code}", **headers)


def test_get_is_retried_after_5xx_429_and_transport_errors(make_client, fake_time):
    """A GET survives a 503, a 429, a dropped connection and a timeout, then succeeds."""
    cloudflare = FakeCloudflare(tokens=1)
    cloudflare.script(
        status(503),
        status(429),
        fail_with(httpx.RemoteProtocolError),
        fail_with(httpx.ReadTimeout),
    )
    client = make_client(cloudflare, max_retries=4)
    assert client.tokens.get(TOKEN_ID).name == "token-1"
    assert len(cloudflare.requests) == 5
    assert len(fake_time.sleeps) == 4


def test_backoff_is_exponential_with_full_jitter(make_client, fake_time):
    """The n-th retry waits a random time in [0, backoff * 2**n], capped at max_backoff."""
    cloudflare = FakeCloudflare(tokens=1)
    cloudflare.script(*[status(500)] * 6)
    retry = Retry(total=6, backoff=1.0, max_backoff=8.0, rng=random.Random(7))
    client = make_client(cloudflare, max_retries=retry)
    client.tokens.get(TOKEN_ID)
    assert len(fake_time.sleeps) == 6
    for n, slept in enumerate(fake_time.sleeps):
        assert 0 <= slept <= min(8.0, 2**n)
    assert len(set(fake_time.sleeps)) == 6  # jittered, not fixed


def test_429_with_retry_after_waits_exactly_that_long(make_client, fake_time):
    """A 429 with retry-after: 7 waits 7 s (and the whole client pauses), then succeeds."""
    cloudflare = FakeCloudflare(tokens=1)
    cloudflare.script(status(429, **{"retry-after": "7"}))
    client = make_client(cloudflare)
    client.tokens.get(TOKEN_ID)
    assert sum(fake_time.sleeps) == pytest.approx(7.0)


def test_429_without_retry_after_backs_off(make_client, fake_time):
    """A 429 without retry-after uses the jittered backoff, and persistent 429s raise."""
    cloudflare = FakeCloudflare(tokens=1)
    cloudflare.script(*[status(429)] * 3)
    client = make_client(cloudflare, max_retries=Retry(total=2, backoff=0.5))
    with pytest.raises(cft.RateLimited) as info:
        client.tokens.get(TOKEN_ID)
    assert info.value.retry_after is None
    assert len(cloudflare.requests) == 3
    assert "1,200 per 5 minutes" in str(info.value)
    assert "gave up after 3 attempts" in str(info.value)


def test_a_very_long_retry_after_is_not_waited_for(make_client, fake_time):
    """retry-after beyond max_retry_after raises RateLimited at once instead of hanging."""
    cloudflare = FakeCloudflare(tokens=1)
    cloudflare.script(status(429, **{"retry-after": "3600"}))
    client = make_client(cloudflare)
    with pytest.raises(cft.RateLimited) as info:
        client.tokens.get(TOKEN_ID)
    assert info.value.retry_after == 3600
    assert fake_time.sleeps == []


def test_server_error_after_all_retries_is_a_server_error(make_client):
    """Persistent 500s raise ServerError after max_retries + 1 attempts."""
    cloudflare = FakeCloudflare(tokens=1)
    cloudflare.script(*[status(500)] * 10)
    client = make_client(cloudflare, max_retries=3)
    with pytest.raises(cft.ServerError):
        client.tokens.get(TOKEN_ID)
    assert len(cloudflare.requests) == 4


def test_connect_errors_and_timeouts_are_typed(make_client):
    """Transport failures raise ConnectError or RequestTimedOut (TransportError), never httpx
    errors."""
    for exc, kind in (
        (httpx.ConnectError, cft.ConnectError),
        (httpx.ReadTimeout, cft.RequestTimedOut),
    ):
        client = make_client(fail_with(exc), max_retries=1)
        with pytest.raises(kind) as info:
            client.user.get()
        assert isinstance(info.value, cft.TransportError)
        assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize(
    "answer",
    [
        status(500),
        status(502),
        fail_with(httpx.ReadTimeout),
        fail_with(httpx.RemoteProtocolError),
        fail_with(httpx.ReadError),
        lambda request: httpx.Response(200, content=b'{"success": true, "result": {"id"'),
        lambda request: httpx.Response(200, json=envelope({"id": "x"})),
    ],
)
def test_create_is_never_retried_after_an_ambiguous_failure(make_client, answer):
    """An unclear create failure raises MaybeCreated after exactly one POST."""
    cloudflare = FakeCloudflare()
    cloudflare.script(answer)
    client = make_client(cloudflare)
    with pytest.raises(cft.MaybeCreated) as info:
        client.tokens.create(spec("deploy-bot"))
    assert info.value.name == "deploy-bot"
    assert "client.tokens.list()" in str(info.value) and "'deploy-bot'" in str(info.value)
    assert [r.method for r in cloudflare.requests] == ["POST"]


@pytest.mark.parametrize(
    "answer", [status(429, **{"retry-after": "1"}), fail_with(httpx.ConnectError)]
)
def test_create_is_retried_when_the_server_surely_did_not_act(make_client, answer):
    """A 429 or a refused connection is retried for a create: no token can exist yet."""
    cloudflare = FakeCloudflare()
    cloudflare.script(answer)
    client = make_client(cloudflare)
    created = client.tokens.create(spec())
    assert isinstance(created.secret, cft.Secret)
    assert len(cloudflare.tokens) == 1
    assert [r.method for r in cloudflare.requests] == ["POST", "POST"]


def test_create_bad_request_is_raised_as_is(make_client):
    """A clear refusal of a create (400) raises BadRequest, not MaybeCreated."""
    client = make_client(status(400))
    with pytest.raises(cft.BadRequest):
        client.tokens.create(spec())


@pytest.mark.parametrize("answer", [status(503), fail_with(httpx.ReadTimeout)])
def test_roll_is_never_retried_after_an_ambiguous_failure(make_client, answer):
    """An unclear roll failure raises MaybeRolled saying to roll again, after one PUT."""
    cloudflare = FakeCloudflare(tokens=1)
    cloudflare.script(answer)
    client = make_client(cloudflare)
    with pytest.raises(cft.MaybeRolled) as info:
        client.tokens.roll(TOKEN_ID)
    assert info.value.token_id == TOKEN_ID
    assert "Roll it again" in str(info.value)
    assert len(cloudflare.requests) == 1


def test_update_put_is_retried(make_client):
    """A whole-token PUT is idempotent, so it is retried after a 502."""
    cloudflare = FakeCloudflare(tokens=1)
    client = make_client(cloudflare)
    cloudflare.script(lambda r: None, status(502))  # the GET passes, the first PUT fails
    token = client.tokens.update(TOKEN_ID, name="renamed")
    assert token.name == "renamed"
    assert [r.method for r in cloudflare.requests] == ["GET", "PUT", "PUT"]


def test_delete_retry_that_finds_the_token_gone_succeeds(make_client):
    """If a DELETE's answer is lost after it worked, the retry's 404 counts as success."""
    cloudflare = FakeCloudflare(tokens=1)

    def delete_then_fail(request: httpx.Request) -> httpx.Response:
        cloudflare.route(request)
        raise httpx.ReadError("connection reset", request=request)

    cloudflare.script(delete_then_fail)
    client = make_client(cloudflare)
    client.tokens.delete(TOKEN_ID)
    assert TOKEN_ID not in cloudflare.tokens
    assert [r.method for r in cloudflare.requests] == ["DELETE", "DELETE"]


def test_delete_of_a_missing_token_is_not_found(make_client):
    """A plain DELETE of an unknown token still raises NotFound."""
    client = make_client(FakeCloudflare())
    with pytest.raises(cft.NotFound):
        client.tokens.delete(TOKEN_ID)


def test_generic_request_retries_only_safe_methods(make_client):
    """request(): GET is retried; POST is not, unless idempotent=True."""
    cloudflare = FakeCloudflare(tokens=1)
    client = make_client(cloudflare)
    cloudflare.script(status(500))
    assert client.request("GET", f"/user/tokens/{TOKEN_ID}")["name"] == "token-1"
    cloudflare.requests.clear()
    cloudflare.script(status(500))
    with pytest.raises(cft.ServerError):
        client.request("POST", "/user/tokens", json={"name": "x", "policies": []})
    assert len(cloudflare.requests) == 1
    cloudflare.requests.clear()
    cloudflare.script(status(500))
    client.request("POST", "/user/tokens", json={"name": "x"}, idempotent=True)
    assert len(cloudflare.requests) == 2


def test_retry_decisions_are_logged(make_client, caplog):
    """Each attempt (method, path, status, elapsed) and each retry decision is logged."""
    cloudflare = FakeCloudflare(tokens=1)
    cloudflare.script(status(503))
    client = make_client(cloudflare)
    with caplog.at_level(logging.DEBUG, logger="cftokens"):
        client.tokens.get(TOKEN_ID)
    text = caplog.text
    assert f"GET /user/tokens/{TOKEN_ID} -> 503 in" in text
    assert f"retrying GET /user/tokens/{TOKEN_ID} in" in text and "ServerError (HTTP 503)" in text
    assert f"GET /user/tokens/{TOKEN_ID} -> 200 in" in text


# -- the rate limiter ------------------------------------------------------------------------


def test_rate_limiter_allows_the_limit_then_waits_for_the_window():
    """With 3 requests per 10 s, the 4th waits until the first leaves the window."""
    limiter = RateLimiter(RateLimit(requests=3, per=10))
    assert [limiter.reserve(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.reserve(1.0) == pytest.approx(9.0)
    assert limiter.reserve(10.5) == pytest.approx(0.0)


def test_rate_limiter_reads_remaining_and_pauses_after_429():
    """x-ratelimit-remaining: 0 holds requests until the reset; a 429 pauses for retry-after."""
    limiter = RateLimiter(RateLimit())
    limiter.observe(200, {"x-ratelimit-remaining": "1", "x-ratelimit-reset": "30"}, now=0.0)
    assert limiter.reserve(0.0) == 0.0
    assert limiter.reserve(0.0) == pytest.approx(30.0)
    limiter = RateLimiter(None)
    limiter.observe(429, {"retry-after": "12"}, now=5.0)
    assert limiter.reserve(6.0) == pytest.approx(11.0)


def test_rate_limiter_ignores_remaining_without_a_reset_time():
    """A remaining count of 0 without x-ratelimit-reset or retry-after does not hold calls back
    for a guessed window: the client sends, and a 429's retry-after would decide."""
    limiter = RateLimiter(RateLimit())
    limiter.observe(200, {"x-ratelimit-remaining": "0"}, now=0.0)
    assert limiter.reserve(0.0) == 0.0
    assert limiter.server_pause(0.0) == 0.0


def test_a_clients_rate_limit_is_shared_by_all_calls(make_client, fake_time):
    """One limiter per client: with 4 requests per 300 s (the default is Cloudflare's 1,200,
    below), 4 requests across resources pass and the next waits for the window."""
    import inspect

    for cls in (cft.Client, cft.AsyncClient):
        assert inspect.signature(cls).parameters["rate_limit"].default == RateLimit(
            requests=1200, per=300
        )
    client = make_client(FakeCloudflare(tokens=1), rate_limit=(4, 300))
    for _ in range(2):
        client.tokens.get(TOKEN_ID)
        client.account("0" * 32).tokens.get(TOKEN_ID)
    assert fake_time.sleeps == []
    client.account("0" * 32).tokens.get(TOKEN_ID)
    assert fake_time.sleeps == [pytest.approx(300.0)]


# the full-size check runs in the full suite (1,201 requests: ~0.6 s of CPU); the inner loop
# keeps test_a_clients_rate_limit_is_shared_by_all_calls (the default's value and the shared
# limiter on 5 requests) and test_rate_limit_none_turns_the_limiter_off (1,201 requests)
@pytest.mark.slow
def test_default_rate_limit_is_cloudflares_and_shared_by_all_calls(make_client, fake_time):
    """One limiter per client: 1,200 requests in 300 s across resources, then the next waits."""
    cloudflare = FakeCloudflare(tokens=1)
    client = make_client(cloudflare)
    for _ in range(600):
        client.tokens.get(TOKEN_ID)
        client.account("0" * 32).tokens.get(TOKEN_ID)
    assert fake_time.sleeps == []
    client.tokens.get(TOKEN_ID)
    assert fake_time.sleeps == [pytest.approx(300.0)]


def test_rate_limit_none_turns_the_limiter_off(make_client, fake_time):
    """rate_limit=None sends without client-side waiting: one request more than the default
    limit lets through in its window."""
    client = make_client(FakeCloudflare(tokens=1), rate_limit=None)
    for _ in range(1201):
        client.tokens.get(TOKEN_ID)
    assert fake_time.sleeps == []


def test_parse_retry_after_reads_seconds_and_http_dates():
    """retry-after is read as delta seconds or an HTTP date; garbage is ignored."""
    assert parse_retry_after({"retry-after": "2.5"}) == 2.5
    assert parse_retry_after({"retry-after": "nonsense"}) is None
    assert parse_retry_after({}) is None
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after({"retry-after": "Thu, 01 Jan 2026 00:01:00 GMT"}, now) == 60.0


def test_bad_retry_and_rate_limit_arguments_are_refused():
    """Negative retries or a zero rate raise InvalidInput saying what to pass."""
    with pytest.raises(cft.InvalidInput, match="max_retries"):
        cft.Client(token="x" * 40, max_retries=-1)
    with pytest.raises(cft.InvalidInput, match="rate limit"):
        cft.Client(token="x" * 40, rate_limit=(0, 300))
    with pytest.raises(cft.InvalidInput, match="rate_limit must be"):
        cft.Client(token="x" * 40, rate_limit="fast")  # type: ignore[arg-type]


def test_fake_time_is_used(fake_time: FakeTime) -> None:
    """The fake clock advances only by sleeping (a guard for the other tests' assumptions)."""
    start = fake_time.monotonic()
    fake_time.sleep(2)
    assert fake_time.monotonic() - start == 2
    assert token_payload(1)["id"] == TOKEN_ID
