"""Text that a person reads: a terminal, a spreadsheet, a chart.

Token names, account names, DNS records and server answers are written by whoever holds a
token. Before cftokens shows such text it goes through one of these helpers:

* :func:`printable` for a terminal: C0 and C1 control characters, DEL and bidirectional
  overrides become visible ``\\x1b``/``\\n``/``\\u202e`` escapes, so ANSI sequences cannot
  move the cursor, erase or hide rows, a newline cannot forge one and no text is reordered.
* :func:`csv_cell` / :func:`csv_rows` for a CSV file: OWASP's CSV-injection rule, a text cell
  starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` so
  a spreadsheet shows it as text instead of running it as a formula. Numbers stay numbers.
* :func:`chart_label` for a chart's label (the HTML report's SVG charts): control characters
  made visible, long text cut.
* :func:`html_text` for a whole HTML page, and both of these: a flood of combining marks on
  one letter ("Zalgo"), which a browser stacks through the lines above and below, is shown
  as escapes past the 4th mark, and noncharacters (U+FFFE, U+FFFF: not XML) as escapes
  (:func:`marks_shown`).

Text that is not Unicode at all: JSON's ``"\\ud800"`` escape decodes to a lone UTF-16
surrogate, which no UTF-8 file, terminal, notebook or HTTP body can hold. Where such text enters
(a server's answer, a document, an audit's records) :func:`unicode_text` / :func:`unicode_tree`
replace each lone surrogate by U+FFFD (a surrogate pair becomes the character it encodes);
:func:`require_unicode` refuses one in a value the user wrote (a token spec, a sandbox seed);
:func:`printable` shows one as its ``\\ud800`` escape.

Names that must each stand for one thing (a chart's rows and columns): :func:`distinct_labels`
(a repeated, blank or look-alike name followed by its id; :func:`visible_form` decides what
looks alike).
"""

from __future__ import annotations

import functools
import io
import marshal
import operator
import pickle
import re
import sys
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, islice, repeat
from typing import Any

from .errors import InvalidInput

__all__ = [
    "chart_label",
    "csv_cell",
    "csv_frame",
    "csv_rows",
    "distinct_labels",
    "html_text",
    "lone_surrogate",
    "marks_shown",
    "may_hold_surrogates",
    "path_text",
    "plain_copy",
    "printable",
    "require_unicode",
    "unicode_text",
    "unicode_tree",
    "utf8_encodable",
    "visible_form",
    "visible_forms",
]

# C0 controls, DEL, C1 controls, and the bidirectional overrides and isolates that reorder
# what a terminal shows ("Trojan Source").
_BIDI = "\u202a-\u202e\u2066-\u2069"
# ...and UTF-16 surrogates, which are not characters (printed as the escape JSON uses).
_SURROGATES = "\ud800-\udfff"
_CONTROL = re.compile(rf"[\x00-\x1f\x7f-\x9f{_BIDI}{_SURROGATES}]")
_CONTROL_NOT_NEWLINE = re.compile(rf"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}{_SURROGATES}]")
_SURROGATE = re.compile(f"[{_SURROGATES}]")
# A surrogate escape in JSON text (``\\ud800``…``\\udfff``), or a surrogate itself in a str.
_SURROGATE_ESCAPE = re.compile(r"\\(?:u|U0000)[dD][89a-fA-F]")  # YAML also has \\U0000d800
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE_UTF8 = re.compile(rb"\xed[\xa0-\xbf]")  # a surrogate written with surrogatepass
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Noncharacters: U+FDD0-U+FDEF and the last two code points of each plane. U+FFFE and U+FFFF
# are not XML characters (an SVG holding one is not well-formed); each is an HTML parse error.
_NONCHARACTERS = "".join(map(chr, range(0xFDD0, 0xFDF0))) + "".join(
    f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}" for plane in range(0, 0x110000, 0x10000)
)
_NONCHARACTER = re.compile(f"[{_NONCHARACTERS}]")
MARKS_KEPT = 4  # combining marks drawn on one letter (Vietnamese, Hebrew, Tibetan need <= 4)
# Five characters in a row above U+02FF (where every combining mark is): where a flood of marks
# can be. One C-speed scan of a page, which rarely holds such a run outside names in scripts.
_HIGH_RUN = re.compile("[\u0300-\U0010ffff]" * (MARKS_KEPT + 1))
_MARK_RUN = re.compile(f"[\u0300-\U0010ffff]{{{MARKS_KEPT + 1},}}")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code == 0x0A:
        return "\\n"
    # DEL, C1 and bidi as \\uNNNN: the same escape JSON uses, so JSON printed through this
    # helper stays valid JSON with the same value.
    return f"\\x{code:02x}" if code < 0x20 else f"\\u{code:04x}"


