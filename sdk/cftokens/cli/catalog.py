"""``cftokens catalog``: permission groups, operations and templates from the command line.

::

    cftokens catalog [--search TEXT] [--scope zone|account|user]
    cftokens catalog operations --match "POST /zones/<zone_id>/dns_records"
    cftokens catalog templates
"""

from __future__ import annotations

import argparse

from ..catalog import operations, permission_groups, templates
from . import Subparsers, UsageError, emit


def register(subparsers: Subparsers) -> None:
    """Add the ``catalog`` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "catalog",
        help="list permission groups, match API calls to the groups they need, list templates",
        description="Browse the permission-group, operation and template catalogues.",
    )
    parser.add_argument(
        "what",
        nargs="?",
        choices=["groups", "operations", "templates"],
        default="groups",
        help="which catalogue (default: groups)",
    )
    parser.add_argument("--search", metavar="TEXT", help="only groups mentioning TEXT")
    parser.add_argument(
        "--scope", choices=["zone", "account", "user"], help="only groups of this scope"
    )
    parser.add_argument(
        "--match",
        metavar="'METHOD PATH'",
        help="the operation a request calls and the groups that allow it",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the chosen catalogue."""

    if args.match and args.what != "operations":
        args.what = "operations"
    if args.what == "operations":
        if not args.match:
            raise UsageError(
                "catalog operations needs --match 'METHOD PATH', "
                "e.g. --match 'POST /zones/<zone_id>/dns_records'"
            )
        parts = args.match.split(None, 1)
        if len(parts) != 2:
            raise UsageError(f"--match takes 'METHOD PATH', got {args.match!r}")
        found = operations.match(parts[0], parts[1])
        op = found.operation
        emit(f"{op.method} {op.path}  ({op.operation_id})")
        emit(f"  {op.summary}")
        if found.zone_id:
            emit(f"  zone: {found.zone_id}")
        if found.account_id:
            emit(f"  account: {found.account_id}")
        if not op.mapped:
            emit(f"  accepted permission groups: none known ({op.why_unmapped})")
            return 0
        emit("  accepted permission groups (any one is enough):")
        for group in found.accepted_groups:
            emit(f"    {group.name:<50} {group.scope.label:<8} {group.id}")
        return 0
    if args.what == "templates":
        for template in templates.values():
            mark = " (inferred)" if template.inferred else ""
            emit(f"{template.name}{mark}")
            for group in template.groups[:12]:
                emit(f"    {group.name:<50} {group.scope.label}")
            if len(template.groups) > 12:
                emit(f"    … and {len(template.groups) - 12} more")
        return 0
    groups = (
        permission_groups.search(args.search, scope=args.scope)
        if args.search
        else (permission_groups.in_scope(args.scope) if args.scope else list(permission_groups))
    )
    emit(f"{'name':<58} {'scope':<8} {'level':<6} id")
    for group in groups:
        emit(f"{group.name:<58} {group.scope.label:<8} {group.level.value:<6} {group.id}")
    emit(f"\n{len(groups)} permission group(s)")
    return 0
