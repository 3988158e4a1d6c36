"""Line and paragraph separators (U+2028/U+2029) and other characters drawn as nothing in the
HTML reports and their charts: shown as escapes, as control characters and bidi overrides
are, so a label holding them cannot pass for another token's name."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from audit_helpers import ZONE, allow, run, token, zone

from cftokens._shown import INVISIBLES, html_shown, invisibles_shown, label
from cftokens.audit.report_html import charts

#: Lookalikes of "cideploy": each drawn by a browser (or a chart) exactly as it.
DISGUISED = [
    "ci\u2028deploy",  # line separator: nothing in an SVG <text>
    "ci\u2029deploy",  # paragraph separator
    "ci\u200bdeploy",  # zero-width space
    "ci\u00addeploy",  # soft hyphen
    "ci\u2063deploy",  # invisible separator
    "ci\ufeffdeploy",  # zero-width no-break space
    "cideploy" + "".join(chr(0xE0000 + ord(c)) for c in " drop"),  # tags: hidden text
]
SHOWN = [
    "ci\\u2028deploy",
    "ci\\u2029deploy",
    "ci\\u200bdeploy",
    "ci\\u00addeploy",
    "ci\\u2063deploy",
    "ci\\ufeffdeploy",
    "cideploy\\udb40\\udc20\\udb40\\udc64\\udb40\\udc72\\udb40\\udc6f\\udb40\\udc70",
]
INVISIBLE = re.compile(f"[{INVISIBLES}]")
FLAG = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"  # Scotland


def svg_labels(svg: str) -> list[str]:
    return [
        (t.text or "") + "".join(c.tail or "" for c in t) for t in ET.fromstring(svg).iter("text")
    ]


def test_the_helpers_show_separators_and_invisible_characters_as_escapes() -> None:
    assert [invisibles_shown(name) for name in DISGUISED] == SHOWN
    assert [label(name, 200) for name in DISGUISED] == SHOWN
    assert html_shown("<p>ci\u2028deploy</p>\n") == "<p>ci\\u2028deploy</p>\n"
    # what scripts and emoji need is kept: joiners, selectors, a subdivision flag
    for kept in ("👩\u200d💻", "می\u200cخواهم", "☁\ufe0f", FLAG, "Tiếng Việt"):
        assert label(kept) == kept and html_shown(kept) == kept
    # a flag-shaped run that is not one (no cancel tag, too long) is escaped
    assert "\\udb40" in label("\U0001f3f4\U000e0067\U000e0062\U000e0073")
    assert "\\udb40" in label("\U0001f3f4" + "\U000e0061" * 9 + "\U000e007f")


def test_disguised_names_are_told_apart_in_the_report_and_its_charts() -> None:
    """Each disguised name and the plain one reach the heatmap as different labels, and no
    invisible character is left anywhere in the page."""
    names = ["cideploy", *DISGUISED, f"flag {FLAG}"]
    audit = run(*(token(n, allow(["DNS Write"], zone(ZONE))) for n in names))
    drawn = charts(audit)
    # labels of names that look alike carry their ids (``distinct_labels``)
    labels = {text.split(" (")[0] for text in svg_labels(drawn["heatmap"])}
    for shown in SHOWN:
        assert label(shown) in labels, shown
    assert "cideploy" in labels and f"flag {FLAG}" in labels
    page = audit.to_html()
    assert not INVISIBLE.search(page.replace(FLAG, ""))
    for shown in SHOWN:
        assert shown in page
    age = drawn.get("age", "")
    assert not INVISIBLE.search(age)


def test_the_incident_report_shows_them_as_escapes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The leak's incident report (its summary names the token) follows the same rule."""
    from cftokens.leak import incident

    monkeypatch.setattr(incident, "report_dict", lambda t: disguised_dict())
    page = incident.report_html(None)  # type: ignore[arg-type]
    assert not INVISIBLE.search(page)
    for shown in SHOWN:
        assert f"token {shown} leaked" in page


def disguised_dict() -> dict[str, Any]:
    """An incident report's fields, its summary naming the disguised tokens."""
    empty: list[dict[str, Any]] = []
    return {
        "secret": {"fingerprint": "abc123"},
        "generated": "2026-12-07T00:00:00Z",
        "tool": {"version": "0"},
        "verification": {"status": "active", "token_id": None, "owner": None, "owner_name": None},
        "gaps": [],
        "replacement": {"summary": "none"},
        "summary": [f"token {name} leaked" for name in DISGUISED],
        "timeline": empty,
        "blast_radius": empty,
        "findings": empty,
        "similar": empty,
        "window": {"since": "2026-12-01", "reason": "test"},
        "activity_summary": empty,
        "activity": empty,
        "dependents": empty,
        "plan": empty,
        "actions": empty,
    }
