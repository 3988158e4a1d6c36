"""``cftokens triage``: a leaked secret's blast radius, activity and containment.

::

    cftokens triage --secret-file leaked.txt                        # admin: CLOUDFLARE_API_TOKEN
    pbpaste | cftokens triage --secret-file - --since 2026-10-27 --report incident.html
    cftokens triage --secret-file leaked.txt --roll new-secret.txt --yes
    cftokens triage --sandbox --secret-file leaked.txt              # the demo's leak scenario

The leaked secret is read from a file or stdin (``-``), never from the command line (where
shell history and process lists would keep it). The admin credential comes from
``CLOUDFLARE_API_TOKEN`` (``CLOUDFLARE_BASE_URL`` for another API): it needs to read tokens
and Audit Logs v2; whatever it cannot read is printed as a named gap. Containment
(``--roll FILE``, ``--disable``, ``--delete``) runs only with ``--yes``; a rolled secret is
written once to FILE (created, mode 0600) and never printed.

Exit codes: 0 done (the secret is not live, or contained); 1 the secret is live or unknown and
was not contained (so a script notices); 2 bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from .._text import printable as plain
from ..model.secret import Secret
from . import Subparsers, UsageError, cell, cell_width, emit


def register(subparsers: Subparsers) -> None:
    """Add the ``triage`` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "triage",
        help="a leaked secret: is it live, what can it do, what did it do, contain it",
        description="Triage a leaked Cloudflare credential: verify it, measure its blast radius, "
        "read its Audit Logs v2 activity, plan and (with --yes) carry out its containment.",
    )
    parser.add_argument(
        "--secret-file",
        required=True,
        metavar="FILE",
        help="file holding the leaked secret (- for stdin); never pass a secret as an argument",
    )
    parser.add_argument("--since", metavar="TIME", help="activity window start (date or time)")
    parser.add_argument("--account", metavar="ID", help="owning account of a cfat_ token")
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="triage against the sandbox's demo company with its leak scenario, in-process",
    )
    parser.add_argument("--report", metavar="PATH", help="write the incident report (HTML)")
    parser.add_argument("--json", metavar="PATH", help="write the incident report (JSON)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--roll", metavar="NEW_SECRET_FILE", help="roll it; write the new secret to this file"
    )
    action.add_argument("--disable", action="store_true", help="disable it (policies kept)")
    action.add_argument("--delete", action="store_true", help="delete it (irreversible)")
    parser.add_argument("--yes", action="store_true", help="confirm the containment step")
    parser.set_defaults(run=run)


_SECRET_FILE_MAX = 4096  # a secret (or one NAME=value line) is far shorter


def _read_secret(name: str) -> Any:

    try:
        # read no further than the limit: --secret-file /dev/zero or an endless pipe stops here
        if name == "-":
            text = sys.stdin.read(_SECRET_FILE_MAX + 1)
        else:
            with open(name, encoding="utf-8") as handle:
                text = handle.read(_SECRET_FILE_MAX + 1)
        if len(text) > _SECRET_FILE_MAX:
            raise UsageError(
                f"--secret-file {name}: more than {_SECRET_FILE_MAX:,} characters; a secret "
                "file holds one secret on one line"
            )
    except OSError as exc:
        raise UsageError(f"--secret-file {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--secret-file {name}: not UTF-8 text") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) != 1 or any(c.isspace() for c in lines[0]):
        raise UsageError(
            f"--secret-file {name}: expected exactly one secret on one line, found "
            f"{len(lines)} non-empty line(s)"
        )
    value = lines[0]
    if "=" in value and not value.startswith(("cfut_", "cfat_", "cfk_")):
        value = value.split("=", 1)[1].strip().strip("'\"")  # NAME=value from a .env line
    return Secret(value)


