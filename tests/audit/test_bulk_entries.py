"""The bulk path's column readers, against reading item by item.

``_fields`` reads several keys of every dict in one pass (over the dicts merged into defaults
when a key is missing); ``_entry_atoms`` reads the usual entry (a text key mapped to the text
``"*"``, found by identity) once per distinct key and every other entry through
``_bulk_atoms``; each entry's atoms must be what ``_bulk_atoms`` gives it alone, whatever the
mix.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from cftokens.audit._inventory import _bulk_atoms, _entry_atoms, _fields

ZONE_KEY = "com.cloudflare.api.account.zone."
ACCOUNT_KEY = "com.cloudflare.api.account."


class _Text(str):
    """A str subclass (a caller's own string type)."""


class _Anything:
    """A value that says it equals anything (``"*"`` included)."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


def _entry(rng: random.Random) -> tuple[Any, Any]:
    zone = f"{rng.getrandbits(128):032x}"
    account = f"{rng.getrandbits(128):032x}"
    return rng.choice(
        [
            (f"{ZONE_KEY}{zone}", "*"),
            (f"{ACCOUNT_KEY}{account}", "*"),
            (f"{ZONE_KEY}*", "*"),
            (f"{ACCOUNT_KEY}{account}", {f"{ZONE_KEY}{zone}": "*"}),
            (f"{ACCOUNT_KEY}{account}", {f"{ZONE_KEY}*": "*"}),
            (f"{ACCOUNT_KEY}{account}", {f"{ZONE_KEY}{zone}": "*", f"{ZONE_KEY}*": "*"}),
            (f"{ACCOUNT_KEY}{account}", {f"{ZONE_KEY}{zone}": "**"}),
            (f"{ACCOUNT_KEY}{account}", {f"{ZONE_KEY}{zone}": _Text("*")}),
            (f"{ACCOUNT_KEY}{account}", {f"{ZONE_KEY}{zone}": _Anything()}),
            (f"{ACCOUNT_KEY}{account}", {f"{ZONE_KEY}{zone}": {"x": "*"}}),
            (f"{ACCOUNT_KEY}{account}", {_Text(f"{ZONE_KEY}{zone}"): "*"}),
            (f"{ACCOUNT_KEY}{account}", {7: "*"}),
            (f"{ACCOUNT_KEY}{account}", {f"{ZONE_KEY}<ZONE_ID>": "*"}),
            (f"{ACCOUNT_KEY}<ACCOUNT_ID>", {f"{ZONE_KEY}{zone}": "*"}),
            (f"{ACCOUNT_KEY}{account}", {}),
            (_Text(f"{ACCOUNT_KEY}{account}"), {f"{ZONE_KEY}*": "*"}),
            (f"{ZONE_KEY}{zone}", {f"{ZONE_KEY}*": "*"}),
            (f"{ZONE_KEY}{zone}", _Text("*")),
            (_Text(f"{ZONE_KEY}{zone}"), "*"),
            (f"{ZONE_KEY}{zone}", _Anything()),
            (f"{ZONE_KEY}{zone}", "**"),
            (f"{ZONE_KEY}{zone}", ["*"]),
            (7, "*"),
            (f"{ZONE_KEY}<ZONE_ID>", "*"),
            (f"{ZONE_KEY}example.com", "*"),
            ("com.example.thing", "*"),
        ]
    )


@pytest.mark.parametrize("seed", range(5))
def test_entries_read_as_each_alone(seed: int) -> None:
    rng = random.Random(seed)
    entries = [_entry(rng) for _ in range(3000)]
    if seed == 0:  # only usual entries (the rule), and no entry at all
        entries = [e for e in entries if type(e[0]) is str and e[1] == "*" and type(e[1]) is str]
        assert _entry_atoms([], []) == []
    if seed == 1:  # only nested zone maps of text keys to "*" (an account's zones: read at once)
        entries = [(k, v) for k, v in entries if type(k) is str and type(v) is dict and v]
        entries = [(k, v) for k, v in entries if {*map(type, v.values())} == {str}]
        entries = [(k, v) for k, v in entries if set(v.values()) == {"*"}]
        assert entries
    if seed == 4:  # only nested maps under text keys, some of them of other values than "*"
        entries = [(k, v) for k, v in entries if type(k) is str and type(v) is dict and v]
    keys, values = [k for k, _ in entries], [v for _, v in entries]
    assert _entry_atoms(keys, values) == [_bulk_atoms(k, v) for k, v in entries]
    assert _entry_atoms(keys, values) == [_bulk_atoms(k, v) for k, v in entries]  # cached


def test_fields_read_as_get_item_by_item() -> None:
    """Every key present (one pass), one missing somewhere (a pass per key), None values,
    non-text keys, no items."""
    rng = random.Random(3)
    keys = ("id", "effect", 7)
    for _ in range(200):
        items: list[dict[Any, Any]] = [
            {k: rng.choice([None, "x", 1, [k]]) for k in keys if rng.random() < 0.97}
            for _ in range(rng.randint(0, 30))
        ]
        for chosen in (keys, keys[:2], ("absent", "id")):
            assert _fields(items, chosen) == [[i.get(k) for i in items] for k in chosen]
    assert _fields([{"a": 1}], ("a",)) == [[1]]


def test_fields_with_keys_every_item_should_have_read_as_get_item_by_item() -> None:
    """``every``: the keys read at once (the others by a pass each) when every item has them,
    else every key as without it: the same columns when they are all there, when one is
    missing in one item, when the others are missing everywhere or are never there."""
    rng = random.Random(4)
    keys = ("id", "status", "condition", 7, "expires_on")
    for _ in range(300):
        items: list[dict[Any, Any]] = [
            {k: rng.choice([None, "x", 1, [k]]) for k in keys if rng.random() < 0.9}
            for _ in range(rng.randint(0, 30))
        ]
        if rng.random() < 0.5:
            for item in items:
                item.setdefault("id", "i")
                item.setdefault("status", None)
        for every in (("id", "status"), ("id",), ("status", "id", 7), keys, ()):
            for chosen in (keys, ("absent", *keys), keys[::-1]):
                want = [[i.get(k) for i in items] for k in chosen]
                assert _fields(items, chosen, every) == want, (chosen, every)


def test_lower_hex_reads_text_as_the_pattern_does() -> None:
    """Differential: ``_lower_hex`` (a byte deletion) answers as ``[0-9a-f]*``'s fullmatch
    for every ASCII character, digits and letters of other scripts, fullwidth hex, upper
    case, lone surrogates and empty text, alone and inside long runs of hex."""
    import re

    from cftokens.audit._bulk import _lower_hex

    pattern = re.compile(r"[0-9a-f]*")
    run = "0123456789abcdef" * 64
    odd = [chr(c) for c in range(128)] + ["٠", "０", "ａ", "Ａ", "é", "\ud800", "\U0001d7ce"]
    texts = ["", run]
    for char in odd:
        texts += [char, run + char, char + run, run[:500] + char + run]
    for text in texts:
        assert _lower_hex(text) == (pattern.fullmatch(text) is not None), repr(text[:20])


def test_nested_maps_read_before_are_read_again_as_each_alone() -> None:
    """An account's nested zone keys read once (their atoms cached), then the same keys mapped
    to other values than the text "*", each alone and among entries read before: read as
    :func:`_bulk_atoms` reads each entry (the caches answer only for the same shape)."""
    key, nested = f"{ACCOUNT_KEY}{'a' * 32}", f"{ZONE_KEY}{'b' * 32}"
    usual = [(key, {nested: "*"}), (key, {nested: "*", f"{ZONE_KEY}*": "*"})]
    others: list[Any] = ["**", _Text("*"), _Anything(), "", None, {"x": "*"}]
    for value in others:
        for entries in (
            usual,
            [(key, {nested: value})],
            [(key, {nested: "*", f"{ZONE_KEY}*": value})],
            [*usual, (key, {nested: value}), *usual],
        ):
            keys, values = [k for k, _ in entries], [v for _, v in entries]
            assert _entry_atoms(keys, values) == [_bulk_atoms(k, v) for k, v in entries]
