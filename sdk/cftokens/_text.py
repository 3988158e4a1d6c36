"""Text that a person reads: a terminal, a spreadsheet, a chart.

Token names, account names, DNS records and server answers are written by whoever holds a
token. Before cftokens shows such text it goes through one of these helpers:

* :func:`printable` for a terminal: C0 and C1 control characters, DEL and bidirectional
  overrides become visible ``\\x1b``/``\\n``/``\\u202e`` escapes, so ANSI sequences cannot
  move the cursor, erase or hide rows, a newline cannot forge one and no text is reordered.
* :func:`csv_cell` / :func:`csv_rows` for a CSV file: OWASP's CSV-injection rule, a text cell
  starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` so
  a spreadsheet shows it as text instead of running it as a formula. Numbers stay numbers.
* :func:`chart_label` for matplotlib: control characters made visible (tick labels are also
  drawn with ``parse_math=False``, so ``$`` is never read as mathtext).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["chart_label", "csv_cell", "csv_frame", "csv_rows", "printable"]

# C0 controls, DEL, C1 controls, and the bidirectional overrides and isolates that reorder
# what a terminal shows ("Trojan Source").
_BIDI = "\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(rf"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_CONTROL_NOT_NEWLINE = re.compile(rf"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code == 0x0A:
        return "\\n"
    # DEL, C1 and bidi as \\uNNNN: the same escape JSON uses, so JSON printed through this
    # helper stays valid JSON with the same value.
    return f"\\x{code:02x}" if code < 0x20 else f"\\u{code:04x}"


def printable(text: object, *, newlines: bool = False) -> str:
    """``text`` safe to print on a terminal: every C0/C1 control character, DEL and bidi
    override replaced by its visible escape (``\\x1b``, ``\\n``, ``\\u009b``, ``\\u202e``).
    ``newlines=True`` keeps ``\\n`` (for a message cftokens wrote itself, never for a value
    that came from input)."""
    value = text if isinstance(text, str) else str(text)
    pattern = _CONTROL_NOT_NEWLINE if newlines else _CONTROL
    return pattern.sub(_escape, value)


def csv_cell(value: Any) -> Any:
    """A CSV cell value that no spreadsheet runs as a formula (OWASP CSV injection).

    Text starting with ``= + - @``, a tab or a carriage return gets a leading ``'``; text
    that is a plain number (``-3``, ``+1.5e3``) and non-text values are returned unchanged.
    """
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    if _NUMBER.fullmatch(value):
        return value
    return "'" + value


def csv_rows(rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """Rows for :mod:`csv` writers with every cell passed through :func:`csv_cell`."""
    return [[csv_cell(cell) for cell in row] for row in rows]


def csv_frame(frame: Any) -> Any:
    """A copy of a DataFrame ready for ``to_csv``: datetimes as RFC 3339 UTC text, and every
    text (or other object) cell neutralised by :func:`csv_cell`. Numeric and boolean columns
    are left as they are."""
    out = frame.copy()
    for column in out.columns:
        dtype = str(out[column].dtype)
        if dtype.startswith("datetime64"):
            out[column] = out[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif dtype in ("object", "string", "str", "category") or dtype.startswith("string"):
            out[column] = out[column].astype(object).map(_csv_object, na_action="ignore")
    return out


def _csv_object(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        return value
    return csv_cell(value if isinstance(value, str) else str(value))


def chart_label(text: object, limit: int = 60) -> str:
    """A chart label: control characters made visible, cut to ``limit`` characters."""
    label = printable(text)
    return label if len(label) <= limit else label[: limit - 1] + "…"
