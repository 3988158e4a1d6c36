"""The HTML report leads: the incompleteness banner and "fix first" come first; families are
spelled out; repeated findings of a rule are one row with a count; the age chart is bands.
Two tests render it in headless Chromium (marked ``slow``: a browser start each); their
in-process twins check the same structure with ``html.parser`` in the inner loop."""

from __future__ import annotations

import html
import importlib.util
import re
import shutil
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import NOW, ZONE, Markup, allow, good, run, token, zone

from cftokens.audit import Audit
from cftokens.audit.report_html import (
    _cell,
    _grouped_rows,
    _sev,
    age_use_table,
    family_counts,
    fix_first,
)
from cftokens.audit.rules import RULE_FAMILIES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ROOT = Path(__file__).resolve().parents[2]


def _screenshots_module() -> Any:
    """scripts/screenshots.py: the headless-Chromium command the docs' screenshots use."""
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "scripts/screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCREENSHOTS = _screenshots_module()
VIEWPORT = (1280, 800)  # a laptop screen


@pytest.fixture(scope="module")
def demo(demo_audit: Audit) -> Audit:
    """The demo company audited as the README's main job does: usage, one planted gap."""
    return demo_audit


@pytest.fixture(scope="module")
def spied(demo: Audit) -> tuple[str, list[str], list[int]]:
    """The demo's report, rendered once for the module while counting what it asks the audit
    for: each ``Audit.fix`` (token ids) and each ``Audit.worst_tokens`` (its ``n``)."""
    asked: list[str] = []
    ranked: list[int] = []
    fix, worst_tokens = Audit.fix, Audit.worst_tokens

    def counted_fix(self: Audit, token_id: str, rule: str | None = None) -> Any:
        asked.append(token_id)
        return fix(self, token_id, rule)

    def counted_ranking(self: Audit, n: int = 5) -> Any:
        ranked.append(n)
        return worst_tokens(self, n)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Audit, "fix", counted_fix)
        patch.setattr(Audit, "worst_tokens", counted_ranking)
        page = demo.to_html()
    return page, asked, ranked


@pytest.fixture(scope="module")
def page(spied: tuple[str, list[str], list[int]]) -> str:
    return spied[0]


def test_banner_and_fix_first_lead_the_report(demo: Audit, page: str) -> None:
    """The banner (what was not seen, the permission that sees it) and "fix first" come
    before the charts and the tables; the gap is no longer only a grey count."""
    banner = page.index("id='incomplete'")
    first = page.index("id='fix-first'")
    assert banner < first < page.index("<svg") < page.index("<h2>Tokens</h2>")
    block = page[banner : page.index("</div>", banner)]
    assert "account-owned tokens of Acme Web" in block
    assert "Account API Tokens Read" in block
    assert "gap(s)" not in page


def test_no_banner_when_the_audit_is_complete() -> None:
    """A complete audit (usage given, nothing refused) has no banner; without usage, the
    banner names the usage rules left out and the permission Audit Logs v2 needs."""
    usage = [{"time": NOW, "token_id": "x", "method": "GET", "path": "/user", "status": 200}]
    complete = run(good(), usage=usage)
    assert complete.gaps.empty
    assert "id='incomplete'" not in complete.to_html()
    text = run(good()).to_html()
    banner = text[
        text.index("id='incomplete'") : text.index("</div>", text.index("id='incomplete'"))
    ]
    assert "usage rule(s) not evaluated" in banner and "Account Settings Read" in banner


def test_fix_first_ranks_by_risk_removed_with_one_line_fixes(demo: Audit, page: str) -> None:
    """The few tokens whose fixes remove the most risk, each with its fix on one line; the
    high-severity Global API Key finding is there too, not only at the bottom."""
    entries = fix_first(demo)
    assert 1 <= len(entries) <= 5
    removed = [e.removed for e in entries]
    assert removed == sorted(removed, reverse=True) and removed[0] > 0
    assert entries[0].name == "dana-full-access-2023"
    assert all(e.risk_after < e.risk_before for e in entries)
    section = page[page.index("id='fix-first'") : page.index("</section>")]
    for e in entries:
        assert e.name in section and e.fix.headline in section
        assert "\n" not in e.fix.headline
    assert "Global API Key" in section


