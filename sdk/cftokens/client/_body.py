"""A response body read up to the client's cap, inflated by the client itself.

httpx inflates a compressed body one network chunk at a time, each chunk whole: a 64 KiB
chunk of gzip can become 64 MB before the client sees it and checks ``max_response_bytes``
(zeros inflate ~1,000 times). :class:`BodyReader` reads the raw bytes instead and inflates
them with zlib's ``max_length``, so it never holds more than the cap plus one byte of body.
It reads the codings the client asks for (:data:`ACCEPT_ENCODING`) as httpx does: ``gzip``,
``deflate`` (zlib-wrapped, or raw as some servers send it), ``identity``; a coding it did not
ask for is left as it is (as httpx leaves one it has no decoder for: the JSON reading then
fails); a body encoded more than once is refused (no API answer is, and its inflation cannot
be bounded step by step).
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    import httpx

__all__ = ["ACCEPT_ENCODING", "BodyReader"]

#: The content codings the client asks for: the ones :class:`BodyReader` inflates (httpx
#: would otherwise also ask for ``br`` and ``zstd`` when their packages are installed).
ACCEPT_ENCODING = "gzip, deflate"
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


class BodyReader:
    """The body of ``response`` as :meth:`take` is given its raw chunks: ``body`` holds what
    was read (inflated), at most ``cap + 1`` bytes; :meth:`take` and :meth:`finish` return
    False once the body is over ``cap`` (the caller stops reading).

    A body encoded more than once raises ``httpx.DecodingError`` here; one that does not
    inflate raises it from :meth:`take` or :meth:`finish`, as httpx's own decoders do.
    """

    def __init__(self, response: httpx.Response, cap: int):
        self.cap = cap
        self.body = bytearray()
        self._request = response.request
        codings = [
            value.strip().lower()
            for value in response.headers.get_list("content-encoding", split_commas=True)
        ]
        known = [coding for coding in codings if coding in _WBITS]
        if len(known) > 1:
            self._fail(
                f"the response is encoded more than once ({', '.join(codings)}); the "
                "client reads one gzip or deflate coding"
            )
        self._coding = known[0] if known else None
        self._inflater = zlib.decompressobj(_WBITS[self._coding]) if self._coding else None
        self._first = True

    def take(self, chunk: bytes) -> bool:
        """Add a raw chunk of the body; False once the body exceeds the cap."""
        room = self.cap - len(self.body) + 1  # >= 1: reading stops once over the cap
        self.body += self._inflate(chunk, room) if self._inflater is not None else chunk
        return len(self.body) <= self.cap

    def take_inflated(self, content: bytes) -> bool:
        """Add body bytes already inflated (an in-process transport's answer, which httpx
        read whole when it was made); False if over the cap."""
        self.body += content[: self.cap - len(self.body) + 1]
        return len(self.body) <= self.cap

    def finish(self) -> bool:
        """The end of the raw body: add what the inflater still holds; False if over the cap.
        (Nothing is left unread in it here: input it kept back means the cap was reached.)"""
        if self._inflater is not None:
            try:
                rest = self._inflater.flush()
            except zlib.error as exc:
                self._fail(str(exc))
            self.body += rest[: self.cap - len(self.body) + 1]
        return len(self.body) <= self.cap

    def _inflate(self, chunk: bytes, room: int) -> bytes:
        assert self._inflater is not None
        if not chunk:
            return b""
        first, self._first = self._first, False
        try:
            # at most `room` bytes: the rest of the input waits in unconsumed_tail, and the
            # body is then over the cap, so it is never inflated
            return self._inflater.decompress(chunk, room)
        except zlib.error as exc:
            if first and self._coding == "deflate":  # raw deflate, as httpx retries it
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                return self._inflate(chunk, room)
            self._fail(str(exc))

    def _fail(self, message: str) -> NoReturn:
        import httpx

        raise httpx.DecodingError(message, request=self._request)