def _admin(args: argparse.Namespace) -> Any:
    # the sandbox or the client, whichever the command uses, loads when it runs (see run)
    if args.sandbox:
        from ..sandbox import Sandbox

        return Sandbox.demo(leak=True)
    token = os.environ.get("CLOUDFLARE_API_TOKEN", "").strip()
    if not token:
        raise UsageError(
            "set CLOUDFLARE_API_TOKEN to an admin token that can read tokens and audit logs "
            "(API Tokens Read, Account API Tokens Read, Account Settings Read), or use --sandbox"
        )
    from ..client import Client

    return Client.from_env()


def _table(frame: Any, columns: list[str], limit: int = 20) -> str:

    if frame.empty:
        return "  (none)"
    shown = frame[[c for c in columns if c in frame.columns]].head(limit)
    header = list(shown.columns)
    rows = [["" if v is None else v for v in row] for row in shown.itertuples(index=False)]
    # a column as wide as its widest value, up to 60 columns (a user agent is anyone's text)
    widths = [min(max(map(cell_width, col)), 60) for col in zip(header, *rows, strict=False)]
    lines = [
        "  " + "  ".join(cell(c, w) for c, w in zip(r, widths, strict=True))
        for r in [header, *rows]
    ]
    if len(frame) > limit:
        lines.append(f"  … {len(frame) - limit} more (see the report)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Triage, print, report, contain."""
    # the command line loads what a sub-command drives when it runs: `cftokens --help` and the
    # other commands stay fast (cftokens.cli imports no audit, sandbox, client or leak)
    from ..leak import triage

    if (args.roll or args.disable or args.delete) and not args.yes:
        raise UsageError("a containment step changes the token for every caller: add --yes")
    if args.roll and Path(args.roll).exists():
        raise UsageError(f"--roll {args.roll}: the file exists; give a new file")
    for option, name in (("--roll", args.roll), ("--report", args.report), ("--json", args.json)):
        # refused before anything changes: a report lost after a roll is the roll's record lost
        if name and not Path(name).resolve().parent.is_dir():
            raise UsageError(
                f"{option} {name}: the folder {Path(name).parent} does not exist; create it "
                "or choose another path"
            )
    secret = _read_secret(args.secret_file)
    admin = _admin(args)
    result = triage(secret, admin=admin, since=args.since, account=args.account)
    for sentence in result.sentences:
        emit(plain(sentence))
    if result.audit is not None and not result.blast_radius.empty:
        emit("\nblast radius:")
        emit(_table(result.blast_radius, ["level", "permission", "resource_kind", "resource"]))
        emit("\nactivity since the window start (flagged first):")
        emit(_table(result.activity_summary, ["flagged", "action", "resource", "result",
                                               "requests"]))  # fmt: skip
        emit("\nwhat depends on it (its callers before the window, else in it):")
        emit(_table(result.dependents, ["ip", "user_agent", "requests", "last"]))
        emit("\ncontainment options:")
        for step in result.plan:
            emit(plain(f"  {step.action}: {step.does}. Breaks {step.breaks}."))
    contained = False
    if args.roll:
        path = result.roll(args.roll, confirm=True)
        emit()
        emit(plain(f"rolled: the new secret is in {path} (mode 0600); it was not printed"))
        contained = True
    elif args.disable:
        result.disable(confirm=True)
        emit("\ndisabled (policies kept; re-enable with a PUT status active)")
        contained = True
    elif args.delete:
        result.delete(confirm=True)
        emit("\ndeleted")
        contained = True
    if args.report:
        result.to_html(args.report)
        emit(plain(f"wrote the incident report: {args.report}"), file=sys.stderr)
    if args.json:
        result.to_json(args.json)
        emit(plain(f"wrote the incident report (JSON): {args.json}"), file=sys.stderr)
    if result.verification.status in ("live", "unknown") and not contained:
        emit(
            f"the secret is {result.verification.status} and was not contained "
            "(--roll FILE, --disable or --delete, with --yes)",
            file=sys.stderr,
        )
        return 1
    return 0
