"""The audit rules run on the advice itself: no PE, LC-01 or NW-01 unless the caller chose so,
and then the advice says why."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from advisor_helpers import EXAMPLE_COM, NOW, PROD, USER

import cftokens as cft
from cftokens.advisor import least_privilege

PUBLIC_RANGE = ["52.1.2.0/24"]  # not documentation space, so NW-03 stays quiet
GUARDED = ("CFT-PE-", "CFT-LC-01", "CFT-NW-01")

INTENT_SETS = [
    ["GET /zones/{zone_id}/dns_records", "POST /zones/{zone_id}/dns_records"],
    ["GET /zones/{zone_id}/logpush/jobs", "PUT /zones/{zone_id}/settings/{setting_id}"],
    ["GET /accounts/{account_id}/workers/scripts", "GET /zones/{zone_id}/analytics/dashboard"],
    ["GET /user", "GET /zones/{zone_id}/firewall/rules", "POST /zones/{zone_id}/purge_cache"],
]


def guarded(findings: pd.DataFrame) -> list[str]:
    return [r for r in findings["rule_id"] if str(r).startswith(GUARDED)]


@pytest.mark.parametrize("intents", INTENT_SETS)
def test_advised_tokens_trip_no_guarded_rule(intents: list[str]) -> None:
    """With an allowlist and the default lifetime, the advised token raises no PE, LC-01 or
    NW-01 finding, nor any other finding without an explaining note."""
    advice = least_privilege(
        intents, zone=EXAMPLE_COM, account=PROD, user=USER, allow_ips=PUBLIC_RANGE, now=NOW
    )
    findings = advice.findings
    assert guarded(findings) == []
    assert findings["why"].notna().all(), findings[["rule_id", "why"]]


@pytest.mark.parametrize("intents", INTENT_SETS)
def test_caller_choices_are_explained(intents: list[str]) -> None:
    """Leaving out the allowlist and the expiry trips NW-01 and LC-01, and each finding has the
    note that explains it."""
    advice = least_privilege(intents, zone=EXAMPLE_COM, account=PROD, user=USER, ttl=None)
    findings = advice.findings
    rules = set(findings["rule_id"])
    assert {"CFT-NW-01", "CFT-LC-01"} <= rules
    assert findings["why"].notna().all(), findings[["rule_id", "why"]]
    why = dict(zip(findings["rule_id"], findings["why"], strict=False))
    assert "allow_ips was not given" in why["CFT-NW-01"]
    assert "ttl=None" in why["CFT-LC-01"]


def test_minting_intents_explain_every_escalation_finding() -> None:
    """A token that must mint tokens trips PE rules (the intents demand it); every PE and RK
    finding names the intent that forced it, and with an allowlist and the 30-day default
    PE-03 does not fire."""
    alone = least_privilege(["POST /user/tokens"], user=USER, allow_ips=PUBLIC_RANGE, now=NOW)
    findings = alone.findings
    assert "CFT-PE-01" in set(findings["rule_id"])
    assert "CFT-PE-03" not in set(findings["rule_id"])
    assert alone.spec.expires_on == NOW + timedelta(days=30)
    assert findings["why"].notna().all()
    assert all("POST /user/tokens" in w for w in findings["why"])
    mixed = least_privilege(
        ["POST /user/tokens", "GET /zones/{zone_id}/dns_records"],
        zone=EXAMPLE_COM,
        user=USER,
        allow_ips=PUBLIC_RANGE,
        now=NOW,
    )
    mixed_findings = mixed.findings
    assert "CFT-PE-03" in set(mixed_findings["rule_id"])
    pe03 = mixed_findings[mixed_findings["rule_id"] == "CFT-PE-03"]["why"].iloc[0]
    assert "token of its own" in pe03
    assert "lifetime is cut" not in pe03  # the 30-day cut is why PE-03 does *not* fire on it


def test_pe03_why_names_each_reason_it_trips() -> None:
    """A minting token without an allowlist that also holds other groups trips PE-03 for both
    reasons, and its why names both (not the note about the 30-day lifetime)."""
    advice = least_privilege(
        ["POST /user/tokens", "GET /zones/{zone_id}/dns_records"],
        zone=EXAMPLE_COM,
        user=USER,
        now=NOW,
    )
    findings = advice.findings
    why = findings[findings["rule_id"] == "CFT-PE-03"]["why"].iloc[0]
    assert "no IP allowlist" in why and "token of its own" in why
    assert "lifetime is cut" not in why


def test_ip_condition_findings_say_it_is_the_callers_choice() -> None:
    """An allowlist in documentation space trips NW-03; its why says the condition is the
    caller's allow_ips, kept as given."""
    advice = least_privilege(
        ["GET /zones/{zone_id}/dns_records"],
        zone=EXAMPLE_COM,
        allow_ips="198.51.100.0/24",
        now=NOW,
    )
    assert advice.spec.allow_ips == ("198.51.100.0/24",)
    findings = advice.findings
    why = findings[findings["rule_id"] == "CFT-NW-03"]["why"].iloc[0]
    assert "allow_ips=['198.51.100.0/24']" in why


def test_account_owned_advice_is_audited_as_account_owned(directory: cft.Directory) -> None:
    """An account-owned advice is audited as an account token of its account."""
    advice = least_privilege(
        ["GET /zones/{zone_id}/dns_records"],
        zone="example.com",
        owner="account",
        directory=directory,
        allow_ips=PUBLIC_RANGE,
        now=NOW,
    )
    tokens = advice.audit().tokens
    assert list(tokens["kind"]) == ["account"]
    assert guarded(advice.findings) == []
