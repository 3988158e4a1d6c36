"""Every rule of the catalogue fires on the token meant for it and not on its fixed twin."""

from __future__ import annotations

from typing import Any

import pytest
from audit_helpers import (
    ACCT,
    ACCT2,
    ALL_ACCOUNTS,
    ALL_ZONES,
    PUBLIC,
    USER_RES,
    ZONE,
    ZONE2,
    account,
    allow,
    deny,
    good,
    hits,
    run,
    token,
    zone,
    zones_of,
)

from cftokens.audit import RULES

WIDE = "34.0.0.0/20"  # neither tight (/24) nor open (/16): no severity modifier

# (rule id, severity expected, the firing token, a twin that must not fire)
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    (
        "CFT-PE-01",
        "critical",
        token("t", allow(["API Tokens Write"], USER_RES)),
        token("t", allow(["API Tokens Read"], USER_RES)),
    ),
    (
        "CFT-PE-02",
        "critical",
        token("t", allow(["Account API Tokens Write"], account(ACCT))),
        token("t", allow(["Account API Tokens Read"], account(ACCT))),
    ),
    (
        "CFT-PE-03",
        "critical",
        token("t", allow(["API Tokens Write"], USER_RES), allow(["DNS Write"], zone(ZONE))),
        token("t", allow(["API Tokens Write"], USER_RES), expires=10),
    ),
    (
        "CFT-PE-04",
        "high",
        token("t", allow(["Account Settings Write"], account(ACCT))),
        token("t", allow(["Account Settings Read"], account(ACCT))),
    ),
    (
        "CFT-PE-05",
        "high",
        token("t", allow(["Access: Apps and Policies Write"], account(ACCT))),
        token("t", allow(["Access: Apps and Policies Read"], account(ACCT))),
    ),
    (
        "CFT-PE-06",
        "high",
        token("t", allow(["SCIM Provisioning"], account(ACCT))),
        token("t", allow(["Account Settings Read"], account(ACCT))),
    ),
    (
        "CFT-SC-01",
        "high",
        token("t", allow(["Workers Scripts Write"], ALL_ACCOUNTS), ip_in=[WIDE]),
        token("t", allow(["Workers Scripts Write"], account(ACCT))),
    ),
    (
        "CFT-SC-02",
        "medium",  # read-only wildcard is medium
        token("t", allow(["Zone Read"], ALL_ZONES), ip_in=[WIDE]),
        token("t", allow(["Zone Read"], zones_of(ACCT))),
    ),
    (
        "CFT-SC-04",
        "high",
        token(
            "t",
            allow(["DNS Write", "Zone WAF Write"], zone(ZONE)),
            allow(["Workers KV Storage Write"], account(ACCT)),
            ip_in=[WIDE],
        ),
        token("t", allow(["DNS Write", "Zone Read"], zone(ZONE))),
    ),
    (
        "CFT-RK-01",
        "high",
        token("t", allow(["DNS Write"], zones_of(ACCT)), ip_in=[]),
        good("t"),
    ),
    (
        "CFT-RK-02",
        "high",  # no allowlist: high
        token("t", allow(["Workers R2 Storage Read"], account(ACCT)), ip_in=[]),
        token("t", allow([("Logs Read", "zone")], zone(ZONE))),
    ),
    (
        "CFT-RK-03",
        "high",
        token("t", allow(["Cloudflare Tunnel Write"], account(ACCT)), ip_in=["34.0.0.0/15"]),
        token("t", allow(["Cloudflare Tunnel Read"], account(ACCT))),
    ),
    (
        "CFT-RK-04",
        "medium",
        token("t", allow(["Zone WAF Write"], zones_of(ACCT)), ip_in=["34.0.0.0/15"]),
        token("t", allow(["Zone WAF Write"], zone(ZONE))),
    ),
    (
        "CFT-LC-01",
        "high",  # with writes
        token("t", allow(["DNS Write"], zone(ZONE)), expires=None),
        good("t"),
    ),
    (
        "CFT-LC-02",
        "low",
        token("t", allow(["DNS Write"], zone(ZONE)), issued=-10, expires=100),
        token("t", allow(["DNS Read"], zone(ZONE)), issued=-10, expires=100),
    ),
    (
        "CFT-LC-03",
        "medium",
        token("t", allow(["DNS Read"], zone(ZONE)), issued=-120),
        token("t", allow(["DNS Read"], zone(ZONE)), issued=-60),
    ),
    (
        "CFT-LC-04",
        "medium",
        token("t", allow(["DNS Read"], zone(ZONE)), last_used=-50),
        token("t", allow(["DNS Read"], zone(ZONE)), last_used=-40),
    ),
    (
        "CFT-LC-05",
        "medium",  # with writes
        token("t", allow(["DNS Write"], zone(ZONE)), last_used=None, issued=-8),
        token("t", allow(["DNS Write"], zone(ZONE)), last_used=None, issued=-3),
    ),
    (
        "CFT-NW-01",
        "medium",
        token("t", allow(["DNS Write"], zone(ZONE)), ip_in=["0.0.0.0/0"]),
        good("t"),
    ),
    (
        "CFT-NW-02",
        "medium",
        token("t", allow(["DNS Read"], zone(ZONE)), ip_in=["34.0.0.0/16"]),
        token("t", allow(["DNS Read"], zone(ZONE)), ip_in=["34.0.0.0/17"]),
    ),
    (
        "CFT-NW-03",
        "low",
        token("t", allow(["DNS Read"], zone(ZONE)), ip_in=[], ip_out=["34.1.2.0/24"]),
        token("t", allow(["DNS Read"], zone(ZONE)), ip_out=["34.1.2.0/24"]),
    ),
    (
        "CFT-LN-01",
        "low",
        token("t", allow(["f" * 32], zone(ZONE)), allow(["DNS Read"], zone(ZONE))),
        good("t"),
    ),
    (
        "CFT-LN-02",
        "low",
        token("t", allow(["DNS Read"], account(ACCT))),  # zone group on a bare account key
        token("t", allow(["DNS Read"], zones_of(ACCT))),
    ),
    (
        "CFT-LN-03",
        "medium",
        token("t", allow(["DNS Read"], zone(ZONE)), not_before=30, expires=20),
        token("t", allow(["DNS Read"], zone(ZONE)), not_before=-1, expires=20),
    ),
    (
        "CFT-LN-04",
        "medium",
        token("t", allow(["DNS Read"], {"com.cloudflare.api.account.zone.<ZONE_ID>": "*"})),
        token("t", allow(["DNS Read"], zone(ZONE))),
    ),
    (
        "CFT-ID-04",
        "high",
        # a secret pasted into the name (assembled here: no committed token-shaped string)
        token("ci " + "cf" + "ut_" + "Q7x" * 14, allow(["DNS Read"], zone(ZONE))),
        token("ci token", allow(["DNS Read"], zone(ZONE))),
    ),
]


