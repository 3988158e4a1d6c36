"""The HTML report: one self-contained file that leads with what to do.

First screen: a banner when the audit is incomplete (what was not seen, and the permission that
would see it), then "fix first": the few tokens whose fixes remove the most risk, each with its
fix in one line. Then the charts (rule families spelled out, empty families left out; tokens by
age and last use), the token table, the access heatmap, one card per token with findings
(repeated findings of a rule grouped into one row with a count, the fix as numbered steps and
its request folded away), findings not tied to a token, the gaps and the rule catalogue.

No network asset and no script: the charts are inline SVG written by cftokens itself
(:mod:`cftokens.audit._svg`), crisp at any zoom, their text selectable and searchable.
"""

from __future__ import annotations

import functools
import html
import json
import re
import warnings
from collections import Counter, namedtuple
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import frozen

from .._shown import html_repr, html_shown
from ..catalog import operations
from . import _svg
from ._inventory import TokenRecord
from .frames import risk_score
from .remediation import Remediation
from .report import jsonable, write_atomic
from .rules import RULE_FAMILIES, RULES
from .severity import SEVERITY_ORDER
from .steps import PLACEHOLDER_PREFIX

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    from .core import Audit

__all__ = [
    "FIX_FIRST",
    "FixFirst",
    "charts",
    "fix_first",
    "heatmap_tokens",
    "summary_html",
    "to_html",
]

COLOURS = {
    "critical": "#7f0000",
    "high": "#c62828",
    "medium": "#ef6c00",
    "low": "#f9a825",
    "info": "#607d8b",
}
HTML_TOKEN_LIMIT = 500
HTML_CARD_LIMIT = 200
HEATMAP_LIMIT = 40  # tokens (the most important) and zones drawn in the access heatmap
#: Tokens with a critical finding are all drawn in the heatmap, past HEATMAP_LIMIT, up to this.
HEATMAP_CRITICAL_LIMIT = 100
FIX_FIRST = 5  # tokens in "fix first"
_CANDIDATES = 15  # tokens whose fixes are weighed for "fix first" (by severity, by risk)
_FILLED_CIDR = "198.51.100.0/24"  # stands for your callers' ranges when weighing a fix

#: Bands of the age chart (days since issued) and of last use (days since used).
AGE_BANDS = ((30, "under 30 days"), (90, "30–90 days"), (365, "3–12 months"), (730, "1–2 years"))
USE_BANDS = (
    (7, "used in the last 7 days", "#2e7d32"),
    (30, "used 8–30 days ago", "#9ccc65"),
    (90, "used 31–90 days ago", "#ffb300"),
    (None, "used over 90 days ago", "#e64a19"),
)
NEVER_USED = ("never used", "#9e9e9e")


# -- fix first -----------------------------------------------------------------------------------


@frozen(kw_only=True)
class FixFirst:
    """A token worth fixing first: its fix and the risk score before and after it."""

    token_id: str
    name: str
    severity: str
    n_findings: int
    risk_before: float
    risk_after: float
    fix: Remediation

    @property
    def removed(self) -> float:
        """How much of the risk score the fix removes."""
        return round(self.risk_before - self.risk_after, 1)


def _weighed_payload(record: TokenRecord, fix: Remediation) -> dict[str, Any] | None:
    """The token as its fix leaves it (placeholders counted as filled in), None if deleted."""
    body = fix.put_body
    if body is None:
        return None
    text = json.dumps(body).replace(f'"{PLACEHOLDER_PREFIX}YOUR-CALLERS-CIDR"', f'"{_FILLED_CIDR}"')
    payload = dict(record.payload)
    payload.update(json.loads(text))
    return payload


def fix_first(
    audit: Audit, n: int = FIX_FIRST, *, fixes: dict[str, Remediation] | None = None
) -> list[FixFirst]:
    """The ``n`` tokens whose fixes remove the most risk score (ties: worst severity).

    The candidates are the tokens with open findings that are worst by severity or by risk
    score; each one's fix is applied to a copy of the token and the copies are audited again
    (with the same directory, clock and profile) to score them after it. A delete leaves 0; a
    fix that replaces the token by new ones (split, move) is counted as leaving the risk as it
    is. ``fixes`` (token id → :meth:`Audit.fix`), when given, receives every candidate's fix,
    so a caller that shows fixes too works each one out once.
    """
    return _fix_first(audit, audit.worst_tokens(len(audit.tokens)), n, fixes)


