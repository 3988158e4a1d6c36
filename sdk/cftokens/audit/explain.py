"""``audit.explain(token_id)``: what a token can do, in sentences grouped by product."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..catalog import permission_groups
from ._context import join_names
from ._inventory import L_WRITE

if TYPE_CHECKING:
    from ._context import Ctx
    from .core import Audit, Explanation


def explain(audit: Audit, t: int) -> Explanation:
    """Build the explanation of token ``t`` (an index into ``audit.tokens``)."""
    from .core import Explanation, product_of

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
