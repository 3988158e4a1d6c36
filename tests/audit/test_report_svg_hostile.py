"""The HTML report's SVG charts against names chosen by someone hostile or careless.

Whoever can create a token, a zone or an account chooses its name, and the report is read by
someone who trusts what the charts show: no name may merge its numbers into another row or
column, nor draw over another label.
"""

from __future__ import annotations

import math
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from audit_helpers import (
    ACCOUNTS,
    ACCT,
    ACCT2,
    ALL_ZONES,
    NOW,
    USER,
    ZONE,
    ZONE3,
    ZONES,
    allow,
    good,
    run,
    token,
    zone,
)

from cftokens._text import chart_label, html_text, marks_shown, visible_form, visible_forms
from cftokens.audit import Audit, _svg
from cftokens.audit.access import distinct_labels
from cftokens.audit.report_html import COLOURS, charts
from cftokens.errors import InvalidInput


def cells(svg: str) -> dict[str, str]:
    """The heatmap's cells: tooltip text -> fill."""
    root = ET.fromstring(svg)
    return {
        str(r.findtext("title")): str(r.get("fill"))
        for r in root.iter("rect")
        if r.find("title") is not None
    }


def test_a_name_that_copies_another_tokens_label_gets_its_own_row() -> None:
    """Two tokens named ``ci`` are labelled ``ci (aaaaaa)`` and ``ci (bbbbbb)``; a third
    token *named* ``ci (aaaaaa)`` (three groups) must not be summed into the first one's row
    (it was: one row of 4 groups, the third token hidden in another's row)."""
    a, b, c = "a" * 32, "b" * 32, "c" * 32
    audit = run(
        token("ci", allow(["DNS Write"], zone(ZONE)), token_id=a),
        token("ci", allow(["DNS Read"], zone(ZONE)), token_id=b),
        token(
            "ci (aaaaaa)",
            allow(["DNS Write", "Zone Read", "Zone Settings Write"], zone(ZONE)),
            token_id=c,
        ),
    )
    matrix = audit.access_matrix()
    assert matrix.index.is_unique and len(matrix) == 3
    assert sorted(matrix["example.com"].tolist()) == [1, 1, 3]
    by_label = matrix["example.com"].to_dict()
    assert by_label["ci (bbbbbb)"] == 1
    assert [label for label, n in by_label.items() if n == 3] == [f"ci (aaaaaa) ({c})"]
    assert by_label[f"ci ({a})"] == 1
    drawn = cells(charts(audit)["heatmap"])
    assert len(drawn) == 3
    assert f"ci (aaaaaa) ({c}) × example.com: 3 permission groups" in drawn
    assert set(audit.access_matrix(by="token_id").index) == {a, b, c}


def test_zones_and_accounts_with_the_same_name_stay_apart() -> None:
    """Two zones named ``example.com`` (in two accounts) are two columns, each counting its
    own groups (they were one column counting 2 groups where the token holds 1 on each); the
    same for two accounts with one name."""
    zones = [
        {"id": ZONE, "name": "example.com", "account": {"id": ACCT}},
        {"id": ZONE3, "name": "example.com", "account": {"id": ACCT2}},
    ]
    accounts = [{"id": ACCT, "name": "Acme"}, {"id": ACCT2, "name": "Acme"}]
    audit = Audit.from_records(
        tokens=[token("wide", allow(["DNS Write"], zone(ZONE), zone(ZONE3)))],
        accounts=accounts,
        zones=zones,
        user={"id": USER, "email": "owner@example.com"},
        now=NOW,
    )
    matrix = audit.access_matrix()
    assert list(matrix.columns) == [f"example.com ({ZONE[:6]})", f"example.com ({ZONE3[:6]})"]
    assert matrix.loc["wide"].tolist() == [1, 1]
    per_account = audit.access_matrix(columns="account")
    assert list(per_account.columns) == [f"Acme ({ACCT[:6]})", f"Acme ({ACCT2[:6]})"]
    assert per_account.loc["wide"].tolist() == [1, 1]
    drawn = cells(charts(audit)["heatmap"])
    assert set(drawn) == {
        f"wide × example.com ({ZONE[:6]}): 1 permission group",
        f"wide × example.com ({ZONE3[:6]}): 1 permission group",
    }


def test_distinct_labels_never_repeat() -> None:
    """Plain names stay plain; repeated names get 6 characters of their id; a label that
    still repeats gets the whole id; ids whose whole form repeats too (ids are anyone's text
    where a policy names a zone the directory does not list) fall back on the ids."""
    assert distinct_labels(["a", "b"], ["1", "2"]) == ["a", "b"]
    assert distinct_labels(["x", "x"], ["1234567", "7654321"]) == ["x (123456)", "x (765432)"]
    assert distinct_labels(["x", "x"], ["1234567", "1234568"]) == ["x (1234567)", "x (1234568)"]
    assert distinct_labels(["x", "x", "x (1)"], ["1", "2", "3"]) == ["x (1)", "x (2)", "x (1) (3)"]
    odd = ["abcdef) (q", "zz", "q"]  # the whole-id labels of the 1st and 3rd are one text
    assert distinct_labels(["x", "x", "x (abcdef)"], odd) == odd


