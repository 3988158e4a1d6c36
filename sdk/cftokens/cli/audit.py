"""``cftokens audit``: audit every token, print a summary, write a report, gate CI.

::

    cftokens audit --sandbox --output audit-report.html          # the demo company, offline
    cftokens audit --format sarif --output audit.sarif --fail-on high   # CLOUDFLARE_API_TOKEN
    cftokens audit --terraform plan.json --profile ci --fail-on high    # lint before apply
    cftokens audit --terraform infra/ --var-file prod.tfvars --fail-on high   # .tf files

Exit codes (see ``EXIT_CODES``): 0 pass; 1 open findings at or above ``--fail-on``; 2 usage or
input error; 3 the audit is incomplete (a token listing failed, the API was unreachable, the
auditing token was refused or saw no token, a token could not be read). ``--allow-gaps`` accepts
an incomplete audit explicitly; the summary then says what was not seen.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from ..errors import CloudflareError, InvalidInput
from . import Subparsers, UsageError, cell, emit, field

FORMATS = ("html", "json", "csv", "sarif", "parquet")
#: ``--time-limit``'s default, in seconds: 30 minutes for the collection of one audit.
DEFAULT_TIME_LIMIT = 1800.0

EXIT_CODES = """\
exit codes:
  0  pass: the audit is complete and no open finding is at or above --fail-on
  1  open findings at or above --fail-on
  2  usage or input error (bad flags, unreadable files, no CLOUDFLARE_API_TOKEN)
  3  the audit is incomplete: tokens were not seen (a listing refused or failed, the API
     unreachable, the auditing token refused or expired, no token visible at all, a token
     that could not be read), or the collection ran past --time-limit (no report then);
     --allow-gaps passes such an audit (not one stopped by its limit) and the summary
     lists what was not seen
