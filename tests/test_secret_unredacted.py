"""``errors.unredacted``: a proof, over many texts at once, that :func:`redact` changes none
of them. It must never say so of a text redact changes (each shape alone, its pieces split by
characters drawn as nothing or their escapes, header words in any case, by re's rules of
case-insensitive matching too), on generated mixes of those pieces and clean text."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batched_cases import cases
from cftokens.errors import redact, unredacted, unredacted_json

SECRET = "cfut_" + "A1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv"
SHAPES = [
    SECRET,
    "cfat_" + "x" * 24,
    "cfk_" + "9" * 22,
    "v1.0-" + "0123456789abcdef" * 2 + "-ff",
    "a" * 40,
    "ab_-" * 10,
    "0123456789abcdef" * 2 + "01234",  # 37 hex
    "Authorization: Bearer abc",
    "authorization=xyz",
    "BEARER abcdef",
    "x-auth-key: 123",
    "X-Auth-User-Service-Key= v",
    "bearer\u200b token",  # a shape split by a character drawn as nothing
    "cfut_\u200b" + "A" * 30,
    "cfut_\\u200b" + "A" * 30,  # ... or by its escape
    "auth\u00adorization: x",
    "cf\u200but_" + "A" * 25,  # a prefix split: no piece of it a shape alone
    "cf\\u200but_" + "A" * 25,
    "a" * 20 + "\u2060" + "a" * 20,  # a bare run split
    "b" * 20 + "\\x00" + "b" * 20,
    "authorızation: x",  # dotless i: re's case-insensitive match of i
    "x-auth-\u212aey: x",  # Kelvin sign: re's case-insensitive match of k
    "Bearer \ud800abc",  # a lone surrogate
]
CLEAN = [
    "policy 2 of an account-owned token names 'com.cloudflare.api.account.zone."
    + "b9f3635cf88c422bcca2a92b03a56cc1' (a zone not nested under its own account)",
    "née café ✓ 🚀",
    "a" * 36,
    "v1.0",
    "cfut",
    "",
    "tab\there\r\nnew line",
]


@pytest.mark.parametrize("shape", SHAPES)
def test_a_text_redact_changes_is_never_proven_unchanged(shape: str) -> None:
    for text in (shape, f"prefix {shape} suffix", f"{shape}\n{CLEAN[0]}"):
        changed = redact(text) != text
        assert not (changed and unredacted([text])), text
        assert not (changed and unredacted([*CLEAN, text, *CLEAN])), text
        assert not (changed and _json_proven([*CLEAN, {text: 1}, *CLEAN])), text
        assert not (changed and _json_proven([{"k": [text]}])), text


def _json_proven(value: object) -> bool:
    """unredacted_json of ``value``'s JSON text; False where JSON cannot write it (a lone
    surrogate)."""
    try:
        raw = orjson.dumps(value)
    except TypeError:
        return False
    return unredacted_json(raw)


def test_clean_texts_are_proven_unchanged() -> None:
    assert all(redact(t) == t for t in CLEAN)
    assert unredacted(CLEAN)
    assert unredacted([])
    assert not unredacted([*CLEAN, SECRET])
    assert _json_proven(dict.fromkeys(CLEAN, CLEAN)) and not _json_proven({"k": [SECRET]})
    # a header word with a placeholder is left alone by redact, but not proven so (the proof
    # only needs to hold where it says True)
    assert redact("Bearer <token>") == "Bearer <token>" and not unredacted(["Bearer <token>"])


PIECES = [
    *SHAPES,
    *CLEAN,
    "Bearer <token>",
    "a" * 20,
    "0123456789abcdef" * 2,
    "-",
    "_",
    " ",
    "\n",
    "\u200b",
    "\\",
]


#: Lists of up to 6 texts, each up to 4 pieces joined.
TEXTS = st.lists(st.lists(st.sampled_from(PIECES), max_size=4).map("".join), max_size=6)


def _never_proven_wrongly(texts: list[str]) -> None:
    if unredacted(texts) or _json_proven(texts):
        assert all(redact(t) == t for t in texts)


# the inner loop's short run; the long one: test_generated_texts_long_run
@settings(max_examples=25, deadline=None)
@given(TEXTS)
def test_generated_texts(texts: list[str]) -> None:
    _never_proven_wrongly(texts)


@pytest.mark.slow
@cases(TEXTS, 400)
def test_generated_texts_long_run(texts: list[str]) -> None:
    _never_proven_wrongly(texts)