ZALGO = "Z" + "\u0301\u0316\u0489" * 80 + "algo"
LEGIBLE = [  # real scripts stack up to 4 marks on a letter: they are left as they are
    "Tie\u0302\u0301ng Vie\u0323\u0302t",  # Vietnamese, decomposed (2 marks)
    "\u05d1\u05bc\u05b0\u05e8\u05b5\u05d0\u05e9\u05c1\u05b4\u0596\u05d9\u05ea",  # Hebrew, 3
    "\u0f56\u0f66\u0f92\u0fb2\u0f74\u0f56\u0f66",  # Tibetan stack (3)
    "\u0915\u094d\u0937\u0924\u094d\u0930\u093f\u092f",  # Devanagari
    "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",  # a tag flag
]


def longest_mark_run(text: str) -> int:
    """The most combining marks (Mn, Me) drawn on one character of ``text``."""
    import unicodedata

    most = run = 0
    for char in text:
        if unicodedata.category(char) in ("Mn", "Me"):
            run += 1
            most = max(most, run)
        elif unicodedata.category(char) != "Cf":
            run = 0
    return most


def test_a_flood_of_combining_marks_cannot_draw_over_other_names() -> None:
    """A name of one letter carrying 240 combining marks ("Zalgo") was drawn as a smear
    through the labels of the rows above and below it (seen in Chromium: 5 heatmap rows and 14
    rows of the token table): past 4 marks on one letter, each is shown as its escape, as
    control characters are. Scripts that stack marks (up to 4) read as they are."""
    shown = chart_label(ZALGO, 10_000)
    assert shown.startswith("Z\u0301\u0316\u0489\u0301\\u0316\\u0489\\u0301")
    assert longest_mark_run(shown) == 4 and shown.endswith("algo")
    assert longest_mark_run(chart_label("a" + "\u0301\u200d" * 50)) == 4  # joiners between
    for text in LEGIBLE:
        assert chart_label(text) == text and html_text(text) == text
    page = run(
        token(ZALGO, allow(["DNS Write"], zone(ZONE))),
        token("ordinary", allow(["DNS Write"], zone(ZONE))),
        token(" ".join(LEGIBLE), allow(["DNS Read"], zone(ZONE))),
    ).to_html()
    assert longest_mark_run(page) == 4
    for text in LEGIBLE:
        assert text in page
    drawn = charts(run(token(ZALGO, allow(["DNS Write"], zone(ZONE)))))["heatmap"]
    labels = [
        (t.text or "") + "".join(c.tail or "" for c in t) for t in ET.fromstring(drawn).iter("text")
    ]
    assert chart_label(ZALGO) in labels and longest_mark_run(drawn) == 4


LOOKALIKES = [
    "terraform-ci\u200b",  # a zero-width space
    "\uff54erraform-ci",  # a fullwidth t
    "terraform-ci ",  # a trailing space
    "terraform\u2060-ci",  # a word joiner
    "terraform-ci\U000e0041",  # a tag character
    "terraform-c\U0001d422",  # a mathematical bold i
]


def test_a_name_that_only_looks_like_another_is_told_apart() -> None:
    """A hostile token named like ``terraform-ci`` plus a zero-width space (or a fullwidth
    letter, a trailing space, a tag character) was drawn as a second ``terraform-ci`` row on
    the heatmap, with nothing to tell which is which: every name that looks like another
    gets its id, as a repeated name does."""
    legit = token("terraform-ci", allow(["DNS Read"], zone(ZONE)), token_id="1" * 32)
    others = [
        token(name, allow(["DNS Write", "Zone Settings Write"], zone(ZONE)), token_id=f"{i:x}" * 32)
        for i, name in enumerate(LOOKALIKES, start=2)
    ]
    audit = run(legit, token("terraform-cd", allow(["DNS Read"], zone(ZONE))), *others)
    matrix = audit.access_matrix()
    assert f"terraform-ci ({'1' * 6})" in matrix.index and "terraform-cd" in matrix.index
    for i, name in enumerate(LOOKALIKES, start=2):
        assert f"{name} ({f'{i:x}' * 6})" in matrix.index
    drawn = cells(charts(audit)["heatmap"])
    assert f"terraform-ci ({'1' * 6}) × example.com: 1 permission group" in drawn


