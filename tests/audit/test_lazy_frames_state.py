"""The frames an audit builds when first read are those of the audit as it was made: the
suppressions, clock and profile it was given, whatever its public attributes hold by the
time a frame is read (the same frames in every order of reading and changing)."""

from __future__ import annotations

from datetime import timedelta

from audit_helpers import ACCOUNTS, ALL_ZONES, NOW, ZONES, allow, token

from cftokens.audit import Audit
from cftokens.audit.profiles import Profile

TOKENS = [
    token("wide", allow(["DNS Write", "Zone Write"], ALL_ZONES), ip_in=None, expires=None),
    token("soon", allow(["DNS Write"], ALL_ZONES), expires=3),
]
SUPPRESSIONS = [
    {
        "rule": "CFT-SC-*",
        "reason": "reviewed",
        "owner": "sec",
        "expires": (NOW + timedelta(days=3)).isoformat(),
    },
]


def made() -> Audit:
    return Audit.from_records(
        tokens=TOKENS, accounts=ACCOUNTS, zones=ZONES, now=NOW, suppressions=SUPPRESSIONS
    )


def test_findings_are_those_of_the_audit_as_made_not_as_changed_since() -> None:
    expected = made()
    wanted = expected.findings
    assert wanted["suppressed"].any()  # the suppression applies at NOW
    audit = made()
    # changed before any frame was read: the suppressions emptied, the clock moved past the
    # suppression's expiry, another profile
    audit.suppressions.clear()
    audit.now = NOW + timedelta(days=30)
    audit.profile = Profile.named("strict")
    got = audit.findings
    for column in ("finding_id", "rule_id", "severity", "detail", "suppressed", "suppression"):
        assert got[column].tolist() == wanted[column].tolist(), column
    assert audit.summary() == expected.summary()
