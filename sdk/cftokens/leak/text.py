"""Text that is safe to print in a terminal: control characters in names are made visible."""

from __future__ import annotations

import re

__all__ = ["plain"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(value: object) -> str:
    """``value`` as text whose control characters (ANSI escapes, carriage returns, bidi
    overrides) are shown as ``\\xNN``/``\\uNNNN``, so a file name cannot rewrite the screen."""
    text = str(value)
    return _CONTROL.sub(
        lambda m: (
            f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}"
        ),
        text.replace("\n", "\\n"),
    )
