"""Credentials found and hidden in any text cftokens stores or shows: :func:`redact` (each
replaced by a mark), :func:`labelled` (each by its own stable :func:`credential_label`, where
credentials must still be told apart), the proofs that texts hold none (:func:`unredacted`,
:func:`unredacted_json`) and :func:`shown` for a value echoed in a message. Public through
:mod:`cftokens.errors`, whose errors apply them when they are built."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence

__all__ = [
    "CREDENTIAL_BODY",
    "CREDENTIAL_PREFIX",
    "CREDENTIAL_PREFIXES",
    "credential_label",
    "credential_prefix",
    "describe",
    "labelled",
    "labelled_texts",
    "labelled_tree",
    "redact",
    "redact_uri",
    "redacted_once",
    "redacted_texts",
    "shown",
    "unredacted",
    "unredacted_json",
]

# Shapes that may be a credential: prefixed token secrets, 37-character global API keys,
# legacy 40-character token secrets, Origin CA keys (``v1.0-`` then hex groups; the
# X-Auth-User-Service-Key credential), and bearer and key headers. Used to scrub any text we
# store.
# A placeholder in angle brackets ("Bearer <token>", in our own advice) is not a credential.
_PLACEHOLDER = r"(?!(?:bearer\s+)?<[\w .-]*>)"
# a header word, then its value
_HEADERS = (
    re.compile(rf"(?i)(authorization\s*[:=]\s*){_PLACEHOLDER}(bearer\s+)?\S+"),
    re.compile(rf"(?i)(bearer\s+){_PLACEHOLDER}\S+"),
    re.compile(r"(?i)(x-auth-(?:user-service-)?key\s*[:=]\s*)\S+"),
)
#: The prefixes of Cloudflare's scannable credentials, as Cloudflare writes them, and the kind
#: each starts: the one definition the redaction and the leak scanner (:mod:`cftokens.detect`)
#: share. Either finds a prefix in any ASCII case (``CFUT_…``, ``Cfat_…`` are the secret to
#: whoever lowers the prefix again); what follows is :data:`CREDENTIAL_BODY`'s alphabet.
CREDENTIAL_PREFIXES: Mapping[str, str] = {
    "cfut_": "user_token",
    "cfat_": "account_token",
    "cfk_": "global_api_key",
}
#: A regular expression of the prefixes in any ASCII case (compile it with ``re.ASCII``; as
#: bytes, encode it).
CREDENTIAL_PREFIX = "(?i:" + "|".join(map(re.escape, CREDENTIAL_PREFIXES)) + ")"
#: The alphabet of a prefixed credential's 40 characters and checksum.
CREDENTIAL_BODY = "[A-Za-z0-9]"


def credential_prefix(text: str) -> str | None:
    """The prefix (as Cloudflare writes it) ``text`` starts with, in any ASCII case, or None."""
    head = text[:5].lower() if text[:5].isascii() else ""
    return next((p for p in CREDENTIAL_PREFIXES if head.startswith(p)), None)


# shapes only a credential has: an Origin CA key, a prefixed token secret (ASCII's case only,
# so the bytes searches of unredacted find each spelling in the text lowered)
_PREFIXED = (
    re.compile(r"(?<![A-Za-z0-9_.-])(?i:v)1\.0-[0-9A-Fa-f]{16,}(?:-[0-9A-Fa-f]+)*", re.ASCII),
    re.compile(rf"{CREDENTIAL_PREFIX}{CREDENTIAL_BODY}{{20,}}", re.ASCII),
)
# bare runs: a legacy 40-character token secret, a 37-character global API key
_LEGACY = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{40}(?![A-Za-z0-9_-])")
_GLOBAL_KEY = re.compile(r"(?<![0-9a-f])[0-9a-f]{37}(?![0-9a-f])")
_SECRET_PATTERNS = (*_HEADERS, *_PREFIXED, _LEGACY, _GLOBAL_KEY)


# Characters drawn as nothing, or as a box at most: format characters (zero-width space and
# joiners, bidi marks and controls, invisible operators, the byte-order mark), the soft hyphen,
# line and paragraph separators, Hangul fillers, variation selectors, tag characters, control
# characters, lone surrogates. A credential with one of them inside (``cfut_`` + U+200B + the
# rest) is still the credential to whoever deletes it, so the shapes are also looked for in
# the text without them; and without their escapes (``\u200b``, ``\x00``, ``\udb40\udc41``),
# which repr, JSON and the terminal write before a redaction may see the text.
_UNSEEN_CHAR = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ud800-\udfff"
    "\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e0fff]"
)
_ESCAPE = r"\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})"
# one of them, or an escape (only the escape of one of them is: see _unseen_spans)
_UNSEEN = re.compile(_UNSEEN_CHAR.pattern + "|" + _ESCAPE)
_ESCAPED = re.compile(_ESCAPE)


# Per byte: NUL for the ASCII characters _UNSEEN_CHAR matches (control characters other than
# tab, newline and carriage return; DEL), 1 for every other: ASCII text is searched through it
_ASCII_UNSEEN = bytes(0 if _UNSEEN_CHAR.match(chr(b)) else 1 for b in range(128)) + bytes(128)


def _may_hide(text: str) -> bool:
    """Whether ``text`` may hold a character drawn as nothing or its escape (two C-level
    searches: the alternation of both is several times slower on a long text). ASCII text
    (nearly all) is translated through :data:`_ASCII_UNSEEN` and searched for a NUL: ~10
    times faster than the character class, whose ranges ``re`` tests at every character."""
    if text.isascii():
        hidden = b"\x00" in text.encode("ascii").translate(_ASCII_UNSEEN)
    else:
        hidden = _UNSEEN_CHAR.search(text) is not None
    return hidden or ("\\" in text and _ESCAPED.search(text) is not None)


def _unseen_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` holds a character drawn as nothing, or the escape of one."""
    spans = []
    for match in _UNSEEN.finditer(text):
        found = match.group()
        if len(found) > 1:  # an escape: of a character drawn as nothing?
            code = int(found[2:], 16)
            if code > 0x10FFFF or _UNSEEN_CHAR.match(chr(code)) is None:
                continue
        spans.append(match.span())
    return spans