_CANDIDATE_COLUMNS = ("token_id", "name", "max_severity", "n_findings", "risk_score")


def _candidates(worst: pd.DataFrame) -> tuple[list[Any], dict[str, dict[str, Any]]]:
    """The tokens whose fixes "fix first" weighs (ids, in order) and each one's row by id:
    the first open tokens of the ranking, then the first by risk score (descending, ties in
    the ranking's order, an unknown score last). Read from the columns as arrays and lists,
    not through filtered, sorted and converted copies of the frame."""
    import numpy as np
    import pandas as pd

    n_findings = worst["n_findings"].to_numpy(dtype=np.float64, na_value=0.0)
    open_at = np.flatnonzero(n_findings > 0)
    if not len(open_at):
        return [], {}
    risk = worst["risk_score"].to_numpy(dtype=np.float64, na_value=np.nan)[open_at]
    by_risk = open_at[np.lexsort((np.where(np.isnan(risk), np.inf, -risk),))]
    # each value as the frame's records give it (NA as None)
    columns = {
        name: [None if v is pd.NA else v for v in worst[name].tolist()]
        for name in _CANDIDATE_COLUMNS
    }
    token_ids = columns["token_id"]
    ids = list(
        dict.fromkeys([token_ids[i] for i in [*open_at[:_CANDIDATES], *by_risk[:_CANDIDATES]]])
    )
    wanted = set(ids)
    rows = {
        str(token_ids[i]): {name: columns[name][i] for name in _CANDIDATE_COLUMNS}
        for i in open_at.tolist()
        if token_ids[i] in wanted
    }
    return ids, rows


def _fix_first(
    audit: Audit, worst: pd.DataFrame, n: int, fixes: dict[str, Remediation] | None
) -> list[FixFirst]:
    """:func:`fix_first` of the audit's tokens ranked by :meth:`~Audit.worst_tokens`."""
    ids, rows = _candidates(worst)
    if not ids:
        return []
    fixes = {} if fixes is None else fixes
    after: dict[str, float] = {}
    copies: list[TokenRecord] = []
    for tid in ids:
        fix = audit.fix(str(tid))
        fixes[str(tid)] = fix
        record = audit._inv.records[audit._token(str(tid))]
        if fix.method == "DELETE":
            after[str(tid)] = 0.0
            continue
        payload = _weighed_payload(record, fix)
        if payload is None:
            after[str(tid)] = float(rows[str(tid)]["risk_score"])
            continue
        copies.append(TokenRecord(payload, record.kind, record.owner_id, record.owner_name))
    if copies:
        again = type(audit)(
            copies,
            accounts=audit.directory.accounts,
            zones=audit.directory.zones,
            user=audit.user,
            now=audit.now,
            profile=audit.profile,
        )
        # the risk score alone (the tokens frame's column, from the context): the copies'
        # rules and frames are never needed, so they are not made
        after.update(zip(map(str, again._inv.ids), risk_score(again._ctx).tolist(), strict=True))
    entries = [
        FixFirst(
            token_id=tid,
            name=str(rows[tid]["name"]),
            severity=str(rows[tid]["max_severity"]),
            n_findings=int(rows[tid]["n_findings"]),
            risk_before=float(rows[tid]["risk_score"]),
            risk_after=min(after.get(tid, 0.0), float(rows[tid]["risk_score"])),
            fix=fixes[tid],
        )
        for tid in map(str, ids)
    ]
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    entries.sort(key=lambda e: (-e.removed, rank.get(e.severity, 99)))
    return entries[:n]


# -- charts --------------------------------------------------------------------------------------


def charts(audit: Audit) -> dict[str, str]:
    """The report's charts as inline SVG elements: ``severity`` (open findings by rule family
    and severity), ``age`` (tokens by age and last use) and ``heatmap`` (the access heatmap),
    each left out when it has nothing to draw; ``heatmap_note`` says what the heatmap leaves
    out. Names are drawn as text, escaped, with control characters shown as escapes and long
    names cut (see :mod:`cftokens.audit._svg`)."""
    out: dict[str, str] = {}
    severity = _svg.severity_chart(family_counts(audit), COLOURS)
    if severity:
        out["severity"] = severity
    colours = {label: colour for _, label, colour in USE_BANDS}
    colours[NEVER_USED[0]] = NEVER_USED[1]
    age = _svg.age_chart(age_use_table(audit), colours)
    if age:
        out["age"] = age
    rows, left_out = heatmap_tokens(audit)
    matrix = audit._access_index.token_matrix(rows, max(HEATMAP_LIMIT, len(rows)))
    note = "; ".join(n for n in (str(matrix.attrs.get("note", "")), left_out) if n)
    out["heatmap_note"] = note
    if len(matrix):
        if not left_out:  # every token drawn: the most groups first (ties by name)
            matrix = matrix.sort_index()
            matrix = matrix.loc[matrix.sum(axis=1).sort_values(ascending=False).index]
        matrix = matrix[matrix.sum(axis=0).sort_values(ascending=False).index]
        drawn = _svg.heatmap(matrix, note=note)
        if drawn:
            out["heatmap"] = drawn
    return out


