"""The client against the sandbox: full lifecycles (sync and async, user- and account-owned),
real permission and IP refusals, and behaviour under seeded fault injection."""

from __future__ import annotations

import collections
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from client_fakes import FakeTime

import cftokens as cft
from cftokens.sandbox import RateLimit, Sandbox

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def admin_spec(sb: Sandbox) -> cft.TokenSpec:
    """A token that can do everything these tests need on the sandbox's account."""
    account = sb.directory().accounts[0].id
    return cft.TokenSpec(
        name="test-admin",
        policies=[
            cft.Policy.allow(["API Tokens Write", "User Details Read"], user=sb.user_id),
            cft.Policy.allow(
                ["Account Settings Read", "Account API Tokens Write", "Access: Audit Logs Read"],
                accounts=[account],
            ),
            cft.Policy.allow(["Zone Read", "DNS Write"], all_zones_of=account),
        ],
    )


def fake_time(client: Any) -> FakeTime:
    """Give a client the fake clock so retries and pauses do not really wait."""
    clock = FakeTime()
    client._time = clock
    return clock


@pytest.fixture
def sandbox() -> Any:
    with Sandbox() as sb:
        sb.extras["admin"] = sb.create_token(admin_spec(sb))
        sb.extras["account"] = sb.directory().accounts[0].id
        sb.extras["zone"] = sb.directory().zones[0].id
        yield sb


def dns_spec(name: str, zone: str) -> cft.TokenSpec:
    return cft.TokenSpec(
        name=name,
        policies=[cft.Policy.allow(["DNS Write"], zones=[zone])],
        allow_ips=["127.0.0.0/8"],
    )


@pytest.mark.parametrize("owner", ["user", "account"])
def test_sync_lifecycle(sandbox: Sandbox, owner: str) -> None:
    """verify, create, list, get, update (policies kept), roll (old secret dies), delete."""
    account, zone = sandbox.extras["account"], sandbox.extras["zone"]
    with sandbox.client(token=sandbox.extras["admin"].secret) as client:
        tokens = client.tokens if owner == "user" else client.account(account).tokens
        assert client.tokens.verify().active
        created = tokens.create(dns_spec("ci-dns", zone))
        assert created.secret.kind == owner
        assert created.id in {t.id for t in tokens.list()}
        assert tokens.get(created.id).name == "ci-dns"

        renamed = tokens.update(created.id, name="ci-dns-renamed")
        stored = sandbox.token(created.id)
        assert renamed.name == stored.name == "ci-dns-renamed"
        assert stored.policies == created.token.policies
        assert stored.condition == created.token.condition

        own = sandbox.client(token=created.secret, account_id=account)
        assert own.tokens.verify().id == created.id
        new_secret = tokens.roll(created.id)
        with pytest.raises(cft.AuthenticationError, match="rolled"):
            own.tokens.verify()
        with sandbox.client(token=new_secret, account_id=account) as fresh:
            assert fresh.tokens.verify().id == created.id
            assert fresh.dns_records.list(zone).collect() == []
        own.close()

        tokens.delete(created.id)
        with pytest.raises(cft.NotFound):
            tokens.get(created.id)


@pytest.mark.parametrize("owner", ["user", "account"])
@pytest.mark.anyio
async def test_async_lifecycle(sandbox: Sandbox, owner: str) -> None:
    """The same lifecycle through AsyncClient."""
    account, zone = sandbox.extras["account"], sandbox.extras["zone"]
    async with sandbox.async_client(token=sandbox.extras["admin"].secret) as client:
        tokens = client.tokens if owner == "user" else client.account(account).tokens
        created = await tokens.create(dns_spec("ci-dns", zone))
        assert created.id in {t.id async for t in tokens.list()}
        renamed = await tokens.update(created.id, name="renamed")
        assert renamed.policies == created.token.policies
        new_secret = await tokens.roll(created.id)
        async with sandbox.async_client(token=new_secret, account_id=account) as own:
            assert (await own.tokens.verify()).id == created.id
        await tokens.delete(created.id)
        with pytest.raises(cft.NotFound):
            await tokens.get(created.id)


