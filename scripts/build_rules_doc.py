#!/usr/bin/env python3
"""Build docs/rules.md, the audit rule catalogue, from ``cftokens.audit.RULES``.

The rules are the source: each rule's id, title, severity, family, whether it needs usage data,
when it fires, its rationale (the rule function's docstring) and its help text (what reports and
SARIF show). Run it after changing a rule:

    python scripts/build_rules_doc.py [--check] [--out docs/rules.md]

``--check`` builds the page in memory and exits 1, saying how to refresh it, when the committed
file differs (CI runs it).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "rules.md"
sys.path.insert(0, str(ROOT / "sdk"))  # document this checkout's rules, not an installed copy

from cftokens.audit.rules import RULE_FAMILIES, RULES, SUPPRESSION_RULE, Rule  # noqa: E402

_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")


def _md(text: str) -> str:
    """Docstring markup (reST roles, double backticks) as Markdown."""
    return _ROLE.sub(r"`\1`", text).replace("``", "`")


def _cell(text: str) -> str:
    return _md(text).replace("|", "\\|")


def _rules() -> list[Rule]:
    return [*RULES.values(), SUPPRESSION_RULE]


def build() -> str:
    """The page, from the rules as they are."""
    rules = _rules()
    out = [
        "# Audit rules",
        "",
        "<!-- Generated from cftokens.audit.RULES by scripts/build_rules_doc.py: do not edit by"
        " hand. -->",
        "",
        "Every rule the audit runs, with its stable id (reports, suppressions and CI gates refer "
        "to it). Generated from `cftokens.audit.RULES` by `scripts/build_rules_doc.py`; after "
        "changing a rule, run `python scripts/build_rules_doc.py` (CI runs it with `--check`).",
        "",
        "Severity is the rule's wording; the default in parentheses is the level SARIF reports. "
        "Rules that need usage data are skipped, and listed in `audit.gaps`, when the audit has "
        "none. Notation: E(T) the token's effective grants (allows not removed by a deny), G(T) "
        "its permission groups, W(T) its write-level groups.",
        "",
        "| Id | Title | Severity | Family | Needs usage |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rules:
        anchor = r.id.lower()
        out.append(
            f"| [{r.id}](#{anchor}) | {_cell(r.title)} | {_cell(r.severity)} "
            f"| {r.family} | {'yes' if r.usage else 'no'} |"
        )
    for family, label in RULE_FAMILIES.items():
        members = [r for r in rules if r.family == family]
        if not members:
            continue
        out += ["", f"## {family}: {label}"]
        for r in members:
            out += [
                "",
                f"### {r.id}",
                "",
                f"**{_md(r.title)}**",
                "",
                f"- Severity: {_md(r.severity)} (default: {r.default.value})",
                f"- Fires when: {_md(r.fires_when)}",
                f"- Needs usage data: {'yes' if r.usage else 'no'}",
                "",
                _md(r.rationale),
            ]
            if r.fn is not None:
                out += ["", f"In reports: {_md(r.help)}"]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is not current")
    parser.add_argument("--out", type=Path, default=OUT, help="the page (default docs/rules.md)")
    args = parser.parse_args(argv)
    text = build()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else None
        if current != text:
            what = "is missing" if current is None else "is out of date with cftokens.audit.RULES"
            print(
                f"{args.out} {what}: run `python scripts/build_rules_doc.py` and commit the result",
                file=sys.stderr,
            )
            return 1
        print(f"{args.out} is current ({len(_rules())} rules)")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(_rules())} rules)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