def test_charts_stay_well_formed_xml_with_noncharacters_in_names() -> None:
    """U+FFFE and U+FFFF are not XML characters (a chart with one in a label could not be
    saved as an .svg file: "not well-formed"), and every noncharacter is an HTML parse error:
    each is shown as its escape, in the charts and in the page."""
    names = ["bom\ufffe", "max\uffff", "fdd0\ufdd0", "plane1\U0001fffe", "plane16\U0010ffff"]
    audit = run(*(token(n, allow(["DNS Write"], zone(ZONE))) for n in names))
    drawn = charts(audit)["heatmap"]
    root = ET.fromstring(drawn)
    shown = {(t.text or "") + "".join(c.tail or "" for c in t) for t in root.iter("text")}
    assert {"bom\\ufffe", "max\\uffff", "fdd0\\ufdd0", "plane1\\u1fffe"} <= shown
    page = audit.to_html()
    for char in ("\ufffe", "\uffff", "\ufdd0", "\U0001fffe", "\U0010ffff"):
        assert char not in page and char not in drawn


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, -5.0, 0.5, pd.NA, "3"])
def test_a_count_that_is_not_a_whole_number_is_refused(bad: object) -> None:
    """A chart draws counts: a missing, infinite, negative or fractional one was drawn as 0
    (a heatmap cell of unknown access shown as "no permission group"), as a bar of the wrong
    length or not drawn at all (OverflowError, "charts not drawn"); it is refused, naming
    the cell, before anything is drawn."""
    frame = pd.DataFrame(
        {"critical": pd.array([3, bad], dtype=object), "high": [1, 2]}, index=["PE", "SC"]
    )
    matrix = frame.rename_axis(index="token", columns="zone")
    for draw in (
        lambda: _svg.severity_chart(frame, COLOURS),
        lambda: _svg.age_chart(frame, {"critical": "#000000", "high": "#111111"}),
        lambda: _svg.heatmap(matrix),
    ):
        with pytest.raises(InvalidInput, match=r"whole numbers of 0 or more.*'SC'.*'critical'"):
            draw()
    assert _svg.heatmap(matrix.assign(critical=[3, 4]))  # whole numbers, even as objects
    nullable = matrix.assign(critical=pd.array([3, None], dtype="Int64"))
    with pytest.raises(InvalidInput, match="'SC', column 'critical' holds '<NA>'"):
        _svg.heatmap(nullable)
    assert _svg.heatmap(nullable.fillna(0))


def test_a_name_that_shows_nothing_gets_its_id() -> None:
    """A token named "" (or only spaces, or only a zero-width space) was a heatmap row with
    no label: which token holds that access could not be read off the chart."""
    for name in ["", "   ", "\u200b", "\u3164"]:
        matrix = run(
            token(name, allow(["DNS Write"], zone(ZONE)), token_id="e" * 32),
            token("ordinary", allow(["DNS Read"], zone(ZONE))),
        ).access_matrix()
        assert sorted(matrix.index) == sorted([f"{name} (eeeeee)", "ordinary"]), name
    assert distinct_labels([""], ["abcdef12"]) == [" (abcdef)"]


BREAKOUTS = [  # names written to leave the SVG, the text or the attribute they are drawn in
    "</svg><script>alert(1)</script>",
    "</title><script>alert(2)</script>",
    "</text></svg><img src=x onerror=alert(3)>",
    "<font color=red>leaves foreign content</font>",
    "<b>bold</b><p>para<table><td>cell",
    "<![CDATA[</text><script>alert(4)</script>]]>",
    "<!-- --><svg onload=alert(5)>",
    '<a xlink:href="javascript:alert(6)">x</a>',
    "<style>svg{display:none}</style>",
    "<foreignObject><iframe src=http://evil.example></iframe></foreignObject>",
    "&lt;script&gt; &#60;script&#62; &amp;",
    "\"' onmouseover=alert(7) x='",
    "<math><mi><mglyph><style><img src=x onerror=alert(8)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(9)>">',
]

PROBE = """<script>
addEventListener('load', () => {
  const counts = {};
  for (const el of document.querySelectorAll('*')) {
    const key = el.namespaceURI.split('/').pop() + ':' + el.localName
      + '[' + [...el.attributes].map((a) => a.name).sort().join(',') + ']';
    counts[key] = (counts[key] || 0) + 1;
  }
  const pre = document.createElement('pre'); pre.id = 'probe';
  pre.textContent = 'PROBE' + JSON.stringify(counts) + 'PROBE';
  document.body.appendChild(pre);
});
</script>"""