def test_sandbox_refusals_explain_themselves(sandbox: Sandbox) -> None:
    """The sandbox's 9109 (IP), 10000 (permission), 1000 and 6003 map to plain messages."""
    zone, account = sandbox.extras["zone"], sandbox.extras["account"]
    admin = sandbox.client(token=sandbox.extras["admin"].secret)
    narrow = admin.tokens.create(dns_spec("narrow", zone))

    outside = sandbox.client(token=narrow.secret, ip="198.51.100.4")
    with pytest.raises(
        cft.AuthenticationError, match=r"IP condition does not accept 198\.51\.100\.4"
    ):
        outside.dns_records.list(zone).collect()

    inside = sandbox.client(token=narrow.secret)
    with pytest.raises(cft.PermissionDenied) as denied:
        inside.tokens.list().collect()
    assert denied.value.needed == ("API Tokens Write", "API Tokens Read")
    assert "on your user" in str(denied.value)
    other_zone = sandbox.add_zone("example.org", account=account).id
    with pytest.raises(cft.PermissionDenied) as denied:
        inside.dns_records.list(other_zone).collect()
    assert denied.value.needed == ("DNS Read", "DNS Write")
    assert f"on zone {other_zone}" in str(denied.value)

    account_token = admin.account(account).tokens.create(dns_spec("acct", zone))
    # the client nests flat zone keys under the owning account (Cloudflare refuses them flat)
    assert account_token.policies[0].to_api()["resources"] == {
        f"com.cloudflare.api.account.{account}": {f"com.cloudflare.api.account.zone.{zone}": "*"}
    }
    with pytest.raises(cft.AuthenticationError, match="Invalid API Token"):
        sandbox.client(token="L" * 40).tokens.verify()
    with pytest.raises(cft.InvalidInput, match="account-owned token"):
        sandbox.client(token=account_token.secret).tokens.verify()
    with pytest.raises(cft.AuthenticationError, match="malformed"):
        sandbox.client(token="not a token").tokens.verify()
    for client in (admin, outside, inside):
        client.close()


def test_audit_logs_from_the_sandbox(sandbox: Sandbox) -> None:
    """Audit Logs v2 records of the sandbox's journal come back typed and filterable."""
    account, zone = sandbox.extras["account"], sandbox.extras["zone"]
    with sandbox.client(token=sandbox.extras["admin"].secret) as client:
        record = client.dns_records.create(zone, type="A", name="www", content="192.0.2.1")
        client.dns_records.delete(zone, record.id)
        logs = client.account(account).audit_logs.list(
            since=sandbox.clock.now() - timedelta(days=1),
            before="2027-01-01",
            raw_method=["POST", "DELETE"],
            limit=1,
        )
        rows = logs.collect()
    assert [r.raw_method for r in rows] == ["DELETE", "POST"]
    assert all(r.actor_token_id == sandbox.extras["admin"].id for r in rows)
    assert rows[0].zone_id == zone and rows[0].actor_context == "api_token"


def test_tokens_by_account_across_many_accounts() -> None:
    """AsyncClient.tokens_by_account gathers 6 accounts' tokens, each exactly once."""
    import anyio

    with Sandbox() as sb:
        user = sb.user_id
        accounts = [sb.add_account(f"Team {n}", owner=user).id for n in range(6)]
        expected = {a: set(sb.seed_tokens(a, 60 + n)) for n, a in enumerate(accounts)}
        spec = cft.TokenSpec(
            name="reader",
            policies=[
                cft.Policy.allow(
                    ["Account API Tokens Read", "Account Settings Read"], accounts=accounts
                )
            ],
        )
        token = sb.create_token(spec).secret

        async def gather() -> dict[str, list[cft.Token]]:
            async with sb.async_client(token=token) as client:
                return await client.tokens_by_account(concurrency=4)

        result = anyio.run(gather)
    assert set(result) == set(accounts)
    for account, tokens in result.items():
        ids = [t.id for t in tokens]
        assert len(ids) == len(set(ids)) and set(ids) == expected[account]


# -- rate limits ------------------------------------------------------------------------------


