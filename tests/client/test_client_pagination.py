"""Pagination: stop at the total without an empty extra page, refuse servers that ignore page."""

from __future__ import annotations

import httpx
import pytest
from client_fakes import FakeCloudflare, envelope, token_payload

import cftokens as cft


@pytest.mark.parametrize(
    ("count", "requests"), [(0, 1), (1, 1), (50, 1), (100, 2), (101, 3), (2000, 40)]
)
def test_listing_stops_at_total_count(make_client, count, requests):
    """Listing N tokens makes ceil(N/50) requests (at least one) and yields each token once."""
    cloudflare = FakeCloudflare(tokens=count)
    client = make_client(cloudflare)
    tokens = client.tokens.list().collect()
    assert [t.id for t in tokens] == list(cloudflare.tokens)
    assert len(cloudflare.requests) == requests


def test_listing_without_total_count_stops_at_a_short_page(make_client):
    """Without total_count, the first page shorter than per_page ends the listing."""
    items = [token_payload(i) for i in range(1, 100)]

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        chunk = items[(page - 1) * 50 : page * 50]
        info = {"page": page, "per_page": 50, "count": len(chunk)}
        return httpx.Response(200, json=envelope(chunk, result_info=info))

    seen = []
    client = make_client(lambda r: seen.append(r) or handler(r))
    assert len(client.tokens.list().collect()) == 99
    assert len(seen) == 2


def test_a_server_ignoring_page_raises_instead_of_looping(make_client):
    """A server answering page 1 to every request raises UnexpectedResponse on page 2."""
    items = [token_payload(i) for i in range(1, 51)]
    info = {"page": 1, "per_page": 50, "count": 50, "total_count": 500}
    client = make_client(lambda r: httpx.Response(200, json=envelope(items, result_info=info)))
    pager = client.tokens.list()
    with pytest.raises(cft.UnexpectedResponse, match="asked for page 2 and got page 1"):
        pager.collect()


def test_the_same_page_twice_raises_even_without_page_numbers(make_client):
    """Identical items on consecutive pages (no page echo, no total) raise UnexpectedResponse."""
    items = [token_payload(i) for i in range(1, 51)]
    requests = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=envelope(items, result_info={"per_page": 50, "count": 50}))

    client = make_client(handler)
    with pytest.raises(cft.UnexpectedResponse, match="exactly the items of page 1"):
        client.tokens.list().collect()
    assert len(requests) == 2


def test_pages_alternating_between_two_sets_raise_instead_of_looping(make_client):
    """Without total_count, a full page holding only items already listed stops the listing."""
    requests = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if len(requests) > 10:
            return httpx.Response(200, json=envelope([], result_info={"per_page": 50}))
        page = int(request.url.params["page"])
        first = 1 if page % 2 else 51
        items = [token_payload(i) for i in range(first, first + 50)]
        info = {"page": page, "per_page": 50, "count": 50}
        return httpx.Response(200, json=envelope(items, result_info=info))

    client = make_client(handler)
    with pytest.raises(cft.UnexpectedResponse, match="only items already listed"):
        client.tokens.list().collect()
    assert len(requests) == 3


def test_listing_is_lazy_and_stops_when_the_caller_stops(make_client):
    """No request is made until iteration, and breaking early fetches no further page."""
    cloudflare = FakeCloudflare(tokens=500)
    client = make_client(cloudflare)
    pager = client.tokens.list()
    assert cloudflare.requests == []
    first = next(pager)
    assert first.name == "token-1"
    assert len(cloudflare.requests) == 1


def test_shifting_lists_yield_each_token_once(make_client):
    """When a token is created mid-listing (shifting pages), no token is yielded twice."""
    cloudflare = FakeCloudflare(tokens=60)
    original = cloudflare.route

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "2":
            # Someone inserts a token at the front between page 1 and page 2.
            extra = token_payload(999)
            cloudflare.tokens = {extra["id"]: extra, **cloudflare.tokens}
        return original(request)

    cloudflare.route = route  # type: ignore[method-assign]
    client = make_client(cloudflare)
    ids = [t.id for t in client.tokens.list()]
    assert len(ids) == len(set(ids))


def test_per_page_and_filters_are_sent(make_client):
    """per_page, direction and include_expired reach the server; bad values fail before it."""
    cloudflare = FakeCloudflare(tokens=7)
    client = make_client(cloudflare)
    client.tokens.list(per_page=5, direction="desc", include_expired=True).collect()
    params = cloudflare.requests[0].url.params
    assert (params["per_page"], params["direction"], params["include_expired"]) == (
        "5",
        "desc",
        "true",
    )
    assert len(cloudflare.requests) == 2
    with pytest.raises(cft.InvalidInput, match="from 5 to 50"):
        client.tokens.list(per_page=500)
    with pytest.raises(cft.InvalidInput, match="'asc' or 'desc'"):
        client.tokens.list(direction="up")
    assert len(cloudflare.requests) == 2


def test_bad_result_info_is_an_unexpected_response(make_client):
    """A non-numeric total_count raises UnexpectedResponse rather than a TypeError."""
    info = {"page": 1, "per_page": 50, "count": 1, "total_count": "lots"}
    body = envelope([token_payload(1)], result_info=info)
    client = make_client(lambda r: httpx.Response(200, json=body))
    with pytest.raises(cft.UnexpectedResponse, match="total_count must be a number"):
        client.tokens.list().collect()


def test_a_server_capping_per_page_is_followed(make_client):
    """If the server serves fewer per page than asked, its per_page drives the page count."""
    items = [token_payload(i) for i in range(1, 46)]
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = int(request.url.params["page"])
        chunk = items[(page - 1) * 20 : page * 20]
        info = {"page": page, "per_page": 20, "count": len(chunk), "total_count": 45}
        return httpx.Response(200, json=envelope(chunk, result_info=info))

    client = make_client(handler)
    assert len(client.tokens.list().collect()) == 45
    assert len(seen) == 3


def test_a_listing_parses_each_ip_range_once(make_client, monkeypatch):
    """The same IP ranges on every token of a listing are parsed at most once each (not once
    per token, twice over), and every token still holds them, equal to a parse of its own."""
    import ipaddress

    calls: list[str] = []
    parse = ipaddress.ip_network

    def counted(text: str, strict: bool = True) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        calls.append(text)
        return parse(text, strict=strict)

    ranges = ["198.51.100.128/25", "2001:db8:5e::/48"]
    cloudflare = FakeCloudflare(tokens=120)
    for payload in cloudflare.tokens.values():
        payload["condition"] = {"request.ip": {"in": ranges, "not_in": ["198.51.100.199"]}}
    monkeypatch.setattr(ipaddress, "ip_network", counted)
    tokens = make_client(cloudflare).tokens.list().collect()
    assert len(set(calls)) == len(calls) <= 3  # each at most once (this process may know it)
    expected = cft.Condition.of(allow=[parse(r) for r in ranges], deny=[parse("198.51.100.199")])
    assert len(tokens) == 120 and all(t.condition == expected for t in tokens)
    assert all(t.condition.to_api()["request.ip"]["in"] == ranges for t in tokens)
