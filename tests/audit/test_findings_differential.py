"""The findings frame of a generated inventory, pinned: every column of every finding (ids,
severities, texts, resources, suppression marks) and each finding's fix, as the per-finding
implementation produced them before the rules and the frame became columnar.

The fixture (``data/findings_synth.json.gz``) was written by ``_snapshot`` below from the
per-finding code; regenerate it only for an intended change of the audit's output
(``python tests/audit/test_findings_differential.py``), and say so in the commit.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cftokens.audit import Audit
from cftokens.audit.severity import SEVERITY_ORDER
from cftokens.audit.synth import synthetic_inventory

FIXTURE = Path(__file__).parent / "data" / "findings_synth.json.gz"
N_TOKENS = 1500


def _audit(profile: str) -> Audit:
    inventory = synthetic_inventory(N_TOKENS, n_zones=300, seed=11)
    now = inventory["now"]
    suppressions = [
        # active: marks every RK-04 finding on tokens whose name matches
        {
            "rule": "CFT-RK-04",
            "match": {"token_name": ["token-a*", "token-?0*"]},
            "reason": "reviewed",
            "owner": "sec",
            "expires": (now + timedelta(days=30)).isoformat(),
        },
        # active: one owner's LC findings
        {
            "rule": "CFT-LC-*",
            "match": {"owner": [inventory["user"]["id"]]},
            "reason": "user tokens rotate by hand",
            "owner": "ops",
            "expires": (now + timedelta(days=10)).isoformat(),
        },
        # lapsed: an info finding of its own
        {
            "rule": "CFT-NW-01",
            "reason": "old exception",
            "owner": "ops",
            "expires": (now - timedelta(days=3)).isoformat(),
        },
    ]
    return Audit.from_records(**inventory, profile=profile, suppressions=suppressions)


def _snapshot(audit: Audit) -> dict[str, Any]:
    frame = audit.findings
    columns = {
        name: [None if v is None or v is na else str(v) for v in values]
        for name, values, na in (
            (c, frame[c].astype(object).tolist(), frame[c].dtype.na_value) for c in frame.columns
        )
    }
    return {
        "dtypes": {c: str(t) for c, t in frame.dtypes.items()},
        "columns": columns,
        "fixes": [repr(f) for f in audit._fixes],
    }


def _current() -> dict[str, Any]:
    return {profile: _snapshot(_audit(profile)) for profile in ("baseline", "strict")}


@pytest.fixture(scope="module")
def audit_of() -> Callable[[str], Audit]:
    """The synthetic inventory's audit under a profile, made once for the module's tests
    (they only read it)."""
    return functools.cache(_audit)


@pytest.fixture(scope="module")
def pinned() -> dict[str, Any]:
    """The pinned findings of both profiles, read once for the module's tests."""
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    return loaded


@pytest.mark.parametrize("profile", ["baseline", "strict"])
def test_findings_frame_matches_the_per_finding_reference(
    audit_of: Callable[[str], Audit], pinned: dict[str, Any], profile: str
) -> None:
    expected = pinned[profile]
    got = _snapshot(audit_of(profile))
    assert got["dtypes"] == expected["dtypes"]
    assert list(got["columns"]) == list(expected["columns"])
    n = len(expected["fixes"])
    assert n > 5000  # the inventory exercises every high-volume rule
    for name, values in expected["columns"].items():
        actual = got["columns"][name]
        assert len(actual) == n, name
        bad = [i for i in range(n) if actual[i] != values[i]]
        assert not bad, (
            f"{name}: {len(bad)} rows differ, first {bad[0]}: {actual[bad[0]]!r} != {values[bad[0]]!r}"
        )
    assert got["fixes"] == expected["fixes"]


@pytest.mark.parametrize("profile", ["baseline", "strict"])
def test_tokens_count_their_open_findings(audit_of: Callable[[str], Audit], profile: str) -> None:
    """``n_findings`` and ``max_severity`` of each token: its unsuppressed findings, counted
    here the plain way (a loop over the findings)."""
    audit = audit_of(profile)
    counts: dict[str, int] = {}
    worst: dict[str, int] = {}
    order = list(SEVERITY_ORDER)
    for tid, suppressed, sev in zip(
        audit.findings["token_id"],
        audit.findings["suppressed"],
        audit.findings["severity"],
        strict=True,
    ):
        if suppressed or not isinstance(tid, str):
            continue
        counts[tid] = counts.get(tid, 0) + 1
        worst[tid] = max(worst.get(tid, -1), order.index(sev))
    tokens = audit.tokens
    assert sum(counts.values()) > 4000
    for tid, n, sev in zip(
        tokens["token_id"], tokens["n_findings"], tokens["max_severity"], strict=True
    ):
        assert n == counts.get(tid, 0), tid
        expected = worst.get(tid)
        assert (None if pd.isna(sev) else order.index(sev)) == expected, tid


def test_finding_ids_follow_their_definition() -> None:
    """Every finding id is the first 8 bytes of BLAKE2b over ``rule|token|policy|group
    id|resource key|`` (the evidence last when the finding names no token), recomputed here
    finding by finding, unreadable tokens (with and without an id) and suppressions
    included."""
    inventory = synthetic_inventory(300, n_zones=60, seed=5)
    inventory["tokens"] = [
        *inventory["tokens"],
        {"name": "no id", "policies": 5},
        {"id": "abc", "name": "bad", "policies": "x"},
    ]
    audit = Audit.from_records(**inventory)
    g = audit.grants
    keys = {
        (str(t), int(p), str(gid), str(r)): str(k)
        for t, p, gid, r, k in zip(
            g["token_id"],
            g["policy"],
            g["group_id"],
            g["resource"],
            g["resource_key"],
            strict=True,
        )
    }
    f = audit.findings
    assert f["token_id"].isna().any()
    rows = f[f["rule_id"] != "CFT-SUP-01"]
    checked = 0
    for rule, tid, pol, gid, resource, evidence, fid in zip(
        rows["rule_id"],
        rows["token_id"],
        rows["policy"],
        rows["group_id"],
        rows["resource"],
        rows["evidence"],
        rows["finding_id"],
        strict=True,
    ):
        token = None if pd.isna(tid) else str(tid)
        p = 0 if pd.isna(pol) else int(pol)
        group = None if pd.isna(gid) else str(gid)
        key = "" if pd.isna(resource) else keys[(str(token), p, str(group), str(resource))]
        text = f"{rule}|{token}|{p}|{group}|{key}|{evidence if token is None else ''}"
        assert fid == hashlib.blake2b(text.encode(), digest_size=8).hexdigest(), text
        checked += 1
    assert checked > 300


if __name__ == "__main__":
    with gzip.open(FIXTURE, "wt", encoding="utf-8", compresslevel=9) as fh:
        json.dump(_current(), fh, separators=(",", ":"))
    print(FIXTURE, FIXTURE.stat().st_size)