def test_remaining_header_stops_the_client_before_a_429() -> None:
    """After the sandbox reports 0 remaining and a reset 300 s away (longer than the client
    waits by itself), the client refuses locally: the server sees no 429. The limit counts on
    the sandbox's fixed clock, so the reset time does not depend on the wall clock."""
    with Sandbox(rate_limit=RateLimit(limit=10, period=300, clock="sandbox")) as sb:
        client = sb.client()
        fake_time(client)
        for _ in range(10):
            client.tokens.verify()
        with pytest.raises(cft.RateLimited, match="was not sent"):
            client.tokens.verify()
        statuses = sb.journal["status"].tolist()
        client.close()
    assert statuses == [200] * 10


# -- fault injection ---------------------------------------------------------------------------

FAULTS = "rate=0.3,kinds=500+502+503+429+drop,seed={seed}"


def list_under_faults(seed: int, count: int, per_page: int) -> None:
    """Listing ``count`` tokens (the bootstrap one and ``count - 1`` seeded) under 30%
    5xx/429/dropped connections yields each exactly once."""
    with Sandbox(faults=FAULTS.format(seed=seed)) as sb:
        account = sb.directory().accounts[0].id
        expected = sb.seed_tokens(account, count - 1, owner="user") + [sb.bootstrap_token_id]
        client = sb.client(max_retries=12)
        fake_time(client)
        ids = [t.id for t in client.tokens.list(per_page=per_page)]
        faults = sb.journal["fault"].value_counts().to_dict()
        client.close()
    assert len(ids) == count
    assert collections.Counter(ids) == collections.Counter(expected)
    assert sum(faults.values()) > 5  # the faults really happened


# The inner loop lists 300 tokens in 15 pages; the full run lists 2,000 (40 pages) with two
# seeds, and the async listing below 2,000 too.
def test_listing_under_faults_returns_each_once() -> None:
    """With 30% 5xx/429/dropped connections, a listing of 15 pages yields each token once."""
    list_under_faults(seed=1, count=300, per_page=20)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_listing_2000_tokens_under_faults_returns_each_once(seed: int) -> None:
    """With 30% 5xx/429/dropped connections, listing 2,000 tokens yields each exactly once."""
    list_under_faults(seed=seed, count=2000, per_page=50)


async def list_under_faults_async(count: int, per_page: int) -> None:
    """The concurrent async listing of ``count`` tokens under the same faults (seed 3) yields
    each token once."""
    with Sandbox(faults=FAULTS.format(seed=3)) as sb:
        account = sb.directory().accounts[0].id
        expected = set(sb.seed_tokens(account, count))
        spec = cft.TokenSpec(
            name="reader",
            policies=[cft.Policy.allow(["Account API Tokens Read"], accounts=[account])],
        )
        token = sb.create_token(spec).secret
        async with sb.async_client(token=token, max_retries=12) as client:
            fake_time(client)
            pages = client.account(account).tokens.list(concurrency=8, per_page=per_page)
            ids = [t.id async for t in pages]
    assert len(ids) == count and set(ids) == expected


@pytest.mark.anyio
async def test_async_listing_under_faults_returns_each_once() -> None:
    """The concurrent async listing (8 pages in flight) of 15 pages under the same faults."""
    await list_under_faults_async(count=300, per_page=20)


@pytest.mark.slow
@pytest.mark.anyio
async def test_async_listing_2000_tokens_under_faults_returns_each_once() -> None:
    """The concurrent async listing under the same faults also yields each token once."""
    await list_under_faults_async(count=2000, per_page=50)


def run_creates(
    client: cft.Client, account: str, zone: str, count: int
) -> tuple[dict[str, str], set[str], list[BaseException]]:
    created: dict[str, str] = {}
    unclear: set[str] = set()
    other: list[BaseException] = []
    for n in range(count):
        name = f"bot-{n:03d}"
        try:
            created[name] = client.account(account).tokens.create(dns_spec(name, zone)).id
        except cft.MaybeCreated as exc:
            unclear.add(exc.name)
        except Exception as exc:  # every failure must be typed: checked below
            other.append(exc)
    return created, unclear, other