def test_every_metadata_rule_has_a_case() -> None:
    """Each rule that needs no usage data (except the file-only ID-03) has a fire/not-fire case."""
    covered = {case[0] for case in CASES}
    wanted = {r for r, meta in RULES.items() if not meta.usage and r != "CFT-ID-03"}
    assert wanted <= covered


@pytest.mark.parametrize(("rule", "severity", "bad", "fixed"), CASES, ids=[c[0] for c in CASES])
def test_rule_fires_and_not(
    rule: str, severity: str, bad: dict[str, Any], fixed: dict[str, Any]
) -> None:
    """The rule fires on the planted token with the catalogue's severity and not on the fixed one."""
    audit = run(bad)
    found = hits(audit, rule)
    assert len(found) >= 1, audit.findings[["rule_id", "evidence"]]
    assert str(found["severity"].max()) == severity
    assert found["evidence"].str.len().min() > 0
    assert found["remediation"].str.len().min() > 0
    assert hits(run(fixed), rule).empty, hits(run(fixed), rule)[["evidence"]]


def test_rk_01_critical_on_all_zones_and_lowered_for_tight_allowlist() -> None:
    """RK-01 is critical on all zones; a tight allowlist lowers RK/SC one step but never PE."""
    wide = run(token("t", allow(["DNS Write"], ALL_ZONES), ip_in=[]))
    assert str(hits(wide, "CFT-RK-01")["severity"].iloc[0]) == "critical"
    tight = run(token("t", allow(["DNS Write"], ALL_ZONES)))
    assert str(hits(tight, "CFT-RK-01")["severity"].iloc[0]) == "high"
    assert "Lowered one step" in hits(tight, "CFT-RK-01")["detail"].iloc[0]
    mint = run(token("t", allow(["Account API Tokens Write"], account(ACCT))))
    assert str(hits(mint, "CFT-PE-02")["severity"].iloc[0]) == "critical"