def heatmap_tokens(audit: Audit) -> tuple[npt.NDArray[np.int64], str]:
    """The tokens the access heatmap draws (inventory positions, most important first) and a
    note of those left out ("" when none is).

    Tokens that reach a zone are ranked by their worst open finding, then their risk score
    (what a leak of the token exposes), then their permission groups: every token
    with a critical finding is drawn (up to ``HEATMAP_CRITICAL_LIMIT``), and the others fill
    the chart up to ``HEATMAP_LIMIT`` rows, drawn in that order (when every token fits, the
    chart keeps its order: the most groups first). Ranking by groups alone let any 40 tokens
    holding many groups (decoys) push a token with a critical finding off the chart.
    """
    import numpy as np

    candidates = audit._access_index.zone_tokens()
    tokens = audit.tokens
    worst = tokens["max_severity"].cat.codes.to_numpy()[candidates]  # -1: no open finding
    risk = tokens["risk_score"].to_numpy(dtype=float, na_value=0.0)[candidates]
    groups = tokens["n_groups"].to_numpy(dtype=float, na_value=0.0)[candidates]
    # worst finding first, then risk, then groups, then the inventory's order (np.lexsort
    # sorts by its last key first)
    order = np.lexsort((np.arange(len(candidates)), -groups, -risk, -worst.astype(np.int64)))
    critical = SEVERITY_ORDER.index("critical")
    n_critical = int((worst == critical).sum())
    bound = max(HEATMAP_LIMIT, min(n_critical, HEATMAP_CRITICAL_LIMIT))
    drawn = candidates[order[:bound]].astype(np.int64)
    left = len(candidates) - len(drawn)
    if not left:
        return drawn, ""
    critical_left = max(0, n_critical - HEATMAP_CRITICAL_LIMIT)
    of_them = (
        f", {critical_left:,} of them with a critical finding (see the token table)"
        if critical_left
        else ""
    )
    return drawn, (
        f"{len(drawn)} of the {len(candidates):,} tokens with zone access drawn: every token "
        f"with a critical finding (up to {HEATMAP_CRITICAL_LIMIT}), then by worst open finding, "
        f"risk score and permission groups; {left:,} left out{of_them}"
    )


def family_label(family: str) -> str:
    """``privilege escalation (PE)``."""
    name = RULE_FAMILIES.get(family)
    return f"{name} ({family})" if name else family


def family_counts(audit: Audit) -> pd.DataFrame:
    """Open findings by rule family (rows, spelled out) and severity (columns, worst first);
    families and severities without any are left out."""
    import pandas as pd

    f = audit.findings
    # counted in one pass over the open findings' values (not a mask per family and severity)
    open_ = ~f["suppressed"].to_numpy(dtype=bool)
    counts = Counter(
        (family, severity)
        for family, severity, keep in zip(
            f["family"].tolist(), f["severity"].tolist(), open_.tolist(), strict=True
        )
        if keep
    )
    families = [fam for fam in RULE_FAMILIES if any(k[0] == fam for k in counts)]
    severities = [sev for sev in reversed(SEVERITY_ORDER) if any(k[1] == sev for k in counts)]
    frame = pd.DataFrame(
        [[counts[(fam, sev)] for sev in severities] for fam in families],
        index=pd.Index([family_label(fam) for fam in families], name="rule family"),
        columns=pd.Index(severities, name="severity"),
    )
    return frame