"""


def register(subparsers: Subparsers) -> None:
    """Add the ``audit`` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "audit",
        help="audit every API token: findings, a report, a CI gate",
        description="Audit the API tokens CLOUDFLARE_API_TOKEN can see (or the sandbox's demo "
        "company, or a Terraform plan), print a summary and write a report.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--sandbox",
        action="store_true",
        help="audit the sandbox's demo company, in-process, with its 60-day journal as usage",
    )
    source.add_argument(
        "--terraform",
        metavar="PATH",
        nargs="+",
        help="lint tokens in .tf files, directories of them, or `terraform show -json` output "
        "(plan or state); several paths make one audit (the pre-commit hook passes the "
        "changed .tf files)",
    )
    parser.add_argument(
        "--var-file",
        metavar="FILE",
        action="append",
        help="a .tfvars file applied to --terraform .tf input (repeatable; terraform.tfvars "
        "and *.auto.tfvars are read by themselves)",
    )
    source.add_argument("--input", metavar="FILE", help="re-run an audit exported as JSON")
    parser.add_argument(
        "--account", metavar="ID", action="append", help="audit only this account (repeatable)"
    )
    parser.add_argument(
        "--usage",
        action="store_true",
        help="evaluate the usage rules from Audit Logs v2 of the last 30 days (always on with "
        "--sandbox, whose journal is the usage)",
    )
    parser.add_argument("--suppressions", metavar="FILE", help="YAML or JSON suppressions file")
    parser.add_argument(
        "--profile", default="baseline", choices=["baseline", "strict", "ci"], help="rule profile"
    )
    parser.add_argument("--format", choices=FORMATS, help="report format (default: from --output)")
    parser.add_argument("--output", metavar="PATH", help="where to write the report")
    parser.add_argument(
        "--fail-on",
        metavar="SEVERITY",
        help="exit 1 when an open finding is at or above: critical, high, medium, low, info",
    )
    parser.add_argument(
        "--allow-gaps",
        action="store_true",
        help="pass an incomplete audit (exit 0/1 instead of 3); the summary says what was not seen",
    )
    parser.add_argument(
        "--time-limit",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_TIME_LIMIT,
        help="stop collecting from the API after SECONDS in all and exit 3 (default "
        f"{DEFAULT_TIME_LIMIT:g}: 30 minutes; 0 for no limit): an API answering slowly "
        "cannot hold the gate",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def _format(args: argparse.Namespace) -> str:

    if args.format:
        return str(args.format)
    if not args.output:
        return "html"
    suffix = Path(args.output).suffix.lower().lstrip(".")
    if suffix in ("html", "htm"):
        return "html"
    if suffix in ("json", "sarif"):
        return suffix
    if suffix == "":
        raise UsageError(
            f"--output {args.output} has no extension: add --format csv or --format parquet "
            "for a folder, or name a .html/.json/.sarif file"
        )
    raise UsageError(f"cannot tell the report format from {args.output!r}; add --format")


def _progress(args: argparse.Namespace) -> bool:
    """A progress bar only for a person watching a terminal (not in CI logs or pipes)."""
    return not args.no_progress and sys.stderr.isatty()


def _collect(args: argparse.Namespace) -> Any:
    # the command line loads what a sub-command drives when it runs: `cftokens --help` and the
    # other commands stay fast (cftokens.cli imports no audit, sandbox, client or leak)
    from ..audit import Audit

    if args.terraform:
        return Audit.from_terraform(
            args.terraform,
            profile=args.profile,
            suppressions=args.suppressions,
            var_files=args.var_file,
        )
    if args.var_file:
        raise UsageError("--var-file goes with --terraform")
    if args.input:
        return Audit.from_json(
            Path(args.input), profile=args.profile, suppressions=args.suppressions
        )
    from ..audit import run_audit

    if not args.time_limit >= 0 or args.time_limit == float("inf"):
        raise UsageError(
            f"--time-limit {args.time_limit:g}: give the seconds the audit may take (0 for no "
            "limit)"
        )
    time_limit = args.time_limit or None
    if args.sandbox:
        from ..sandbox import Sandbox

        sb = Sandbox.demo()
        client = sb.async_client()
        result = run_audit(
            client,
            accounts=args.account,
            usage=sb.journal,
            now=sb.clock.now(),
            progress=_progress(args),
            profile=args.profile,
            suppressions=args.suppressions,
            time_limit=time_limit,
        )
        files = sb.extras.get("files") if hasattr(sb, "extras") else None
        if files:

            def verify(secret: Any) -> str | None:
                found: str = sb.client(token=secret).tokens.verify().id
                return found

            result = result.scan_secrets(files, verify=verify)
        return result
    token = os.environ.get("CLOUDFLARE_API_TOKEN", "").strip()
    if not token:
        raise UsageError(
            "set CLOUDFLARE_API_TOKEN to a token that can read your tokens (API Tokens Read, "
            "Account API Tokens Read, Account Settings Read, Zone Read), or try --sandbox"
        )
    from ..client import AsyncClient

    kwargs: dict[str, Any] = {}
    if os.environ.get("CLOUDFLARE_BASE_URL"):
        kwargs["base_url"] = os.environ["CLOUDFLARE_BASE_URL"]
    client = AsyncClient(token=token, **kwargs)
    return run_audit(
        client,
        accounts=args.account,
        usage=True if args.usage else None,
        progress=_progress(args),
        profile=args.profile,
        suppressions=args.suppressions,
        time_limit=time_limit,
    )


def run(args: argparse.Namespace) -> int:
    """Collect, print the summary, write the report, apply the gate (``Audit.gate``)."""
    # loaded when the command runs (see _collect)
    from ..audit import Severity
    from ..audit.collect import AuditGapWarning
    from ..audit.core import EXIT_FINDINGS, EXIT_INCOMPLETE

    fmt = _format(args)
    fail_on = Severity.parse(args.fail_on) if args.fail_on else None
    if args.suppressions and not Path(args.suppressions).is_file():
        raise UsageError(f"--suppressions {args.suppressions}: no such file")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AuditGapWarning)  # gaps are printed below
        try:
            audit = _collect(args)
        except InvalidInput:
            raise  # bad input: exit 2 (cli.main)
        except CloudflareError as exc:
            emit(
                f"cftokens audit: incomplete, nothing was audited: {type(exc).__name__}: "
                f"{field(exc)}",
                file=sys.stderr,
            )
            return EXIT_INCOMPLETE
    _print_summary(audit, demo=bool(args.sandbox))
    if args.output:
        path = Path(args.output)
        if fmt == "html":
            audit.to_html(path)
        elif fmt == "json":
            audit.to_json(path)
        elif fmt == "sarif":
            audit.to_sarif(path)
        elif fmt == "csv":
            audit.to_csv(path)
        else:
            audit.to_parquet(path)
        emit(f"\nwrote {fmt} report: {field(path)}")
    code: int = audit.gate(fail_on, allow_gaps=args.allow_gaps)
    unseen = audit.not_seen()
    if unseen and args.allow_gaps:
        emit(
            f"\n--allow-gaps: passing an incomplete audit; not seen ({len(unseen)}):",
            file=sys.stderr,
        )
        for line in unseen:
            emit(f"  - {field(line)}", file=sys.stderr)
    if code == EXIT_INCOMPLETE:
        remedy = (
            "make those definitions readable offline (give the variables a value, a tfvars "
            "file or --var-file; vendor remote modules)"
            if args.terraform
            else "fix the auditing token's access"
        )
        emit(
            f"failing: the audit is incomplete ({len(unseen)} gap(s) hide tokens, listed above); "
            f"{remedy}, or pass --allow-gaps to accept it",
            file=sys.stderr,
        )
    if fail_on is not None and audit.failed(fail_on, allow_gaps=True):
        worst = audit.max_severity()
        emit(f"failing: open findings at {worst} (--fail-on {fail_on})", file=sys.stderr)
        code = code or EXIT_FINDINGS
    return code


