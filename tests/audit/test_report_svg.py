"""The HTML report's charts: inline SVG written by cftokens (audit/_svg.py), no matplotlib.

Each chart function is pure (a DataFrame in, an ``<svg>`` out), so most tests read the SVG
with ElementTree (which also proves it well-formed XML). The report-level tests parse whole
pages with ``html.parser``: hostile token and zone names end up as text, never as markup.
"""

from __future__ import annotations

import itertools
import math
import sys
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from audit_helpers import (
    ACCOUNTS,
    NOW,
    USER,
    ZONE,
    ZONES,
    Markup,
    allow,
    assert_markup_is_the_reports_own,
    good,
    run,
    token,
    zone,
)

from cftokens._shown import label as chart_label  # the rule the charts apply
from cftokens.audit import Audit, _svg
from cftokens.audit.report_html import (
    COLOURS,
    NEVER_USED,
    USE_BANDS,
    age_use_table,
    charts,
    family_label,
)
from cftokens.errors import InvalidInput

USE_COLOURS = {label: colour for _, label, colour in USE_BANDS} | {NEVER_USED[0]: NEVER_USED[1]}


def parse(svg: str) -> ET.Element:
    """The chart as XML: ElementTree refuses anything that is not well-formed."""
    return ET.fromstring(svg)


def titled(root: ET.Element, tag: str) -> dict[str, ET.Element]:
    """The ``tag`` elements that have a tooltip, by its text."""
    return {
        str(el.find("title").text): el  # type: ignore[union-attr]
        for el in root.iter(tag)
        if el.find("title") is not None
    }


def texts(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in root.iter("text")]


def test_severity_chart_stacks_segments_with_tooltips_totals_and_a_summary() -> None:
    """One bar per family, one segment per severity in its colour with a tooltip, the total at
    the bar's end; an accessible image whose title and description state the data."""
    counts = pd.DataFrame(
        [[3, 2], [0, 7]],
        index=[family_label("PE"), family_label("LC")],
        columns=["critical", "high"],
    )
    root = parse(_svg.severity_chart(counts, COLOURS))
    assert root.get("role") == "img"
    title_id, desc_id = str(root.get("aria-labelledby")).split()
    assert root.find("title").get("id") == title_id  # type: ignore[union-attr]
    desc = root.find("desc")
    assert desc is not None and desc.get("id") == desc_id
    assert root.findtext("title") == "Open findings by rule family and severity"
    assert "12 open findings in all" in str(desc.text)
    assert "privilege escalation (PE): 5 open findings (3 critical, 2 high)" in str(desc.text)
    segments = titled(root, "rect")
    assert set(segments) == {
        "privilege escalation (PE): 3 critical findings",
        "privilege escalation (PE): 2 high findings",
        "lifecycle (expiry, rotation, use) (LC): 7 high findings",
    }
    assert (
        segments["privilege escalation (PE): 3 critical findings"].get("fill")
        == COLOURS["critical"]
    )
    shown = texts(root)
    for wanted in ("privilege escalation (PE)", "5", "7", "open findings", "severity", "high"):
        assert wanted in shown, wanted
    widths = {t: float(el.get("width", 0)) for t, el in segments.items()}
    assert widths["lifecycle (expiry, rotation, use) (LC): 7 high findings"] == pytest.approx(
        widths["privilege escalation (PE): 3 critical findings"] * 7 / 3, rel=0.02
    )


def test_counts_inside_bars_are_dark_on_light_fills_and_white_on_dark_ones() -> None:
    """Each count drawn inside a segment uses the ink that contrasts more with its fill (the
    PNG's dark-on-light rule: the light green, amber and grey bands get dark ink)."""
    table = pd.DataFrame(
        [[10, 10, 10, 10, 10]],
        index=["under 30 days"],
        columns=[label for _, label, _ in USE_BANDS] + [NEVER_USED[0]],
    )
    root = parse(_svg.age_chart(table, USE_COLOURS))
    inks = [el.get("fill") for el in root.iter("text") if el.text == "10" and el.get("fill")]
    assert len(inks) == 5
    expected = [_svg.ink(c) for c in USE_COLOURS.values()]
    assert inks == expected
    assert _svg.ink(USE_BANDS[1][2]) == _svg.ink(USE_BANDS[2][2]) == _svg.DARK_INK
    assert _svg.ink(NEVER_USED[1]) == _svg.DARK_INK
    assert _svg.ink(USE_BANDS[0][2]) == _svg.ink(COLOURS["critical"]) == _svg.LIGHT_INK
    for fill, ink in zip(USE_COLOURS.values(), inks, strict=True):
        assert _svg._contrast(fill, str(ink)) >= 3.0, (fill, ink)
    assert "age (since issued)" in texts(root) and "last use" in texts(root)
    assert "10 tokens issued under 30 days ago, never used" in titled(root, "rect")


