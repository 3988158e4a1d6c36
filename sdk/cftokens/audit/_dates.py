"""The audit's date columns: RFC 3339 texts (or datetimes) as UTC ``datetime64[ns]``.

:func:`parse_dates` reads a whole column, in chunks of a few thousand values: the API's own
form (``YYYY-MM-DDTHH:MM:SS[.f]Z``) recognised on the texts' code points (:func:`_api_dates`;
a chunk of whole seconds from one ASCII buffer: :func:`_whole_seconds`),
anything else value by value (:func:`_each_date`, then pandas). Dates outside pandas'
nanosecond range are clipped to it.
"""

from __future__ import annotations

import re
from datetime import datetime
from itertools import compress, repeat
from operator import is_not
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["parse_dates"]

_NONE = type(None)

_RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
#: numpy's parser reads at most 18 fraction digits (a 19th is taken for a time zone: a
#: UserWarning, then a ValueError); longer fractions are left to pandas, which truncates the
#: same way: ``…SS.`` + 18 digits + ``Z``
_NUMPY_LONGEST = 39


def parse_dates(values: list[Any]) -> tuple[npt.NDArray[np.datetime64], list[int]]:
    """RFC 3339 strings (or datetimes) as UTC datetime64[ns]; positions that failed to parse.

    The common API form (``…Z``, no offset) goes through numpy's C parser; anything else falls
    back to pandas for that value. A text that is not RFC 3339 (``1-01-01T00:00:00Z``) is not
    read. Dates beyond what nanoseconds hold (``0001-01-01``, ``9999-12-31``) are clamped to
    1677/2262, which compare with any audit clock as the originals do; numpy would silently
    wrap them into other centuries.
    """
    import pandas as pd

    found = _api_dates(values)
    wide, slow = found if found is not None else _each_date(values)
    out = np.clip(wide, _MIN_US, _MAX_US).astype("datetime64[ns]")
    bad: list[int] = []
    for i in slow:
        v = values[i]
        if isinstance(v, datetime):
            text = v.isoformat()
        elif type(v) is str and re.match(r"\d{4}-\d{2}-\d{2}", v):
            text = v
        else:
            bad.append(i)
            continue
        parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
        if not isinstance(parsed, pd.Timestamp):  # NaT: not a date pandas can read
            bad.append(i)
            continue
        # pandas keeps the text's own resolution: clamp in microseconds before nanoseconds
        # (an offset on 0001-01-01 or 9999-12-31 would wrap like the fast path's dates).
        wide_one = parsed.tz_convert(None).to_datetime64().astype("datetime64[us]")
        out[i] = np.clip(wide_one, _MIN_US, _MAX_US).astype("datetime64[ns]")
    return out, bad


def _each_date(values: list[Any]) -> tuple[npt.NDArray[np.datetime64], list[int]]:
    """The API's form (``…Z``) read by numpy, value by value (the reference of
    :func:`_api_dates`); the positions of the other values, for pandas."""
    cleaned: list[Any] = []
    slow: list[int] = []
    for i, v in enumerate(values):
        if v is None or v == "":
            cleaned.append(None)
        elif (
            type(v) is str
            and len(v) <= _NUMPY_LONGEST
            and v.isascii()  # numpy takes other digits (\d matches ٠) for a time zone too
            and _RFC3339_UTC.fullmatch(v)
        ):
            cleaned.append(v[:-1])
        else:
            cleaned.append(None)
            slow.append(i)
    try:
        wide = np.array(cleaned, dtype="datetime64[us]")
    except ValueError:
        wide = np.array([None] * len(values), dtype="datetime64[us]")
        slow = [i for i, v in enumerate(values) if v not in (None, "")]
    return wide, slow


_DATE_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])
_DATE_MARK_AT = np.array([4, 7, 10, 13, 16])
_DATE_MARKS = np.array([ord(c) for c in "--T::"], dtype=np.uint32)
_LONGEST_DATE = _NUMPY_LONGEST  # longer goes value by value


#: Values read per chunk by :func:`_api_dates` (see there).
_CHUNK = 4096


def _api_dates(values: list[Any]) -> tuple[npt.NDArray[np.datetime64], list[int]] | None:
    """What :func:`_each_date` gives, with the API's form recognised by numpy on the texts'
    code points instead of a regular expression per value. None: a column :func:`_each_date`
    reads itself (values other than text and None, a text longer than the form can be, a value
    with non-ASCII digits, one numpy refuses).

    The column is read in chunks of :data:`_CHUNK` values (each value's reading does not
    depend on the others'; the column is None when a chunk is): each pass over a chunk's texts
    finds them in the CPU's caches where the previous pass left them, while a pass over a
    whole column of scattered texts misses the caches at every text."""
    if len(values) <= _CHUNK:
        return _api_chunk(values)
    wide: list[npt.NDArray[np.datetime64]] = []
    slow: list[int] = []
    for start in range(0, len(values), _CHUNK):
        found = _api_chunk(values[start : start + _CHUNK])
        if found is None:
            return None
        wide.append(found[0])
        slow += [i + start for i in found[1]]
    return np.concatenate(wide), slow