def age_use_table(audit: Audit) -> pd.DataFrame:
    """Live and other tokens counted by age band (rows) and last-use band (columns); empty
    rows and columns are left out."""
    import numpy as np
    import pandas as pd

    t = audit.tokens
    age = t["age_days"].to_numpy(dtype=float, na_value=np.nan)
    used = t["days_since_used"].to_numpy(dtype=float, na_value=np.nan)
    rows = [label for _, label in AGE_BANDS] + ["over 2 years", "issue date unknown"]
    columns = [label for _, label, _ in USE_BANDS] + [NEVER_USED[0]]
    # a band's upper limit: under it for age (days < 30), up to it for last use (days <= 7)
    row = np.searchsorted([limit for limit, _ in AGE_BANDS], age, side="right")
    use_limits = [limit for limit, _, _ in USE_BANDS if limit is not None]
    column = np.searchsorted(use_limits, used, side="left")
    row[np.isnan(age)] = len(rows) - 1
    column[np.isnan(used)] = len(columns) - 1
    counts = np.zeros((len(rows), len(columns)), dtype=np.int64)
    np.add.at(counts, (row, column), 1)
    frame = pd.DataFrame(counts, index=pd.Index(rows), columns=pd.Index(columns))
    frame = frame.loc[frame.sum(axis=1) > 0, frame.sum(axis=0) > 0]
    frame.index.name = "age"
    frame.columns.name = "last use"
    return frame