def printable(text: object, *, newlines: bool = False) -> str:
    """``text`` safe to print on a terminal: every C0/C1 control character, DEL, bidi
    override and UTF-16 surrogate replaced by its visible escape (``\\x1b``, ``\\n``,
    ``\\u009b``, ``\\u202e``, ``\\ud800``).
    ``newlines=True`` keeps ``\\n`` (for a message cftokens wrote itself, never for a value
    that came from input)."""
    value = text if isinstance(text, str) else str(text)
    pattern = _CONTROL_NOT_NEWLINE if newlines else _CONTROL
    return pattern.sub(_escape, value)


def csv_cell(value: Any) -> Any:
    """A CSV cell value that no spreadsheet runs as a formula (OWASP CSV injection).

    Text starting with ``= + - @``, a tab or a carriage return gets a leading ``'``; text
    that is a plain number (``-3``, ``+1.5e3``) and non-text values are returned unchanged.
    A lone surrogate in text becomes U+FFFD (a CSV file is UTF-8).
    """
    if not isinstance(value, str):
        return value
    value = unicode_text(value)
    if not value.startswith(_FORMULA_START):
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
            out[column] = _csv_column(out[column].astype(object))
    return out


def _csv_column(column: Any) -> Any:
    """``column.map(_csv_object, na_action="ignore")`` of an object column, with
    :func:`_csv_object` called only on the cells it may change (not NA, and not text that
    neither starts like a formula nor holds a surrogate: it returns those unchanged). The
    cells are mapped and their types inferred by the same pandas routine ``map`` uses, so the
    column is the one ``map`` gives; a 100,000-token audit's tables hold millions of cells."""
    import numpy as np
    import pandas as pd
    from pandas._libs import lib

    values = column.to_numpy(dtype=object)
    if not len(values):
        return column.map(_csv_object, na_action="ignore")
    missing = pd.isna(values)
    texts = values[~missing]
    joined = "".join(texts.tolist()) if pd.api.types.infer_dtype(texts) == "string" else None
    if joined is not None and (joined.isascii() or _SURROGATE.search(joined) is None):
        # all text (str or a subclass: csv_cell returns either as it is), no surrogate: a
        # cell changes only if its first character starts a formula (one C-level pass)
        needs = np.zeros(len(values), dtype=bool)
        needs[~missing] = np.isin(texts.astype("U1"), list(_FORMULA_START))
    else:
        starts = frozenset(_FORMULA_START)
        search = _SURROGATE.search
        needs = np.array(
            [
                not isinstance(v, str)
                or v[:1] in starts
                or (not v.isascii() and search(v) is not None)
                for v in values
            ],
            dtype=bool,
        )
    skip = missing | ~needs
    mapped = lib.map_infer_mask(  # type: ignore[attr-defined]  # (pandas-stubs omit it)
        values, _csv_object, mask=skip.view(np.uint8)
    )
    return column._constructor(mapped, index=column.index, copy=False)


def _csv_object(value: Any) -> Any:
    if isinstance(value, bool | int | float):
        return value
    return csv_cell(value if isinstance(value, str) else str(value))


@functools.cache
def _marks() -> frozenset[str]:
    """Every combining mark (Unicode categories Mn, Me; made on first use, ~0.06 s)."""
    codes = [*range(0x300, 0x20000), *range(0xE0100, 0xE01F0)]
    return frozenset(c for c in map(chr, codes) if unicodedata.category(c) in ("Mn", "Me"))


