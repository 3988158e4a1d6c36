"""The ``cftokens`` command line.

Each sub-command lives in its own module of this package and registers itself through
``COMMANDS`` (module name -> one-line help). Exit codes: 0 success, 1 a finding or failure the
command reports (e.g. ``audit --fail-on``), 2 bad input (unknown names, bad flags, bad files),
3 an incomplete audit (``audit``: tokens were not seen; see ``cftokens audit --help``).

Everything the commands print goes through :func:`emit`, and every value that came from input
(a token or account name, a gap's reason, an error message) through :func:`field`: control
characters (ANSI escapes, a carriage return, a newline) are shown as ``\\xNN`` escapes, bidi
overrides, line and paragraph separators and other invisible characters as ``\\uNNNN``, and
combining marks past four on one letter ("Zalgo", drawn over the lines around it) as their
escapes too (``cftokens._shown.terminal``, the rule the HTML report and its charts apply), so
no name can erase, hide, overdraw or forge a row of the output.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import unicodedata
import warnings
from collections.abc import Sequence
from typing import TextIO, TypeAlias

from .. import __version__
from .._shown import terminal
from ..errors import CloudflareError, InvalidInput, MissingExtra

# sub-command -> module in this package defining ``register(subparsers)`` and ``run(args)``.
COMMANDS: dict[str, str] = {
    "audit": ".audit",
    "catalog": ".catalog",
    "sandbox": ".sandbox",
    "scan": ".scan",
    "triage": ".triage",
}

#: What ``register(subparsers)`` receives: the sub-command parsers of the ``cftokens`` parser.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class UsageError(Exception):
    """Bad input on the command line: printed without a traceback, exit code 2."""


def field(value: object) -> str:
    """A value from input, safe inside a line of output: no control character, newline, bidi
    override or invisible character, and at most four combining marks on a letter."""
    return terminal(value)


def _stream_text(text: str, target: TextIO) -> str:
    """``text`` as ``target`` can write it: characters its encoding cannot hold as ``\\u…``."""
    encoding = getattr(target, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:  # a stream naming no real codec: leave the text to it
        pass
    return text


def _columns(char: str) -> int:
    """Terminal columns one character takes: 0 for combining marks and format characters, 2
    for wide and full-width (East Asian) characters, 1 for the rest."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cell_width(value: object, *, file: TextIO | None = None) -> int:
    """Terminal columns :func:`cell` needs to show ``value`` whole on ``file`` (stdout)."""
    return sum(map(_columns, _stream_text(field(value), file or sys.stdout)))


def cell(value: object, width: int, *, right: bool = False, file: TextIO | None = None) -> str:
    """``value`` as a table cell exactly ``width`` terminal columns wide on ``file`` (stdout):
    shown as :func:`field` shows it, in what the stream can encode (``\\u…`` escapes on an
    ASCII or Latin-1 console) before it is measured, wide characters counted as two columns
    and combining marks as none, and cut with ``…`` (``...`` where the stream cannot write
    it) when too long. Rows of such cells line up on any console."""
    target = file or sys.stdout
    text = _stream_text(field(value), target)
    used = 0
    for i, char in enumerate(text):
        used += _columns(char)
        if used > width:
            ellipsis = _stream_text("…", target)
            ellipsis = ellipsis if ellipsis == "…" else "..."
            kept, used = [], 0
            for part in text[:i]:
                if used + _columns(part) > width - len(ellipsis):
                    break
                kept.append(part)
                used += _columns(part)
            text, used = "".join(kept) + ellipsis, used + len(ellipsis)
            break
    pad = " " * (width - used)
    return pad + text if right else text + pad


def emit(text: str = "", *, file: TextIO | None = None, flush: bool = False) -> None:
    """Print a line the command composed: control characters other than newlines, invisible
    characters and a flood of combining marks escaped (as :func:`field` shows them), and
    characters the stream's encoding cannot hold (``PYTHONIOENCODING=ascii``, a Latin-1
    console) written as ``\\u…`` escapes instead of failing."""
    target = file or sys.stdout
    print(_stream_text(terminal(text, newlines=True), target), file=target, flush=flush)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="cftokens",
        description="Design, issue and audit Cloudflare API tokens with least privilege.",
    )
    parser.add_argument("--version", action="version", version=f"cftokens {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        importlib.import_module(module, __name__).register(subparsers)
        del name
    return parser


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Warnings raised while a command runs, printed as one escaped line each."""
    emit(f"warning: {category.__name__}: {field(message)}", file=file or sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cftokens`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            result: int = args.run(args)
    except BrokenPipeError:  # the reader went away (`cftokens … | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush is silent
        return 141  # 128 + SIGPIPE, as a shell reports a command killed by a closed pipe
    except (UsageError, InvalidInput, MissingExtra) as exc:
        emit(f"cftokens {args.command}: {field(exc)}", file=sys.stderr)
        return 2
    except CloudflareError as exc:
        emit(f"cftokens {args.command}: {type(exc).__name__}: {field(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
