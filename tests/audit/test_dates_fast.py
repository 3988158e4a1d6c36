"""The audit's date columns read in bulk (``_api_dates``) against the value-by-value reading
(``_each_date``) it stands in for, on generated and hostile values."""

from __future__ import annotations

import tracemalloc
import warnings
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import strategies as st

from batched_cases import cases
from cftokens.audit import _dates
from cftokens.audit._dates import _api_dates, _each_date, _whole_seconds, parse_dates


def same(values: list[Any]) -> None:
    """The bulk reading as one chunk and in chunks of 3 values agree with each other and, when
    they read the column, with the value-by-value reading."""
    fast = _api_dates(values)
    with mock.patch.object(_dates, "_CHUNK", 3):
        chunked = _api_dates(values)
    assert (chunked is None) == (fast is None)
    ref = _each_date(values)
    if fast is None or chunked is None:  # the column is read value by value: nothing to compare
        return
    assert chunked[1] == fast[1]
    assert chunked[0].view("i8").tolist() == fast[0].view("i8").tolist()
    assert fast[1] == ref[1]
    assert fast[0].view("i8").tolist() == ref[0].view("i8").tolist()


stamp = st.builds(
    lambda y, mo, d, h, mi, s, frac, z: (
        f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{frac}{z}"
    ),
    st.one_of(st.integers(0, 9999), st.sampled_from([1, 1600, 1900, 2000, 2024, 2100, 9999])),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    st.sampled_from(
        ["", "", "", ".", ".5", ".123456", ".123456789", "." + "9" * 19, "." + "1" * 25]
    ),
    st.sampled_from(["Z", "Z", "Z", "z", "+00:00", "", "Z ", "ZZ"]),
)
mangled = st.builds(
    lambda text, at, char: text[:at] + char + text[at + 1 :],
    stamp,
    st.integers(0, 22),
    st.sampled_from(["٣", "x", " ", "/", "\x00", "-", ":", "T", "Z", "0", "𝟘"]),
)
value = st.one_of(
    stamp,
    mangled,
    st.none(),
    st.just(""),
    st.text(max_size=45),
    st.datetimes(timezones=st.just(UTC)),
    st.integers(),
)


# The property runs: a short one in the inner loop (`-m "not slow"`), the long one marked slow
# (the full command runs both); most of their time is Hypothesis drawing the examples, which
# the long runs draw several to a Hypothesis example (tests/batched_cases.py).
@pytest.mark.parametrize("examples", [40, pytest.param(1610, marks=pytest.mark.slow)])
def test_bulk_dates_agree_with_value_by_value(examples: int) -> None:
    cases(st.lists(value, max_size=12), examples)(same)()


@pytest.mark.parametrize("examples", [30, pytest.param(670, marks=pytest.mark.slow)])
def test_bulk_dates_agree_on_api_like_columns(examples: int) -> None:
    cases(st.lists(st.one_of(stamp, st.none()), max_size=12), examples)(same)()


def test_bulk_dates_read_the_api_form_by_arithmetic() -> None:
    values = [
        "2026-12-07T10:15:00Z",
        None,
        "2024-02-29T23:59:59Z",
        "1970-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2026-01-01T00:00:00.250Z",
        "2026-06-30 12:00:00Z",
        "",
    ]
    found = _api_dates(values)
    assert found is not None
    wide, slow = found
    assert slow == [7]
    assert str(wide[0]) == "2026-12-07T10:15:00.000000"
    assert np.isnat(wide[1]) and np.isnat(wide[8])
    assert str(wide[2]) == "2024-02-29T23:59:59.000000"
    assert wide[3].astype(np.int64) == 0
    assert str(wide[6]) == "2026-01-01T00:00:00.250000"
    same(values)
    parsed, bad = parse_dates(values)
    assert bad == []
    assert str(parsed[4]) == "1677-09-22T00:00:00.000000000"  # clamped, not wrapped
    assert str(parsed[5]) == "2262-04-10T00:00:00.000000000"
    assert str(parsed[7]) == "2026-06-30T12:00:00.000000000"


def test_a_column_with_digits_numpy_cannot_read_goes_value_by_value() -> None:
    values = ["2026-01-01T00:00:00Z", "٢٠٢٦-01-01T00:00:00Z"]
    assert _api_dates(values) is None
    parsed, bad = parse_dates(values)
    assert str(parsed[0]) == "2026-01-01T00:00:00.000000000"
    assert bad == [1]