def _marks_flood(match: re.Match[str]) -> str:
    run = match.group(0)
    marks = _marks()
    if marks.isdisjoint(run):  # a run of letters (CJK, Cyrillic…): one C-speed check
        return run
    out = []
    count = 0
    for char in run:
        if char in marks:
            count += 1
            if count > MARKS_KEPT:
                out.append(f"\\u{ord(char):04x}")
                continue
        elif unicodedata.category(char) != "Cf":  # a joiner keeps marks on the same letter
            count = 0
        out.append(char)
    return "".join(out)


def marks_shown(text: str) -> str:
    """``text`` with at most :data:`MARKS_KEPT` combining marks (Unicode categories Mn, Me)
    drawn on one letter: the marks past them are shown as their ``\\u0301`` escapes. A
    browser stacks every mark of a letter, so a name carrying hundreds ("Zalgo") is drawn
    through the names on the lines above and below it; real scripts stack at most 4.
    Noncharacters (U+FFFE, U+FFFF, U+FDD0…) are shown as their escapes too: they are not
    XML characters or are HTML parse errors."""
    if text.isascii():
        return text
    if _HIGH_RUN.search(text) is not None:
        text = _MARK_RUN.sub(_marks_flood, text)
    if any(char in text for char in _NONCHARACTERS):
        text = _NONCHARACTER.sub(_escape, text)
    return text


# Characters drawn as nothing: format characters (category Cf: zero-width spaces and joiners,
# bidi marks, tags), variation selectors, the combining grapheme joiner, Hangul fillers and the
# blank braille pattern.
_INVISIBLE = re.compile("[\u034f\u115f\u1160\u2800\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]")


def visible_form(text: str) -> str:
    """What a reader sees of ``text``, to tell names that look the same: compatibility forms
    folded (NFKC: fullwidth ``ｃｉ`` and mathematical ``𝐜𝐢`` are ``ci``), characters drawn as
    nothing removed (zero-width, bidi marks, tags, variation selectors, Hangul fillers), each
    run of spaces as one space and none at the ends."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        text = "".join(c for c in text if unicodedata.category(c) != "Cf")
        text = _INVISIBLE.sub("", text)
    return " ".join(text.split())


def visible_forms(texts: Sequence[str]) -> list[str]:
    """:func:`visible_form` of each text; a few C-speed scans of them all when they are
    printable ASCII with single spaces between words (nearly always): their own form."""
    joined = "\x00".join(texts)
    if (
        joined.isascii()
        and "".join(texts).isprintable()  # no tab, newline or other control
        and "  " not in joined
        and "\x00 " not in joined
        and " \x00" not in joined
        and not joined.startswith(" ")
        and not joined.endswith(" ")
    ):
        return list(texts)
    return list(map(visible_form, texts))


def chart_label(text: object, limit: int = 60) -> str:
    """A chart label: control characters and a flood of combining marks made visible
    (:func:`printable`, :func:`marks_shown`), cut to ``limit`` characters."""
    label = marks_shown(printable(text))
    return label if len(label) <= limit else label[: limit - 1] + "…"


def html_text(document: str) -> str:
    """An HTML document whose text from input can neither hide nor reorder what the reader
    sees: control characters (newlines aside), bidi overrides and surrogates shown as their
    escapes, as :func:`printable` shows them on a terminal, and a flood of combining marks
    too (:func:`marks_shown`); markup must already be escaped."""
    return marks_shown(printable(document, newlines=True))


def unicode_text(text: str) -> str:
    """``text`` as Unicode that UTF-8 can encode: each lone UTF-16 surrogate becomes U+FFFD
    (the replacement character), a high/low surrogate pair becomes the character it encodes.
    Text without surrogates (nearly all of it) is returned as it is, after one C-speed scan."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def path_text(path: str) -> str:
    """A file name from the operating system as Unicode text: bytes that are not UTF-8 (which
    Python holds as surrogates U+DC80-U+DCFF) shown as ``\\xff`` escapes, so the name stays
    recognisable in a report; any other lone surrogate becomes U+FFFD."""
    if path.isascii() or _SURROGATE.search(path) is None:
        return path
    try:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return unicode_text(path)


