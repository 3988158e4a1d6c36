"""Each check of a suppressions file's entries (``parse_suppressions``), in the order it runs,
with the message it gives: what the file holds, each entry's keys, its rule (an id or a glob),
its reason and owner, its expiry (at most 180 days ahead) and its match. Pinned before the
parser's entry checks were split into named steps: the same input gives the same error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cftokens.audit.suppressions import Suppression, parse_suppressions
from cftokens.errors import InvalidInput

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
OK = {"rule": "CFT-NW-01", "reason": "r", "owner": "o", "expires": "2027-01-01"}
WHERE = "suppressions: entry 1"
MATCH_KEYS = "token_id, token_name, owner, account_id, zone_id, group"


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in OK.items() if k != key}


@pytest.mark.parametrize("data", [None, {"suppressions": None}, [], {"suppressions": []}])
def test_nothing_to_suppress(data: object) -> None:
    assert parse_suppressions(data, now=NOW) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            "CFT-NW-01",
            "suppressions: expected a list of suppression entries (or {suppressions: [...]}), "
            "got str",
        ),
        (
            3,
            "suppressions: expected a list of suppression entries (or {suppressions: [...]}), "
            "got int",
        ),
        ([["CFT-NW-01"]], f"{WHERE} must be a mapping with rule, reason, owner and expires"),
        (
            [{**OK, "note": 1}],
            f"{WHERE}: unknown key(s) note; allowed: rule, match, reason, owner, expires",
        ),
        (
            [without("rule")],
            f"{WHERE}: 'rule' is required (a rule id such as CFT-NW-01 or a glob such as "
            "CFT-NW-*; one entry per rule)",
        ),
        (
            [{**OK, "rule": 5}],
            f"{WHERE}: 'rule' must be one rule id as text (a rule id such as CFT-NW-01 or a glob "
            "such as CFT-NW-*; one entry per rule), got 5",
        ),
        (
            [{**OK, "rule": "CFT-NW-99"}],
            f"{WHERE}: unknown rule 'CFT-NW-99'; rules starting alike: CFT-NW-01, CFT-NW-02, "
            "CFT-NW-03",
        ),
        ([{**OK, "rule": "CFT-ZZ-*"}], f"{WHERE}: the glob 'CFT-ZZ-*' matches no rule id"),
        (
            [{**OK, "owner": " "}],
            f"{WHERE} (CFT-NW-01): 'owner' is required and must be non-empty text, got ' '",
        ),
        (
            [{**OK, "reason": 7}],
            f"{WHERE} (CFT-NW-01): 'reason' is required and must be non-empty text, got 7",
        ),
        (
            [without("expires")],
            f"{WHERE} (CFT-NW-01): 'expires' is required (a date at most 180 days ahead)",
        ),
        (
            [{**OK, "expires": "2028-01-01"}],
            f"{WHERE} (CFT-NW-01): expires 2028-01-01 is more than 180 days ahead; choose "
            "2027-05-01 or earlier and review it then",
        ),
        (
            [{**OK, "match": ["x"]}],
            f"{WHERE} (CFT-NW-01): 'match' must be a mapping of {MATCH_KEYS}",
        ),
        (
            [{**OK, "match": {"colour": "x"}}],
            f"{WHERE} (CFT-NW-01): unknown match key(s) colour; use {MATCH_KEYS}",
        ),
        (
            [{**OK, "match": {"token_id": []}}],
            f"{WHERE} (CFT-NW-01): match.token_id must be text or a non-empty list of text, "
            "got a list of 0 items",
        ),
        (
            [{**OK, "match": {"group": ["DNS Write", True]}}],
            f"{WHERE} (CFT-NW-01): match.group must be text or a non-empty list of text, got true",
        ),
    ],
)
def test_each_check_says_which_entry_and_what_to_change(data: object, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_suppressions(data, now=NOW)
    assert str(caught.value) == message


def test_a_valid_entry_is_read_as_written() -> None:
    entry = {**OK, "rule": " cft-nw-* ", "match": {"token_id": ["a", 5]}, "owner": " me "}
    second = {**OK, "match": None}
    got = parse_suppressions({"suppressions": [entry, second]}, now=NOW, source="file.yaml")
    assert [(s.rule, s.match, s.reason, s.owner, s.index) for s in got] == [
        ("CFT-NW-*", (("token_id", ("a", "5")),), "r", "me", 1),
        ("CFT-NW-01", (), "r", "o", 2),
    ]
    assert all(isinstance(s, Suppression) for s in got)
    assert got[0].expires == datetime(2027, 1, 1, tzinfo=UTC)
