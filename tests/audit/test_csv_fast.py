"""The CSV folder is written fast (each text cell checked in one pass; csv_cell called only
on the cells it may change) and byte for byte as the pandas ``map`` of every cell wrote it:
CSV-injection quoting, numbers as numbers, NaN, None, dates, categories and lists as before,
on a hostile inventory (injection-shaped names, lone surrogates, U+2028, a credential in a
name, NaN, huge integers, an empty table) and on the demo company."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_export_fast import hostile_frame, hostile_inventory

import cftokens as cft
from cftokens import _text
from cftokens.audit import report

SECRET = "cfut_" + "aB3dE5gH7j" * 4 + "Xy12Ab"


def slow_csv_frame(frame: Any) -> Any:
    """csv_frame as it was: every text cell through ``Series.map``."""
    out = frame.copy()
    for column in out.columns:
        dtype = str(out[column].dtype)
        if dtype.startswith("datetime64"):
            out[column] = out[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif dtype in ("object", "string", "str", "category") or dtype.startswith("string"):
            out[column] = out[column].astype(object).map(_text._csv_object, na_action="ignore")
    return out


def injection_inventory() -> dict[str, Any]:
    inventory = hostile_inventory()
    tokens = [t for ts in inventory["account_tokens"].values() for t in ts]
    for token, name in zip(tokens, ["+SUM(A1)", "-3", "@cmd", "\tx\rforged,row"], strict=False):
        token.update(name=name, big=-(2**70))
    inventory["tokens"][-1]["name"] = "\tx\rforged,row"
    return inventory


def odd_frame() -> pd.DataFrame:
    """Object columns holding what a text column may not: lists, numbers, booleans, NA,
    subclasses, text starting like a formula; categories of numbers and of formulas."""
    frame = hostile_frame()
    frame["list"] = pd.Series([["=a", 1], None, (), {"k": "@v"}], dtype=object)
    frame["mixed"] = pd.Series([True, 2**70, math.nan, "=1+1"], dtype=object)
    frame["numbers"] = pd.Series([1, 2, None, 3], dtype=object)
    frame["formula_category"] = pd.Categorical(["=x", "-1", None, "\u2028"])
    frame["str"] = pd.Series(["-2", "+x", "\r", 'pl"ain\n,'], dtype="str")
    frame["surrogates"] = pd.Series(["é\ud800", None, "\udfff=", "ok"], dtype=object)
    return frame


@pytest.mark.parametrize(
    "frame", [odd_frame(), odd_frame().iloc[:0], odd_frame().iloc[1:2], pd.DataFrame()]
)
def test_csv_frame_is_the_mapped_frame(frame: pd.DataFrame) -> None:
    fast = _text.csv_frame(frame)
    slow = slow_csv_frame(frame)
    assert list(fast.dtypes.astype(str)) == list(slow.dtypes.astype(str))
    pd.testing.assert_frame_equal(fast, slow)
    assert fast.to_csv(index=False, lineterminator="\r\n") == slow.to_csv(
        index=False, lineterminator="\r\n"
    )


def slow_write(frame: Any, path: Path) -> None:
    """The CSV writing as it was: pandas' to_csv."""
    frame.to_csv(path, index=False, lineterminator="\r\n")


def text_frame() -> pd.DataFrame:
    """Text, integers and booleans only (written by joining): each special character alone."""
    cells = ["\r", "\n", '"', ",", "", "a", "\r\n", ' "q" ', "\u2028", "é"]
    return pd.DataFrame(
        {
            "special": pd.Series(cells, dtype="string"),
            "plain": [f"x{i}" for i in range(len(cells))],
            "Int64": pd.array([*range(len(cells) - 1), None], dtype="Int64"),
            "bool": [i % 2 == 0 for i in range(len(cells))],
            "boolean": pd.array([True, None, *[False] * (len(cells) - 2)], dtype="boolean"),
        }
    )


@pytest.mark.parametrize(
    "frame",
    [
        odd_frame(),
        odd_frame().iloc[:0],
        odd_frame().iloc[1:2],
        pd.DataFrame(),
        text_frame(),
        text_frame()[["special"]],
        text_frame()[["special", "plain"]].iloc[:0],
    ],
)
def test_written_csv_is_to_csv(frame: pd.DataFrame, tmp_path: Path) -> None:
    """_write_csv writes what to_csv writes, also of a frame csv_frame did not make safe."""
    for i, table in enumerate([frame, _text.csv_frame(frame)]):
        try:
            slow_write(table, tmp_path / f"slow{i}.csv")
        except UnicodeEncodeError:  # a surrogate, left in by the unsafe frame
            with pytest.raises(UnicodeEncodeError):
                report._write_csv(table, tmp_path / f"again{i}.csv")
            continue
        report._write_csv(table, tmp_path / f"fast{i}.csv")
        assert (tmp_path / f"fast{i}.csv").read_bytes() == (tmp_path / f"slow{i}.csv").read_bytes()


def _folders(audit: cft.Audit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    audit.to_csv(tmp_path / "fast")
    with monkeypatch.context() as m:
        m.setattr(report, "csv_frame", slow_csv_frame)
        m.setattr(report, "_write_csv", slow_write)
        audit.to_csv(tmp_path / "slow")
    fast = sorted(p.name for p in (tmp_path / "fast").iterdir())
    assert fast == sorted(p.name for p in (tmp_path / "slow").iterdir())
    assert {"tokens.csv", "grants.csv", "access.csv", "findings.csv", "gaps.csv"} <= set(fast)
    for name in fast:
        data = (tmp_path / "fast" / name).read_bytes()
        assert data == (tmp_path / "slow" / name).read_bytes(), name
        assert SECRET.encode() not in data, name


def test_hostile_folder_is_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    audit = cft.Audit.from_records(**injection_inventory())
    _folders(audit, tmp_path, monkeypatch)
    tokens = (tmp_path / "fast" / "tokens.csv").read_bytes()
    assert b"'=HYPERLINK" in tokens and b"'+SUM(A1)" in tokens and b"'@cmd" in tokens
    assert b",-3," in tokens and b"\xef\xbf\xbd" in tokens  # a number stays; U+FFFD


@pytest.mark.slow
def test_demo_folder_is_byte_identical(
    demo_audit: cft.Audit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert demo_audit.usage is not None
    _folders(demo_audit, tmp_path, monkeypatch)
    assert (tmp_path / "fast" / "usage.csv").exists()