def test_a_count_that_does_not_fit_its_segment_is_left_to_the_tooltip() -> None:
    """A 1-token segment next to 9,999 others is too narrow for its count: the count is not
    drawn over its neighbours, the segment keeps its tooltip, the total is at the end."""
    table = pd.DataFrame([[9_999, 1]], index=["1–2 years"], columns=list(USE_COLOURS)[:2])
    root = parse(_svg.age_chart(table, USE_COLOURS))
    shown = texts(root)
    assert "9,999" in shown and "10,000" in shown and "1" not in shown
    assert "1 token issued 1–2 years ago, used 8–30 days ago" in titled(root, "rect")


def test_reds_is_matplotlibs_scale() -> None:
    """The heatmap's scale: ColorBrewer's Reds (matplotlib's ``Reds`` interpolates the same
    nine colours), from the lightest at 0 to the darkest at 1, darker all the way."""
    assert _svg.reds(0) == "#fff5f0" and _svg.reds(1) == "#67000d"
    assert _svg.reds(0.5) == "#fb6a4a"  # the middle colour, exactly
    assert _svg.reds(0.25) == "#fcbba1" and _svg.reds(0.75) == "#cb181d"
    assert _svg.reds(1 / 16) == "#feebe1"  # halfway between the first two (255 and 254 → 254)
    assert _svg.reds(-3) == _svg.reds(math.nan) == _svg.reds(0) and _svg.reds(7) == _svg.reds(1)
    shades = [_svg._luminance(_svg.reds(x / 50)) for x in range(51)]
    assert shades == sorted(shades, reverse=True) and len(set(shades)) == 51


def test_heatmap_cells_have_tooltips_and_the_scale_starts_at_no_access() -> None:
    """Every cell is drawn with a tooltip naming token, zone and count; 0 is the lightest
    colour (no access) and the largest count the darkest."""
    matrix = pd.DataFrame(
        [[3, 0, 1], [0, 0, 2]],
        index=pd.Index(["Acme CI token", "backup"], name="token"),
        columns=pd.Index(["example.com", "shop.example.com", "blog.example.com"], name="zone"),
    )
    root = parse(_svg.heatmap(matrix, note="all 3 zones with access drawn"))
    cells = titled(root, "rect")
    assert len(cells) == 6
    assert cells["Acme CI token × example.com: 3 permission groups"].get("fill") == "#67000d"
    assert cells["backup × example.com: no permission group"].get("fill") == "#fff5f0"
    assert "Acme CI token × blog.example.com: 1 permission group" in cells
    assert root.findtext("title") == "Access: permission groups per token and zone"
    desc = str(root.findtext("desc"))
    assert "2 tokens × 3 zones" in desc and "Acme CI token × example.com with 3" in desc
    assert desc.endswith("all 3 zones with access drawn")
    shown = texts(root)
    assert {"Acme CI token", "backup", "blog.example.com", "permission groups"} <= set(shown)
    assert {"0", "1", "2", "3"} <= set(shown)  # the scale's ticks
    accounts = matrix.rename_axis(columns="account")
    assert parse(_svg.heatmap(accounts)).findtext("title") == (
        "Access: permission groups per token and account"
    )


def _inside(root: ET.Element) -> None:
    """Every rectangle and every label lies within the chart's viewBox (labels by the
    width the module reserves for them)."""
    _, _, width, height = map(float, str(root.get("viewBox")).split())
    for rect in root.iter("rect"):
        x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
        w, h = float(rect.get("width", 0)), float(rect.get("height", 0))
        assert x >= 0 and x + w <= width + 0.1 and y >= 0 and y + h <= height + 0.1, rect.attrib
    for text in root.iter("text"):
        if text.get("transform") or text.get("x") is None:
            continue
        x, y = float(str(text.get("x"))), float(str(text.get("y")))
        size = float(text.get("font-size", _svg.SIZE))
        drawn = _svg._width(text.text or "", size)
        anchor = text.get("text-anchor", "start")
        start = x - drawn if anchor == "end" else x - drawn / 2 if anchor == "middle" else x
        assert start >= -0.5 and start + drawn <= width + 0.5 and 0 <= y <= height, text.text