def test_rk_named_zone_behind_allowlist_is_not_flagged_but_strict_flags_it() -> None:
    """A risky group on named zones behind an allowlist raises no RK finding unless strict."""
    t = token("t", allow(["DNS Write"], zone(ZONE)))
    assert hits(run(t), "CFT-RK-01").empty
    assert not hits(run(t, profile="strict"), "CFT-RK-01").empty


def test_pe_06_path_length_one_is_critical() -> None:
    """Minting tokens reach admin in one step (critical); member managers in two (high)."""
    mint = run(token("t", allow(["Account API Tokens Write"], account(ACCT))))
    found = hits(mint, "CFT-PE-06")
    assert str(found["severity"].iloc[0]) == "critical"
    assert "path of length 1" in found["evidence"].iloc[0]


def test_pe_04_memberships_write_is_low() -> None:
    """Memberships Write (user scope) is a low PE-04 finding."""
    found = hits(run(token("t", allow(["Memberships Write"], USER_RES))), "CFT-PE-04")
    assert list(found["severity"].astype(str)) == ["low"]


def test_nw_01_skips_minting_tokens() -> None:
    """A minting token without allowlist is PE-03's, not NW-01's."""
    audit = run(token("t", allow(["API Tokens Write"], USER_RES), ip_in=[]))
    assert hits(audit, "CFT-NW-01").empty
    assert not hits(audit, "CFT-PE-03").empty


def test_ln_02_variants() -> None:
    """LN-02 reports shadowed allows, no-op denies (info), unknown ids and a group that fits
    none of its policy's resources (a policy where no group fits is CFT-LN-04's)."""
    shadowed = token(
        "shadowed", allow(["DNS Write"], zone(ZONE)), deny(["DNS Write"], zones_of(ACCT))
    )
    noop = token("noop", allow(["DNS Write"], zone(ZONE)), deny(["DNS Write"], zone(ZONE2)))
    missing = token("missing", allow(["DNS Read"], zone("9" * 32)))
    misfit = token("misfit", allow(["DNS Write", "Workers Scripts Write"], zone(ZONE)))
    audit = run(shadowed, noop, missing, misfit)
    assert "removes all of it" in hits(audit, "CFT-LN-02", "shadowed")["evidence"].iloc[0]
    assert list(hits(audit, "CFT-LN-02", "noop")["severity"].astype(str)) == ["info"]
    assert "not in the inventory" in hits(audit, "CFT-LN-02", "missing")["evidence"].iloc[0]
    assert "names no account resource" in hits(audit, "CFT-LN-02", "misfit")["evidence"].iloc[0]


