"""The findings frame's fast paths against the plain computation they replace: finding ids
hashed from byte strings joined by numpy (against the definition, one finding at a time), on
the texts most likely to tell them apart (NUL bytes anywhere, texts longer than the fast
path takes, non-ASCII, empty texts, the separator inside a text), and the tables of
distinct texts the ids are built from."""

from __future__ import annotations

import hashlib
import random

import numpy as np
import pytest

from cftokens.audit import frames
from cftokens.audit.frames import _Column

HOSTILE = [
    "",
    "a",
    "None",
    "|",
    "a|b",
    "\0",
    "\0a",
    "a\0",
    "a\0b",
    "\0\0",
    "é",
    "zone é\u202e\u200b",
    "🙂" * 3,
    "x" * 255,
    "x" * 256,
    "é" * 128,  # 256 bytes in UTF-8
    "y" * 300 + "\0",
    "com.cloudflare.api.account.zone.023e105f4ecef8ad9ca31a8372d0c353",
]


def _definition(parts: list[list[str]]) -> list[str]:
    """The finding id's definition, finding by finding."""
    return [
        hashlib.blake2b("|".join(texts).encode(), digest_size=8).hexdigest()
        for texts in zip(*parts, strict=True)
    ]


def _columns(rng: random.Random, k: int, n_parts: int, empty_last: bool) -> list[_Column]:
    columns = []
    for i in range(n_parts):
        if i == n_parts - 1 and empty_last:
            columns.append(_Column(["", *HOSTILE[1:]], np.zeros(k, dtype=np.intp)))
            continue
        values = [*HOSTILE, *(f"v{i}-{j}" for j in range(rng.randrange(1, 30)))]
        rng.shuffle(values)
        codes = np.array([rng.randrange(len(values)) for _ in range(k)], dtype=np.intp)
        columns.append(_Column(values, codes))
    return columns


@pytest.mark.parametrize("fast_bytes", [0, 1, 8, 256, 100_000])
@pytest.mark.parametrize("empty_last", [False, True])
def test_hashed_ids_match_the_definition(fast_bytes: int, empty_last: bool) -> None:
    rng = random.Random(fast_bytes * 2 + empty_last)
    columns = _columns(rng, 3000, 6, empty_last)
    expected = _definition([[c.values[i] for i in c.codes.tolist()] for c in columns])
    got = frames._hashed_ids(columns, fast_bytes)
    assert got.dtype == object
    assert got.tolist() == expected


def test_hashed_ids_across_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of the fast path, and findings of the plain path between them, stay in place."""
    monkeypatch.setattr(frames, "_ID_BATCH", 7)
    columns = _columns(random.Random(3), 500, 3, False)
    expected = _definition([[c.values[i] for i in c.codes.tolist()] for c in columns])
    assert frames._hashed_ids(columns).tolist() == expected


def test_hashed_ids_of_no_finding() -> None:
    empty = np.zeros(0, dtype=np.intp)
    assert frames._hashed_ids([_Column(["a"], empty), _Column([""], empty)]).tolist() == []


@pytest.mark.parametrize("convert", [None, str])
def test_texts_in_use_keep_every_code_s_text(convert: object) -> None:
    rng = random.Random(5)
    values: list[object] = [*HOSTILE, *HOSTILE[:5], None, 3, "3"]
    codes = np.array([rng.randrange(len(values) - 4) for _ in range(400)], dtype=np.intp)
    if convert is not None:
        codes[:3] = [len(values) - 3, len(values) - 2, len(values) - 1]
    column = _Column(values, codes)
    used = frames._texts_in_use(column, convert)
    text = convert if convert is not None else (lambda v: v)
    assert [used.values[c] for c in used.codes.tolist()] == [
        text(values[c]) for c in codes.tolist()
    ]
    # only the values in use
    assert len(used.values) == len(set(codes.tolist()))