# 500 rows in the full run only (the layout of many rows: 7 in the inner loop)
@pytest.mark.parametrize("n", [1, 7, pytest.param(500, marks=pytest.mark.slow)])
def test_layout_holds_from_one_row_to_five_hundred(n: int) -> None:
    """1, 7 or 500 rows: rows never overlap, everything is inside the chart, the chart grows
    with its rows; a 40-zone heatmap of 500 tokens keeps readable rows."""
    names = [f"token-{i:03d}" + ("-long" * (i % 3)) for i in range(n)]
    bars = pd.DataFrame(
        np.arange(1, 2 * n + 1).reshape(n, 2), index=names, columns=["critical", "low"]
    )
    root = parse(_svg.severity_chart(bars, COLOURS))
    _inside(root)
    ys = sorted({float(str(r.get("y"))) for r in root.iter("rect") if r.find("title") is not None})
    assert len(ys) == n and all(b - a >= 20 for a, b in itertools.pairwise(ys))
    ages = parse(_svg.age_chart(bars.set_axis(list(USE_COLOURS)[:2], axis=1), USE_COLOURS))
    _inside(ages)  # the axis title above the labels when one row is too short for it
    turned = [t for t in ages.iter("text") if t.text == "age (since issued)"]
    assert len(turned) == 1 and ("rotate(-90)" in turned[0].get("transform", "")) == (n > 1)
    zones = [f"zone-{j:02d}.example" for j in range(40 if n > 1 else 1)]
    matrix = pd.DataFrame(
        np.arange(n * len(zones)).reshape(n, len(zones)) % 7,
        index=pd.Index(names, name="token"),
        columns=pd.Index(zones, name="zone"),
    )
    heat = parse(_svg.heatmap(matrix))
    _inside(heat)
    cells = [r for r in heat.iter("rect") if r.find("title") is not None]
    assert len(cells) == n * len(zones)
    assert min(float(str(r.get("height"))) for r in cells) >= 13
    _, _, width, height = map(float, str(heat.get("viewBox")).split())
    assert height >= 14 * n and width <= 1300


def test_empty_frames_draw_nothing() -> None:
    """No rows, no chart (the report leaves the chart out)."""
    empty = pd.DataFrame(columns=["critical"], dtype="int64")
    assert _svg.severity_chart(empty, COLOURS) == ""
    assert _svg.age_chart(empty, USE_COLOURS) == ""
    assert _svg.heatmap(empty) == ""


HOSTILE = [
    "</svg><script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "&amp; &lt;b&gt; &#60;script&#62;",
    "javascript:alert(1)",
    "<foreignObject><iframe src=http://evil.example></iframe></foreignObject>",
    '<a href="http://evil.example">x</a><style>*{display:none}</style>',
    "a\u202etxt.exe",
    "zero\u200bwidth\u200d\ufeffjoin",
    "nul\x00byte\x1b[2K",
    "lone \ud800 surrogate",
    "L" * 10_000,
]


def hostile_audit(names: list[str], zone_name: str) -> Audit:
    """One token per name with DNS Write on the first zone (named ``zone_name``), findings
    of several families, ages and last uses: every chart draws every name."""
    zones = [{**ZONES[0], "name": zone_name}, *ZONES[1:]]
    tokens = [
        token(name, allow(["DNS Write"], zone(ZONE)), ip_in=[], expires=None, last_used=-i * 40)
        for i, name in enumerate(names)
    ]
    return Audit.from_records(
        tokens=tokens,
        accounts=ACCOUNTS,
        zones=zones,
        user={"id": USER, "email": "owner@example.com"},
        now=NOW,
    )


def test_hostile_names_reach_the_charts_as_text_never_as_markup() -> None:
    """Token and zone names made of markup, entities, handlers, ``javascript:``, bidi and
    zero-width characters, NUL, a lone surrogate and 10,000 characters: the report parses to
    exactly the kinds of elements a report of plain names has, with no script, handler,
    link or style from data; each name is in a chart as text, cut and escaped as
    ``chart_label`` shows it; the charts stay well-formed XML."""
    hostile = hostile_audit(HOSTILE, zone_name='"><script>alert(2)</script>')
    page = hostile.to_html()
    assert "charts not drawn" not in page
    markup = assert_markup_is_the_reports_own(page)
    plain = hostile_audit([f"plain-{i}" for i in range(len(HOSTILE))], zone_name="example.com")
    assert markup.vocabulary() <= Markup(plain.to_html()).vocabulary()
    drawn = charts(hostile)
    assert {"severity", "age", "heatmap"} <= set(drawn)
    chart_text = "\n".join(markup.svg_texts)
    for name in [*HOSTILE, '"><script>alert(2)</script>']:
        label = chart_label(name.replace("\ud800", "\ufffd"))
        assert label in chart_text, label
        assert len(label) <= 60
    for raw in ("\u202e", "\x00", "\x1b", "\ud800"):
        assert raw not in page
    for svg in (drawn["severity"], drawn["age"], drawn["heatmap"]):
        root = parse(svg)
        assert {el.tag for el in root.iter()} <= {
            "svg", "title", "desc", "g", "rect", "text", "line", "path", "defs",
            "linearGradient", "stop",
        }  # fmt: skip
        assert max(len(el.text or "") for el in root.iter("title")) <= 2 * _svg.TOOLTIP_LIMIT
    heat = parse(drawn["heatmap"])
    cut = [t.split(" × ")[0] for t in titled(heat, "rect") if t.startswith("L" * 50)]
    assert cut and all(len(t) == _svg.TOOLTIP_LIMIT and t.endswith("…") for t in cut)


