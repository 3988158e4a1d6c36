"""The client against a broken or hostile server: odd rate-limit headers, bodies nested without
end, bodies without end, listings without end. Every case ends in the error tree
(:class:`~cftokens.UnexpectedResponse` naming the cap that stopped it), never in an
OverflowError, a RecursionError, a process holding hundreds of megabytes or a loop."""

from __future__ import annotations

import asyncio
import inspect
import json
import struct
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from client_fakes import ACCOUNT, envelope, token_payload

import cftokens as cft

CHUNK = 64 * 1024
HUGE = 300 * 1024 * 1024


def _ok(**headers: str) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=envelope({"id": "1" * 32}), headers=headers)

    return handler


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400", "9" * 5000, "Infinity"])
def test_rate_limit_headers_that_are_not_numbers_are_ignored(
    make_client: Callable[..., cft.Client], value: str
) -> None:
    """``x-ratelimit-remaining: inf`` (or nan, 1e400, 5,000 digits) is a broken hint: the
    call succeeds and the next one is not held back."""
    client = make_client(_ok(**{"x-ratelimit-remaining": value, "x-ratelimit-reset": value}))
    assert client.request("GET", "/user") == {"id": "1" * 32}
    assert client.request("GET", "/user") == {"id": "1" * 32}


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 200_000 + b"]" * 200_000,
        b'{"success":true,"errors":[],"result":' + b"[" * 200_000 + b"]" * 200_000 + b"}",
        b'{"success":false,"errors":' + b'[{"error_chain":' * 100_000 + b"[]" + b"}]" * 100_000
        + b"}",
    ],
)  # fmt: skip
def test_a_body_nested_without_end_is_an_unexpected_response(
    make_client: Callable[..., cft.Client], body: bytes
) -> None:
    """200,000 levels of nesting raise UnexpectedResponse, not RecursionError."""
    client = make_client(lambda r: httpx.Response(200, content=body))
    with pytest.raises(cft.UnexpectedResponse, match="nested too deeply"):
        client.request("GET", "/user")


def test_nan_and_infinity_are_not_json(make_client: Callable[..., cft.Client]) -> None:
    """``total_count: Infinity`` is refused as invalid JSON instead of overflowing a count."""
    body = b'{"success":true,"errors":[],"result":[],"result_info":{"total_count":Infinity}}'
    client = make_client(lambda r: httpx.Response(200, content=body))
    with pytest.raises(cft.UnexpectedResponse, match="Infinity is not a JSON value"):
        client.tokens.list().collect()


class Endless:
    """A body of ``HUGE`` bytes produced chunk by chunk; counts what the client pulled."""

    def __init__(self) -> None:
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"success":true,"errors":[],"result":"'
        while self.sent < HUGE:
            self.sent += CHUNK
            yield b"x" * CHUNK

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk


@pytest.mark.parametrize("announce", [False, True])
def test_a_huge_body_stops_at_the_cap(
    make_client: Callable[..., cft.Client], announce: bool
) -> None:
    """A 300 MB answer is read only up to max_response_bytes (default 8 MiB), or not at all
    when Content-Length announces it; the error names the cap."""
    stream = Endless()
    headers = {"content-length": str(HUGE)} if announce else {}
    client = make_client(lambda r: httpx.Response(200, content=stream, headers=headers))
    with pytest.raises(cft.UnexpectedResponse, match="max_response_bytes") as info:
        client.request("GET", "/user")
    assert "8,388,608 bytes" in str(info.value)
    assert stream.sent <= (0 if announce else 8 * 1024 * 1024 + CHUNK)


def test_the_body_cap_is_configurable(make_client: Callable[..., cft.Client]) -> None:
    """``max_response_bytes=`` lowers (or raises) the cap; a body under it reads normally."""
    page = httpx.Response(200, json=envelope([token_payload(i) for i in range(40)]))
    small = make_client(lambda r: page, max_response_bytes=1024)
    with pytest.raises(cft.UnexpectedResponse, match=r"max_response_bytes \(1,024 bytes\)"):
        small.tokens.list().collect()
    assert len(make_client(lambda r: page).tokens.list().collect()) == 40
    for bad in (0, -1, 1.5, True, "8MB"):
        with pytest.raises(cft.InvalidInput, match="max_response_bytes"):
            cft.Client(token="t" * 8, max_response_bytes=bad)
        with pytest.raises(cft.InvalidInput, match="max_pages"):
            cft.Client(token="t" * 8, max_pages=bad)


def test_a_create_cut_at_the_cap_is_maybe_created(make_client: Callable[..., cft.Client]) -> None:
    """A POST whose answer is cut at the cap may have created the token: MaybeCreated."""
    stream = Endless()
    client = make_client(lambda r: httpx.Response(200, content=stream))
    spec = cft.TokenSpec(name="x", policies=[cft.Policy.allow(["Zone Read"], all_zones=True)])
    with pytest.raises(cft.MaybeCreated):
        client.tokens.create(spec)


