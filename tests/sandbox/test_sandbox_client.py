"""The in-process faces wire the real cftokens clients to the sandbox: sb.client() and
sb.async_client() with the bootstrap token, another token, or a client IP."""

from __future__ import annotations

import asyncio

import pandas as pd
import pytest

import cftokens as cft
from cftokens.client import RateLimit
from cftokens.sandbox import Sandbox

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def test_client_uses_bootstrap_token_by_default(sb: Sandbox) -> None:
    """sb.client() verifies as the bootstrap token and lists its tokens."""
    with sb.client() as client:
        assert client.tokens.verify().id == sb.bootstrap_token_id
        assert [t.name for t in client.tokens.list()] == ["cftokens-bootstrap"]


def test_client_with_other_token_and_ip(sb: Sandbox) -> None:
    """sb.client(token=…, ip=…) authenticates with that secret (str or Secret) from that IP,
    so an IP-restricted token is refused from elsewhere."""
    zone = sb.directory().zones[0].id
    spec = cft.TokenSpec(
        name="ip-bound",
        policies=[cft.Policy.allow(["DNS Write"], zones=[zone])],
        allow_ips=["203.0.113.0/24"],
    )
    with sb.client() as client:
        created = client.tokens.create(spec)
    with sb.client(token=created.secret.reveal(), ip="203.0.113.5") as inside:
        assert list(inside.dns_records.list(zone)) == []
    with (
        sb.client(token=created.secret, ip="198.51.100.1") as outside,
        pytest.raises(cft.AuthenticationError, match="location"),
    ):
        list(outside.dns_records.list(zone))


def test_a_bad_client_ip_is_refused_up_front(sb: Sandbox) -> None:
    """sb.client(ip=…) and sb.transport(ip=…) refuse what is not an IP address."""
    with pytest.raises(cft.InvalidInput, match="not an IP address"):
        sb.client(ip="not-an-ip")
    with pytest.raises(cft.InvalidInput, match="not an IP address"):
        sb.transport(ip="203.0.113")


def test_clients_of_a_sandbox_without_rate_limit_do_not_throttle() -> None:
    """Without a sandbox rate limit, sb.client() has no client-side limit either (no stall
    after 1,200 requests); with one, the client keeps its default limit. A limit passed wins."""
    with Sandbox(rate_limit=None) as open_sb:
        assert open_sb.client().rate_limit is None
        assert open_sb.async_client().rate_limit is None
        assert open_sb.client(rate_limit=(10, 1.0)).rate_limit == RateLimit(requests=10, per=1.0)
    with Sandbox() as limited:
        assert limited.client().rate_limit == RateLimit() == cft.Client().rate_limit
        assert limited.async_client().rate_limit == RateLimit()
        assert limited.client(rate_limit=None).rate_limit is None


def test_async_client(sb: Sandbox) -> None:
    """sb.async_client() runs the same calls under asyncio."""

    async def run() -> str:
        async with sb.async_client() as client:
            result = await client.tokens.verify()
            return result.id

    assert asyncio.run(run()) == sb.bootstrap_token_id


def test_directory_and_journal_types(demo: Sandbox) -> None:
    """sb.directory() is a cftokens.Directory and sb.journal has real dtypes."""
    directory = demo.directory()
    assert isinstance(directory, cft.Directory)
    assert directory.zone("acme.example").account.name == "Acme Production"
    journal = demo.journal
    assert isinstance(journal["time"].dtype, pd.DatetimeTZDtype)
    assert str(journal["time"].dt.tz) == "UTC"
    assert str(journal["status"].dtype) == "int64"
    assert {"api_token", "api_key"} <= set(journal["auth"].dropna())
    assert set(journal.columns) >= {
        "time",
        "token_id",
        "owner",
        "method",
        "path",
        "operation_id",
        "status",
        "ip",
        "user_agent",
        "auth",
    }
