"""The JSON and SARIF reports are written fast (frames read column by column, JSON written by
orjson) and byte for byte as the standard library's writer wrote them, also for hostile
values (floats it writes with an exponent, NaN, huge integers, lone surrogates, subclasses)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import cftokens as cft
from cftokens import _sarif
from cftokens._text import unicode_text
from cftokens.audit import report
from cftokens.audit.synth import synthetic_inventory

NOW = datetime(2026, 12, 1, tzinfo=UTC)


class Text(str):
    """A str subclass (the standard library writes its text; orjson refuses it)."""


def hostile_frame() -> pd.DataFrame:
    stamp = pd.Timestamp("2026-11-30T10:20:30.123456Z")
    return pd.DataFrame(
        {
            "text": pd.array(["a", None, "x\x00", "é\u2028"], dtype="string"),
            "category": pd.Categorical(["x", None, "y", "x"]),
            "number_category": pd.Categorical([1.5, None, 1e-05, 1.5]),
            "Int64": pd.array([1, None, 2**62, -3], dtype="Int64"),
            "boolean": pd.array([True, None, False, True], dtype="boolean"),
            "Float64": pd.array([0.5, None, 1e-05, 1e16], dtype="Float64"),
            "float64": [0.5, math.nan, math.inf, 1e-07],
            "int64": [1, 2, 3, 4],
            "bool": [True, False, True, False],
            "utc": pd.to_datetime([stamp, None, stamp, stamp], utc=True),
            "naive": pd.to_datetime([stamp.tz_localize(None), None, None, stamp.tz_localize(None)]),
            "object": [None, 1.5, "x", pd.NA],
        }
    )


def test_columns_read_at_once_are_the_values_read_one_by_one() -> None:
    """_column_values equals jsonable of each value, value and type, on every dtype."""
    for name, column in hostile_frame().items():
        slow = [report.jsonable(v) for v in column]
        fast = report._column_values(column)
        assert fast == slow or all(
            a == b or (a != a and b != b) for a, b in zip(fast, slow, strict=True)
        ), name
        assert [type(v) for v in fast] == [type(v) for v in slow], name


def test_rows_read_at_once_are_itertuples_rows() -> None:
    frame = hostile_frame()
    slow = list(frame.itertuples(index=False))
    fast = list(report._rows(frame))
    assert [tuple(map(str, r)) for r in fast] == [tuple(map(str, r)) for r in slow]
    assert fast[0]._fields == slow[0]._fields


HOSTILE: list[Any] = [
    {"a": 1e-05, "b": [1e16, 0.1, -0.0]},
    {"nan": math.nan},
    {"inf": [math.inf, -math.inf]},
    {"big": 2**70},
    {"surrogate": "\ud800 and \udfff"},
    {"subclass": Text("x")},
    {1: "an integer key"},
    {"controls": '\x00\x08\x0c\x1f\x7f\x85\u2028\u2029"\\/é\U0001f3f4'},
    {"empty": [[], {}, [{}], ""], "tuple": (1, "2")},
    {"plain": ["text", 1, True, None, 2.5, {"nested": {"deeper": []}}]},
]


@pytest.mark.parametrize("value", HOSTILE)
def test_json_is_written_as_the_standard_library_writes_it(value: Any) -> None:
    slow = unicode_text(json.dumps(value, indent=2, ensure_ascii=False)).encode()
    assert report._json_text(value, 2) == slow
    assert report._json_text(value, 2, {"exact": value}) == slow
    assert (
        report._json_text(value, 4)
        == unicode_text(json.dumps(value, indent=4, ensure_ascii=False)).encode()
    )


def hostile_inventory() -> dict[str, Any]:
    inventory = synthetic_inventory(8, n_accounts=2, n_zones=4, seed=3)
    tokens = inventory["tokens"]
    for i, (name, extra) in enumerate(
        [
            ('=HYPERLINK("http://x")', {"score": 1e-05}),
            ("line\u2028break\x00", {"nan": math.nan, "big": 2**70}),
            ("lone \ud800 surrogate", {"inf": math.inf}),
            ("Bearer cfut_" + "aB3dE5gH7j" * 4 + "Xy12Ab", {"nested": {"x": [[], {}]}}),
        ]
    ):
        tokens[i] = {**tokens[i], "name": name, **extra}
    return inventory


def slow_exports(audit: cft.Audit, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """to_json and to_sarif as they were written before: jsonable of each value, itertuples
    and the standard library's writer."""
    with monkeypatch.context() as m:
        m.setattr(report, "_column_values", lambda column: list(map(report.jsonable, column)))
        m.setattr(report, "_rows", lambda frame: frame.itertuples(index=False))
        m.setattr(
            report,
            "_json_text",
            lambda data, indent, exact=None: unicode_text(
                json.dumps(data, indent=indent, ensure_ascii=False)
            ).encode(),
        )
        return audit.to_json(), audit.to_sarif()


class _Frozen(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> _Frozen:
        return cls(2026, 12, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize("source", ["hostile", pytest.param("demo", marks=pytest.mark.slow)])
def test_reports_are_byte_identical_to_the_standard_writer(
    source: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A hostile inventory's and the demo's JSON and SARIF reports, returned and written (the
    demo's in the full run: its two reports, twice, take ~0.2 s)."""
    # both clocks frozen: the report's generated_at and SARIF's endTimeUtc (a second's tick
    # between the two writings made them differ)
    monkeypatch.setattr(report, "datetime", _Frozen)
    monkeypatch.setattr(_sarif, "datetime", _Frozen)
    if source == "demo":
        audit: cft.Audit = request.getfixturevalue("demo_audit")
    else:
        audit = cft.Audit.from_records(**hostile_inventory())
    before_json, before_sarif = slow_exports(audit, monkeypatch)
    assert audit.to_json(tmp_path / "a.json") == before_json
    assert audit.to_sarif(tmp_path / "a.sarif") == before_sarif
    assert (tmp_path / "a.json").read_bytes() == unicode_text(before_json).encode()
    assert (tmp_path / "a.sarif").read_bytes() == unicode_text(before_sarif).encode()
    if source == "hostile":
        assert "NaN" in before_json and "1e-05" in before_json and "\\u2028" not in before_json
        assert "aB3dE5gH7j" not in before_json and "aB3dE5gH7j" not in before_sarif


def test_a_cycle_or_deep_nesting_is_refused_as_before_never_a_crash() -> None:
    """orjson recurses into a cycle of tuples until the stack overflows: the standard
    library's writer sees such input first and refuses it as it always did."""
    inner: list[Any] = []
    inner.append((inner,))
    deep: list[Any] = []
    for _ in range(5000):
        deep = [deep]
    for value in ({"cycle": inner}, {"deep": deep}):
        with pytest.raises((ValueError, RecursionError)):
            report._json_text(value, 2)