# -- HTML ----------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.2em auto;
max-width:1200px;color:#222;padding:0 1em}
h1{margin:0 0 .1em;font-size:1.6em}h2{border-bottom:2px solid #eee;padding-bottom:.2em;
margin-top:1.4em}
table{border-collapse:collapse;width:100%;font-size:13px;margin:.5em 0}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
td a,h3,li{overflow-wrap:anywhere}
th{background:#f5f5f5}
.sev{color:#fff;padding:1px 7px;border-radius:3px;font-size:12px;white-space:nowrap}
.card{border:1px solid #ddd;border-radius:6px;padding:.5em 1em;margin:.8em 0}
.card h3{margin:.2em 0}.muted{color:#666;font-size:13px}pre{background:#f7f7f7;padding:.6em;
overflow-x:auto;font-size:12px;margin:.3em 0}.badges{margin:.3em 0}
svg.chart{max-width:100%;height:auto}
.supp{opacity:.6}code{font-size:12px}
.banner{background:#fff4e5;border:2px solid #ef6c00;border-radius:6px;padding:.5em 1em;
margin:.6em 0}.banner strong{color:#b34700}.banner ul{margin:.3em 0 .1em;padding-left:1.3em}
.fixfirst{border:2px solid #c62828;border-radius:6px;padding:.4em 1em;margin:.6em 0}
.fixfirst h2{border:0;margin:.1em 0 .2em;font-size:1.25em}
.fixfirst ol{margin:.2em 0;padding-left:1.4em}.fixfirst li{margin:.35em 0}
.fixline{font-size:14px}.charts{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
.charts svg.chart{max-width:590px}details summary{cursor:pointer;color:#444;font-size:13px}
.count{background:#eee;border-radius:8px;padding:0 6px;font-size:12px;margin-left:4px}
ol.steps{margin:.2em 0;padding-left:1.5em;font-size:14px}
"""


def _rows(frame: pd.DataFrame, *names: str) -> Iterator[Any]:
    """``frame.itertuples()`` of the named columns only: each row as a named tuple of the
    values ``itertuples`` gives (each column's own iteration), without reading every column
    of the frame through ``iloc`` first (most of a small report's time)."""
    return map(_row_type(names)._make, zip(*(frame[name] for name in names), strict=True))


@functools.cache
def _row_type(names: tuple[str, ...]) -> Any:
    return namedtuple("Row", names)


def _sev(value: Any) -> str:
    text = str(value) if isinstance(value, str) else "none"
    colour = COLOURS.get(text, "#2e7d32")
    return f"<span class='sev' style='background:{colour}'>{html.escape(text)}</span>"


def _cell(value: Any) -> str:
    value = jsonable(value)
    return "" if value is None else html.escape(str(value))


def _groups_cell(value: Any) -> str:
    """A comma-separated list of groups, the first few shown and the rest counted."""
    text = _cell(value)
    names = [n for n in text.split(", ") if n]
    if len(names) <= 4:
        return text
    return ", ".join(names[:4]) + f" <span class='muted'>and {len(names) - 4} more</span>"


_NEEDS = re.compile(r"\(needs ([^()]+)\)\s*$")


def _needed_permission(reason: str) -> str:
    found = _NEEDS.search(reason)
    if found:
        return found.group(1)
    first = reason.split(". ")[0]
    return first[:200]


def _usage_permission() -> str:

    match = operations.match("GET", "/accounts/" + "0" * 32 + "/logs/audit")
    groups = [g.name for g in match.accepted_groups] if match is not None else []
    read = [g for g in groups if g.endswith("Read")] or groups
    return read[0] if read else "Audit Logs access"


def _banner(audit: Audit) -> str:
    """What the audit did not see, and what would see it (empty when it is complete)."""
    esc = html.escape
    gaps = audit.gaps
    if not len(gaps):
        return ""
    items = []
    for g in _rows(gaps[gaps["kind"] == "collection"], "what", "reason"):
        items.append(
            f"<li>{_cell(g.what)}: not seen; needs <strong>"
            f"{esc(_needed_permission(str(g.reason)))}</strong></li>"
        )
    evaluation = gaps[gaps["kind"] == "evaluation"]
    no_usage = evaluation[evaluation["reason"].str.contains("no usage data", na=False)]
    if len(no_usage):
        rules = ", ".join(str(s) for s in no_usage["subject"])
        items.append(
            f"<li>{len(no_usage)} usage rule(s) not evaluated ({esc(rules)}): no usage data; "
            "pass <code>usage=</code> (Audit Logs v2 needs <strong>"
            f"{esc(_usage_permission())}</strong> on each account)</li>"
        )
    for g in _rows(evaluation.drop(no_usage.index), "what", "reason"):
        items.append(f"<li>{_cell(g.what)}: {_cell(g.reason)}</li>")
    inputs = gaps[gaps["kind"] == "input"]
    if len(inputs):
        items.append(
            f"<li>{len(inputs)} token(s) could not be fully read: "
            + "; ".join(
                f"{_cell(g.what)}: {_cell(g.reason)}"
                for g in _rows(inputs.head(3), "what", "reason")
            )
            + ("; …" if len(inputs) > 3 else "")
            + "</li>"
        )
    return (
        "<div class='banner' id='incomplete' role='alert'><strong>This audit is incomplete"
        "</strong>: what is below leaves out what it could not see or judge."
        f"<ul>{''.join(items)}</ul></div>"
    )


def _fix_first_html(audit: Audit, entries: list[FixFirst]) -> str:
    esc = html.escape
    f = audit.findings
    other = f[f["token_id"].isna() & ~f["suppressed"].astype(bool)]
    items = []
    for e in entries:
        fix = e.fix
        line = fix.headline if fix.steps else _first_remediation(audit, e.token_id)
        risk = (
            f"risk score {e.risk_before:,.0f} → {e.risk_after:,.0f}"
            if e.removed > 0
            else f"risk score {e.risk_before:,.0f}"
        )
        fill = " <em>(fill in your callers' CIDRs first)</em>" if fix.placeholders else ""
        items.append(
            f"<li id='ff-{esc(e.token_id)}'>{_sev(e.severity)} <a href='#t-{esc(e.token_id)}'>"
            f"<strong>{esc(e.name)}</strong></a> <span class='muted'>· {e.n_findings} findings · "
            f"{risk}</span><div class='fixline'>{esc(line)}{fill}</div></li>"
        )
    for x in _rows(other.head(3), "severity", "title", "rule_id", "remediation"):
        if str(x.severity) not in ("critical", "high"):
            continue
        items.append(
            f"<li>{_sev(x.severity)} <strong>{_cell(x.title)}</strong> <span class='muted'>· "
            f"{_cell(x.rule_id)}</span><div class='fixline'>{_cell(x.remediation)}</div></li>"
        )
    if not items:
        return ""
    return (
        "<section class='fixfirst' id='fix-first'><h2>Fix first</h2><p class='muted' "
        "style='margin:0'>The tokens whose fixes remove the most risk (risk score: what a leak "
        "of the secret would expose). Each card below has the fix step by step and its request."
        f"</p><ol>{''.join(items)}</ol></section>"
    )


def _first_remediation(audit: Audit, token_id: str) -> str:
    mine = audit.findings.iloc[audit._finding_positions(token_id)]
    mine = mine[~mine["suppressed"].astype(bool)]
    return str(mine["remediation"].iloc[0]) if len(mine) else "no change"


def _grouped_rows(mine: Any) -> Iterable[str]:
    """One row per rule (and suppression state), worst first, with a count and the other
    findings' evidence folded away."""
    return _card_rows(_card_columns(mine), range(len(mine)))


def _card_columns(findings: Any) -> dict[str, list[Any]]:
    """The findings' columns a card reads, as lists (read once for every card)."""
    return {name: findings[name].tolist() for name in _CARD_COLUMNS}


def _card_rows(column: dict[str, list[Any]], positions: Iterable[int]) -> Iterable[str]:
    """:func:`_grouped_rows` of the findings at ``positions`` (in that order) of the columns
    read by :func:`_card_columns`."""
    esc = html.escape
    # grouped in order of first appearance (groupby(sort=False) without its per-group frames
    # and row lookups: most of the cards' time); missing keys are left out, as groupby
    # leaves them out
    groups: dict[tuple[Any, Any], list[int]] = {}
    for i in positions:
        key = (column["rule_id"][i], column["suppressed"][i])
        if jsonable(key[0]) is not None and jsonable(key[1]) is not None:
            groups.setdefault(key, []).append(i)
    for (rule, suppressed), rows in groups.items():
        first = rows[0]
        count = len(rows)
        cls = " class='supp'" if bool(suppressed) else ""
        note = (
            f"<br><em>suppressed: {_cell(column['suppression'][first])}</em>"
            if bool(suppressed)
            else ""
        )
        evidence = _cell(column["evidence"][first])
        if count > 1:
            more = "".join(f"<li>{_cell(column['evidence'][i])}</li>" for i in rows[1:])
            evidence += f"<details><summary>and {count - 1} more</summary><ul>{more}</ul></details>"
        badge = f"<span class='count'>×{count}</span>" if count > 1 else ""
        yield (
            f"<tr{cls}><td>{_sev(column['severity'][first])}</td><td><code>{esc(str(rule))}</code>"
            f"{badge}<br>{_cell(column['title'][first])}</td><td>{evidence}{note}</td>"
            f"<td>{_cell(column['remediation'][first])}</td></tr>"
        )


_CARD_COLUMNS = (
    "rule_id",
    "suppressed",
    "severity",
    "title",
    "evidence",
    "remediation",
    "suppression",
)


def _fix_html(fix: Remediation) -> str:
    esc = html.escape
    if not fix.steps:
        return ""
    steps = "".join(f"<li>{esc(s.describe())}</li>" for s in fix.steps)
    fill = (
        "<p class='muted'>Fill in first: " + ", ".join(esc(p) for p in fix.placeholders) + "</p>"
        if fix.placeholders
        else ""
    )
    request = ""
    if fix.body is not None or fix.method == "DELETE":
        body = "" if fix.body is None else json.dumps(fix.body, indent=2)
        request = (
            f"<details><summary>the request: {esc(fix.method)} {esc(fix.path)}</summary>"
            f"<pre>{esc(fix.method)} {esc(fix.path)}\n{esc(body)}</pre></details>"
        )
    return (
        f"<p style='margin:.4em 0 0'><strong>Fix</strong> <span class='muted'>"
        f"({esc(fix.evidence)})</span></p><ol class='steps'>{steps}</ol>{fill}{request}"
    )


@html_repr
def summary_html(audit: Audit) -> str:
    """The audit's summary in a notebook: finding counts, the worst tokens, where to look next."""
    esc = html.escape
    s = audit.summary()
    badges = "".join(
        f"<span style='background:{COLOURS[k]};color:white;padding:2px 8px;margin-right:4px;"
        f"border-radius:3px'>{v} {k}</span>"
        for k, v in s["findings"].items()
    )
    worst = audit.worst_tokens(5)
    rows = "".join(
        f"<tr><td>{esc(str(r.name))}</td><td>{esc(str(r.kind))}</td>"
        f"<td>{esc(str(r.max_severity) if isinstance(r.max_severity, str) else '-')}</td>"
        f"<td>{r.n_findings}</td><td>{r.risk_score}</td><td><code>{esc(str(r.token_id))}</code></td></tr>"
        for r in _rows(
            worst, "name", "kind", "max_severity", "n_findings", "risk_score", "token_id"
        )
    )
    hints = [
        "audit.findings[audit.findings.severity >= 'high']",
        f"audit.explain('{worst['token_id'].iloc[0]}')" if len(worst) else "audit.tokens",
        "audit.who_can('DNS Write', zone='example.com')",
        "audit.to_html('audit-report.html')",
    ]
    gaps = (
        f"<p>{s['gaps']} gap(s): see <code>audit.gaps</code> for what was not collected or "
        "evaluated.</p>"
        if s["gaps"]
        else ""
    )
    return (
        "<div class='cftokens-audit'>"
        f"<p><strong>Audit of {s['tokens']} tokens</strong> ({s['live_tokens']} live; "
        f"{s['user_tokens']} user-owned, {s['account_tokens']} account-owned), profile "
        f"{esc(audit.profile.name)}, {audit.now:%Y-%m-%d %H:%M} UTC</p>"
        f"<p>{badges} &nbsp; {s['suppressed']} suppressed</p>"
        "<table><thead><tr><th>worst tokens</th><th>kind</th><th>max severity</th>"
        "<th>findings</th><th>risk score</th><th>id</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{gaps}"
        "<p>Where to look next: "
        + " · ".join(f"<code>{esc(h)}</code>" for h in hints)
        + "</p></div>"
    )


# the tokens' columns the token table and the cards read
_TABLE_COLUMNS = (
    "token_id",
    "name",
    "kind",
    "owner_name",
    "status",
    "max_severity",
    "n_findings",
    "risk_score",
    "write_groups",
    "expires_on",
    "ip_allow",
)


def to_html(audit: Audit, path: str | Path | None) -> str:
    """One self-contained HTML file that leads: the incompleteness banner and "fix first" on
    the first screen, then charts, tokens, per-token cards, gaps and the rule catalogue."""
    esc = html.escape
    s = audit.summary()
    try:
        drawn = charts(audit)
    except Exception as exc:  # a chart is never worth losing the report
        drawn = {}
        chart_note = f"charts not drawn ({type(exc).__name__}: {exc})"
        warnings.warn(f"cftokens audit report: {chart_note}", RuntimeWarning, stacklevel=3)
    else:
        chart_note = ""
    worst = audit.worst_tokens(len(audit.tokens))
    fixes: dict[str, Remediation] = {}  # each token's fix worked out once (fix first, cards)
    first = _fix_first(audit, worst, FIX_FIRST, fixes)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>cftokens audit, {audit.now:%Y-%m-%d}</title><style>{_CSS}</style></head><body>",
        "<h1>Cloudflare API token audit</h1>",
        f"<p class='muted' style='margin:0'>{s['tokens']} tokens ({s['live_tokens']} live; "
        f"{s['user_tokens']} user-owned, {s['account_tokens']} account-owned) · profile "
        f"{esc(audit.profile.name)} · as of {audit.now:%Y-%m-%d %H:%M} UTC · source "
        f"{esc(audit.source)}</p>",
        "<div class='badges'>Open findings: "
        + " ".join(f"{_sev(k)} {v} &nbsp;" for k, v in s["findings"].items())
        + f" · {s['suppressed']} suppressed</div>",
        _banner(audit),
        _fix_first_html(audit, first),
        "<h2>Overview</h2>",
    ]
    if chart_note:
        parts.append(f"<p class='muted'>{esc(chart_note)}</p>")
    parts.append("<div class='charts'>")
    parts.append(drawn.get("severity", ""))
    if not chart_note and not drawn.get("severity"):
        parts.append(
            "<p class='muted'>No open findings: nothing to chart by rule family and severity.</p>"
        )
    parts.append(drawn.get("age", ""))
    parts.append("</div>")
    families = " · ".join(f"<strong>{esc(k)}</strong> {esc(v)}" for k, v in RULE_FAMILIES.items())
    parts.append(f"<p class='muted'>Rule families: {families}.</p>")
    parts.append(
        "<h2>Tokens</h2><table><thead><tr><th>name</th><th>kind</th><th>owner</th>"
        "<th>status</th><th>worst</th><th>findings</th><th>risk score</th>"
        "<th>write groups</th><th>expires</th><th>IP allowlist</th></tr></thead><tbody>"
    )
    for r in _rows(worst.head(HTML_TOKEN_LIMIT), *_TABLE_COLUMNS):
        parts.append(
            f"<tr><td><a href='#t-{esc(str(r.token_id))}'>{_cell(r.name)}</a><br>"
            f"<code>{_cell(r.token_id)}</code></td><td>{_cell(r.kind)}</td>"
            f"<td>{_cell(r.owner_name)}</td><td>{_cell(r.status)}</td>"
            f"<td>{_sev(r.max_severity)}</td><td>{_cell(r.n_findings)}</td>"
            f"<td>{_cell(r.risk_score)}</td><td>{_groups_cell(r.write_groups)}</td>"
            f"<td>{_cell(r.expires_on) or 'never'}</td><td>{_cell(r.ip_allow) or 'any'}</td></tr>"
        )
    parts.append("</tbody></table>")
    if len(worst) > HTML_TOKEN_LIMIT:
        parts.append(
            f"<p class='muted'>Showing the {HTML_TOKEN_LIMIT} worst of {len(worst)} tokens; "
            "the JSON, CSV and Parquet reports hold all of them.</p>"
        )
    if drawn.get("heatmap"):
        parts.append("<h2>Access matrix</h2>")
        parts.append(drawn["heatmap"])
        parts.append(f"<p class='muted'>{esc(drawn.get('heatmap_note', ''))}.</p>")
    parts.append("<h2>Tokens with findings</h2>")
    f = audit.findings
    card_columns = _card_columns(f)
    with_findings = worst[worst["n_findings"].fillna(0) > 0]
    for r in _rows(with_findings.head(HTML_CARD_LIMIT), *_TABLE_COLUMNS):
        tid = str(r.token_id)
        mine = audit._finding_positions(tid)
        parts.append(
            f"<div class='card' id='t-{esc(tid)}'><h3>{_cell(r.name)} {_sev(r.max_severity)}</h3>"
            f"<p class='muted'><code>{esc(tid)}</code> · {_cell(r.kind)}-owned by "
            f"{_cell(r.owner_name)} · {_cell(r.status)} · expires {_cell(r.expires_on) or 'never'}"
            f" · IPs {_cell(r.ip_allow) or 'any'} · risk score {_cell(r.risk_score)} · "
            f"{len(mine)} findings</p>"
            "<table><thead><tr><th>severity</th><th>rule</th><th>evidence</th>"
            "<th>remediation</th></tr></thead><tbody>"
        )
        parts.extend(_card_rows(card_columns, mine.tolist()))
        parts.append("</tbody></table>")
        parts.append(_fix_html(fixes[tid] if tid in fixes else audit.fix(tid)))
        parts.append("</div>")
    if len(with_findings) > HTML_CARD_LIMIT:
        parts.append(
            f"<p class='muted'>{len(with_findings) - HTML_CARD_LIMIT} more tokens have findings: "
            "see the JSON or CSV report.</p>"
        )
    other = f[f["token_id"].isna()]
    if len(other):
        parts.append(
            "<h2 id='not-tied'>Findings not tied to a token</h2><table><thead><tr>"
            "<th>severity</th><th>rule</th><th>evidence</th><th>remediation</th></tr></thead><tbody>"
        )
        parts.extend(_grouped_rows(other))
        parts.append("</tbody></table>")
    gaps = audit.gaps
    parts.append("<h2 id='gaps'>Gaps</h2>")
    if len(gaps):
        parts.append(
            "<table><thead><tr><th>kind</th><th>what</th><th>reason</th></tr></thead><tbody>"
        )
        for g in _rows(gaps, "kind", "what", "reason"):
            parts.append(
                f"<tr><td>{_cell(g.kind)}</td><td>{_cell(g.what)}</td><td>{_cell(g.reason)}</td></tr>"
            )
        parts.append("</tbody></table>")
    else:
        parts.append("<p>Everything was collected and every rule was evaluated.</p>")
    parts.append(
        "<h2 id='rules'>Rules</h2><details><summary>the rule catalogue "
        f"({len(RULES)} rules)</summary><table><thead><tr><th>id</th><th>family</th>"
        "<th>title</th><th>severity</th><th>fires when</th><th>why</th></tr></thead><tbody>"
    )
    for meta in RULES.values():
        enabled = "" if audit.profile.enabled(meta.id) else " (off in this profile)"
        parts.append(
            f"<tr><td><code>{esc(meta.id)}</code></td><td>{esc(family_label(meta.family))}</td>"
            f"<td>{esc(meta.title)}{esc(enabled)}</td>"
            f"<td>{esc(meta.severity)}</td><td>{esc(meta.fires_when)}</td>"
            f"<td>{esc(meta.rationale)}</td></tr>"
        )
    parts.append("</tbody></table></details>")
    parts.append(
        "<p class='muted'>Generated by cftokens. Secrets are never collected: the inventory "
        "holds token metadata only.</p></body></html>"
    )
    text = html_shown("\n".join(p for p in parts if p))
    if path is not None:
        write_atomic(path, text)
    return text