def _chromium_elements(page: str, folder: Path) -> dict[str, int]:
    """Each kind of element (namespace, tag and attribute names) and how many, in the DOM
    Chromium's HTML parser builds from ``page`` (with two scripts of the test's own)."""
    from test_report_html import CHROMIUM, SCREENSHOTS

    folder.mkdir()
    copy = folder / "report.html"
    quiet = "<head><script>alert = () => {};</script>"  # an injected alert() would block
    page = page.replace("<head>", quiet, 1).replace("</body>", PROBE + "</body>")
    copy.write_text(page, encoding="utf-8")
    assert CHROMIUM is not None
    counts: dict[str, int] = SCREENSHOTS.probe(CHROMIUM, copy, (1300, 900), folder / "profile")
    return counts


@pytest.mark.slow  # two browser starts
@pytest.mark.skipif(
    shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
    reason="Debian's chromium is not installed (apt-get install -y chromium); .ci/run installs it",
)
def test_chromium_builds_the_same_page_from_hostile_names_as_from_plain_ones(
    tmp_path: Path,
) -> None:
    """Token and zone names written to break out of an inline SVG by the HTML parser's own
    rules (``<font color>``, ``<b>``, ``<p>`` and ``<table>`` close foreign content; CDATA,
    comments, ``<math>``/``<noscript>`` parser differentials): Chromium builds exactly the
    elements, in the same namespaces and with the same attribute names, that it builds for
    the same audit with plain names; the three charts are in the SVG namespace."""

    def audit(names: list[str], zone_name: str) -> Audit:
        zones = [{**ZONES[0], "name": zone_name}, *ZONES[1:]]
        return Audit.from_records(
            tokens=[
                token(n, allow(["DNS Write"], zone(ZONE)), ip_in=[], expires=None) for n in names
            ],
            accounts=ACCOUNTS,
            zones=zones,
            user={"id": USER, "email": "owner@example.com"},
            now=NOW,
        )

    hostile = audit(BREAKOUTS, "<b>zone</b></svg><script>alert(0)</script>").to_html()
    # plain names as long as the hostile ones: a name cut on the chart has its whole as a tooltip
    plain_names = [f"{i:02d}".ljust(len(name), "x") for i, name in enumerate(BREAKOUTS)]
    plain = audit(plain_names, "example.com").to_html()
    seen = _chromium_elements(hostile, tmp_path / "hostile")
    assert seen == _chromium_elements(plain, tmp_path / "plain")
    assert sum(n for kind, n in seen.items() if kind.startswith("svg:svg[")) == 3
    scripts = {kind: n for kind, n in seen.items() if kind.split(":")[1].startswith("script")}
    assert scripts == {"xhtml:script[]": 2}  # the probe and the alert stub
    assert not [kind for kind in seen if kind.split(":")[1].startswith(("img", "iframe"))]


def test_an_audit_without_open_findings_says_so_where_the_chart_would_be() -> None:
    """No open finding, no severity chart: the overview said nothing in its place, which
    reads as a chart that failed or was removed; it says there is none, and the other charts
    are drawn."""
    page = run(good("narrow")).to_html()
    overview = page[page.index("<h2>Overview</h2>") : page.index("<h2>Tokens</h2>")]
    assert 'id="chart-severity"' not in page and 'id="chart-age"' in overview
    assert "No open findings: nothing to chart by rule family and severity." in overview
    assert "No open findings" not in run(token("wide", allow(["DNS Write"], ALL_ZONES))).to_html()


@pytest.mark.parametrize(
    "texts",
    [
        ["plain", "two words", "ci (a1b2c3)"],
        ["ci", "ci "],
        [" ci", "cd"],
        ["a  b"],
        ["a\tb"],
        ["", "x"],
        ["x", ""],
        ["nul\x00 x"],
        ["unit\x1fsep"],
        ["caf\u00e9", "cafe\u0301"],
        [],
    ],
)
def test_visible_forms_of_many_texts_are_each_ones_visible_form(texts: list[str]) -> None:
    """The one-scan path for plain ASCII texts gives what visible_form gives text by text."""
    assert visible_forms(texts) == [visible_form(t) for t in texts]


def test_marks_are_counted_on_any_letter_and_only_marks() -> None:
    """A run of letters above U+02FF (Japanese, Cyrillic) is left alone; a flood on one of
    them, or on a letter after a zero-width joiner, is cut as on a Latin one; marks of every
    kind count (Thai and Devanagari signs of combining class 0, enclosing marks)."""
    japanese = "東京本社のトークン"
    assert marks_shown(japanese * 3) == japanese * 3
    assert marks_shown("東" + "\u0301" * 6) == "東" + "\u0301" * 4 + "\\u0301\\u0301"
    assert marks_shown("\u0e01" + "\u0e31" * 6) == "\u0e01" + "\u0e31" * 4 + "\\u0e31" * 2
    assert marks_shown("a\u200d" + "\u20dd" * 5) == "a\u200d" + "\u20dd" * 4 + "\\u20dd"
    assert marks_shown("\u0915" + "\u093f\u0902" * 2) == "\u0915" + "\u093f\u0902" * 2
