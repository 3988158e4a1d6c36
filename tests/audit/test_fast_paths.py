"""The audit's fast paths against the plain computation they replace, on the audits most
likely to tell them apart: empty, one token, hostile texts (formula, bidi, NUL, non-ASCII
names; unreadable and duplicate tokens; findings on tokens named only by id), active and
lapsed suppressions, and a generated inventory."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from audit_helpers import ACCT as ACCT_ID
from audit_helpers import (
    ALL_ZONES,
    NOW,
    ZONE,
    account,
    allow,
    deny,
    good,
    run,
    token,
    zone,
    zones_of,
)

from cftokens.audit import Audit
from cftokens.audit._arrays import unique_ints
from cftokens.audit.frames import tokens_frame
from cftokens.audit.synth import synthetic_inventory

HOSTILE_NAMES = [
    '=HYPERLINK("http://x")',
    "\u202eevil\u202c",
    "trailing NUL\x00",
    "\x00",
    "",
    "née café ✓ 🚀",
    "a|b|c",
    "None",
    "tab\there\r\nnew line",
]


def _suppressions() -> list[dict[str, Any]]:
    return [
        {
            "rule": "CFT-RK-*",
            "match": {"token_name": ["*NUL*", "née*"]},
            "reason": "reviewed | with a pipe",
            "owner": "sec",
            "expires": (NOW + timedelta(days=30)).isoformat(),
        },
        {
            "rule": "CFT-NW-01",
            "reason": "old exception",
            "owner": "ops",
            "expires": (NOW - timedelta(days=3)).isoformat(),
        },
    ]


def _hostile() -> Audit:
    tokens = [
        token(
            name,
            allow(["DNS Write", "Zone Settings Write"], ALL_ZONES),
            allow(["Workers Scripts Write"], account(ACCT_ID)),
            deny(["DNS Write"], zone(ZONE)),
            ip_in=[] if i % 2 else ["10.0.0.0/8", "0.0.0.0/0"],
            expires=None if i % 3 else 400,
        )
        for i, name in enumerate(HOSTILE_NAMES)
    ]
    twin = good("twin")
    tokens += [
        {"id": twin["id"], "name": "unreadable, then readable", "policies": "x"},
        twin,
        {**twin, "name": "twin's duplicate"},  # the same id twice
        {"id": "abc", "name": "bad", "policies": "x"},  # unreadable, named by id
        {"name": "no id", "policies": 5},  # unreadable, no id
        {"id": twin["id"], "name": "unreadable twin", "policies": "x"},
        token("zones of", allow(["DNS Read"], zones_of(ACCT_ID)), ip_in=[]),
    ]
    return run(*tokens, suppressions=_suppressions())


def _generated() -> Audit:
    inventory = synthetic_inventory(400, n_zones=80, seed=3)
    now = inventory["now"]
    suppressions = [
        {
            "rule": "CFT-RK-04",
            "match": {"token_name": ["token-a*"]},
            "reason": "reviewed",
            "owner": "sec",
            "expires": (now + timedelta(days=30)).isoformat(),
        },
        {"rule": "CFT-NW-01", "reason": "old", "owner": "o", "expires": (now - timedelta(1))},
    ]
    return Audit.from_records(**inventory, suppressions=suppressions)


CASES = {
    "empty": lambda: run(),
    "one token": lambda: run(good()),
    "one risky token": lambda: run(token("wide", allow(["DNS Write"], ALL_ZONES), ip_in=[])),
    "hostile": _hostile,
    "generated": _generated,
}


@pytest.fixture(scope="module", params=list(CASES))
def audit(request: pytest.FixtureRequest) -> Audit:
    return CASES[request.param]()


def test_tokens_frame_from_positions_matches_the_lookup_by_id(audit: Audit) -> None:
    """The audit counts each token's open findings from the positions the findings frame
    returns; looking each finding's token up by ``token_id`` (as after ``scan_secrets``)
    gives the same frame."""
    pd.testing.assert_frame_equal(tokens_frame(audit), audit.tokens, check_exact=True)


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.intp, np.uint16])
def test_unique_ints_matches_numpy(dtype: Any) -> None:
    rng = np.random.default_rng(7)
    info = np.iinfo(dtype)
    for size in (0, 1, 2, 3, 50, 5000):
        for high in (2, 100, int(info.max)):
            values = rng.integers(max(info.min, -high), high, size=size, dtype=dtype, endpoint=True)
            got = unique_ints(values)
            expected = np.unique(values)
            assert got.dtype == expected.dtype
            assert np.array_equal(got, expected)
    assert np.array_equal(unique_ints([[3, 1], [3, 2]]), [1, 2, 3])  # any shape, flattened
