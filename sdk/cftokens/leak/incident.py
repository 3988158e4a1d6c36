"""The incident report of a :class:`~cftokens.leak.Triage`: JSON and one self-contained HTML.

Timeline, verification, blast radius (sentences and table), findings, similar tokens, activity
since the window start (flagged rows first), dependents, the containment plan and the actions
taken, the replacement's review and the gaps. Only what the triage holds is rendered: no
secret (the fingerprint shows a prefix and four characters), no Authorization header.
"""

from __future__ import annotations

import html
import json
import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .. import __version__
from .._files import write_atomic
from .._shown import html_shown
from .._text import unicode_text

if TYPE_CHECKING:  # the responder imports this module when it writes a report
    from .responder import Triage

__all__ = ["report_dict", "report_html", "report_json"]

SCHEMA = "cftokens.incident/1"


def _value(value: Any) -> Any:
    import math

    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if hasattr(value, "isoformat") and hasattr(value, "to_pydatetime"):
        if str(value) == "NaT":
            return None
        return value.to_pydatetime().strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    if value is getattr(__import__("pandas"), "NA", object()):
        return None
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    return value


def _records(frame: Any) -> list[dict[str, Any]]:
    return [
        {str(k): _value(v) for k, v in zip(frame.columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def report_dict(t: Triage) -> dict[str, Any]:
    """Everything in the report, JSON-ready."""

    v = t.verification
    replacement = t.replacement
    return {
        "schema": SCHEMA,
        "tool": {"name": "cftokens", "version": __version__},
        "generated": _value(t.now),
        "secret": {"fingerprint": t.fingerprint},
        "verification": {
            "status": v.status,
            "token_id": v.token_id,
            "owner": t.owner_kind,
            "owner_id": t.owner_id,
            "owner_name": t.owner_name,
            "token_status": v.token_status,
            "expires_on": v.expires_on,
            "not_before": v.not_before,
            "note": v.note,
        },
        "complete": t.complete,
        "gaps": [
            {"what": g.what, "reason": g.reason, "needs": g.needs, "part": g.part} for g in t.gaps
        ],
        "summary": t.sentences,
        "timeline": [{"time": _value(w), "event": e} for w, e in t.timeline()],
        "window": {"since": _value(t.since), "reason": t.since_reason},
        "blast_radius": _records(t.blast_radius),
        "findings": _records(
            t.findings[
                [
                    c
                    for c in ("rule_id", "severity", "title", "evidence", "remediation")
                    if c in t.findings.columns
                ]
            ]
        ),
        "similar": _records(t.similar),
        "activity_summary": _records(t.activity_summary),
        "activity": _records(t.activity),
        "dependents": _records(t.dependents),
        "plan": [{"action": s.action, "does": s.does, "breaks": s.breaks} for s in t.plan],
        "actions": [
            {"time": _value(a.time), "action": a.action, "outcome": a.outcome} for a in t.actions
        ],
        "replacement": (
            {
                "summary": str(replacement.spec.summary(t.directory)),
                "notes": [str(n) for n in replacement.notes],
            }
            if replacement is not None
            else {"error": t.replacement_error}
        ),
    }


def report_json(t: Triage, path: str | os.PathLike[str] | None = None) -> str:
    """The report as JSON text (written atomically to ``path`` when given)."""
    text = unicode_text(json.dumps(report_dict(t), indent=2, ensure_ascii=False, default=str))
    if path is not None:
        write_atomic(os.fspath(path), text + "\n")
    return text


def _cell(text: str) -> str:
    # a long value (a path, a user agent, an id) may wrap anywhere, so a wide table stays in
    # the page; short words and headers stay whole
    long = " class='long'" if len(text) > 20 else ""
    return f"<td{long}>{html.escape(text)}</td>"


def _table(rows: list[dict[str, Any]], limit: int = 200) -> str:
    if not rows:
        return "<p class='none'>none</p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in rows[0])
    body = "".join(
        "<tr"
        + (" class='flag'" if row.get("flagged") else "")
        + ">"
        + "".join(_cell("" if v is None else str(v)) for v in row.values())
        + "</tr>"
        for row in rows[:limit]
    )
    more = f"<p>… {len(rows) - limit} more rows in the JSON report</p>" if len(rows) > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
h1{margin-bottom:.2em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em} td,th{border:1px solid #ddd;padding:3px 6px;
text-align:left;vertical-align:top} th{background:#f4f4f4} tr.flag td{background:#fde8e8}
td.long{overflow-wrap:anywhere}
.gap{background:#fff3cd;border:1px solid #e0c36a;padding:.6em 1em} .none{color:#777}
pre{background:#f7f7f7;padding:.8em;white-space:pre-wrap}
"""


def report_html(t: Triage, path: str | os.PathLike[str] | None = None) -> str:
    """The report as one HTML page (no external resources)."""
    d = report_dict(t)
    e = html.escape
    v = d["verification"]

    def gap_items(gaps: list[dict[str, Any]]) -> str:
        return "".join(
            f"<li>{e(g['what'])}: {e(g['reason'])}"
            + (f" <i>(needs {e(g['needs'])})</i>" if g["needs"] else "")
            + "</li>"
            for g in gaps
        )

    major = [g for g in d["gaps"] if g["part"] != "similar"]
    minor = [g for g in d["gaps"] if g["part"] == "similar"]
    gaps = (
        "<div class='gap'><b>Incomplete:</b><ul>"
        + gap_items(major)
        + "</ul>The blast radius and activity below are a lower bound.</div>"
        if major
        else ""
    )
    similar_note = (
        "<div class='gap'>Tokens the admin credential cannot see may hold this power too:<ul>"
        + gap_items(minor)
        + "</ul></div>"
        if minor
        else ""
    )
    replacement = d["replacement"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Incident: leaked Cloudflare credential {e(d['secret']['fingerprint'])}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Leaked Cloudflare credential {e(d['secret']['fingerprint'])}</h1>",
        f"<p>Report generated {e(str(d['generated']))} by cftokens {e(d['tool']['version'])}. "
        f"Verification: <b>{e(v['status'])}</b>"
        + (f", token {e(v['token_id'])}" if v["token_id"] else "")
        + (f" ({e(str(v['owner']))}-owned" if v["owner"] else "")
        + (f", {e(str(v['owner_name']))})" if v["owner_name"] else (")" if v["owner"] else ""))
        + "</p>",
        gaps,
        "<h2>Summary</h2><ul>" + "".join(f"<li>{e(s)}</li>" for s in d["summary"]) + "</ul>",
        "<h2>Timeline</h2>" + _table(d["timeline"]),
        "<h2>Blast radius</h2>" + _table(d["blast_radius"]),
        "<h2>Audit findings</h2>" + _table(d["findings"]),
        "<h2>Other tokens with the same power</h2>" + similar_note + _table(d["similar"]),
        f"<h2>Activity since {e(str(d['window']['since']))} ({e(d['window']['reason'])})</h2>"
        + _table(d["activity_summary"])
        + "<h3>Requests (flagged rows highlighted)</h3>"
        + _table(d["activity"]),
        "<h2>What depends on it</h2>" + _table(d["dependents"]),
        "<h2>Containment plan</h2>" + _table(d["plan"]),
        "<h2>Actions taken</h2>" + _table(d["actions"]),
        "<h2>Replacement (least privilege from its usage)</h2>"
        + (
            f"<pre>{e(replacement['summary'])}</pre>"
            if "summary" in replacement
            else f"<p class='none'>{e(str(replacement['error']))}</p>"
        ),
        "</body></html>",
    ]
    text = html_shown("\n".join(parts))
    if path is not None:
        write_atomic(os.fspath(path), text)
    return text