def test_families_spelled_out_and_empty_ones_dropped(demo: Audit, page: str) -> None:
    """Legends and headings name families in words; families and severities without open
    findings have no bar."""
    counts = family_counts(demo)
    assert "privilege escalation (PE)" in counts.index
    assert (counts.sum(axis=1) > 0).all() and (counts.sum(axis=0) > 0).all()
    assert "SUP" not in " ".join(counts.index)  # no suppression in the demo
    for code, name in RULE_FAMILIES.items():
        assert f"<strong>{code}</strong> {name}" in page


def test_age_and_last_use_are_bands_with_a_legend(demo: Audit) -> None:
    """The scatter is replaced by counts per age band and last-use band (no empty band)."""
    table = age_use_table(demo)
    assert int(table.to_numpy().sum()) == len(demo.tokens)
    assert "never used" in table.columns
    assert (table.sum(axis=1) > 0).all() and (table.sum(axis=0) > 0).all()


def test_repeated_findings_of_a_rule_are_one_row_with_a_count() -> None:
    """Six RK-01 findings on one token are one row marked ×6, the others folded away."""
    groups = ["DNS Write", "Zone Write", "Zone Settings Write", "SSL and Certificates Write"]
    wide = token("wide", allow(groups, {"com.cloudflare.api.account.zone.*": "*"}), ip_in=[])
    audit = run(wide, good())
    f = audit.findings
    per_rule = f[f["token_id"] == wide["id"]]["rule_id"].value_counts()
    rule, count = str(per_rule.index[0]), int(per_rule.iloc[0])
    assert count > 1
    text = audit.to_html()
    card = text[text.index(f"id='t-{wide['id']}'") :]
    card = card[: card.index("</table>")]
    assert card.count(f"<code>{rule}</code>") == 1
    assert f"×{count}" in card and f"and {count - 1} more" in card


def test_fix_in_a_card_is_numbered_steps_with_the_request_folded(demo: Audit, page: str) -> None:
    """Each card shows the fix as numbered steps; the PUT body is in a closed <details>."""
    t = demo.tokens
    tid = str(t.loc[t["name"] == "terraform-cloud", "token_id"].item())
    card = page[page.index(f"id='t-{tid}'") :]
    card = card[: card.index("<div class='card'", 10)]
    fix = demo.fix(tid)
    assert "<ol class='steps'>" in card
    assert card.count("<li>") >= len(fix.steps)
    assert "<details><summary>the request: PUT" in card
    assert '"policies": []' not in page


def _selectors_with(page: str, declaration: str) -> list[list[str]]:
    """The (descendant, tag-only) selectors of the page's stylesheet whose rule holds
    ``declaration``, each as its list of tags."""
    css = page[page.index("<style>") : page.index("</style>")]
    found = []
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", css.removeprefix("<style>")):
        if declaration in body.replace(" ", ""):
            found += [sel.split() for sel in selectors.split(",")]
    return found


def _inside(chain: tuple[str, ...], selector: list[str]) -> bool:
    """Whether an element of ``chain`` (outermost first) matches the descendant ``selector``."""
    for i, tag in enumerate(chain):
        if tag == selector[-1]:
            ancestors = iter(chain[:i])
            if all(any(t == want for t in ancestors) for want in selector[:-1]):
                return True
    return False


def test_a_long_unbroken_name_is_only_where_the_report_wraps_it() -> None:
    """The in-process twin of the Chromium test below: each text holding a name of 120
    characters without a space (in the tokens table, the fix-first list, a card's title, its
    request) is inside an element the stylesheet wraps anywhere, or a <pre> that scrolls on
    its own, so no table cell is stretched past the window; in a chart (an SVG label or
    tooltip) it is drawn at fixed coordinates in a picture the stylesheet scales down to the
    page's width."""
    wide = token("y" * 120, allow(["DNS Write"], {"com.cloudflare.api.account.zone.*": "*"}))
    page = run(good("x" * 120), wide).to_html()
    wrapping = _selectors_with(page, "overflow-wrap:anywhere")
    scrolling = _selectors_with(page, "overflow-x:auto")
    assert wrapping and ["pre"] in scrolling
    assert ["svg.chart"] in _selectors_with(page, "max-width:100%")
    for needle in ("x" * 120, "y" * 120):
        places = [around for data, around in Markup(page).texts if needle in data]
        assert len(places) >= (1 if needle[0] == "x" else 4), places
        for chain in places:
            if "svg" in chain:
                continue
            assert any(_inside(chain, sel) for sel in wrapping + scrolling), chain


