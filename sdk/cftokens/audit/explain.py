"""``audit.explain(token_id)``: what a token can do, in sentences grouped by product (an
:class:`Explanation`)."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from .._shown import html_repr, shown_lines
from ..catalog import permission_groups
from ._context import Ctx, join_names
from ._inventory import L_WRITE

if TYPE_CHECKING:
    from .core import Audit


def explain(audit: Audit, t: int) -> Explanation:
    """Build the explanation of token ``t`` (an index into ``audit.tokens``)."""
    ctx = audit._ctx
    inv = audit._inv
    row = audit.tokens.iloc[t]
    kind = "user-owned" if inv.kinds[t] == "user" else "account-owned"
    owner = inv.owner_names[t] or inv.owner_ids[t] or "unknown owner"
    title = f"Token {inv.names[t]!r} ({inv.ids[t]}), {kind} by {owner}"
    facts = []
    status = str(row["status"])
    facts.append(
        f"Status {status}; "
        + ("usable now" if ctx.live[t] else "cannot be used now (status or validity window)")
    )
    nb, exp = row["not_before"], row["expires_on"]
    when = []
    if nb is not None and str(nb) != "NaT":
        when.append(f"valid from {nb:%Y-%m-%d %H:%M} UTC")
    when.append(f"until {exp:%Y-%m-%d %H:%M} UTC" if str(exp) != "NaT" else "with no expiry")
    sentence = " ".join(when)
    facts.append(sentence[:1].upper() + sentence[1:])
    if inv.ip_in[t]:
        facts.append(f"Usable only from {', '.join(inv.ip_in[t])}")
    else:
        facts.append("Usable from any IP address")
    if inv.ip_out[t]:
        facts.append(f"Refused from {', '.join(inv.ip_out[t])}")
    last = row["last_used_on"]
    facts.append(f"Last used {last:%Y-%m-%d}" if str(last) != "NaT" else "Never used")

    by_product: dict[str, dict[tuple[str, int], list[str]]] = {}
    denies: dict[str, list[str]] = {}
    for i in ctx.token_rows(t):
        code = int(ctx.grp[i])
        name = ctx.group_name(code)
        product = product_of(name)
        where = ctx.resource_label(i)
        if inv.g_deny[i]:
            denies.setdefault(product, []).append(f"Policy {ctx.pol[i]} denies {name} on {where}.")
            continue
        if not ctx.scope_ok[i]:
            by_product.setdefault(product, {}).setdefault(("nothing", code), []).append(
                f"{where} (a {_scope_word(ctx, code)} permission cannot apply there)"
            )
            continue
        if not ctx.eff[i]:
            by_product.setdefault(product, {}).setdefault(("nothing", code), []).append(
                f"{where} (a deny removes all of it)"
            )
            continue
        verb = "change" if ctx.row_level[i] == L_WRITE else "use"
        note = " (a deny removes part of it)" if inv.arrays["g_narrowed"][i] else ""
        by_product.setdefault(product, {}).setdefault((verb, code), []).append(where + note)
    sections = []
    for product in sorted(by_product):
        sentences = []
        for (verb, code), places in by_product[product].items():
            name = ctx.group_name(code)
            group = permission_groups.by_id(ctx.group_id(code))
            described = f" ({group.description})" if group is not None and group.description else ""
            if verb == "nothing":
                sentences.append(f"{name} grants nothing on {join_names(dict.fromkeys(places))}.")
            else:
                sentences.append(
                    f"Can {verb} with {name}{described} on {join_names(dict.fromkeys(places))}."
                )
        sentences += denies.pop(product, [])
        sections.append((product, sentences))
    for product, sentences in sorted(denies.items()):
        sections.append((product, sentences))
    f = audit.findings
    mine = f.iloc[audit._finding_positions(inv.ids[t])]
    findings = [
        f"[{r.severity}] {r.rule_id} {r.title}: {r.evidence}"
        + (" (suppressed)" if r.suppressed else "")
        + f" → {r.remediation}"
        for r in mine.itertuples()
    ]
    return Explanation(title, facts, sections, findings)


def _scope_word(ctx: Ctx, code: int) -> str:
    scope = int(ctx.g_scope[code])
    return ("user", "account", "zone", "R2 bucket", "unknown")[scope]


class Explanation:
    """What a token can do, in sentences (``str()``; notebooks render HTML)."""

    def __init__(
        self,
        title: str,
        facts: list[str],
        sections: list[tuple[str, list[str]]],
        findings: list[str],
    ):
        self.title = title
        self.facts = facts
        self.sections = sections
        self.findings = findings

    def __str__(self) -> str:
        lines = [self.title]
        lines += [f"  {f}" for f in self.facts]
        for product, sentences in self.sections:
            lines.append(f"{product}:")
            lines += [f"  - {s}" for s in sentences]
        if self.findings:
            lines.append("Findings:")
            lines += [f"  ! {f}" for f in self.findings]
        return shown_lines(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    @html_repr
    def _repr_html_(self) -> str:
        esc = html.escape
        parts = [f"<div class='cftokens-explain'><strong>{esc(self.title)}</strong><ul>"]
        parts += [f"<li>{esc(f)}</li>" for f in self.facts]
        parts.append("</ul>")
        for product, sentences in self.sections:
            parts.append(f"<p><strong>{esc(product)}</strong></p><ul>")
            parts += [f"<li>{esc(s)}</li>" for s in sentences]
            parts.append("</ul>")
        if self.findings:
            parts.append("<p><strong>Findings</strong></p><ul>")
            parts += [f"<li>{esc(f)}</li>" for f in self.findings]
            parts.append("</ul>")
        parts.append("</div>")
        return "".join(parts)


_PRODUCT = re.compile(r"^(.*?)(?:\s+(?:Read|Write|Edit|Revoke|Admin|Purge|Report))+$")


def product_of(group_name: str) -> str:
    """``DNS Write`` → ``DNS``; ``Access: Apps and Policies Write`` → ``Access``."""
    name = group_name.split(":")[0].strip() if ":" in group_name else group_name
    match = _PRODUCT.match(name)
    return (match.group(1) if match else name).strip() or group_name
