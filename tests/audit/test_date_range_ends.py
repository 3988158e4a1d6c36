"""Dates at the two ends of the nanosecond range (the audit reads 0001-01-01 as 1677-09-22 and
9999-12-31 as 2262-04-11) are judged as the dates read, not wrapped around.

numpy 2.4 wraps silently where a conversion or a difference overflows 64 bits of nanoseconds
(the earliest day turned into the latest; a lifetime of 584 years came out negative, so
CFT-LC-02 said nothing); numpy 2.5 raises OverflowError there instead, failing the audit."""

from __future__ import annotations

import numpy as np
from audit_helpers import NOW

from cftokens import Audit
from cftokens.audit.rules.base import day_numbers


def test_each_timestamp_is_keyed_by_the_day_it_prints() -> None:
    stamps = np.array(
        [
            "1677-09-22T00:00:00",
            "1677-09-22T00:12:44",
            "1677-09-21T00:12:43.145224193",  # the earliest nanosecond timestamp
            "1970-01-01T00:00:00",
            "1969-12-31T23:59:59.999999999",
            "2026-12-08T02:00:00",
            "2262-04-11T23:47:16.854775807",  # the latest
            "NaT",
        ],
        dtype="datetime64[ns]",
    )
    days = day_numbers(stamps)
    printed = [str(s)[:10] for s in stamps]
    for i in range(len(stamps)):
        for j in range(len(stamps)):
            assert (days[i] == days[j]) == (printed[i] == printed[j]), (printed[i], printed[j])
    assert days.dtype == np.int64
    assert list(days[3:5]) == [0, -1]


def test_a_lifetime_from_the_earliest_to_the_latest_date_is_too_long() -> None:
    token = {
        "id": "e1" * 16,
        "name": "ancient",
        "status": "active",
        "issued_on": "0001-01-01T00:00:00Z",
        "expires_on": "9999-12-31T23:59:59Z",
        "policies": [],
    }
    findings = Audit.from_records(tokens=[token], now=NOW).findings
    lc_02 = findings[findings["rule_id"] == "CFT-LC-02"]
    assert len(lc_02) == 1
    evidence = lc_02["evidence"].iloc[0]  # "valid for N days (1677-09-22 to 2262-04-…)"
    days = int(evidence.split("valid for ")[1].split(" days")[0])
    assert days > 584 * 365
    assert "(1677-09-22 to 2262-04-" in evidence