def redact(text: str, *, secrets: Sequence[str] = ()) -> str:
    """Return ``text`` with anything shaped like a credential replaced by ``[redacted]``.

    ``secrets`` are exact values to remove as well (for example the client's own token). A
    credential split by characters drawn as nothing (a zero-width space, a soft hyphen, a
    bidi mark) is found as if they were not there, and replaced with them."""
    return _scrubbed(text, secrets, None)


# What each of redact's shapes needs (see unredacted): a header word (matched as the patterns
# match it: case-insensitively, by re's rules), a prefix, a run of 37 characters a bare
# credential is made of (as bytes: those characters become "a", every other byte ".")
_HEADER_WORD = re.compile(r"(?i)authorization|bearer|x-auth-")
_HEADER_WORDS = (b"authorization", b"bearer", b"x-auth-")
_PREFIXES = (b"v1.0-", *(p.encode() for p in CREDENTIAL_PREFIXES))
_RUN_BYTES = bytes(
    ord("a") if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "_-") else ord(".")
    for b in range(256)
)
_BARE_RUN_BYTES = b"a" * 37


def unredacted(texts: Sequence[str]) -> bool:
    """Whether :func:`redact` (without ``secrets``) leaves every text of ``texts`` as it is,
    proven by a few C-level passes over them joined by newlines: no character drawn as
    nothing (nor its escape), no header word or prefix a credential's shape starts with, no
    run of 37 characters a bare credential is made of. False means a text may change: redact
    them one by one. (~5 ms for 500 kB of text, where :func:`redact` of each costs ~15 times
    that.)"""
    joined = "\n".join(texts)  # TypeError, as str.join, if one is not a str
    if _may_hide(joined):
        return False
    return _unredacted_raw(joined.encode("utf-8", "surrogatepass"), joined)


def unredacted_json(raw: bytes) -> bool:
    """:func:`unredacted` of JSON text given as its UTF-8 bytes (``orjson.dumps``'s): ASCII
    JSON with no backslash (a JSON writer escapes every control character) and no DEL holds
    no character drawn as nothing nor an escape, so only the bytes are searched (~half the
    cost); other text is decoded and proven by :func:`unredacted`."""
    if raw.isascii() and b"\\" not in raw and b"\x7f" not in raw:
        return _unredacted_raw(raw, None)
    return unredacted([raw.decode("utf-8", "surrogatepass")])


def _unredacted_raw(raw: bytes, text: str | None) -> bool:
    """:func:`unredacted`'s searches of the bytes ``raw`` (of ``text``, or ASCII when None)
    once no character drawn as nothing can be there."""
    if _BARE_RUN_BYTES in raw.translate(_RUN_BYTES):
        return False
    lowered = raw.lower()  # (ASCII letters only: the prefixes' case, as _PREFIXED reads it)
    if any(p in lowered for p in _PREFIXES):
        return False
    if raw.isascii():  # (re's case-insensitive matching is ASCII's on ASCII text)
        return not any(word in lowered for word in _HEADER_WORDS)
    return _HEADER_WORD.search(text if text is not None else raw.decode()) is None