def unicode_tree(value: Any) -> Any:
    """A JSON-like value (dicts, lists, tuples, text) with every text, keys included, passed
    through :func:`unicode_text`; other values are returned unchanged. A container shared
    several times (a YAML alias) is converted once and stays shared, so an alias chain that
    expands to billions of items costs as much as its few distinct containers.

    Any depth and any cycle are converted: the walk keeps its own stack (no recursion, so no
    recursion limit to stop it halfway and leave a lone surrogate in place), and a dict or
    list is known by its new container from the moment it is entered (a cycle through it, or
    through a tuple inside it, comes back to that container)."""
    if isinstance(value, str):
        return unicode_text(value)
    if not isinstance(value, dict | list | tuple):
        return value
    seen: dict[int, tuple[Any, Any]] = {}  # id -> (original, kept alive: its id stays its own;
    #                                        its converted container)
    stack: list[tuple[Any, Any, Iterator[Any], list[Any]]] = []

    def enter(item: Any) -> Any:
        """``item`` converted, or ``_PENDING`` when its frame was pushed on the stack."""
        if isinstance(item, str):
            return unicode_text(item)
        if not isinstance(item, dict | list | tuple):
            return item
        done = seen.get(id(item))
        if done is not None:
            return done[1]
        out: Any = None
        if isinstance(item, dict):
            out = {}
            children: Iterator[Any] = chain.from_iterable(list(item.items()))
        else:
            out = [] if isinstance(item, list) else None  # a tuple is made at its end
            children = iter(list(item))
        if out is not None:
            seen[id(item)] = (item, out)
        stack.append((item, out, children, []))
        return _PENDING

    result = enter(value)
    while stack:
        original, out, children, parts = stack[-1]
        add = parts.append
        for child in children:
            if isinstance(child, str):  # texts and other leaves here: most children are
                add(unicode_text(child))
            elif not isinstance(child, dict | list | tuple):
                add(child)
            else:
                converted = enter(child)
                if converted is _PENDING:
                    break  # the child's frame first; this one resumes after it
                add(converted)
        else:
            stack.pop()
            if isinstance(original, dict):
                out.update(zip(parts[::2], parts[1::2], strict=True))
            elif isinstance(original, list):
                out.extend(parts)
            else:
                out = tuple(parts)
                seen[id(original)] = (original, out)
            if stack:
                stack[-1][3].append(out)
            else:
                result = out
    return result


_PENDING: Any = object()  # unicode_tree: a container whose conversion is under way


def utf8_encodable(value: Any) -> bool:
    """Whether every text in ``value`` (nested dicts, lists, tuples) is UTF-8-encodable, for
    input that arrives as Python objects rather than text. Checked at C speed.

    marshal first, as the proof of kind: it writes only exact built-in types (dict, list,
    tuple, set, str, bytes, numbers, None) and refuses any subclass or other object. Only such
    a plain value is then handed to msgspec's MessagePack encoder, which encodes every text
    (keys included) as UTF-8 and refuses a surrogate: exact, where a byte scan of marshal's
    output also sees its binary fields. msgspec alone is not a proof: it reads a dict
    subclass by its storage, not by the ``items`` its readers call, and writes dataclasses and
    attrs objects without their private fields and other attributes, so a surrogate there
    would pass unseen.

    What marshal refuses goes through pickle without its memo (which reads a dict subclass
    by its ``items`` and an object by its whole state) and one byte scan for a surrogate as
    UTF-8 (``ED A0``-``ED BF``, bytes that valid UTF-8 never holds); a value pickle cannot
    write counts as not proven. A plain value msgspec cannot write (numpy's str, which
    marshal writes as its raw UCS-4 bytes; an integer beyond 64 bits) is proven by a scan of
    marshal's output, in UTF-8 and in UCS-4: a flag there may be one of marshal's own binary
    fields (a back-reference, an integer such as 41197), so a flagged value is not proven.
    """
    import msgspec  # here: import cftokens stays light

    try:
        raw = marshal.dumps(value)
    except ValueError:  # not a plain value (a subclass, a Mapping that is not a dict)
        return _pickled_utf8(value)
    try:
        msgspec.msgpack.encode(value)
    except UnicodeEncodeError:  # a text holding a surrogate
        return False
    except Exception:  # a plain value msgspec cannot write (or one nested beyond its depth)
        return _SURROGATE_UTF8.search(raw) is None and not _ucs4_surrogate(raw)
    return True


