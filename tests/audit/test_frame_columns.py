"""The audit frames' columns and frames made from ready arrays (``audit._frame_columns``) against
pandas' own constructors: the same dtypes, values, categorical code types, column labels and
index, and arrays that belong to the frame alone."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from cftokens.audit import Audit
from cftokens.audit import _frame_columns as columns
from cftokens.audit._compat import STR
from cftokens.audit.synth import synthetic_inventory


def _same_array(made: Any, expected: Any) -> None:
    assert made.dtype == expected.dtype
    assert type(made) is type(expected)
    pd.testing.assert_extension_array_equal(made, expected)


@pytest.mark.parametrize(
    "values",
    [[], ["a", None, "b"], [None], ["é", "", "x" * 300], np.array(["a", None], dtype=object)],
)
def test_texts_are_pandas_string_python_arrays(values: Any) -> None:
    _same_array(columns.texts(values), pd.array(values, dtype=STR))
    assert columns.text_dtype() == pd.StringDtype("python")
    assert str(columns.texts(values).dtype) == "string"


@pytest.mark.parametrize("n_categories", [1, 2, 126, 127, 128, 32766, 32767, 32768])
@pytest.mark.parametrize("code_type", [np.int8, np.int16, np.int64, np.intp])
def test_categorical_codes_take_the_type_pandas_picks(n_categories: int, code_type: Any) -> None:
    dtype = pd.CategoricalDtype(pd.Index([f"c{i}" for i in range(n_categories)]))
    top = min(n_categories - 1, int(np.iinfo(code_type).max))
    codes = np.array([0, top, -1, 0], dtype=code_type)
    made = columns.categorical(codes, dtype)
    expected = pd.Categorical.from_codes(codes, dtype=dtype)
    assert made.codes.dtype == expected.codes.dtype
    _same_array(made, expected)
    assert not np.shares_memory(made.codes, codes)


def test_integers_booleans_floats_and_dates_match_pd_array() -> None:
    ints = np.array([3, 0, -2], dtype=np.int32)
    _same_array(columns.integers(ints), pd.array(ints.astype(np.int64), dtype="Int64"))
    na = np.array([False, True, False])
    _same_array(
        columns.integers(ints, na),
        pd.array([3, None, -2], dtype="Int64"),
    )
    flags = np.array([True, False, True])
    _same_array(columns.booleans(flags), pd.array(flags, dtype="boolean"))
    scores = np.array([1.5, np.nan, 0.0])
    _same_array(columns.floats(scores), pd.array(scores, dtype="Float64"))
    for unit in ("s", "ms", "us", "ns"):
        when = np.array(["2026-12-08T01:02:03", "NaT", "1900-01-01"], dtype=f"datetime64[{unit}]")
        _same_array(columns.utc_dates(when), pd.DatetimeIndex(when, tz="UTC").array)
    # every helper copies: the frame owns its arrays, the caller's stay as they were
    for made, source in (
        (columns.integers(ints.astype(np.int64))._data, ints),
        (columns.booleans(flags)._data, flags),
        (columns.floats(scores)._data, scores),
        (columns.utc_dates(when).asi8, when),
    ):
        assert not np.shares_memory(made, source)


def test_labels_dtype_is_pandas_dtype_of_the_texts() -> None:
    few = ["b", "a", "c"]
    assert columns.labels_dtype(few) == pd.CategoricalDtype(pd.Index(few))
    assert columns.labels_dtype(few) is columns.labels_dtype(list(few))  # made once
    many = [f"t{i}" for i in range(100)]
    assert columns.labels_dtype(many) == pd.CategoricalDtype(pd.Index(many))
    with pytest.raises(ValueError, match="unique"):
        columns.labels_dtype(["a", "a"])


def _frames(audit: Audit) -> dict[str, pd.DataFrame]:
    return {name: getattr(audit, name) for name in ("findings", "tokens", "grants", "gaps")}


@pytest.mark.parametrize("n_tokens", [0, 3, 60])
def test_frames_are_what_pandas_builds_from_their_columns(n_tokens: int) -> None:
    """Each audit frame equals ``pd.DataFrame({name: column}, copy=False)`` of its own columns:
    dtypes, column labels (their dtype too), index and repr."""
    audit = Audit.from_records(**synthetic_inventory(n_tokens, n_accounts=3, n_zones=10))
    for frame in _frames(audit).values():
        rebuilt = pd.DataFrame({c: frame[c].array for c in frame.columns}, copy=False)
        pd.testing.assert_frame_equal(frame, rebuilt, check_exact=True)
        pd.testing.assert_index_equal(frame.columns, rebuilt.columns, exact=True)
        pd.testing.assert_index_equal(frame.index, rebuilt.index, exact=True)
        assert repr(frame) == repr(rebuilt)
        assert repr(frame.dtypes) == repr(rebuilt.dtypes)


def test_frame_checks_lengths_and_keeps_its_own_labels() -> None:
    with pytest.raises(ValueError, match="2 values"):
        columns.frame({"a": columns.texts(["x"]), "b": columns.texts(["x", "y"])}, 2)
    first = columns.frame({"a": columns.texts(["x"])}, 1)
    second = columns.frame({"a": columns.texts(["y"])}, 1)
    first.columns.name = "renamed"
    assert second.columns.name is None
    assert columns.frame({"a": columns.texts(["z"])}, 1).columns.name is None


def test_a_changed_frame_leaves_the_audit_s_arrays_alone() -> None:
    audit = Audit.from_records(**synthetic_inventory(5, n_accounts=3, n_zones=10))
    ctx = audit._ctx
    live, eff, n_groups = ctx.live.copy(), ctx.eff.copy(), ctx.n_groups.copy()
    issued = ctx.dates["issued_on"].copy()
    tokens, grants = audit.tokens, audit.grants
    tokens.loc[:, "live"] = ~tokens["live"]
    tokens.loc[:, "n_groups"] = 99
    tokens.loc[:, "issued_on"] = pd.Timestamp("2000-01-01", tz="UTC")
    grants.loc[:, "effective"] = ~grants["effective"]
    assert (ctx.live == live).all() and (ctx.eff == eff).all()
    assert (ctx.n_groups == n_groups).all()
    assert (ctx.dates["issued_on"] == issued).all()