def _in_browser(html_path: Path, tmp_path: Path) -> dict[str, Any]:
    """Render ``html_path`` in headless Chromium at VIEWPORT; return the positions of the
    banner and the first fix, measured by a script added to a copy of the page."""
    probe = """<script>
addEventListener('load', () => {
  const box = (el) => { if (!el) return null; const r = el.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, height: r.height}; };
  const out = {
    viewport: innerHeight, width: innerWidth,
    page: document.documentElement.scrollHeight,
    scroll_width: document.documentElement.scrollWidth,
    banner: box(document.getElementById('incomplete')),
    first_fix: box(document.querySelector('#fix-first li')),
  };
  const pre = document.createElement('pre'); pre.id = 'probe';
  pre.textContent = 'PROBE' + JSON.stringify(out) + 'PROBE';
  document.body.appendChild(pre);
});
</script>"""
    copy = tmp_path / "probe.html"
    copy.write_text(
        html_path.read_text(encoding="utf-8").replace("</body>", probe + "</body>"),
        encoding="utf-8",
    )
    assert CHROMIUM is not None
    result: dict[str, Any] = SCREENSHOTS.probe(CHROMIUM, copy, VIEWPORT, tmp_path / "profile")
    return result


@pytest.mark.slow  # a browser start; its in-process twin: test_banner_and_fix_first_lead...
@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install -y chromium); .ci/run installs it",
)
def test_banner_and_first_fix_are_in_the_first_viewport_in_chromium(
    demo: Audit, tmp_path: Path
) -> None:
    """Rendered headless in a 1280×800 window, the banner and the first "fix first" entry are
    wholly on the first screen; the offline page loads."""
    report = demo.to_html(tmp_path / "audit-report.html")
    assert "src='http" not in report
    seen = _in_browser(tmp_path / "audit-report.html", tmp_path)
    # the page's own viewport (the window less what the browser keeps for itself)
    assert 600 <= seen["viewport"] <= VIEWPORT[1] and seen["width"] <= VIEWPORT[0]
    assert seen["banner"] is not None and seen["first_fix"] is not None
    assert 0 <= seen["banner"]["top"] < seen["banner"]["bottom"] <= seen["viewport"]
    assert seen["banner"]["bottom"] <= seen["first_fix"]["top"]
    assert seen["first_fix"]["bottom"] <= seen["viewport"]
    assert seen["page"] > seen["viewport"]  # the rest follows below


@pytest.mark.slow  # a browser start; its in-process twin: ..._only_where_the_report_wraps_it
@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install -y chromium); .ci/run installs it",
)
def test_a_long_unbroken_name_does_not_widen_the_page(tmp_path: Path) -> None:
    """A 120-character name without spaces (token names are anyone's) stretched the tokens
    table past the window: the whole report scrolled sideways."""
    audit = run(good("x" * 120), good("\U0001f600" * 60), good("a-" * 60))
    audit.to_html(tmp_path / "report.html")
    seen = _in_browser(tmp_path / "report.html", tmp_path)
    assert seen["scroll_width"] <= seen["width"], seen


