"""Detectors: where a block of text holds a Cloudflare credential.

A leaf module (it imports from cftokens only the credentials' prefixes and alphabet, the
one definition it shares with the redaction of every output, :mod:`cftokens._redaction`): the
leak scanner (:mod:`cftokens.leak`) and the audit's check of token names
(:mod:`cftokens.audit.secrets`) both use it.

Formats (Cloudflare's "Token formats" page, 2026):

=====================  ======================================  ===============================
kind                   format                                  found
=====================  ======================================  ===============================
``user_token``         ``cfut_`` + 40 characters + checksum    anywhere
``account_token``      ``cfat_`` + 40 characters + checksum    anywhere
``global_api_key``     ``cfk_`` + 40 characters + checksum     anywhere
``legacy_token``       40 characters ``[A-Za-z0-9_-]``         only where context names a token
``legacy_api_key``     37-45 lower-case hex characters         only where context names a key
=====================  ======================================  ===============================

**The checksum algorithm is not documented by Cloudflare**, nor is its length, so a prefixed
hit is recognised by its prefix, its alphabet (``[A-Za-z0-9]``) and its length (40 characters
plus at least one checksum character: ``high`` confidence; exactly 40: ``medium``, perhaps cut
short). Nothing here claims a checksum was checked. The prefix is found in any case
(``CFUT_…``, ``Cfat_…``: a log line in capitals, a sentence's first word): the rest is the
secret to whoever lowers the prefix again, so it is reported as Cloudflare writes it (the
prefix lower-cased, the rest as found), the same secret as its lower-case spelling.
The legacy formats are too plain to find alone: a 40-character string is reported only
after a name that says what it is
(``CLOUDFLARE_API_TOKEN=``, ``CF_API_TOKEN:``, ``api_token = "…"`` in HCL, a JSON key
``"api_token"``, ``Authorization: Bearer …``) and a hex key only after ``X-Auth-Key``,
``CF_API_KEY``, ``CLOUDFLARE_API_KEY``, ``api_key``/``global_api_key``. Names that say
Cloudflare give ``medium`` confidence; generic names (``api_token``, ``Bearer``) give
``medium`` when the same file mentions Cloudflare, else ``low``. A Cloudflare name may also
be the ``name`` of a name/value pair (``- name: CLOUDFLARE_API_TOKEN`` then ``value: …`` on
the next line, ``{"name": …, "value": …}``). Names may be spelled with
``-`` (``api-token``, ``--cloudflare-api-token VALUE``); quotes may be JSON-escaped (``\\"``),
as inside a notebook's source or output. A prefixed secret may follow an escape (``\\n`` in a
JSON string or a repr, ``%3D`` in a URL); a legacy value that is all hex (a git sha, a SHA-1
digest) is not a token.

Placeholders are not credentials: a value with few distinct characters (``cfut_XXXX…``,
``aaaa…``) or, for legacy values, with fewer than two of upper case, lower case and digits
(``your_cloudflare_api_token_here_xxxxxxxxx``) is ignored.

Speed: every credential is a run of at least 37 characters of ``[A-Za-z0-9_-]``. One C pass
(``bytes.translate``) marks those characters, ``bytes.find`` jumps from one such run to the
next, and only runs get a closer look: a prefix check, and the context expression on the 256
bytes before the run when they hold ``token``, ``key`` or ``bearer``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from attrs import evolve, frozen

from ._redaction import CREDENTIAL_BODY, CREDENTIAL_PREFIX, CREDENTIAL_PREFIXES, credential_prefix

__all__ = ["KINDS", "RawHit", "as_written", "detect", "fingerprint_of"]

#: kind -> what it is, in words.
KINDS: dict[str, str] = {
    "user_token": "a user API token (cfut_)",
    "account_token": "an account API token (cfat_)",
    "global_api_key": "a Global API Key (cfk_)",
    "legacy_token": "an API token in the pre-2026 format (40 characters)",
    "legacy_api_key": "a Global API Key in the pre-2026 format (hex)",
}
# the left boundary is checked after; as text, what a legacy value must not be (a value
# that is one was found by this pattern already)
_PREFIXED_PATTERN = rf"{CREDENTIAL_PREFIX}({CREDENTIAL_BODY}{{40,60}})(?![A-Za-z0-9_])"
_PREFIXED = re.compile(_PREFIXED_PATTERN.encode(), re.ASCII)
_PREFIXED_TEXT = re.compile(_PREFIXED_PATTERN, re.ASCII)
_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")

# Every credential is a run of at least 37 characters of [A-Za-z0-9_-] (a prefixed secret
# with its prefix, a legacy token, a hex key). One C pass maps those characters to "a" and the
# rest to " "; bytes.find then jumps from run to run, and only runs get a closer look.
_RUN_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_RUN_TABLE = bytes(0x61 if i in _RUN_CHARS else 0x20 for i in range(256))
_MIN_RUN = 37
_RUN = b"a" * _MIN_RUN
_WINDOW = 256  # how far before a value its name may start
_NAMES = (b"token", b"key", b"bearer")
_CLOUDFLARE = (b"cloudflare", b"Cloudflare", b"CLOUDFLARE", b"CloudFlare")
_Q = r"""\\?["']?"""  # an optional quote, maybe JSON-escaped
# the end of the name, then = : , or => (or only spaces: ``--api-token VALUE``, fish's ``set``)
_SEP = rf"""{_Q}\]?(?:\s*(?::=|=>|[:=,])\s*|\s+){_Q}"""
# names are spelled with _ or - (``CF_API_TOKEN``, cert-manager's ``api-token``, CLI flags)
_CF_TOKEN = r"(?:cloudflare|\bcf)[a-z0-9_-]*?[_-]?(?:api[_-]?)?token"
_CF_KEY = r"(?:cloudflare|\bcf)[a-z0-9_-]*?[_-]?(?:api|auth|global)[_-]?key|x-auth-key"
# a name/value pair (Kubernetes env, ECS, Terraform): ``name: X`` then ``value: …`` on the
# same line or the next
_PAIR = rf"""{_Q}\s*,?\s*{_Q}value"""
_GENERIC_TOKEN = r"\bapi[_-]?token"
_GENERIC_KEY = r"\b(?:global[_-]?)?api[_-]?key"
_CONTEXT = re.compile(
    rf"""(?ix)
    (?:
        (?P<cftoken>{_CF_TOKEN}) (?:{_PAIR})? {_SEP} (?:bearer\s+)?
      | (?P<cfkey>{_CF_KEY}) (?:{_PAIR})? {_SEP}
      | (?P<token>{_GENERIC_TOKEN}) {_SEP} (?:bearer\s+)?
      | (?P<key>{_GENERIC_KEY}) {_SEP}
      | (?P<bearer>authorization {_SEP} \s* bearer \s+ | \bbearer \s+)
    )
    (?P<value>[A-Za-z0-9_-]{{20,80}})(?![A-Za-z0-9_-])
    """
)
_LEGACY = re.compile(r"[A-Za-z0-9_-]{40}")
# a git sha, a SHA-1 digest, a GitHub classic token: a random legacy token is almost never hex
_HEX_40 = re.compile(r"[0-9a-f]{40}|[0-9A-F]{40}")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_HEX_KEY = re.compile(r"[0-9a-f]{37,45}")


@frozen(kw_only=True)
class RawHit:
    """One credential found in a block of text (the value stays in ``value``: handle with care).

    ``start`` is the value's byte offset in the block, ``kind`` one of :data:`KINDS`,
    ``confidence`` ``high``/``medium``/``low``, ``context`` the name that made a legacy value a
    hit (empty for prefixed ones).
    """

    start: int
    kind: str
    value: str
    confidence: str
    context: str = ""


def as_written(value: str) -> str:
    """A prefixed secret (a prefix in any ASCII case, then 40 to 60 characters of its
    alphabet) with its prefix as Cloudflare writes it, in lower case: ``CFUT_…`` is ``cfut_…``
    to whoever lowers it again, the value :func:`detect` reports. Any other value as it is (a
    legacy 40-character token may begin like a prefix: ``CFK_…`` is then its own secret)."""
    if not _PREFIXED_TEXT.fullmatch(value):
        return value
    prefix = value[: value.index("_") + 1].lower()
    return prefix + value[len(prefix) :]


def fingerprint_of(value: str) -> str:
    """What may be shown of a secret: its public prefix and its last four characters."""
    prefix = credential_prefix(value)
    return f"{prefix}…{value[-4:]}" if prefix else f"…{value[-4:]}"


def _placeholder(value: str, minimum: int) -> bool:
    return len(set(value)) < minimum


def _mixed(value: str) -> bool:
    """At least two of upper case, lower case and digits (random secrets have them; names,
    words and placeholders such as ``your_api_token_here`` mostly do not)."""
    classes = (
        any(c.isupper() for c in value),
        any(c.islower() for c in value),
        any(c.isdigit() for c in value),
    )
    return sum(classes) >= 2


def detect(data: bytes) -> list[RawHit]:
    """Every credential in ``data`` (bytes of text in an ASCII-compatible encoding), ordered by
    position. Offsets are byte offsets into ``data``."""
    hits: list[RawHit] = []
    runs = data.translate(_RUN_TABLE)
    find = runs.find
    pos = find(_RUN)
    mentions_cloudflare: bool | None = None  # looked up once, when a generic name needs it
    while pos >= 0:
        end = find(b" ", pos + _MIN_RUN)
        end = len(runs) if end < 0 else end
        if b"cf" in data[pos:end].lower():
            hits.extend(_prefixed(data, pos, end))
        line = data.rfind(b"\n", 0, pos) + 1
        if line and b"value" in data[line:pos].lower():  # the name may be on the line above
            line = data.rfind(b"\n", 0, line - 1) + 1
        before = max(line, pos - _WINDOW)
        head = data[before:pos].lower()
        if any(name in head for name in _NAMES):
            text = data[before:end].decode("latin-1")  # one character per byte: offsets hold
            for m in _CONTEXT.finditer(text):
                if before + m.start("value") != pos:
                    continue
                hit = _legacy(m, pos)
                if hit is None:
                    continue
                if hit.confidence == "low":
                    if mentions_cloudflare is None:
                        mentions_cloudflare = any(n in data for n in _CLOUDFLARE)
                    if mentions_cloudflare:
                        hit = evolve(hit, confidence="medium")
                hits.append(hit)
        pos = find(_RUN, end)
    hits.sort(key=lambda h: h.start)
    return hits


def _escaped(data: bytes, start: int) -> bool:
    """True when the word character before ``start`` ends an escape: ``\\n``, ``\\t``,
    ``\\r`` (a JSON string, a Python repr) or ``%3D`` (a URL-encoded query)."""
    if start >= 2 and data[start - 2] == 0x5C and data[start - 1] in b"ntr":
        return True
    percent = start >= 3 and data[start - 3] == 0x25
    return percent and all(c in _HEX for c in data[start - 2 : start])


def _prefixed(data: bytes, start: int, end: int) -> Iterator[RawHit]:
    for m in _PREFIXED.finditer(data, start, end):
        if m.start() and data[m.start() - 1] in _WORD and not _escaped(data, m.start()):
            continue
        body = m.group(1).decode("ascii")
        if _placeholder(body, 10):
            continue
        found = m.group(0).decode("ascii")
        prefix = found[: found.index("_") + 1].lower()
        value = prefix + body  # as Cloudflare writes it: CFUT_… is cfut_… to whoever lowers it
        kind = CREDENTIAL_PREFIXES[prefix]
        confidence = "high" if len(body) > 40 else "medium"
        yield RawHit(start=m.start(), kind=kind, value=value, confidence=confidence)


def _legacy(m: re.Match[str], start: int) -> RawHit | None:
    """A legacy hit (``low`` confidence for a generic name: the caller raises it to ``medium``
    when the text mentions Cloudflare), or None for a value that does not fit its name."""
    value = m.group("value")
    if _PREFIXED_TEXT.match(value):
        return None  # found as a prefixed secret, whatever its context
    # (a legacy token may begin like a prefix, cfk_… or CFUT_…: too short for a prefixed one)
    name = next(g for g in ("cftoken", "cfkey", "token", "key", "bearer") if m.group(g))
    if name in ("cftoken", "token", "bearer"):
        if not _LEGACY.fullmatch(value) or _placeholder(value, 12) or not _mixed(value):
            return None
        if _HEX_40.fullmatch(value):
            return None
        kind = "legacy_token"
    else:
        if not _HEX_KEY.fullmatch(value) or _placeholder(value, 8) or not _mixed(value):
            return None
        kind = "legacy_api_key"
    named = name in ("cftoken", "cfkey")
    confidence = "medium" if named else "low"
    return RawHit(
        start=start, kind=kind, value=value, confidence=confidence, context=m.group(name).strip()
    )