def _api_chunk(values: list[Any]) -> tuple[npt.NDArray[np.datetime64], list[int]] | None:
    """:func:`_api_dates` of one chunk of values."""
    n = len(values)
    wide = np.full(n, np.datetime64("NaT", "us"), dtype="datetime64[us]")
    types = set(map(type, values))  # each pass touches every text: as few as can be
    if not types <= {str, _NONE}:
        return None
    if _NONE in types:
        present = np.fromiter(map(is_not, values, repeat(None)), dtype=bool, count=n)
        pos = np.flatnonzero(present)
        texts: list[str] = list(compress(values, present.tolist()))
    else:
        pos, texts = np.arange(n), values
    if not texts:
        return wide, []
    whole = _whole_seconds(texts)
    if whole is not None:  # the API's own column: every date whole seconds, read at once
        wide[pos] = whole
        return wide, []
    # the lengths first: a text array is as wide as its longest text (one hostile 1 MB value
    # would make a column of 10,000 dates 40 GB)
    length = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    if length.max() > _LONGEST_DATE:
        return None
    chars = np.array(texts, dtype=str)
    width = chars.itemsize // 4
    if width < 20:
        ok = np.zeros(len(texts), dtype=bool)
    else:
        codes = chars.view(np.uint32).reshape(len(texts), width)
        digit = (codes - np.uint32(48)) <= 9  # unsigned: below "0" wraps around
        rows = np.arange(len(texts))
        ok = (
            digit[:, _DATE_DIGITS].all(axis=1)
            & (codes[:, _DATE_MARK_AT] == _DATE_MARKS).all(axis=1)
            & (codes[rows, np.maximum(length, 1) - 1] == ord("Z"))
            & (length >= 20)
        )
        if width > 20:
            column = np.arange(width)
            fraction = (column >= 20) & (column[None, :] < (length - 1)[:, None])
            ok &= (length == 20) | (
                (length >= 22) & (codes[:, 19] == ord(".")) & (digit | ~fraction).all(axis=1)
            )
        else:
            ok &= length == 20
        plain = ok & (length == 20)
        if plain.any():  # whole seconds: read by arithmetic on the digits
            sure, stamps = _civil_us(codes[plain].astype(np.int64) - 48)
            wide[pos[plain][sure]] = stamps[sure]
            ok[np.flatnonzero(plain)[sure]] = False
            parse = plain.copy()
            parse[np.flatnonzero(plain)[sure]] = False
            parse |= ok & (length > 20)
        else:
            parse = ok
        if parse.any():  # fractions, and anything the arithmetic is not sure of: numpy's parser
            codes[rows[parse], length[parse] - 1] = 0  # the Z
            try:
                wide[pos[parse]] = chars[parse].astype("datetime64[us]")
            except ValueError:
                return None
        ok |= plain
    slow = pos[~ok & (length > 0)].tolist()
    for i in slow:
        v = values[i]
        if len(v) <= _NUMPY_LONGEST and _RFC3339_UTC.fullmatch(v):
            return None  # the form, in digits numpy does not read
    return wide, slow


def _whole_seconds(texts: list[str]) -> npt.NDArray[Any] | None:
    """The usual column, every text ``YYYY-MM-DDTHH:MM:SSZ`` of a real date and time, read as
    datetime64[us] from one ASCII buffer of all the texts (no per-text array of code points,
    no pass for their lengths) by arithmetic on its digits; None when any text is otherwise
    (the column is read the general way).

    The buffer is the texts each followed by a newline: when it holds 21 bytes per text and
    every 21 bytes are the form and a newline (no newline in the form), its newlines are the
    texts' separators, so every text is 20 characters of the form."""
    try:
        joined = ("\n".join(texts) + "\n").encode("ascii")
    except UnicodeEncodeError:  # (a surrogate is refused too)
        return None
    if len(joined) != 21 * len(texts):
        return None
    codes = np.frombuffer(joined, dtype=np.uint8).reshape(len(texts), 21)
    if not ((codes >= _FORM_LOW) & (codes <= _FORM_HIGH)).all():
        return None
    # (numpy's parser of bytes, ``astype("datetime64[s]")`` of "S19", was faster but numpy 2.4
    # crashes on an impossible date in a long such array, where it raises for text)
    sure, stamps = _civil_us(codes[:, :19].astype(np.int64) - 48)
    return stamps if sure.all() else None


# ``YYYY-MM-DDTHH:MM:SSZ`` and a newline, byte by byte: the lowest and highest byte allowed
_FORM = "0000-00-00T00:00:00Z\n"
_FORM_LOW = np.frombuffer(_FORM.encode(), dtype=np.uint8)
_FORM_HIGH = np.frombuffer(_FORM.replace("0", "9").encode(), dtype=np.uint8)


_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _civil_us(d: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.bool_], npt.NDArray[Any]]:
    """Digits of ``YYYY-MM-DDTHH:MM:SS`` texts (one row each, code point minus "0") as
    datetime64[us], and where the date is certainly valid (year 1-9999, a real day, hour
    below 24, minute and second below 60): the others are left to numpy's parser."""
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month = d[:, 5] * 10 + d[:, 6]
    day = d[:, 8] * 10 + d[:, 9]
    hour = d[:, 11] * 10 + d[:, 12]
    minute = d[:, 14] * 10 + d[:, 15]
    second = d[:, 17] * 10 + d[:, 18]
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    good_month = (month >= 1) & (month <= 12)
    last_day = _MONTH_DAYS[np.where(good_month, month, 0)] + (leap & (month == 2))
    sure = (
        (year >= 1)
        & good_month
        & (day >= 1)
        & (day <= last_day)
        & (hour < 24)
        & (minute < 60)
        & (second < 60)
    )
    # days from 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil)
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    seconds = days * 86400 + hour * 3600 + minute * 60 + second
    return sure, (seconds * 1_000_000).astype("datetime64[us]")


_MIN_US = np.datetime64("1677-09-22T00:00:00", "us")
_MAX_US = np.datetime64("2262-04-10T00:00:00", "us")
