"""Ids, token secrets and Global API Keys the sandbox issues, and how it stores them.

Secret format (Cloudflare's checksum is not public, so the sandbox uses its own)::

    cfut_ | 40 characters [A-Za-z0-9] | 6 characters: checksum      (user-owned tokens)
    cfat_ | 40 characters [A-Za-z0-9] | 6 characters: checksum      (account-owned tokens)

The checksum is the CRC-32 (``zlib.crc32``) of the prefix and the 40 characters, written as 6
base-62 digits (``0-9A-Za-z``), most significant first. :func:`is_sandbox_secret` checks it, so a
mistyped secret is recognised without a database lookup. Global API Keys are 37 lower-case hex
characters, like Cloudflare's.

Secrets are stored only as ``HMAC-SHA256(per-sandbox key, secret)`` and compared with
:func:`hmac.compare_digest`. Deterministic sandboxes derive ids and secrets from the seed and a
counter (same seed, same values); ``secure=True`` draws secrets from the OS (the HTTP server).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets as _os_secrets
import zlib

__all__ = [
    "ALPHABET",
    "Generator",
    "checksum",
    "is_sandbox_secret",
    "keyed_hash",
    "make_secret",
]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SECRET_RE = re.compile(r"(cfut_|cfat_)([A-Za-z0-9]{40})([A-Za-z0-9]{6})")
BODY_LENGTH = 40


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits))


def checksum(prefix: str, body: str) -> str:
    """The 6-character checksum of a secret's prefix and body."""
    return _base62(zlib.crc32((prefix + body).encode()), 6)


def make_secret(prefix: str, body: str) -> str:
    """Assemble ``prefix + body + checksum``."""
    return prefix + body + checksum(prefix, body)


def is_sandbox_secret(value: str) -> bool:
    """True when ``value`` has the sandbox's secret format and a correct checksum."""
    m = _SECRET_RE.fullmatch(value)
    return m is not None and checksum(m.group(1), m.group(2)) == m.group(3)


def keyed_hash(key: bytes, value: str) -> str:
    """The stored form of a secret: HMAC-SHA256 under the sandbox's key, hex."""
    return hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


class Generator:
    """Deterministic ids and secrets from ``(seed, counter)``; ``secure`` secrets from the OS."""

    def __init__(self, seed: int | str, *, secure: bool = False):
        self.seed = str(seed)
        self.secure = secure

    def __repr__(self) -> str:
        # Not the seed: with deterministic secrets it is the key to every one of them.
        secrets = "secrets from the OS" if self.secure else "deterministic secrets"
        return f"<Generator: deterministic ids, {secrets}>"

    def _digest(self, label: str, counter: int) -> bytes:
        return hashlib.sha256(f"cftokens-sandbox/{self.seed}/{label}/{counter}".encode()).digest()

    def id(self, counter: int) -> str:
        """A 32-hex identifier."""
        return self._digest("id", counter)[:16].hex()

    def ray(self, counter: int) -> str:
        """A Ray id (16 hex characters) for a request."""
        return self._digest("ray", counter)[:8].hex()

    def body(self, counter: int, length: int = BODY_LENGTH) -> str:
        """``length`` base-62 characters."""
        if self.secure:
            return "".join(_os_secrets.choice(ALPHABET) for _ in range(length))
        number = int.from_bytes(
            self._digest("secret", counter) + self._digest("secret+", counter), "big"
        )
        return _base62(number, length)

    def token_secret(self, prefix: str, counter: int) -> str:
        """A token secret ``cfut_…``/``cfat_…`` with its checksum."""
        return make_secret(prefix, self.body(counter))

    def legacy_secret(self, counter: int) -> str:
        """A pre-2025 style secret: 40 characters of ``[A-Za-z0-9_-]``."""
        alphabet = ALPHABET + "_-"
        if self.secure:
            return "".join(_os_secrets.choice(alphabet) for _ in range(40))
        number = int.from_bytes(
            self._digest("legacy", counter) + self._digest("legacy+", counter), "big"
        )
        chars = []
        for _ in range(40):
            number, rest = divmod(number, 64)
            chars.append(alphabet[rest])
        return "".join(chars)

    def api_key(self, counter: int) -> str:
        """A Global API Key: 37 lower-case hex characters."""
        if self.secure:
            return _os_secrets.token_hex(19)[:37]
        return (self._digest("api-key", counter) + self._digest("api-key+", counter)).hex()[:37]