def plain_copy(value: Any, repair: Callable[[Any], Any] | None = None) -> tuple[Any, bool | None]:
    """A compact copy of JSON-like ``value`` proven to be the same data, all of it Unicode:
    ``(copy, True)``; else ``(None, False)`` when ``value`` holds a lone surrogate (as
    :func:`utf8_encodable` would answer), ``(None, None)`` when it is not proven either way.

    ``repair``: for a value holding a surrogate, a function given the copy that returns it
    with each surrogate replaced (its texts through :func:`unicode_text`, as
    :func:`unicode_tree` would), or None; what it returns is proven as the copy would be
    (nothing but plain data, no surrogate left) and returned as ``(repaired, True)``.

    The copy is made by marshal, with the garbage collector paused by the caller: marshal
    writes the objects one after another and ``marshal.loads`` reads them back, so the copy's
    dicts, lists and texts lie together in memory in the order they are read, and every
    later pass over them is several times faster than over objects scattered between other
    allocations (an audit of 100,000 synthetic tokens: 15-25% less CPU). It shares no
    container with ``value`` (a caller changing its dicts afterwards changes nothing in the
    copy).

    In pieces (:func:`_pieces`): the lists and tuples of ``value``'s first
    :data:`_SHELL_LEVELS` levels (the audit's input: a tuple of token lists and of (account
    id, token list) pairs) are rebuilt, and the objects below them (each token) are copied
    :data:`_PIECE` at a time, each piece by one marshal round trip and proven at once, while
    its ~1 MB of bytes and objects are still in the CPU's caches (a third less CPU than one
    round trip and two proofs over 100,000 tokens' 45 MB). Objects shared inside a piece
    stay shared, as marshal keeps them; an object shared by two pieces is copied once in
    each (equal values; at most once per :data:`_PIECE` objects that refer to it, where the
    audit reads or exports it once per referring token anyway).

    marshal refuses subclasses and objects, but writes any other object with the buffer
    protocol (numpy's str and numbers, bytearray, memoryview, array.array) as ``bytes``: such
    a copy would hold other values than ``value``. orjson proves each piece plain in one C
    pass: it writes only dict (with keys of text, numbers, booleans or None), list, tuple,
    str, int within 64 bits, float, bool and None, and refuses ``bytes`` and a text holding
    a surrogate. A copy holding only those came from exact built-in objects only, which
    marshal writes as themselves: the same data. Anything else (bytes, sets, huge integers,
    tuple keys, nesting past orjson's 254 levels, a cycle) is not proven,
    and the caller reads ``value`` itself. Each piece's marshal bytes are dropped as soon as
    its copy exists.

    msgspec's MessagePack encoder reads each piece first: it stops at Python's recursion
    limit in every container, where orjson counts the depth of dicts and lists but not of
    tuples, so a cycle through one (which marshal copies whole) could run orjson's encoder
    until the process died. It also answers the surrogate question: its error is a text of
    ``value``'s own (the copy's texts are the value's; numpy's str is bytes there).

    Nesting is bounded before either reads a piece: orjson overran its buffer on ~500 nested
    tuples (an aborted process, or corrupted memory), which msgspec's check does not stop
    (the recursion limit is ~1,000 and a program may raise it). Each piece is written by
    marshal at the bottom of a chain of tuples (:func:`_depth_guard`) so long that marshal's
    own depth limit refuses any piece nesting deeper than orjson's 254 levels of dicts and
    lists (:data:`_NESTING`): such a value was not proven anyway, and tuples are now held to
    the same depth.
    """
    import msgspec  # here: import cftokens stays light

    encoder = msgspec.msgpack.Encoder()
    buffer = bytearray()  # msgspec's output, written into one buffer (no new bytes each piece)
    leaves: list[Any] = []
    plan = _plan(value, leaves, 0)
    copied: list[Any] = []
    surrogate = False
    guard = _depth_guard()
    for start in range(0, len(leaves), _PIECE):
        piece = guard.copied(leaves[start : start + _PIECE])
        if piece is None:  # a subclass or other object, or nested too deep
            return None, False if surrogate else None
        copied += piece
        try:  # before orjson: a cycle stops here (see above)
            encoder.encode_into(piece, buffer)
        except UnicodeEncodeError:  # a surrogate in one of the value's own texts
            surrogate = True
            continue
        except Exception:  # huge integers, cycles, objects msgspec cannot write
            return None, False if surrogate else None
        if not _orjson_plain(piece):
            return None, False if surrogate else None
    copy = _rebuilt(plan, iter(copied))
    if surrogate:
        repaired = _repaired(copy, repair, guard)
        return (repaired, True) if repaired is not None else (None, False)
    return copy, True


