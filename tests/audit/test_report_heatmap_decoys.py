"""The HTML report's access heatmap against a decoy flood: it drew the 40 tokens with the most
permission groups, so 40 harmless tokens holding many groups pushed a token with a critical
finding (and the zone it reaches) off the chart. Rows are now chosen by the worst open
finding, then risk, then groups: every token with a critical finding is drawn (up to a
bound), each with a column of its own, and the note says how many were left out and why."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from audit_helpers import ACCOUNTS, ACCT, NOW, USER, USER_RES, allow, token, zone

import cftokens.catalog as catalog
from cftokens.audit import Audit
from cftokens.audit import report_html as report
from cftokens.audit.report_html import HEATMAP_CRITICAL_LIMIT, HEATMAP_LIMIT, charts

#: Many read groups on zones: the decoys hold them all, which raises no critical finding.
READS = sorted(
    g.name for g in catalog.permission_groups if g.scope.label == "zone" and g.level.value == "read"
)[:20]


def zone_dict(i: int, name: str) -> dict[str, Any]:
    return {"id": f"{i:032x}", "name": name, "account": {"id": ACCT, "name": "Acme Production"}}


def flooded(decoys: int, dangerous: int = 1) -> Audit:
    """``decoys`` tokens with 20 read groups on each of 45 busy zones, and ``dangerous``
    tokens that can mint tokens (API Tokens Write: a critical finding) and read DNS on a
    quiet zone of their own, which no decoy reaches."""
    busy = [zone_dict(0x100 + i, f"busy-{i:02d}.example") for i in range(45)]
    quiet = [zone_dict(0x900 + i, f"quiet-{i:03d}.example") for i in range(dangerous)]
    tokens = [
        token(
            f"decoy-{i:03d}",
            allow(READS, *(zone(z["id"]) for z in busy)),
            token_id=f"{0xD000 + i:032x}",
        )
        for i in range(decoys)
    ]
    tokens += [
        token(
            f"minter-{i:03d}",
            allow(["API Tokens Write"], USER_RES),
            allow(["DNS Read"], zone(q["id"])),
            token_id=f"{0xA000 + i:032x}",
        )
        for i, q in enumerate(quiet)
    ]
    return Audit.from_records(
        tokens=tokens,
        accounts=ACCOUNTS,
        zones=busy + quiet,
        user={"id": USER, "email": "owner@example.com"},
        now=NOW,
    )


def heatmap_rows(drawn: dict[str, str]) -> list[str]:
    """The heatmap's row labels, top to bottom (the tooltips of its cells start with them)."""
    root = ET.fromstring(drawn["heatmap"])
    names: dict[str, None] = {}
    for rect in root.iter("rect"):
        title = rect.find("title")
        if title is not None and title.text and " × " in title.text:
            names[title.text.split(" × ")[0]] = None
    return list(names)


def test_a_decoy_flood_cannot_push_a_critical_token_off_the_heatmap() -> None:
    audit = flooded(decoys=60)
    assert (audit.tokens.set_index("name")["max_severity"] == "critical").sum() == 1
    drawn = charts(audit)
    rows = heatmap_rows(drawn)
    assert rows[0] == "minter-000"  # drawn first, with its quiet zone as a column
    assert len(rows) == HEATMAP_LIMIT
    assert "quiet-000.example" in drawn["heatmap"]
    note = drawn["heatmap_note"]
    assert f"{HEATMAP_LIMIT} of the 61 tokens with zone access drawn" in note
    assert "every token with a critical finding" in note and "21 left out" in note
    page = audit.to_html()
    assert "21 left out" in page


def test_every_critical_token_is_drawn_up_to_the_bound_and_the_rest_is_counted() -> None:
    audit = flooded(decoys=10, dangerous=HEATMAP_CRITICAL_LIMIT + 5)
    drawn = charts(audit)
    rows = heatmap_rows(drawn)
    assert len(rows) == HEATMAP_CRITICAL_LIMIT
    assert all(r.startswith("minter-") for r in rows)  # each with a zone column of its own
    note = drawn["heatmap_note"]
    assert f"{HEATMAP_CRITICAL_LIMIT} of the 115 tokens with zone access drawn" in note
    assert "15 left out, 5 of them with a critical finding" in note


def test_without_a_flood_every_token_is_drawn_as_before() -> None:
    audit = flooded(decoys=20)
    drawn = charts(audit)
    assert len(heatmap_rows(drawn)) == 21
    assert "left out" not in drawn["heatmap_note"]
    # ranked worst first: the minter before any decoy
    positions, _ = report.heatmap_tokens(audit)
    assert audit.tokens["name"].iloc[int(positions[0])] == "minter-000"


@pytest.mark.parametrize("decoys", [0, 39, 41])
def test_the_row_choice_holds_around_the_limit(decoys: int) -> None:
    drawn = charts(flooded(decoys=decoys))
    rows = heatmap_rows(drawn)
    assert "minter-000" in rows
    assert len(rows) == min(decoys + 1, HEATMAP_LIMIT)
