"""The demo company: deterministic, consistent with the policy engine, every audit rule
planted (and documented), the bootstrap token's one deliberate gap, workshop isolation."""

from __future__ import annotations

import re
import warnings
from datetime import timedelta
from typing import Any

from sandbox_helpers import Api

import cftokens as cft
from cftokens.audit.secrets import find_legacy_secrets
from cftokens.sandbox import Sandbox, demo
from cftokens.sandbox.demo import API_KEY_USAGE, TOKENS, seed_demo

# The rule ids of the audit rule catalogue (shared/audit-rules.md).
RULE_IDS = [
    *(f"PE-0{i}" for i in range(1, 7)),
    *(f"SC-0{i}" for i in range(1, 7)),
    *(f"RK-0{i}" for i in range(1, 5)),
    *(f"LC-0{i}" for i in range(1, 6)),
    *(f"NW-0{i}" for i in range(1, 4)),
    *(f"LN-0{i}" for i in range(1, 5)),
    *(f"ID-0{i}" for i in range(1, 4)),
]


def by_name(sb: Sandbox) -> dict[str, Any]:
    return {t.name: t for t in sb.tokens()}


def test_every_rule_is_planted_on_some_token() -> None:
    """Each rule of the catalogue is planted on at least one token (ID-01 on the API key)."""
    planted = {rule for t in TOKENS for rule in t.rules}
    assert API_KEY_USAGE  # ID-01: the Global API Key's usage
    assert set(RULE_IDS) - planted == {"ID-01"}


def test_docstring_table_matches_definitions() -> None:
    """Every row of the module docstring's table names a token that is planted for that rule,
    and every planted (rule, token) pair of a visible token appears in the table."""
    doc = demo.__doc__ or ""
    rows = re.findall(r"^([A-Z]{2}-\d\d)\s+(?!\(not\))([a-z0-9-]+) \(", doc, flags=re.M)
    assert len(rows) > 40
    definitions = {t.name: t for t in TOKENS}
    for rule, name in rows:
        assert rule in definitions[name].rules, (rule, name)
    for rule in RULE_IDS:
        assert rule in {r for r, _ in rows} or rule == "ID-01"


def test_demo_is_deterministic(demo_company: Sandbox) -> None:
    """Two demo sandboxes with the same seed have the same ids, secrets and journal."""
    first, second = demo_company, Sandbox.demo()
    assert [t.id for t in first.tokens()] == [t.id for t in second.tokens()]
    assert first.bootstrap_token == second.bootstrap_token
    assert first.journal.equals(second.journal)
    assert [t.id for t in Sandbox.demo(seed=1).tokens()] != [t.id for t in first.tokens()]


def test_usage_history_is_allowed_by_the_engine() -> None:
    """Every usage row of the demo would be allowed by the policy engine (validate=True)."""
    sb = Sandbox(content="none")
    seed_demo(sb, tag="check", validate=True)
    assert len(sb.journal) > 1500


def test_demo_shape(demo: Sandbox) -> None:
    """3 accounts, 12 zones, 2 users, 47 tokens, and 60 days of history."""
    directory = demo.directory()
    assert len(directory.accounts) == 3 and len(directory.zones) == 12
    assert len(demo.users()) == 2 and len(demo.tokens()) == len(TOKENS) == 47
    journal = demo.journal
    span = demo.clock.now() - journal["time"].min()
    assert timedelta(days=55) < span <= timedelta(days=61)
    assert journal["ip"].nunique() > 30


def test_bootstrap_token_reads_everything_but_one_gap(demo: Sandbox) -> None:
    """The bootstrap token lists user tokens, tokens of production and staging, every zone,
    audit logs of all three accounts, and NOT the agency-managed account's tokens."""
    client = Api(demo, demo.bootstrap_token)
    accounts = demo.extras["accounts"]
    assert client.get("/user/tokens").status_code == 200
    assert client.get("/user").status_code == 200
    for key in ("production", "staging"):
        assert client.get(f"/accounts/{accounts[key]}/tokens").status_code == 200
    assert client.get(f"/accounts/{accounts['agency']}/tokens").status_code == 403
    assert demo.extras["gap_account"] == accounts["agency"]
    assert client.get("/zones", params={"per_page": 50}).json()["result_info"]["total_count"] == 12
    window = {"since": "2026-10-03", "before": "2026-11-02T09:00:00Z"}
    for account in accounts.values():
        assert client.get(f"/accounts/{account}/logs/audit", params=window).status_code == 200