def test_datetimes_in_a_column() -> None:
    values = [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-01T00:00:00Z"]
    parsed, bad = parse_dates(values)
    assert bad == []
    assert str(parsed[0]) == "2026-01-02T03:04:05.000000000"


def test_one_long_text_does_not_widen_the_whole_column() -> None:
    """A numpy text array is as wide as its longest text: one 20,000-character value in a
    column of 2,000 dates made a 160 MB array (a 1 MB value in 10,000 tokens: 40 GB) before
    the length was checked. Lengths are checked first; the column reads value by value."""
    values = ["2026-01-01T00:00:00Z"] * 2000 + ["9" * 20_000]
    tracemalloc.start()
    try:
        found = _api_dates(values)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found is None  # read value by value
    assert peak < 5_000_000
    parsed, bad = parse_dates(values)
    assert bad == [2000]
    assert str(parsed[0]) == "2026-01-01T00:00:00.000000000"


@pytest.mark.parametrize("digits", [18, 19, 25])
def test_long_fractions_read_without_a_warning(digits: int) -> None:
    """numpy's parser takes a 19th fraction digit for a time zone (a UserWarning, then a
    ValueError): such texts never reach it. Up to 18 digits numpy reads them (truncated to
    microseconds); longer ones are pandas', which does not read them either (reported as
    unreadable, as before)."""
    text = "2026-01-01T00:00:00." + "9" * digits + "Z"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, bad = parse_dates([text, "2026-01-02T00:00:00Z"])
        _each_date([text])
    assert bad == ([] if digits <= 18 else [0])
    if digits <= 18:
        assert out[0] == np.datetime64("2026-01-01T00:00:00.999999", "ns")
    assert str(out[1]) == "2026-01-02T00:00:00.000000000"


def test_non_ascii_digits_read_without_a_warning() -> None:
    """``\\d`` matches ``٠``: such a text must not reach numpy's parser either."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, bad = parse_dates(["0000-01-01T00:00:00.٠Z", "2026-01-02T00:00:00Z"])
        _each_date(["2026-01-01T00:00:00.٠Z"])
    assert bad == [0]


whole_second = st.builds(
    lambda y, mo, d, h, mi, s: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}Z",
    st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
)
same_length = st.builds(
    lambda text, at, char: text[:at] + char + text[at + 1 :],
    whole_second,
    st.integers(0, 19),
    st.sampled_from(
        ["٣", "x", " ", "/", "\x00", "-", ":", "T", "Z", "0", "𝟘", "z", "\ud800", "\n"]
    ),
)


@pytest.mark.parametrize("examples", [20, pytest.param(340, marks=pytest.mark.slow)])
def test_whole_second_columns_read_at_once(examples: int) -> None:
    """Columns of 20-character texts (the API's whole seconds, impossible dates and times,
    other characters in any place, non-ASCII digits): the one-buffer reading
    (``_whole_seconds``) gives what the value-by-value reading gives."""

    cases(
        st.lists(st.one_of(whole_second, whole_second, same_length, st.none()), max_size=40),
        examples,
    )(same)()


def test_whole_second_column_taken_whole() -> None:
    """The API's column is read by ``_whole_seconds`` (not value by value); one impossible
    date among them sends the column the general way, with the same result."""
    good = ["2026-01-31T23:59:59Z", "2024-02-29T00:00:00Z", "0001-01-01T00:00:00Z", None]
    assert _whole_seconds([v for v in good if v]) is not None
    same(good)
    for odd in ("2026-02-29T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:0٣Z"):
        assert _whole_seconds([*good[:3], odd]) is None
        same([*good, odd])


@pytest.mark.parametrize(
    "values",
    [
        # 19 and 21 characters: as long together as two dates, the separator out of place
        ["2026-01-31T23:59:59", "Z2026-01-31T23:59:59Z"],
        ["2026-01-31T23:59:59Z\n2026-01-31T23:59:5", "9Z", "2026-01-31T23:59:59Z"],
        # a newline inside a text, where a separator would be
        ["2026-01-31T23:59:59Z\n2026-01-31T23:59:59Z", "", "2026-01-31T23:59:59Z"],
        # as long as three dates and their newlines, for two texts
        ["2026-01-31T23:59:59Z\n2026-01-31T23:59:59Z", "2026-01-31T23:59:59Z"],
        ["2026-01-31T23:59:59Z", "2026-01-31T23:59:59\n"],
    ],
)
def test_whole_seconds_are_not_fooled_by_lengths_or_newlines(values: list[str]) -> None:
    """``_whole_seconds`` reads the texts joined by newlines, 21 bytes per text: texts of other
    lengths (or holding a newline) that fill the buffer as the API's would are not read as
    dates there, and the column reads as value by value."""
    assert _whole_seconds(values) is None
    same(values)


def test_an_impossible_date_in_a_long_column_of_whole_seconds() -> None:
    """A column of thousands of dates in the API's form with one impossible date (February 30):
    reading the buffer's bytes with numpy's parser (``astype("datetime64[s]")`` of "S19")
    crashed the interpreter under numpy 2.4 (a segmentation fault, where it raises ValueError
    for text). The column is read the general way, as value by value."""
    values: list[Any] = [f"2026-01-{d % 28 + 1:02d}T10:{d % 60:02d}:00Z" for d in range(1000)]
    values[777] = "2026-02-30T00:00:00Z"
    assert _whole_seconds(values) is None
    same(values)
    dates, bad = parse_dates(values)
    assert bad == [777] and str(dates[776]) == "2026-01-21T10:56:00.000000000"