#: Objects nested in what orjson reads, the outermost and a text at the bottom counted: its
#: 254 levels of dicts and lists and their items (it refuses a 255th container).
_NESTING = 255


@functools.cache
def _marshal_depth() -> int:
    """The most objects marshal writes nested in one another: CPython's constant, 2,000,
    confirmed by two chains of lists (~0.3 ms), or found by bisection where it differs."""
    if _marshal_writes(_MARSHAL_DEPTH) and not _marshal_writes(_MARSHAL_DEPTH + 1):
        return _MARSHAL_DEPTH
    accepted, refused = 1, 1 << 14
    while refused - accepted > 1:
        levels = (accepted + refused) // 2
        accepted, refused = (levels, refused) if _marshal_writes(levels) else (accepted, levels)
    return accepted


_MARSHAL_DEPTH = 2_000  # marshal.c's MAX_MARSHAL_STACK_DEPTH


def _marshal_writes(levels: int) -> bool:
    """Whether marshal writes ``levels`` objects nested in one another (lists, a text)."""
    nested: Any = "x"
    for _ in range(levels - 1):
        nested = [nested]
    try:
        marshal.dumps(nested)
    except ValueError:
        return False
    return True


class _DepthGuard:
    """marshal's round trip of a value that nests at most :data:`_NESTING` objects deep: the
    value is written in a list at the bottom of a chain of ``levels - 1`` tuples, so marshal's
    own depth limit refuses it past that (one C-level check while it writes). One chain per
    process (:func:`_depth_guard`), its list filled and emptied under a lock; marshal reads the
    tuples back from their free list (~0.1 ms a piece); a call that finds it in use makes a
    chain of its own (~0.3 ms) rather than wait."""

    def __init__(self, levels: int) -> None:
        self.levels = levels
        self.bottom: list[Any] = []
        top: Any = self.bottom
        for _ in range(levels - 1):
            top = (top,)
        self.top = top
        self.lock = threading.Lock()

    def written(self, value: Any) -> bytes | None:
        """marshal's bytes of ``value`` at the bottom of the chain, or None when marshal refuses
        it (an object that is not plain data, or nesting past :data:`_NESTING`)."""
        if not self.lock.acquire(blocking=False):  # in use by another thread (or this one,
            return _DepthGuard(self.levels).written(value)  # re-entered): a chain of its own
        try:
            self.bottom.append(value)
            return marshal.dumps(self.top)
        except ValueError:
            return None
        finally:
            self.bottom.clear()
            self.lock.release()

    def copied(self, value: Any) -> Any:
        """marshal's copy of ``value``, or None (see :meth:`written`)."""
        raw = self.written(value)
        if raw is None:
            return None
        return functools.reduce(operator.getitem, repeat(0, self.levels), marshal.loads(raw))


@functools.cache
def _depth_guard() -> _DepthGuard:
    """The :class:`_DepthGuard` for marshal's depth limit (one list at least: a limit below
    :data:`_NESTING` bounds the nesting itself)."""
    return _DepthGuard(max(1, _marshal_depth() - _NESTING))


