"""Text that is safe to print in a terminal (the package-wide helper, under the name the
scanner uses): control characters and bidi overrides in names are made visible."""

from __future__ import annotations

from .._text import printable as plain

__all__ = ["plain"]