def redacted_once(text: str, done: dict[str, str], secrets: Sequence[str] = ()) -> str:
    """:func:`redact` of ``text`` (with ``secrets``), remembered in ``done`` (text -> redacted
    text, for one set of ``secrets``): many copies of one text are redacted once."""
    shown = done.get(text)
    if shown is None:
        shown = done[text] = redact(text, secrets=secrets)
    return shown


def _scrubbed(text: str, secrets: Sequence[str], mark: Callable[[str], str] | None) -> str:
    """:func:`redact` with each credential replaced by ``mark(credential)`` (the value after
    a header word, as written), or by ``[redacted]`` when ``mark`` is None."""
    if _may_hide(text):
        text = _redact_split(text, secrets, _unseen_spans(text), mark)
    for secret in secrets:
        if secret:
            text = text.replace(secret, mark(secret) if mark else "[redacted]")
    for pattern in _SECRET_PATTERNS:
        if mark is not None:
            text = pattern.sub(lambda m: _marked(m, mark), text)
        elif pattern.groups:
            text = pattern.sub(lambda m: (m.group(1) or "") + "[redacted]", text)
        else:
            text = pattern.sub("[redacted]", text)
    return text


def _marked(match: re.Match[str], mark: Callable[[str], str]) -> str:
    """A match of a credential's shape with its value (after any header words) marked."""
    groups = [g for g in range(1, (match.re.groups or 0) + 1) if match.group(g)]
    start = max((match.end(g) for g in groups), default=match.start())
    return match.string[match.start() : start] + mark(match.string[start : match.end()])


def _redact_split(
    text: str,
    secrets: Sequence[str],
    unseen: list[tuple[int, int]],
    mark: Callable[[str], str] | None = None,
) -> str:
    """``text`` with each credential that characters drawn as nothing (or their escapes), at
    ``unseen``, split replaced by ``[redacted]`` (or ``mark`` of it): the shapes of
    :func:`redact` are found in the text without them and each span is mapped back. A
    credential not split is left to :func:`redact`'s own pass, so the output only differs
    where one was split."""
    if not unseen:
        return text
    kept: list[int] = []  # position in text of each character of visible
    last = 0
    for start, end in unseen:
        kept.extend(range(last, start))
        last = end
    kept.extend(range(last, len(text)))
    visible = "".join(text[i] for i in kept)
    spans: list[tuple[int, int]] = []
    for secret in secrets:
        if secret:
            spans += [(m.start(), m.end()) for m in re.finditer(re.escape(secret), visible)]
    for pattern in _SECRET_PATTERNS:
        for match in pattern.finditer(visible):
            if mark is None:  # [redacted] stands for the header's words after the first too
                start = match.end(1) if pattern.groups else match.start()
            else:
                start = max(
                    (match.end(g) for g in range(1, pattern.groups + 1) if match.group(g)),
                    default=match.start(),
                )
            if match.end() > start:
                spans.append((start, match.end()))
    split = sorted(
        (kept[start], kept[end - 1] + 1)
        for start, end in spans
        if kept[end - 1] + 1 - kept[start] != end - start  # something unseen inside
    )
    if not split:
        return text
    out, at = [], 0
    for start, end in split:
        if end <= at:
            continue
        shown = mark(text[start:end]) if mark else "[redacted]"
        out.append(text[at:start] + shown if start >= at else "")
        at = max(at, end)
    out.append(text[at:])
    return "".join(out)


def credential_label(credential: str) -> str:
    """The label shown in place of a credential where the audit must still tell credentials
    apart (a grant key): ``[redacted:`` and 10 hexadecimal digits of a BLAKE2b digest of the
    credential as a reader copies it (characters drawn as nothing left out) ``]``. The same
    credential always has the same label, in every run; two credentials have two labels
    (a collision is one chance in a million million). Forty bits of a digest cannot be turned
    back into a credential of a hundred bits or more."""
    digest = hashlib.blake2b(
        _seen(credential).encode("utf-8", "surrogatepass"), digest_size=5, person=b"cftokens label"
    )
    return f"[redacted:{digest.hexdigest()}]"


def labelled(text: str) -> str:
    """``text`` with each credential in it replaced by its :func:`credential_label`; ``text``
    itself when it holds none (a look-alike that is only a long name is left alone, as
    :func:`redacted_texts` leaves it)."""
    if not _may_hold(text) or not _credential_in(text):
        return text
    return _scrubbed(text, (), credential_label)