@pytest.mark.anyio
async def test_the_async_client_caps_bodies_too(
    make_async_client: Callable[..., cft.AsyncClient],
) -> None:
    """The async twin streams and stops at the same cap."""
    stream = Endless()
    client = make_async_client(lambda r: httpx.Response(200, content=stream.__aiter__()))
    async with client:
        with pytest.raises(cft.UnexpectedResponse, match="max_response_bytes"):
            await client.request("GET", "/user")
    assert stream.sent <= 8 * 1024 * 1024 + CHUNK


class EndlessPages:
    """A server announcing a huge total and answering every page with new tokens."""

    def __init__(self) -> None:
        self.pages: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        per_page = int(request.url.params.get("per_page", "50"))
        self.pages.append(page)
        items = [token_payload(page * per_page + i) for i in range(per_page)]
        info = {"page": page, "per_page": per_page, "total_count": 10**15, "count": per_page}
        return httpx.Response(200, json=envelope(items, result_info=info))


def test_a_listing_that_never_ends_stops_at_max_pages(
    make_client: Callable[..., cft.Client],
) -> None:
    """A total_count that never ends stops at max_pages; no request past it is sent."""
    server = EndlessPages()
    client = make_client(server, max_pages=5)
    seen: list[Any] = []
    with pytest.raises(cft.UnexpectedResponse, match=r"after max_pages \(5\) pages") as info:
        seen.extend(client.tokens.list())
    assert server.pages == [1, 2, 3, 4, 5] and len(seen) == 250
    assert "20,000,000,000,000 pages" in str(info.value)
    assert inspect.signature(cft.Client).parameters["max_pages"].default == 10_000


@pytest.mark.anyio
async def test_the_async_listing_stops_at_max_pages(
    make_async_client: Callable[..., cft.AsyncClient],
) -> None:
    """Concurrent page fetching never sends a page past the cap either."""
    server = EndlessPages()
    client = make_async_client(server, max_pages=7)
    async with client:
        with pytest.raises(cft.UnexpectedResponse, match="max_pages"):
            await client.tokens.list().collect()
    assert sorted(server.pages) == list(range(1, 8))


def test_a_cursor_that_never_ends_stops_at_max_pages(
    make_client: Callable[..., cft.Client],
) -> None:
    """Audit Logs v2 with a fresh cursor on every batch stops at max_pages batches."""
    calls: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.params.get("cursor"))
        record = {
            "id": f"r{len(calls)}",
            "action": {"type": "update"},
            "when": "2026-01-01T00:00:00Z",
        }
        info = {"cursor": f"c{len(calls)}", "count": 1}
        return httpx.Response(200, json=envelope([record], result_info=info))

    client = make_client(handler, max_pages=4)
    with pytest.raises(cft.UnexpectedResponse, match=r"max_pages \(4\)"):
        client.account(ACCOUNT).audit_logs.list(since="2026-01-01").collect()
    assert calls == [None, "c1", "c2", "c3"]


def _encoded(coding: str, data: bytes) -> bytes:
    """``data`` in a content coding (``raw-deflate``: deflate without its zlib header, which
    some servers send as ``deflate``)."""
    wbits = {"gzip": 31, "deflate": 15, "raw-deflate": -15}[coding]
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return packer.compress(data) + packer.flush()


def _streamed(kind: str, body: bytes, headers: dict[str, str], size: int = CHUNK) -> httpx.Response:
    """An answer whose body arrives as a network's does, in chunks of ``size`` bytes (a
    ``content=bytes`` answer is read, and inflated, by httpx when it is made)."""
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    if kind == "sync":
        return httpx.Response(200, content=iter(chunks), headers=headers)

    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return httpx.Response(200, content=stream(), headers=headers)


