"""Text from input as each output shows it: a terminal line, a chart label, an HTML page.

Names are written by whoever holds a token (or a server, a file, an attendee). Every place
that shows one applies the same rule, built from :mod:`cftokens._text`'s helpers:

- control characters, bidi overrides and isolates, surrogates as visible escapes
  (:func:`~cftokens._text.printable`);
- more than :data:`~cftokens._text.MARKS_KEPT` combining marks on one letter ("Zalgo"), which
  a terminal or a browser draws through the lines above and below, as escapes
  (:func:`~cftokens._text.marks_shown`);
- characters drawn as nothing that break or hide text (:func:`invisibles_shown`): the line and
  paragraph separators U+2028/U+2029 (a chart draws nothing, a terminal may break the line),
  zero-width spaces, joiners of words and invisible operators, the byte-order mark, the soft
  hyphen, bidi marks, Hangul fillers and tag characters (invisible text, "ASCII smuggling").
  ``ci\\u2028deploy`` otherwise looks like ``cideploy`` (or like another token's name).

The zero-width joiner and non-joiner, the variation selectors and the tags of a subdivision
flag (England's 🏴 and its tags) are kept: scripts and emoji need them. Escapes are JSON's
(``\\u2028``; ``\\udb40\\udc41`` above U+FFFF), so JSON printed through these stays valid
JSON with the same value.

The rich and plain forms a notebook or a terminal shows of cftokens' objects apply the same
rule where they render: :func:`html_repr` decorates a ``_repr_html_`` (and any builder of
HTML), :func:`text_repr` a one-line ``__str__``/``__repr__``, :func:`shown_lines` joins the
lines of a longer one, :func:`field_repr` is an attrs field's repr and
:func:`fields_shown` makes it every field's (``@frozen(field_transformer=fields_shown)``).
Those also show anything shaped like a credential as ``[redacted]``
(:func:`cftokens.errors.redact`): a token named with a secret must not print it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import attrs

from ._text import chart_label, html_text, marks_shown, printable
from .errors import redact

__all__ = [
    "INVISIBLES",
    "field_repr",
    "fields_shown",
    "html_rendered",
    "html_repr",
    "html_shown",
    "invisibles_shown",
    "label",
    "shown_lines",
    "shown_text",
    "terminal",
    "text_repr",
]

_Shown = TypeVar("_Shown")

#: Characters drawn as nothing (or as a line break) that are shown as their escapes.
INVISIBLES = (
    "\u00ad"  # soft hyphen
    "\u061c"  # Arabic letter mark (bidi)
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers
    "\u180e"  # Mongolian vowel separator
    "\u200b"  # zero-width space
    "\u200e\u200f"  # left-to-right and right-to-left marks (bidi)
    "\u2028\u2029"  # line and paragraph separators
    "\u2060-\u2064"  # word joiner, invisible function application, times, separator, plus
    "\ufeff"  # zero-width no-break space (byte-order mark)
    "\U000e0000-\U000e007f"  # tags: invisible copies of ASCII
)
# A subdivision flag (England's: the black flag, the tags "gbeng" and the cancel tag) is the one
# use of tag characters to keep: a region's code (2 letters) and a subdivision's (1-4 more).
_FLAG = "\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{3,6}\U000e007f"
_INVISIBLE = re.compile(f"({_FLAG})|[{INVISIBLES}]")


def _escape(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return match.group(1)
    code = ord(match.group(0))
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # as JSON writes it: a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def invisibles_shown(text: str) -> str:
    """``text`` with every character of :data:`INVISIBLES` as its escape (``\\u2028``)."""
    if text.isascii():
        return text
    return _INVISIBLE.sub(_escape, text)


def terminal(value: object, *, newlines: bool = False) -> str:
    """``value`` safe on a terminal line: :func:`~cftokens._text.printable`, a flood of
    combining marks and the invisible characters as escapes. ``newlines=True`` keeps ``\\n``
    (for a message cftokens wrote itself, never for a value that came from input)."""
    text = printable(value, newlines=newlines)
    if text.isascii():
        return text
    return marks_shown(invisibles_shown(text))


def label(value: object, limit: int = 60) -> str:
    """A chart label: :func:`~cftokens._text.chart_label` (control characters and a flood of
    marks as escapes, cut to ``limit`` characters) with the invisible characters as escapes
    too, before it is cut."""
    text = value if isinstance(value, str) else str(value)
    return chart_label(invisibles_shown(text), limit)


def html_shown(document: str) -> str:
    """An HTML document whose text from input can neither hide nor reorder what the reader
    sees: :func:`~cftokens._text.html_text` (markup must already be escaped) with the
    invisible characters as escapes too."""
    return invisibles_shown(html_text(document))


def html_rendered(document: str) -> str:
    """HTML cftokens built for a notebook (text from input escaped with :func:`html.escape`):
    :func:`html_shown`, credential-shaped text redacted."""
    return html_shown(redact(document))


def html_repr(render: Callable[[_Shown], str]) -> Callable[[_Shown], str]:
    """Decorate a method returning HTML whose text is escaped (:func:`html.escape`): its
    document through :func:`html_shown`, credential-shaped text redacted."""

    @functools.wraps(render)
    def shown(self: _Shown) -> str:
        return html_rendered(render(self))

    return shown


def text_repr(render: Callable[[_Shown], str]) -> Callable[[_Shown], str]:
    """Decorate a one-line ``__str__``/``__repr__``: its text through :func:`shown_text` (a
    newline in it came from input, and is shown as ``\\n``)."""

    @functools.wraps(render)
    def shown(self: _Shown) -> str:
        return shown_text(render(self))

    return shown


def shown_lines(lines: Iterable[str]) -> str:
    """The lines cftokens wrote (a ``__str__`` of several), each holding text from input, as
    one text: each line through :func:`shown_text`, so a newline inside one (from input) is
    shown as ``\\n`` and cannot start a line of its own; then joined by newlines."""
    return "\n".join(map(shown_text, lines))


def shown_text(value: object) -> str:
    """``value`` as one line of plain text (a widget's option, a label): :func:`terminal`,
    credential-shaped text redacted."""
    return terminal(redact(value if isinstance(value, str) else str(value)))


def field_repr(value: object) -> str:
    """An attrs field's repr (``field(repr=field_repr)``): :func:`repr` through
    :func:`shown_text`."""
    return shown_text(repr(value))


def fields_shown(cls: type, fields: list[attrs.Attribute[Any]]) -> list[attrs.Attribute[Any]]:
    """An attrs ``field_transformer``: every field a repr shows is shown through
    :func:`field_repr` (a class whose fields hold text from a server, a file or a user)."""
    return [f.evolve(repr=field_repr) if f.repr is True else f for f in fields]