_DEEPEST = 200  # levels labelled_tree walks (a deeper part: _deep_labelled)
_TOO_DEEP = "[not read: nested too deeply to be checked for credentials]"


def labelled_tree(value: object, depth: int = 0) -> object:
    """``value`` (a JSON-like tree) with each text holding a credential, keys included, as
    :func:`labelled` shows it (a str subclass as plain text); ``value``
    itself, the same object, when none does. A part nested past :data:`_DEEPEST` levels is
    checked as its JSON text: one holding a credential is replaced by :data:`_TOO_DEEP`; one
    JSON cannot write (a cycle, nesting past the recursion limit) is left as it is, for the
    writer that meets it to refuse."""
    if isinstance(value, str):
        shown = labelled(str.__str__(value))  # (a subclass's own __str__ not asked)
        return value if shown == value else shown
    if depth > _DEEPEST and isinstance(value, Mapping | list | tuple):
        return _deep_labelled(value)
    if isinstance(value, Mapping):
        given = list(value.items())
        items = [(labelled_tree(k, depth + 1), labelled_tree(v, depth + 1)) for k, v in given]
        if all(a[0] is b[0] and a[1] is b[1] for a, b in zip(items, given, strict=True)):
            return value
        return dict(items)
    if isinstance(value, list | tuple):
        new = [labelled_tree(v, depth + 1) for v in value]
        return value if all(a is b for a, b in zip(new, value, strict=True)) else new
    return value