def creates_under_faults(count: int) -> None:
    """``count`` creates under 30% faults (including lost answers) never produce a duplicate
    token."""
    faults = "rate=0.3,kinds=500+502+503+429+drop+lost,seed=5"
    with Sandbox(faults=faults) as sb:
        account = sb.directory().accounts[0].id
        zone = sb.directory().zones[0].id
        client = sb.client(token=sb.create_token(admin_spec(sb)).secret, max_retries=6)
        fake_time(client)
        created, unclear, other = run_creates(client, account, zone, count)
        client.close()
        names = collections.Counter(t.name for t in sb.tokens(owner=account))
        journal = sb.journal
    posts = journal[(journal["method"] == "POST")]
    assert other == [] or all(isinstance(e, cft.CloudflareError) for e in other)
    assert max(names.values()) == 1, "a create was repeated"
    assert all(names[name] == 1 for name in created)
    assert len(created) + len(unclear) + len(other) == count
    # The ambiguous cases really were ambiguous both ways: some exist, some do not.
    assert any(names[name] for name in unclear) and any(not names[name] for name in unclear)
    # 429s were retried (a POST surely not processed), so there were more POSTs than creates.
    assert len(posts) > count
    assert set(posts[posts["fault"] == "429"].index) != set()


def test_creates_under_faults_make_no_duplicates() -> None:
    """60 creates under 30% faults (including lost answers) never produce a duplicate
    token (the full run makes 200)."""
    creates_under_faults(60)


@pytest.mark.slow
def test_200_creates_under_faults_make_no_duplicates() -> None:
    """200 creates under 30% faults (including lost answers) never produce a duplicate token."""
    creates_under_faults(200)


def test_every_failure_under_faults_is_typed(sandbox: Sandbox) -> None:
    """With retries off and 50% faults, every call either succeeds or raises a CloudflareError."""
    zone = sandbox.extras["zone"]
    sb = Sandbox(faults="rate=0.5,kinds=500+502+503+429+drop+lost,seed=9")
    client = sb.client(token=sb.create_token(admin_spec(sb)).secret, max_retries=0)
    fake_time(client)
    zone = sb.directory().zones[0].id
    outcomes: collections.Counter[str] = collections.Counter()
    calls: list[Callable[[], object]] = [
        lambda: client.tokens.list().collect(),
        lambda: client.tokens.create(dns_spec("x", zone)),
        lambda: client.zones.list().collect(),
        lambda: client.dns_records.list(zone).collect(),
        lambda: client.tokens.verify(),
        lambda: client.user.get(),
    ]
    for n in range(120):
        try:
            calls[n % len(calls)]()
            outcomes["ok"] += 1
        except cft.CloudflareError as exc:
            outcomes[type(exc).__name__] += 1
    client.close()
    sb.close()
    assert outcomes["ok"] > 0
    assert {"ServerError", "ConnectError", "RateLimited"} <= set(outcomes)
    assert sum(outcomes.values()) == 120


def test_no_secret_in_debug_logs_over_real_http(caplog: pytest.LogCaptureFixture) -> None:
    """Over real HTTP (httpx, httpcore, uvicorn), DEBUG logs of every logger hold no secret."""
    import logging

    from cftokens.sandbox.server import BackgroundServer

    with Sandbox() as sb, BackgroundServer(sb) as server, caplog.at_level(logging.DEBUG):
        token = sb.bootstrap_token
        with cft.Client(token=token, base_url=server.base_url) as client:
            client.tokens.verify()
            zone = sb.directory().zones[0].id
            created = client.tokens.create(dns_spec("http", zone))
            rolled = client.tokens.roll(created.id)
            with pytest.raises(cft.PermissionDenied) as denied:
                client.zones.list().collect()
        stranger = cft.Client(token="cfut_" + "W" * 43, base_url=server.base_url)
        with stranger, pytest.raises(cft.AuthenticationError) as refused:
            stranger.tokens.verify()
    text = caplog.text + str(denied.value) + str(refused.value)
    assert "GET /user/tokens/verify -> 200" in caplog.text
    assert any(r.name.startswith("httpcore") for r in caplog.records)  # the real stack logged
    for secret in (token, created.secret, rolled, cft.Secret("cfut_" + "W" * 43)):
        assert secret.reveal() not in text