def test_ln_03_lapsed_disabled_token_is_low() -> None:
    """A token disabled 40 days ago and still present is a low LN-03 finding."""
    t = token("t", allow(["DNS Read"], zone(ZONE)), status="disabled", modified=-40)
    assert list(hits(run(t), "CFT-LN-03")["severity"].astype(str)) == ["low"]
    fresh = token("t", allow(["DNS Read"], zone(ZONE)), status="disabled", modified=-5)
    assert hits(run(fresh), "CFT-LN-03").empty


def test_account_token_wildcard_fix_names_its_own_account() -> None:
    """The SC-01 fix for an account-owned token narrows all accounts to its own account."""
    t = token("t", allow(["Workers Scripts Write"], ALL_ACCOUNTS))
    audit = run(account_tokens={ACCT2: [t]})
    fix = audit.fix(t["id"], rule="CFT-SC-01")
    assert fix.path == f"/accounts/{ACCT2}/tokens/{t['id']}"
    assert fix.body["policies"][0]["resources"] == account(ACCT2)
    assert fix.complete and fix.spec is not None


def test_well_designed_token_raises_nothing_above_low() -> None:
    """The least-privilege design (named zone, tight public IPs, short expiry, in use) is clean."""
    audit = run(good(), token("r", allow(["Zone Read"], zone(ZONE)), ip_in=[PUBLIC]))
    assert audit.findings.empty or str(audit.findings["severity"].max()) <= "low"


def test_usage_rules_report_gaps_without_usage() -> None:
    """Without usage data the usage rules produce no finding and a gap row each."""
    audit = run(good())
    usage_rules = {r for r, meta in RULES.items() if meta.usage}
    assert not set(audit.findings["rule_id"].astype(str)) & usage_rules
    gaps = audit.gaps
    evaluated = set(gaps.loc[gaps["reason"] == "not evaluated: no usage data", "subject"])
    assert evaluated == usage_rules


def test_thresholds_are_arguments() -> None:
    """A profile with another threshold changes when a rule fires."""
    from cftokens.audit import Profile

    t = token("t", allow(["DNS Read"], zone(ZONE)), last_used=-20)
    assert hits(run(t), "CFT-LC-04").empty
    stricter = Profile.named("baseline").replace(stale_days=14)
    assert not hits(run(t, profile=stricter), "CFT-LC-04").empty


def test_ci_profile_leaves_out_state_rules() -> None:
    """The ci profile runs design rules only: no lifecycle-state or usage findings."""
    t = token("t", allow(["DNS Read"], zone(ZONE)), last_used=-100, issued=-400, expires=None)
    rules = set(run(t, profile="ci").findings["rule_id"].astype(str))
    assert "CFT-LC-04" not in rules and "CFT-LC-03" not in rules
    assert "CFT-LC-01" in rules


def test_other_account_zone_not_covered_by_nested_grant() -> None:
    """All zones of one account do not reach the other account's zone in the access frame."""
    t = token("t", allow(["DNS Read"], zones_of(ACCT2)))
    access = run(t).access.expand()
    assert set(access["resource_name"]) == {"staging.example.com"}


@pytest.mark.parametrize("issued", ["0001-01-01T00:00:00Z", "1700-01-01T00:00:00Z"])
def test_lc_03_fires_on_a_secret_older_than_nanoseconds_reach(issued: str) -> None:
    """Dates before 1677 are held as 1677-09-22 (the nanosecond floor), 349 years before
    now: more than int64 nanoseconds span, so the age must not be taken in nanoseconds (it
    wrapped to a negative age and the rule stayed silent)."""
    import cftokens as cft
    from cftokens.audit.synth import synthetic_inventory

    inv = synthetic_inventory(30)
    token = inv["tokens"][0]
    token.update(issued_on=issued, modified_on=issued, status="active")
    token.pop("expires_on", None)
    found = cft.Audit.from_records(**inv).findings
    mine = found[(found["token_id"] == token["id"]) & (found["rule_id"] == "CFT-LC-03")]
    assert len(mine) == 1
    days = int(str(mine["evidence"].iloc[0]).split()[3])
    assert days > 300 * 365