# plain_copy: the levels of lists and tuples it rebuilds around the objects it copies in
# pieces, and the objects in a piece (2,048 tokens: ~1 MB of marshal bytes)
_SHELL_LEVELS = 4
_SHELL_TYPES = frozenset({list, tuple})
_PIECE = 1 << 11


def _plan(value: Any, leaves: list[Any], level: int) -> Any:
    """:func:`plain_copy`'s plan of ``value``: the exact lists and tuples of its first
    :data:`_SHELL_LEVELS` levels as ``(type, [plans])`` (``(type, n)`` when their ``n`` items
    are all leaves), every other object appended to ``leaves`` (and planned as None)."""
    if level >= _SHELL_LEVELS or type(value) not in (list, tuple):
        leaves.append(value)
        return None
    if _SHELL_TYPES.isdisjoint(map(type, value)) or level + 1 >= _SHELL_LEVELS:
        leaves.extend(value)
        return type(value), len(value)
    return type(value), [_plan(item, leaves, level + 1) for item in value]


def _rebuilt(plan: Any, copied: Iterator[Any]) -> Any:
    """The copy of a value planned by :func:`_plan`, from its leaves' copies in order."""
    if plan is None:
        return next(copied)
    kind, items = plan
    built = (
        list(islice(copied, items)) if type(items) is int else [_rebuilt(p, copied) for p in items]
    )
    return built if kind is list else tuple(built)


def _orjson_plain(copy: Any) -> bool:
    """Whether orjson writes ``copy`` (see :func:`plain_copy`); keys that are numbers, booleans
    or None (which marshal copies as they are) on a second try, which costs more."""
    import orjson

    for option in (0, orjson.OPT_NON_STR_KEYS):
        try:
            orjson.dumps(copy, option=option)
        except Exception:  # orjson.JSONEncodeError (a TypeError): bytes, sets, other keys…
            continue
        return True
    return False


def _repaired(copy: Any, repair: Callable[[Any], Any] | None, guard: _DepthGuard) -> Any:
    """:func:`plain_copy`'s copy repaired by ``repair`` and proven plain and Unicode, or None
    (no repair, or one that failed: a cycle, nesting past orjson's depth (``guard``) or beyond
    the recursion limit)."""
    import msgspec

    if repair is None:
        return None
    try:
        repaired = repair(copy)
        if repaired is not None:
            if guard.written(repaired) is None:  # before msgspec and orjson, as in plain_copy
                return None
            msgspec.msgpack.encode(repaired)  # first, as in plain_copy: cycles
    except Exception:  # RecursionError in the repair, a surrogate left, not plain data
        return None
    return repaired if repaired is not None and _orjson_plain(repaired) else None


def _pickled_utf8(value: Any) -> bool:
    """:func:`utf8_encodable` for a value marshal refuses: pickle without its memo, a scan."""
    buffer = io.BytesIO()
    pickler = _TextPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True  # no memo: JSON-like input shares nothing worth remembering
    try:
        pickler.dump(value)
    except Exception:  # an object pickle cannot write (a lambda, a lock), or a cycle
        return False
    return _SURROGATE_UTF8.search(buffer.getbuffer()) is None


_SURROGATE_HIGH_BYTES = [bytes([b]) for b in range(0xD8, 0xE0)]


def _ucs4_surrogate(raw: bytes) -> bool:
    """Whether ``raw`` may hold a surrogate written in UCS-4 in the machine's byte order
    (``D8``-``DF`` next to two zero bytes), as marshal writes numpy's str (any object with the
    buffer protocol, as its raw bytes). Each of the 8 bytes is found by ``bytes.find``
    (memchr: a few ms for a 45 MB inventory, where a regular expression's character class
    takes 0.3 s); they are rare outside Arabic and Hebrew text, whose UTF-8 never puts two
    zero bytes after one."""
    little = sys.byteorder == "little"
    for byte in _SURROGATE_HIGH_BYTES:
        at = raw.find(byte)
        while at >= 0:
            if (raw[at + 1 : at + 3] if little else raw[max(at - 2, 0) : at]) == b"\x00\x00":
                return True
            at = raw.find(byte, at + 1)
    return False