def test_rule_conditions_hold(demo: Sandbox) -> None:
    """Spot checks of the planted conditions (dates, windows, status, usage)."""
    tokens = by_name(demo)
    now = demo.clock.now()
    stale = tokens["dana-old-backup-script"]
    assert stale.last_used_on is not None and now - stale.last_used_on >= timedelta(days=45)
    never = tokens["test-token-do-not-use"]
    assert never.last_used_on is None and now - never.issued_on >= timedelta(days=7)
    window = tokens["never-valid-window"]
    assert window.not_before >= window.expires_on
    disabled = tokens["contractor-2025-disabled"]
    assert disabled.status.value == "disabled" and now - disabled.modified_on >= timedelta(days=30)
    expired = tokens["q3-campaign-expired"]
    assert expired.status.value == "expired" and now - expired.expires_on >= timedelta(days=30)
    journal = demo.journal
    recent = journal[journal["time"] >= now - timedelta(days=30)]
    external = recent[recent["token_name"] == "external-dns-prod"]
    assert external["zone_id"].nunique() == 1
    grafana = recent[recent["token_name"] == "grafana-dns-dashboard"]
    assert set(grafana["method"]) == {"GET"}
    shop = recent[recent["token_name"] == "ci-deploy-shop"]
    assert not shop["path"].str.endswith("purge_cache").any()
    laptop = journal[journal["token_name"] == "dana-laptop-cli"]
    assert laptop["ip"].map(lambda ip: ".".join(ip.split(".")[:2])).nunique() >= 10
    assert (journal["auth"] == "api_key").sum() > 30
    rolls = journal[journal["path"].str.endswith("/value")]
    assert list(rolls["path"]) == [f"/user/tokens/{tokens['grafana-cloud'].id}/value"]


def test_legacy_secret_in_files_authenticates(demo: Sandbox) -> None:
    """deploy/.env holds the 40-character legacy secret of wp-legacy-deploy, which verifies."""
    text = demo.extras["files"]["deploy/.env"]
    value = re.search(r"CLOUDFLARE_API_TOKEN=(\S+)", text)
    assert value is not None and len(value.group(1)) == 40
    assert not value.group(1).startswith(("cfut_", "cfat_"))
    verify = Api(demo, value.group(1)).get("/user/tokens/verify").json()
    assert verify["result"]["id"] == by_name(demo)["wp-legacy-deploy"].id


def test_colleague_tokens_are_invisible_to_dana(demo: Sandbox) -> None:
    """Sam's user tokens are listed only to Sam's own token."""
    dana = {
        t["name"]
        for t in Api(demo, demo.bootstrap_token)
        .get("/user/tokens", params={"per_page": 50})
        .json()["result"]
    }
    sam = {
        t["name"]
        for t in Api(demo, demo.extras["colleague_token"]).get("/user/tokens").json()["result"]
    }
    assert sam == {"sam-token-reader", "sam-staging-cli", "sam-grafana"}
    assert not dana & sam


def test_workshop_attendees_are_isolated() -> None:
    """Each attendee has their own company and token, and cannot see another's."""
    sb = Sandbox(content="none", rate_limit=None)
    first, second = sb.add_attendees(2)
    assert first.email != second.email and first.token != second.token
    one = Api(sb, first.token)
    accounts = [a["id"] for a in one.get("/accounts").json()["result"]]
    assert len(accounts) == 3
    theirs = {a["id"] for a in Api(sb, second.token).get("/accounts").json()["result"]}
    assert not set(accounts) & theirs
    other_account = next(iter(theirs))
    assert one.get(f"/accounts/{other_account}/tokens").status_code == 403
    assert "Secret('cfut_" in repr(first)


def test_audit_finds_every_planted_rule(demo_company: Sandbox) -> None:
    """The audit, run through the bootstrap token with usage, reports every planted rule on
    every visible token, the one gap, and nothing above low on the well-designed tokens."""
    sb = demo_company.copy(rate_limit=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = cft.run_audit(sb.client(), usage=True, now=sb.clock.now(), progress=False)
    findings = result.findings
    fired: dict[str, set[str]] = {}
    for name, rule in zip(findings["token_name"], findings["rule_id"], strict=True):
        fired.setdefault(str(name), set()).add(str(rule).removeprefix("CFT-"))
    invisible = {
        "sam-token-reader",
        "sam-staging-cli",
        "sam-grafana",
        "agency-wordpress",
        "agency-full-zones",
    }
    for definition in TOKENS:
        if definition.name in invisible:
            continue
        wanted = set(definition.rules) - {"ID-03"}
        assert wanted <= fired.get(definition.name, set()), definition.name
    assert "CFT-ID-01" in set(findings["rule_id"])
    assert len(result.gaps) == 1
    assert find_legacy_secrets([sb.extras["files"]])[0][0] == "deploy/.env"
    for name in (
        "ci-dns-acme-status",
        "status-page-purge",
        "staging-preview-dns",
        "token-inventory-readonly",
    ):
        severities = set(findings.loc[findings["token_name"] == name, "severity"].astype(str))
        assert severities <= {"low", "info"}, name