def test_the_report_draws_its_charts_without_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """With matplotlib impossible to import, the report still has its three charts, as inline
    SVG (crisp at any zoom, text searchable), and no embedded PNG."""
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises
    wide = token("wide", allow(["DNS Write"], {"com.cloudflare.api.account.zone.*": "*"}))
    page = run(good("narrow"), wide, good("old", issued=-400, last_used=None)).to_html()
    assert "charts not drawn" not in page
    for chart in ("chart-severity", "chart-age", "chart-heatmap"):
        assert page.count(f'<svg class="chart" id="{chart}" role="img"') == 1
    assert "<img" not in page and "data:image" not in page
    assert "matplotlib" not in sys.modules or sys.modules["matplotlib"] is None


def test_age_bands_are_cut_where_the_legend_says() -> None:
    """Age: under 30 days means < 30 (30 is "30–90 days"), 730 is "over 2 years"; last use:
    "in the last 7 days" means ≤ 7; no date is its own band."""
    tokens = pd.DataFrame(
        {
            "age_days": [0.0, 29.9, 30.0, 89.9, 90.0, 364.0, 365.0, 729.9, 730.0, None, -2.0],
            "days_since_used": [7.0, 7.1, 30.0, 30.1, 90.0, 90.5, None, 0.0, 1e6, 3.0, None],
        }
    )
    table = age_use_table(SimpleNamespace(tokens=tokens))  # type: ignore[arg-type]
    assert table.index.name == "age" and table.columns.name == "last use"
    cells = {(r, c): int(table.loc[r, c]) for r in table.index for c in table.columns}
    expected = {
        ("under 30 days", "used in the last 7 days"): 1,
        ("under 30 days", "used 8–30 days ago"): 1,
        ("30–90 days", "used 8–30 days ago"): 1,
        ("30–90 days", "used 31–90 days ago"): 1,
        ("3–12 months", "used 31–90 days ago"): 1,
        ("3–12 months", "used over 90 days ago"): 1,
        ("1–2 years", "never used"): 1,
        ("1–2 years", "used in the last 7 days"): 1,
        ("over 2 years", "used over 90 days ago"): 1,
        ("issue date unknown", "used in the last 7 days"): 1,
        ("under 30 days", "never used"): 1,  # issued in the future (-2 days)
    }
    assert {k: v for k, v in cells.items() if v} == expected
    assert int(table.to_numpy().sum()) == len(tokens)


@pytest.mark.slow  # a fresh interpreter: what `cftokens audit --output report.html` loads
def test_importing_and_writing_the_report_loads_no_matplotlib() -> None:
    """``import cftokens.audit.report_html`` and a whole report load no matplotlib module."""
    import subprocess

    code = (
        "import sys\n"
        "import cftokens.audit.report_html\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] == 'matplotlib']\n"
        "from cftokens.audit import Audit\n"
        "from cftokens.audit.synth import synthetic_inventory\n"
        "page = Audit.from_records(**synthetic_inventory(30)).to_html()\n"
        "print(loaded, [m for m in sys.modules if m.split('.')[0] == 'matplotlib'],"
        " page.count('<svg class=\"chart\"'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stdout.split() == ["[]", "[]", "3"], done.stdout + done.stderr


def test_a_colour_that_is_not_hex_is_refused() -> None:
    """Colours are the only attribute values a caller passes in: anything but ``#rrggbb`` (an
    attribute break-out, a CSS url(), a name) is refused with a message saying the form."""
    counts = pd.DataFrame([[1]], index=["PE"], columns=["critical"])
    for bad in ['#fff" onload="alert(1)', "url(http://evil.example/x)", "red", "#fff"]:
        with pytest.raises(InvalidInput, match="must be written #rrggbb"):
            _svg.severity_chart(counts, {"critical": bad})
    assert 'fill="#7f0000"' in _svg.severity_chart(counts, COLOURS)
