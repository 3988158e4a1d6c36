"""What a person reads: terminal escapes, spreadsheet formulas and chart labels (``_text``)."""

from __future__ import annotations

import collections
import csv
import dataclasses
import io
import random
from typing import Any

import attrs
import pytest
from hypothesis import strategies as st

from batched_cases import cases
from cftokens._text import (
    chart_label,
    csv_cell,
    csv_frame,
    csv_rows,
    lone_surrogate,
    may_hold_surrogates,
    printable,
    unicode_text,
    unicode_tree,
)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[1A\x1b[2Kworst", "\\x1b[1A\\x1b[2Kworst"),
        ("\x1b[8mhidden", "\\x1b[8mhidden"),
        ("a\nforged row", "a\\nforged row"),
        ("carriage\rreturn", "carriage\\x0dreturn"),
        ("del\x7f", "del\\u007f"),
        ("c1\x9bcsi", "c1\\u009bcsi"),
        ("\u202etxt.exe", "\\u202etxt.exe"),
        ("plain ünïcode 🙂", "plain ünïcode 🙂"),
        ("lone\ud800surrogate\udfff", "lone\\ud800surrogate\\udfff"),
    ],
)
def test_printable_shows_control_characters_as_escapes(raw: str, shown: str) -> None:
    """C0 and C1 controls and DEL become visible ``\\xNN`` text; other text is kept."""
    assert printable(raw) == shown


def test_printable_keeps_newlines_only_when_asked() -> None:
    """A message cftokens wrote may keep its line breaks; its other controls are still escaped."""
    assert printable("one\ntwo\x1b", newlines=True) == "one\ntwo\\x1b"


# The two long properties draw their 200 texts 8 to a Hypothesis example (tests/batched_cases.py).
@pytest.mark.slow
def test_printable_output_never_holds_a_control_character() -> None:
    """Whatever the input, nothing a terminal interprets survives."""

    @cases(st.text(), 200)
    def clean(text: str) -> None:
        out = printable(text)
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u202e\u2066" for c in out)

    clean()


@pytest.mark.slow
def test_printed_json_stays_the_same_json() -> None:
    """JSON printed through the helper (as ``cftokens scan --format json`` is) still parses
    to the same value."""
    import json

    @cases(st.text(), 200)
    def same(text: str) -> None:
        dumped = json.dumps({"name": text}, ensure_ascii=False)
        assert json.loads(printable(dumped, newlines=True)) == {"name": text}

    same()


@pytest.mark.parametrize(
    "formula",
    ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
     "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "=1", "-", "+", "@"],
)  # fmt: skip
def test_csv_cell_neutralises_formulas(formula: str) -> None:
    """OWASP: a text cell starting with = + - @ tab or CR gets a leading quote."""
    assert csv_cell(formula) == "'" + formula


@pytest.mark.parametrize("value", [-3, 2.5, True, None, "-3", "+1.5e3", "-.5", "name", "'=x"])
def test_csv_cell_leaves_numbers_and_plain_text(value: object) -> None:
    """Numbers (typed, or as plain numeric text) and ordinary text are unchanged."""
    assert csv_cell(value) == value


def test_csv_rows_and_frame_write_no_formula_cell() -> None:
    """Rows for ``csv.writer`` and DataFrames for ``to_csv`` come out neutralised; numeric
    columns keep their numbers."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "name": ["=cmd", "ok", None],
            "tags": [["=x"], ["y"], []],
            "n": [-1, 2, 3],
            "score": [-1.5, 0.0, 2.0],
            "flag": [True, False, True],
        }
    )
    text = csv_frame(frame).to_csv(index=False)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][:3] == ["'=cmd", "['=x']", "-1"]
    assert rows[1][3:] == ["-1.5", "True"]
    assert rows[3][0] == ""  # a missing value stays empty
    assert frame["name"].iloc[0] == "=cmd"  # the caller's frame is not changed
    assert csv_rows([["@x", 5, "-7"]]) == [["'@x", 5, "-7"]]


def test_chart_label_is_short_and_printable() -> None:
    """A chart label shows control characters as escapes and is cut to a readable length."""
    label = chart_label("\x1b[2K" + "x" * 500)
    assert label.startswith("\\x1b[2K") and len(label) == 60 and label.endswith("…")


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("evil\ud800name", "evil\ufffdname"),
        ("\udc80", "\ufffd"),
        ("a\ud83db", "a\ufffdb"),
        ("\ude00\ud83d", "\ufffd\ufffd"),  # a low then a high surrogate are no pair
        ("\ud83d\ude00", "\U0001f600"),  # a pair as two code units is the character
        ("clean ünïcode 🙂", "clean ünïcode 🙂"),
        ("", ""),
    ],
)
def test_unicode_text_replaces_lone_surrogates(raw: str, fixed: str) -> None:
    """Each lone surrogate becomes U+FFFD; the result always encodes as UTF-8."""
    assert unicode_text(raw) == fixed
    assert unicode_text(raw).encode("utf-8").decode("utf-8") == fixed


def test_unicode_tree_reaches_keys_and_nested_values() -> None:
    """Keys, lists, tuples and nested dicts; non-text values are kept."""
    value = {"a\ud800": [1, ("x\udfff", None)], "n": {"k": "v\ud800"}, "ok": True}
    assert unicode_tree(value) == {
        "a\ufffd": [1, ("x\ufffd", None)],
        "n": {"k": "v\ufffd"},
        "ok": True,
    }
    assert lone_surrogate(value) is not None
    assert lone_surrogate(unicode_tree(value)) is None
    assert lone_surrogate({"k": ["fine", 3]}) is None


def test_unicode_tree_converts_any_depth_and_any_cycle() -> None:
    """Cycles (through a list, a dict, a tuple) come back as the same cycles, converted; a
    value 3,000 levels deep (three times Python's default recursion limit) is converted whole
    (it raised RecursionError, and the audit then kept a token's lone surrogate); shared
    containers stay shared."""
    loop: list[Any] = ["x\ud800"]
    loop.append(loop)
    out = unicode_tree(loop)
    assert out[0] == "x\ufffd" and out[1] is out and out is not loop
    node: dict[str, Any] = {"k\udc00": "v"}
    node["self"] = (node, [node])
    got = unicode_tree(node)
    assert list(got) == ["k\ufffd", "self"]
    assert got["self"][0] is got and got["self"][1][0] is got
    shared = ["s\ud800"]
    pair = unicode_tree([shared, (shared,), {"a": shared}])
    assert pair[0] == ["s\ufffd"] and pair[1][0] is pair[0] and pair[2]["a"] is pair[0]
    _assert_deep_value_converted(3_000)


@pytest.mark.slow  # 80,000 containers; the inner loop converts 3,000 levels (above)
def test_unicode_tree_converts_a_value_20000_levels_deep() -> None:
    _assert_deep_value_converted(20_000)


def _assert_deep_value_converted(levels: int) -> None:
    deep: list[Any] = ["end\ud800"]
    for _ in range(levels):
        deep = [deep, ("t",)]
    converted = unicode_tree(deep)
    for _ in range(levels):
        assert converted[1] == ("t",)
        converted = converted[0]
    assert converted == ["end\ufffd"]


@pytest.mark.parametrize(
    ("raw", "maybe"),
    [
        (b'{"name": "x\\ud800"}', True),
        (b'{"name": "x\\uDFFF"}', True),
        (b'{"name": "\\ud83d\\ude00"}', True),  # a pair: decoded clean, but only a walk knows
        (b'{"name": "caf\\u00e9 \xf0\x9f\x99\x82"}', False),
        ('{"name": "x\ud800"}', True),  # a str may hold the surrogate itself
        ('{"name": "x\\ud800"}', True),
        ('{"name": "caf\u00e9"}', False),
    ],
)
def test_may_hold_surrogates_is_false_only_for_clean_json(raw: str | bytes, maybe: bool) -> None:
    """``False`` proves the decoded JSON clean; escapes of surrogates answer ``True``."""
    assert may_hold_surrogates(raw) is maybe
    if not maybe:
        import json

        assert lone_surrogate(json.loads(raw)) is None


def test_utf8_encodable_finds_a_surrogate_anywhere_and_proves_clean_objects() -> None:
    """Keys, nested values and tuples; clean non-BMP text passes; what pickle cannot write is
    not proven clean (the caller walks it)."""
    from cftokens._text import utf8_encodable

    assert utf8_encodable({"a": ["x🙂é", ("ok", 1, None)], "b": b"\xed\xbf"[:0]})
    assert not utf8_encodable({"a": [{"b": ("x\ud800",)}]})
    assert not utf8_encodable({"k\udc80": 1})
    assert not utf8_encodable([lambda: 1])
    # what marshal cannot write goes through pickle (without its memo): still checked
    from collections import OrderedDict, UserDict

    assert utf8_encodable([OrderedDict(a="é"), UserDict(b=["x"])])
    assert not utf8_encodable(OrderedDict(a=[{"b": "\udfff"}]))
    assert not utf8_encodable(UserDict(a="\ud800"))
    cycle: list[object] = []
    cycle.append(cycle)
    assert not utf8_encodable([UserDict(), cycle])  # not proven: walked instead
    # one string object repeated: its text is written once, then referenced
    shared = "x\ud800"
    assert not utf8_encodable([{"a": shared}, {"b": shared}] * 3)


def test_utf8_encodable_finds_a_surrogate_in_a_str_pickle_writes_as_ucs4() -> None:
    """numpy's str is a str that pickle writes as UCS-4 bytes, where no UTF-8 scan sees a
    surrogate: it was proven clean, and usage rows holding one crashed in pyarrow instead of
    being repaired to U+FFFD."""
    import numpy as np

    from cftokens._text import utf8_encodable

    assert not utf8_encodable([np.str_("curl \ud800")])
    assert not utf8_encodable({"a": {np.str_("k\udfff"): 1}})
    assert utf8_encodable([np.str_("curl/8 é🙂"), np.str_("")])
    from collections import OrderedDict  # through pickle, where numpy's str is UCS-4 too

    assert not utf8_encodable(OrderedDict(a=[np.str_("x\ud800")]))
    assert utf8_encodable(OrderedDict(a=[np.str_("x é")]))


def test_usage_rows_with_a_numpy_str_surrogate_are_repaired() -> None:
    import numpy as np

    from cftokens.audit.usage import normalise_usage

    row = {"time": "2026-11-01T00:00:00Z", "token_id": "a" * 32, "method": "GET"}
    frame = normalise_usage([{**row, "path": "/zones", "user_agent": np.str_("curl \ud800")}])
    assert frame["user_agent"].tolist() == ["curl \ufffd"]


def test_utf8_encodable_is_not_fooled_by_marshal_s_own_bytes() -> None:
    """marshal writes integers and back-references to repeated objects as binary fields that
    may hold ED A0-ED BF (the bytes of an encoded surrogate): a clean value holding them was
    reported unproven, and the audit then walked a whole large inventory text by text (2.6 s
    for 100,000 tokens). Such values are proven clean; a surrogate beside them is still found;
    what the second check cannot write stays unproven."""
    import marshal

    from cftokens._text import _SURROGATE_UTF8, utf8_encodable

    flagged = [41197, {"n": 0xBFED}]  # ED A0 00 00, ED BF 00 00
    assert _SURROGATE_UTF8.search(marshal.dumps(flagged))  # the scan alone is fooled
    assert utf8_encodable(flagged)
    assert utf8_encodable({"tokens": [{"id": f"{i:032x}", "kind": "user"} for i in range(50_000)]})
    assert not utf8_encodable([*flagged, "x\ud800"])
    assert not utf8_encodable([*flagged, {"k\udfff": 1}])
    assert not utf8_encodable([*flagged, (("deep", "\udc80"),)])
    assert not utf8_encodable([*flagged, 1 + 2j])  # not proven: walked instead


def test_a_clean_inventory_is_not_copied_for_the_unicode_check() -> None:
    """The audit's records come back as they are when clean, even when marshal's binary
    fields look like a surrogate (the false alarm copied every token through unicode_tree)."""
    from cftokens.audit._inventory import TokenRecord
    from cftokens.audit.records import unicode_input

    records = [TokenRecord({"id": f"{i:032x}", "n": 41197}, "user", "u", "o") for i in range(3)]
    out, _, _ = unicode_input(records, {"id": "u"}, [])
    assert all(a is b for a, b in zip(out, records, strict=True))
    bad = [*records, TokenRecord({"id": "f" * 32, "name": "x\ud800"}, "user", "u", "o")]
    out, _, _ = unicode_input(bad, None, [])
    assert out[-1].payload["name"] == "x\ufffd"


class _Text(str):
    """A str subclass (its text is what it holds)."""


class _Dict(dict):  # type: ignore[type-arg]
    """A dict subclass that holds what it shows."""


class _List(list):  # type: ignore[type-arg]
    """A list subclass that holds what it shows."""


def _texts_clean(value: object) -> bool | None:
    """The reference: whether every text in ``value`` (keys included, str subclasses and
    numpy's str too) is free of surrogates, walked in Python; None for a value of another kind
    than JSON-like data (not provable)."""
    import numpy as np

    if isinstance(value, str):
        return not any(0xD800 <= ord(c) <= 0xDFFF for c in str.__str__(value))
    if isinstance(value, dict):
        parts: list[object] = [x for pair in value.items() for x in pair]
    elif isinstance(value, list | tuple):
        parts = list(value)
    elif value is None or isinstance(value, bool | int | float | bytes | np.integer):
        return True
    else:
        return None
    found = [_texts_clean(p) for p in parts]
    if False in found:
        return False
    return None if None in found else True


def _hostile_value(rng: random.Random, depth: int = 0) -> object:
    import numpy as np

    texts = ["", "ok", "é🙂", "\ud800", "x\udfff", "\ud83d\ude00", "\U0010ffff", "Ø", "ÿ"]
    roll = rng.random()
    if depth > 3 or roll < 0.35:
        kind = rng.randrange(9)
        text = rng.choice(texts)
        if kind == 0:
            return _Text(text)
        if kind == 1:
            return np.str_(text)
        if kind == 2:
            return rng.choice([0, -1, 41197, 0xBFED, 2**63, 2**64 - 1, 2**70, -(2**64)])
        if kind == 3:
            return rng.choice([None, True, False, 1.5, float("inf"), b"\xed\xa0\x80"])
        return text
    size = rng.randrange(4)
    items = [_hostile_value(rng, depth + 1) for _ in range(size)]
    if roll < 0.7:
        keys = [
            rng.choice([rng.choice(texts), _Text(rng.choice(texts)), 7, None, True, ("t", "u")])
            for _ in items
        ]
        shape = rng.choice([dict, _Dict, collections.OrderedDict])
        return shape(zip(keys, items, strict=True))
    return rng.choice([list, tuple, _List])(items)


def test_utf8_encodable_agrees_with_a_walk_on_hostile_values() -> None:
    """marshal's proof of kind, then msgspec or pickle: on generated values mixing str, dict
    and list subclasses, numpy's str, non-text keys, huge integers, bytes that look like an
    encoded surrogate and shared objects, a value proven clean is clean (as walked text by
    text), one holding a surrogate is never proven clean, and JSON-like data of exact built-in
    types is proven clean whenever it is."""
    import numpy as np

    from cftokens._text import utf8_encodable

    rng = random.Random(13)
    seen = {True: 0, False: 0}
    for _ in range(3000):
        value = _hostile_value(rng)
        if rng.random() < 0.2:
            value = [value, value, {"again": value}]  # one object referenced several times
        clean = _texts_clean(value)
        proven = utf8_encodable(value)
        if proven:
            assert clean is True, value
        if clean is False:
            assert not proven, value

        def plain(v: object) -> bool:
            """What msgspec is asked about: exact built-in types (marshal's proof of kind), no
            numpy str, no integer beyond 64 bits (the rest goes through pickle or a scan of
            marshal's output, whose own binary fields may look like a surrogate: then not
            proven)."""
            if isinstance(v, np.str_) or (isinstance(v, int) and not -(2**63) <= v < 2**64):
                return False
            if isinstance(v, str | dict | list | tuple) and type(v) not in (str, dict, list, tuple):
                return False
            if isinstance(v, dict):
                return all(plain(k) and plain(x) for k, x in v.items())
            if isinstance(v, list | tuple):
                return all(map(plain, v))
            return True

        if clean and plain(value):
            assert proven, value
        seen[bool(proven)] += 1
    assert min(seen.values()) > 300  # both answers exercised


class _Masked(dict):  # type: ignore[type-arg]
    """A dict subclass whose readers (items, iteration, look-ups) see another text than its
    storage holds."""

    def items(self) -> Any:
        return [("name", "x\ud800")]

    def __iter__(self) -> Any:
        return iter(["name"])

    def __getitem__(self, key: object) -> str:
        return "x\ud800"

    def get(self, key: object, default: object = None) -> object:
        return "x\ud800"


@attrs.frozen
class _Private:
    """An attrs object with a private field (msgspec leaves those out)."""

    name: str
    _note: str


@dataclasses.dataclass
class _Extra:
    """A dataclass that will be given an attribute that is not a field."""

    name: str


def test_utf8_encodable_does_not_trust_what_msgspec_leaves_unread() -> None:
    """msgspec reads a dict subclass by its storage (its readers call ``items``), leaves out an
    attrs object's private fields and a dataclass's attributes that are not fields: a
    surrogate there must not be proven clean (marshal refuses them all, pickle reads them as
    their readers do)."""
    from cftokens._text import utf8_encodable

    extra = _Extra("ok")
    extra.note = "x\ud800"  # type: ignore[attr-defined]
    for hidden in (
        _Masked(name="clean"),
        [_Masked(name="clean")],
        {"records": [_Private("ok", "x\udc00")]},
        _Private("ok", "x\udc00"),
        extra,
    ):
        assert not utf8_encodable(hidden), hidden
    assert utf8_encodable([{"name": "ok"}, ("é🙂", 7, None, 2.5)])
    assert utf8_encodable(_Private("ok", "fine"))