def test_single_zone_audit_still_renders(tmp_path: Path) -> None:
    """A tiny inventory (one family, one age band) renders without empty charts or errors."""
    audit = run(token("t", allow(["DNS Write"], zone(ZONE)), ip_in=[]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        text = audit.to_html(tmp_path / "r.html")
    assert "charts not drawn" not in text and "id='fix-first'" in text


def test_each_tokens_fix_is_worked_out_once_per_report(
    spied: tuple[str, list[str], list[int]],
) -> None:
    """The "fix first" list and the token cards show the same fixes: the report asks the audit
    for each token's fix once (a fix right-sizes the token to its usage: most of the report's
    time), and both places show it."""
    page, asked, _ = spied
    assert asked and len(asked) == len(set(asked))
    first = page[page.index("id='fix-first'") :]
    cards = [tid for tid in set(asked) if f"id='t-{tid}'" in page]
    assert cards and any(tid in first[: first.index("</div>")] for tid in cards)


def _reference_rows(mine: Any) -> list[str]:
    """The token cards' rows as the report first built them (pandas groupby, a row lookup per
    field): the reference the list-based rows are checked against."""
    rows_out = []
    for (rule, suppressed), rows in mine.groupby(
        ["rule_id", "suppressed"], sort=False, observed=True
    ):
        first = rows.iloc[0]
        count = len(rows)
        cls = " class='supp'" if bool(suppressed) else ""
        note = f"<br><em>suppressed: {_cell(first['suppression'])}</em>" if bool(suppressed) else ""
        evidence = _cell(first["evidence"])
        if count > 1:
            more = "".join(f"<li>{_cell(e)}</li>" for e in rows["evidence"].iloc[1:])
            evidence += f"<details><summary>and {count - 1} more</summary><ul>{more}</ul></details>"
        badge = f"<span class='count'>×{count}</span>" if count > 1 else ""
        rows_out.append(
            f"<tr{cls}><td>{_sev(first['severity'])}</td><td><code>{html.escape(str(rule))}</code>"
            f"{badge}<br>{_cell(first['title'])}</td><td>{evidence}{note}</td>"
            f"<td>{_cell(first['remediation'])}</td></tr>"
        )
    return rows_out


def test_card_rows_agree_with_the_groupby_reference(demo: Audit) -> None:
    """Each token card's rows (one per rule and suppression state, counted, hostile
    suppression texts escaped), the rows of findings tied to no token, and rows whose
    suppression state is missing (left out, as groupby leaves them) read as the reference."""
    rules = list(dict.fromkeys(demo.findings["rule_id"].astype(str)))[:4]
    until = (demo.now + timedelta(days=30)).isoformat()
    reason = "accepted <b>risk</b> & \x1b[2K"
    suppressions = [
        {"rule": rule, "owner": "sec <team>", "reason": reason, "expires": until} for rule in rules
    ]
    audit = demo.rerun(suppressions=suppressions)
    findings = audit.findings
    assert findings["suppressed"].astype(bool).any()
    cards = 0
    for token_id in audit.tokens["token_id"].astype(str):
        mine = findings.iloc[audit._finding_positions(token_id)]
        if len(mine):
            assert list(_grouped_rows(mine)) == _reference_rows(mine), token_id
            cards += 1
    assert cards > 30
    assert list(_grouped_rows(findings)) == _reference_rows(findings)
    holes = findings.copy()
    holes.loc[holes.index[:3], "suppressed"] = None
    assert list(_grouped_rows(holes)) == _reference_rows(holes)


def _reference_family_counts(audit: Audit) -> Any:
    """The open findings by family and severity as first counted: a mask per family and
    severity over the open findings' frame."""
    import pandas as pd

    from cftokens.audit.report_html import family_label
    from cftokens.audit.severity import SEVERITY_ORDER

    f = audit.findings[~audit.findings["suppressed"].astype(bool)]
    families = [fam for fam in RULE_FAMILIES if int((f["family"] == fam).sum())]
    severities = [sev for sev in reversed(SEVERITY_ORDER) if int((f["severity"] == sev).sum())]
    return pd.DataFrame(
        [
            [int(((f["family"] == fam) & (f["severity"] == sev)).sum()) for sev in severities]
            for fam in families
        ],
        index=pd.Index([family_label(fam) for fam in families], name="rule family"),
        columns=pd.Index(severities, name="severity"),
    )


def test_family_counts_agree_with_the_mask_reference(demo: Audit) -> None:
    """The chart's counts, read in one pass over the open findings, are the masks' counts:
    with suppressed findings, without any open one, and on a report without findings."""
    import pandas as pd

    risky = [
        token("wide", allow(["DNS Write", "Zone Read"], {"com.cloudflare.api.account.zone.*": "*"}),
              ip_in=[], expires=None),
        token("old", allow(["Zone Read"], zone(ZONE)), issued=-900, last_used=-400),
    ]  # fmt: skip
    rules = list(dict.fromkeys(run(*risky).findings["rule_id"].astype(str)))
    until = (NOW + timedelta(days=30)).isoformat()
    some = [{"rule": r, "owner": "o", "reason": "r", "expires": until} for r in rules[:2]]
    every = [{"rule": r, "owner": "o", "reason": "r", "expires": until} for r in rules]
    audits = [demo, run(*risky, suppressions=some), run(*risky, suppressions=every), run()]
    for audit in audits:
        got, expected = family_counts(audit), _reference_family_counts(audit)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert [int(family_counts(a).to_numpy().sum()) > 0 for a in audits] == [1, 1, 0, 0]


def test_the_report_ranks_the_tokens_once(
    demo: Audit, spied: tuple[str, list[str], list[int]]
) -> None:
    """The token table, "fix first" and the cards read one ranking of the tokens
    (worst_tokens sorts every token: it was worked out twice a report)."""
    page, _, ranked = spied
    assert ranked == [len(demo.tokens)]
    assert "id='fix-first'" in page
