"""``cftokens scan``: find Cloudflare credentials in files, folders, git history or stdin.

::

    cftokens scan .                                    # a table; exit 1 when anything is found
    cftokens scan --git . --format sarif --output leaks.sarif      # history, for code scanning
    cftokens scan --verify --fail-on live src/         # exit 1 only for live (or unverifiable)
    git diff --cached | cftokens scan -                # stdin

Nothing printed or written holds a secret: each hit shows its prefix and last four characters.
Exit codes: 0 nothing at or above ``--fail-on``; 1 the gate tripped (``any``: a hit; ``live``: a
live hit or one whose verification could not finish); 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .._files import write_atomic
from .._text import printable as plain
from . import Subparsers, UsageError, emit

FORMATS = ("table", "json", "sarif")


def register(subparsers: Subparsers) -> None:
    """Add the ``scan`` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "scan",
        help="find Cloudflare credentials in files, folders, git history or stdin",
        description="Find Cloudflare API tokens and Global API Keys (cfut_, cfat_, cfk_ and the "
        "legacy formats next to their names) in files, folders, a git history or stdin ('-').",
    )
    parser.add_argument("paths", nargs="*", default=["."], help="files, folders, or - (stdin)")
    parser.add_argument(
        "--git", action="store_true", help="scan the history of each path (a git repository)"
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="ask the API whether each distinct secret is live (CLOUDFLARE_BASE_URL or the "
        "real API; one request per secret)",
    )
    parser.add_argument(
        "--account",
        metavar="ID",
        help="account id for verifying account-owned tokens when none is written next to them",
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="verify against the sandbox's demo company, in-process (for demos and courses)",
    )
    parser.add_argument("--format", choices=FORMATS, help="output (default: from --output)")
    parser.add_argument("--output", metavar="PATH", help="write the output here")
    parser.add_argument(
        "--fail-on",
        choices=["any", "live", "none"],
        default="any",
        help="exit 1 on: any hit (default), a live one (needs --verify), or never",
    )
    parser.add_argument(
        "--max-size",
        metavar="BYTES",
        type=int,
        help="skip files larger than this (default 50 MiB)",
    )
    parser.set_defaults(run=run)


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    if args.output:
        suffix = Path(args.output).suffix.lower()
        if suffix == ".sarif":
            return "sarif"
        if suffix == ".json":
            return "json"
    return "table"


def run(args: argparse.Namespace) -> int:
    """Scan, print or write, apply the gate."""
    # the command line loads what a sub-command drives when it runs: `cftokens --help` and the
    # other commands stay fast (cftokens.cli imports no audit, sandbox, client or leak)
    from ..leak import DEFAULT_MAX_SIZE, scan

    if args.fail_on == "live" and not args.verify:
        raise UsageError("--fail-on live needs --verify (without it liveness is unknown)")
    if args.sandbox and not args.verify:
        raise UsageError("--sandbox only says where --verify asks; add --verify")
    if args.max_size is not None and args.max_size < 1:
        raise UsageError("--max-size must be a positive number of bytes")
    verify: Any = False
    if args.verify:
        if args.sandbox:  # the sandbox loads only when the scan verifies against it
            from ..sandbox import Sandbox

            verify = Sandbox.demo()
        else:
            verify = True
    result = scan(
        args.paths,
        git=args.git,
        verify=verify,
        account=args.account,
        max_size=args.max_size or DEFAULT_MAX_SIZE,
    )
    fmt = _format(args)
    if fmt == "table":
        text = result.table()
        if args.output:
            write_atomic(args.output, text + "\n")
        else:
            emit(text)
    elif fmt == "json":
        text = result.to_json(args.output)
        if not args.output:
            emit(text)
    else:
        text = result.to_sarif(args.output)
        if not args.output:
            emit(text)
    if args.output:
        emit(
            f"wrote {fmt}: {plain(args.output)} ({len(result.hits)} hit(s), "
            f"{len(result.distinct())} distinct secret(s))",
            file=sys.stderr,
        )
    if result.failed(args.fail_on):
        why = {"any": "credentials found", "live": "a live or unverifiable credential"}
        emit(f"failing: {why[args.fail_on]} (--fail-on {args.fail_on})", file=sys.stderr)
        return 1
    return 0