def _deep_labelled(value: object) -> object:
    """A part :func:`labelled_tree` does not walk: itself when its JSON text holds no
    credential or JSON cannot write it, else :data:`_TOO_DEEP`."""
    import json

    try:
        text = json.dumps(value, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        return value
    return value if labelled(text) == text else _TOO_DEEP


def labelled_texts(texts: Sequence[str]) -> dict[int, str]:
    """:func:`redacted_texts` with each credential shown as its :func:`credential_label`."""
    return _credential_texts(texts, labelled)


# Words at least one of which each pattern above needs, lower-cased; the patterns that need
# none (a global API key, a legacy secret) need a run of 37 or more characters.
_MARKERS = ("authorization", "bearer", "x-auth-", "v1.0-", *CREDENTIAL_PREFIXES)
# A character of each marker that is no hex digit: text without any of them (ids, hex keys)
# holds no marker, found by a few memchr-speed searches (a search for each marker costs
# several times as much on hex text, whose digits and letters the markers share)
_MARKER_SIGNS = frozenset(next(c for c in m if c not in "0123456789abcdef") for m in _MARKERS)
_SHORTEST_BARE = 37


def redacted_texts(texts: Sequence[str]) -> dict[int, str]:
    """The texts of ``texts`` that hold a credential, by position, as :func:`redact` shows
    them (a look-alike that is only a long name is left alone: see :func:`_credential_in`).

    Found without running every pattern over every text: only a text of 37 characters or
    more, or one holding a word a pattern needs (``bearer``, ``cfut_``...), can match, and one
    C-level search of them all finds whether any does (100,000 clean names in milliseconds)."""
    return _credential_texts(texts, redact)


def _credential_texts(texts: Sequence[str], show: Callable[[str], str]) -> dict[int, str]:
    """:func:`redacted_texts`, each text holding a credential shown by ``show``."""
    joined = "\n".join(texts).lower()  # TypeError, as str.join, if one is not a str
    joined = _seen(joined)  # a marker split by a character drawn as nothing ("\n" is kept)
    longest = max(map(len, texts), default=0)
    candidates = (
        [i for i, n in enumerate(map(len, texts)) if n >= _SHORTEST_BARE]
        if longest >= _SHORTEST_BARE
        else []
    )
    if any(sign in joined for sign in _MARKER_SIGNS) and any(m in joined for m in _MARKERS):
        long = set(candidates)
        candidates += [
            i
            for i, text in enumerate(texts)
            if i not in long and any(marker in _seen(text).lower() for marker in _MARKERS)
        ]
    out = {}
    for i in candidates:
        clean = redact(texts[i])
        if clean != texts[i] and _credential_in(texts[i]):
            out[i] = clean if show is redact else show(texts[i])
    return out


_BARE_RUN = re.compile(rf"[A-Za-z0-9_-]{{{_SHORTEST_BARE}}}")


def _may_hold(text: str) -> bool:
    """Whether ``text``, as a reader copies it, holds a run long enough for a bare credential
    or a word a credential's shape needs (one C-level search each: a resource key's longest
    run is its 32-character id)."""
    seen = _seen(text)
    return _BARE_RUN.search(seen) is not None or any(m in seen.lower() for m in _MARKERS)


_JWT = re.compile(r"[\w-]+\.[\w-]+\.[\w-]+")


def _seen(text: str) -> str:
    """``text`` without the characters drawn as nothing and their escapes (as a reader
    copies it)."""
    if not _may_hide(text):
        return text
    parts, last = [], 0
    for start, end in _unseen_spans(text):
        parts.append(text[last:start])
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _credential_in(text: str) -> bool:
    """Whether ``text`` holds a credential, not only a shape :func:`redact` scrubs to be safe:
    a value behind ``Authorization:``, ``Bearer`` or ``X-Auth-Key:`` counts when it is shaped
    like a JWT or has 16 characters or more with a digit or mixed cases (a token named
    ``Bearer token for Grafana`` is a name);
    a bare 40-character run counts when it mixes upper case, lower case and digits as a random
    legacy secret does, and 37 hexadecimal characters when they mix digits and letters (a
    token named ``terraform-production-dns-edit-token-0001`` is a name, not a secret)."""
    text = _seen(text)
    if any(pattern.search(text) for pattern in _PREFIXED):
        return True
    for pattern in _HEADERS:  # a header word: what follows it must look secret
        for match in pattern.finditer(text):
            start = max(match.end(g) for g in range(1, pattern.groups + 1) if match.group(g))
            value = text[start : match.end()]
            mixed = value not in (value.lower(), value.upper())
            if _JWT.fullmatch(value) or (
                len(value) >= 16 and (mixed or any(c.isdigit() for c in value))
            ):
                return True
    for match in _LEGACY.finditer(text):
        run = match.group()
        if run != run.lower() and run != run.upper() and any(c.isdigit() for c in run):
            return True
    return any(
        not run.isdigit() and not run.isalpha()
        for run in (m.group() for m in _GLOBAL_KEY.finditer(text))
    )


def _hides_secret(part: str, secrets: Sequence[str], plus: bool) -> bool:
    """True when ``part`` (a URI component), decoded up to three times, holds a credential."""
    from urllib.parse import unquote, unquote_plus

    decode = unquote_plus if plus else unquote
    text = part
    for _ in range(4):
        if redact(text, secrets=secrets) != text:
            return True
        decoded = decode(text)
        if decoded == text:
            return False
        text = decoded
    return "%" in text  # still encoded after three rounds: nobody writes that by accident


def redact_uri(text: str, *, secrets: Sequence[str] = ()) -> str:
    """A path or query (``/user/tokens/x?note=cfut%5F…``) with every segment, key or value
    that holds a credential once percent-decoded replaced by ``[redacted]``; the rest is kept
    exactly as sent."""
    if "?" in text:
        path, query = text.split("?", 1)
        return redact_uri(path, secrets=secrets) + "?" + _redact_query(query, secrets)
    return "/".join(
        "[redacted]" if _hides_secret(segment, secrets, plus=False) else segment
        for segment in text.split("/")
    )


def _redact_query(query: str, secrets: Sequence[str]) -> str:
    parts = []
    for pair in query.split("&"):
        key, sep, value = pair.partition("=")
        if _hides_secret(key, secrets, plus=True):
            key = "[redacted]"
        if sep and _hides_secret(value, secrets, plus=True):
            value = "[redacted]"
        parts.append(key + sep + value)
    return "&".join(parts)


def shown(value: object, *, secrets: Sequence[str] = (), limit: int = 80) -> str:
    """``repr(value)`` for an error message: redacted first (so no prefix of a secret survives
    the cut), then cut to about ``limit`` characters. Reads only the start of a huge string;
    a container or a huge number is described, never formatted (a YAML alias bomb holds
    billions of items)."""
    if isinstance(value, str | bytes) and len(value) > limit * 4:
        value = value[: limit * 4]
        text = repr(value)[:-1] + "…" + repr(value)[-1]
    elif isinstance(value, bool | float | str | bytes) or value is None:
        text = repr(value)
    elif isinstance(value, int):
        digits = int(abs(value).bit_length() * 0.30103) + 1
        text = repr(value) if digits < 80 else f"an integer of about {digits:,} digits"
    else:
        text = describe(value)
    clean = redact(text, secrets=secrets)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def describe(value: object) -> str:
    """What a value from a document is, in words, without formatting it: ``a list of 3
    items``, ``an object with 2 keys``, ``text``, ``a number``, ``true``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return f"an object with {len(value)} key{'s' if len(value) != 1 else ''}"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    return f"a {type(value).__name__}"
