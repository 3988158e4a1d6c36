"""Writing files: a report replaces its target whole or not at all (a leaf helper, below the
audit's reports and the leak scanner's and responder's, which all write with it)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ._text import unicode_text
from .errors import InvalidInput

__all__ = ["write_atomic"]


def write_atomic(path: str | Path, text: str | bytes) -> Path:
    """Write ``text`` to ``path`` (UTF-8) through a temporary file and a rename; a lone
    surrogate in it (text that came from input) is written as U+FFFD. Bytes are text
    already encoded as UTF-8 (a report's JSON as orjson writes it), written as the text they
    encode would be (newlines as the platform writes them)."""
    target = Path(path)
    if target.is_dir():
        raise InvalidInput(f"{target} is a folder; give a file path for the report")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        raise InvalidInput(f"the folder {parent} does not exist; create it or choose another path")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    try:
        if isinstance(text, bytes):
            with os.fdopen(fd, "wb") as raw:
                raw.write(text if os.linesep == "\n" else text.replace(b"\n", b"\r\n"))
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(unicode_text(text))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