def _deflated_zeros(mib: int) -> bytes:
    """``mib`` MiB of zeros as one raw deflate stream, as level 9 writes it, made from one
    MiB compressed once: a full flush leaves the compressor as new (nothing after it refers
    to what came before), so the MiB's blocks may repeat; an empty final block ends it."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = packer.compress(b"\0" * 2**20) + packer.flush(zlib.Z_FULL_FLUSH)
    return piece * mib + zlib.compressobj(9, zlib.DEFLATED, -15).flush()


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    """64 MiB of zeros in each coding: about 64 KiB on the wire (one deflate stream in the
    gzip and zlib wrappers, with their checksums of the 64 MiB: compressing 64 MiB three
    times took a second)."""
    size = 64 * 2**20
    raw = _deflated_zeros(size >> 20)
    zeros = bytes(size)
    trailer = struct.pack("<II", zlib.crc32(zeros), size & 0xFFFFFFFF)
    bombs = {
        "gzip": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + raw + trailer,
        "deflate": b"\x78\xda" + raw + struct.pack(">I", zlib.adler32(zeros)),
        "raw-deflate": raw,
    }
    head = zlib.decompressobj(31)  # each a valid stream of zeros (its first MiB read here)
    assert head.decompress(bombs["gzip"], 2**20) == zeros[: 2**20]
    return bombs


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate"])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_compressed_body_is_inflated_only_up_to_the_cap(
    make_client: Callable[..., cft.Client],
    make_async_client: Callable[..., cft.AsyncClient],
    bombs: dict[str, bytes],
    coding: str,
    kind: str,
) -> None:
    """64 KiB of gzip inflating to 64 MB: the client inflates it only up to max_response_bytes
    and the process holds about the cap, not the 64 MB httpx made of each chunk at once
    before the cap was checked. The client asks for the codings it inflates itself."""
    asked: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.headers.get("accept-encoding"))
        name = coding.removeprefix("raw-")
        return _streamed(kind, bombs[coding], {"content-encoding": name})

    def call() -> None:
        if kind == "sync":
            make_client(handler, max_response_bytes=1_000_000).request("GET", "/user")
            return

        async def call_async() -> None:
            async with make_async_client(handler, max_response_bytes=1_000_000) as c:
                await c.request("GET", "/user")

        asyncio.run(call_async())

    tracemalloc.start()
    try:
        with pytest.raises(cft.UnexpectedResponse, match="max_response_bytes"):
            call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16_000_000
    assert asked == ["gzip, deflate"]


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate", "identity"])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_compressed_answer_reads_as_before(
    make_client: Callable[..., cft.Client],
    make_async_client: Callable[..., cft.AsyncClient],
    coding: str,
    kind: str,
) -> None:
    """An answer in any coding the client asks for (or none) reads as its plain JSON, in
    chunks of any size."""
    plain = json.dumps(envelope([token_payload(i) for i in range(30)])).encode()
    wire = plain if coding == "identity" else _encoded(coding, plain)

    def handler(request: httpx.Request) -> httpx.Response:
        return _streamed(kind, wire, {"content-encoding": coding.removeprefix("raw-")}, size=7)

    if kind == "sync":
        tokens = make_client(handler).tokens.list().collect()
    else:

        async def call() -> list[cft.Token]:
            async with make_async_client(handler) as c:
                return await c.tokens.list().collect()

        tokens = asyncio.run(call())
    assert [t.id for t in tokens] == [token_payload(i)["id"] for i in range(30)]


@pytest.mark.parametrize("encoding", ["gzip, gzip", "deflate, gzip"])
def test_a_body_encoded_twice_is_refused(
    make_client: Callable[..., cft.Client], encoding: str
) -> None:
    """Stacked codings (which no API answer uses, and whose inflation a cap cannot bound
    step by step) are refused, not inflated."""
    body = _encoded("gzip", _encoded("gzip", json.dumps(envelope({"id": "1" * 32})).encode()))
    client = make_client(
        lambda r: _streamed("sync", body, {"content-encoding": encoding}), max_retries=0
    )
    with pytest.raises(cft.TransportError, match="encoded more than once"):
        client.request("GET", "/user")


def test_a_corrupt_compressed_body_fails_as_before(make_client: Callable[..., cft.Client]) -> None:
    client = make_client(
        lambda r: _streamed("sync", b"not gzip", {"content-encoding": "gzip"}), max_retries=0
    )
    with pytest.raises(cft.TransportError, match="DecodingError"):
        client.request("GET", "/user")


def test_lone_surrogate_escapes_in_a_body_become_replacement_characters(
    make_client: Callable[..., cft.Client],
) -> None:
    """``"name": "evil\\ud800"`` is valid JSON but not Unicode: the client hands back U+FFFD
    (in results and in error messages), so nothing downstream fails to encode it; a proper
    pair escape stays the character it encodes."""
    listing = (
        json.dumps(envelope([token_payload(1, "evil-SURR"), token_payload(2, "pair-PAIR")]))
        .replace("SURR", "\\ud800x\\udfff")
        .replace("PAIR", "\\ud83d\\ude80")
    )
    failure = b'{"success":false,"errors":[{"code":1000,"message":"bad \\udc80 key\\ud800"}]}'

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/user"):
            return httpx.Response(400, content=failure)
        return httpx.Response(200, content=listing.encode())

    client = make_client(handler)
    names = [t.name for t in client.tokens.list().collect()]
    assert names == ["evil-\ufffdx\ufffd", "pair-\U0001f680"]
    with pytest.raises(cft.CloudflareError) as caught:
        client.request("GET", "/user")
    assert "bad \ufffd key\ufffd" in str(caught.value)
    assert str(caught.value).encode("utf-8")
