"""The AuditExplorer shows names as the HTML report does: line and paragraph separators, other
invisible characters and a flood of combining marks as escapes, in its table, its token
picker and its detail."""

from __future__ import annotations

import re

import cftokens as cft
from cftokens._shown import INVISIBLES
from cftokens.widgets import AuditExplorer

INVISIBLE = re.compile(f"[{INVISIBLES}]")
MARK_FLOOD = re.compile("[\u0300-\u036f\u0489]{5,}")
ZALGO = "zalgo" + "\u0301\u0316\u0489" * 20


def test_separators_invisible_characters_and_marks_are_shown_as_escapes() -> None:
    from cftokens.audit.synth import synthetic_inventory

    inv = synthetic_inventory(10)
    names = ["ci\u2028deploy", "ci\u200bdeploy\ufeff", ZALGO]
    for token, name in zip(inv["tokens"], names, strict=False):
        token["name"] = name
    explorer = AuditExplorer(cft.Audit.from_records(**inv))
    labels = [label for label, _ in explorer.token.options]
    assert any("ci\\u2028deploy" in label for label in labels)
    assert any("ci\\u200bdeploy\\ufeff" in label for label in labels)
    assert any("zalgo\u0301\u0316\u0489\u0301\\u0316" in label for label in labels)
    for tid in (v for _, v in explorer.token.options if v is not None):
        explorer.token.value = tid
        for text in (explorer.table.value, explorer.detail.value, *labels):
            assert not INVISIBLE.search(text)
            assert not MARK_FLOOD.search(text)
