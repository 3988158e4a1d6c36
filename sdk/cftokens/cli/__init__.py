"""The ``cftokens`` command line.

Each sub-command lives in its own module of this package and registers itself through
``COMMANDS`` (module name -> one-line help). Exit codes: 0 success, 1 a finding or failure the
command reports (e.g. ``audit --fail-on``), 2 bad input (unknown names, bad flags, bad files).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..errors import CloudflareError, InvalidInput

# sub-command -> module in this package defining ``register(subparsers)`` and ``run(args)``.
COMMANDS: dict[str, str] = {
    "audit": ".audit",
    "catalog": ".catalog",
    "sandbox": ".sandbox",
}


class UsageError(Exception):
    """Bad input on the command line: printed without a traceback, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="cftokens",
        description="Design, issue and audit Cloudflare API tokens with least privilege.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"cftokens {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        importlib.import_module(module, __name__).register(subparsers)
        del name
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cftokens`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        result: int = args.run(args)
    except (UsageError, InvalidInput) as exc:
        print(f"cftokens {args.command}: {exc}", file=sys.stderr)
        return 2
    except CloudflareError as exc:
        print(f"cftokens {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