def _print_summary(audit: Any, *, demo: bool = False) -> None:
    s = audit.summary()
    emit(
        f"Audited {s['tokens']} tokens ({s['live_tokens']} live; {s['user_tokens']} user-owned, "
        f"{s['account_tokens']} account-owned), profile {field(audit.profile.name)}"
    )
    emit(
        "  "
        + "  ".join(f"{field(k)}: {field(v)}" for k, v in s["findings"].items())
        + f"  suppressed: {s['suppressed']}"
    )
    worst = audit.worst_tokens(10)
    worst = worst[worst["n_findings"].fillna(0) > 0]
    if len(worst):
        emit(f"\n{'token':<34} {'kind':<8} {'worst':<9} {'findings':>8} {'risk':>8}")
        for r in worst.itertuples():
            emit(
                f"{cell(r.name, 34)} {cell(r.kind, 8)} {cell(r.max_severity, 9)} "
                f"{int(r.n_findings):>8} {float(r.risk_score):>8.1f}"
            )
    counts = audit.findings[~audit.findings["suppressed"].astype(bool)]["rule_id"].value_counts()
    counts = counts[counts > 0]
    if len(counts):
        emit("\nby rule: " + ", ".join(f"{field(k)} {v}" for k, v in counts.items()))
    gaps = audit.gaps
    if audit.incomplete:
        emit("\nINCOMPLETE: tokens may be missing from this audit (see below)")
    collection = gaps[gaps["kind"] != "evaluation"]
    if len(collection):
        emit(f"\n{len(collection)} gap(s) in what could be collected:")
        for g in collection.itertuples():
            mark = " [tokens not seen]" if g.hides_tokens else ""
            emit(f"  - {field(g.what)}{mark}: {field(g.reason)}")
        if demo:
            emit(
                "  This gap is planted: the demo's notebook token deliberately lacks Account API "
                "Tokens Read on Acme Web, so notebook 04 can show how to find a blind spot and "
                "close it. In a real audit, a gap means tokens the audit did not see."
            )
    evaluation = gaps[gaps["kind"] == "evaluation"]
    if len(evaluation):
        emit(
            f"{len(evaluation)} rule(s)/item(s) not evaluated (see audit.gaps), e.g. "
            f"{field(evaluation['subject'].iloc[0])}: {field(evaluation['reason'].iloc[0])}"
        )