class _TextPickler(pickle.Pickler):
    """A pickler writing a str subclass as its text (UTF-8, surrogates passed through, so the
    scan sees them): numpy's str writes itself as UCS-4 bytes, where a surrogate is not seen.
    ``reducer_override`` is called only for objects that are not exact built-in types."""

    def reducer_override(self, obj: object) -> Any:
        if isinstance(obj, str):
            return str, (str.__str__(obj),)
        return NotImplemented


def may_hold_surrogates(raw: str | bytes) -> bool:
    """Whether JSON (or YAML) text ``raw`` may decode to a surrogate (it holds a ``\\udXXX``
    or ``\\U0000dXXX`` escape, or, as a str, a surrogate itself). ``False`` proves the decoded
    value clean, so clean input costs one scan of its raw text and no per-string work."""
    if isinstance(raw, bytes | bytearray | memoryview):
        return _SURROGATE_ESCAPE_BYTES.search(raw) is not None
    return _SURROGATE_ESCAPE.search(raw) is not None or (
        not raw.isascii() and _SURROGATE.search(raw) is not None
    )


def lone_surrogate(value: Any) -> str | None:
    """The first text inside ``value`` (a text, or dicts/lists/tuples of them, keys included)
    that holds a UTF-16 surrogate, or ``None``: such text is not Unicode and cannot be sent
    as UTF-8 JSON."""
    if isinstance(value, str):
        return value if not value.isascii() and _SURROGATE.search(value) else None
    if isinstance(value, dict):
        items: Iterable[Any] = (x for pair in value.items() for x in pair)
    elif isinstance(value, list | tuple):
        items = value
    else:
        return None
    for item in items:
        found = lone_surrogate(item)
        if found is not None:
            return found
    return None


def require_unicode(value: Any, what: str) -> None:
    """Raise :class:`~cftokens.InvalidInput` naming ``what`` if a text inside ``value`` holds
    a UTF-16 surrogate: it is not Unicode, so it can be neither sent as UTF-8 JSON nor
    stored."""
    found = lone_surrogate(value)
    if found is not None:
        shown = printable(found if len(found) <= 60 else found[:59] + "…")
        raise InvalidInput(
            f"{what} holds text that is not Unicode ('{shown}'): a lone surrogate "
            '(\\ud800-\\udfff, e.g. from a JSON "\\ud800" escape) cannot be sent as UTF-8; '
            "remove it or replace it with U+FFFD"
        )


def distinct_labels(names: Sequence[str], ids: Sequence[str]) -> list[str]:
    """A label per name that stands for one thing only (``ids`` are distinct): the name; a
    name that shows nothing (``""``, spaces, a zero-width space), repeats or looks like
    another (:func:`~cftokens._text.visible_form`: ``ci``, ``ci`` with a zero-width space,
    fullwidth ``ｃｉ``) with its id's first 6 characters (``ci (a1b2c3)``); a label that still
    looks like another (a name that copies another's label, ids that share 6 characters)
    with the whole id; and the ids themselves if even that repeats. The access matrix groups
    its cells by label, so a repeated label would add one token's (or zone's) groups to
    another's, and a label that only looks like another would let a token pass for another
    on the heatmap."""
    names = list(names)
    forms = visible_forms(names)
    distinct = set(forms)
    if len(distinct) == len(forms) and "" not in distinct:
        return names
    labels = names.copy()
    repeated = _repeated(forms)
    for k in [k for k, form in enumerate(forms) if form in repeated or not form]:
        labels[k] = f"{names[k]} ({ids[k][:6]})"
        forms[k] = visible_form(labels[k])
    if len(set(forms)) == len(labels):
        return labels
    repeated = _repeated(forms)
    for k in [k for k, form in enumerate(forms) if form in repeated]:
        labels[k] = f"{names[k]} ({ids[k]})"
    return labels if len(set(map(visible_form, labels))) == len(labels) else list(ids)


def _repeated(forms: list[str]) -> set[str]:
    return {form for form, n in Counter(forms).items() if n > 1}
