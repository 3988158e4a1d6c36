"""The demo company: deterministic, consistent with the policy engine, every audit rule
planted (and documented), the bootstrap token's one deliberate gap, workshop isolation."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import Api

import cftokens as cft
from cftokens.audit.secrets import find_legacy_secrets
from cftokens.sandbox import Attendee, Clock, Sandbox, demo
from cftokens.sandbox import core as sandbox_core
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
    """Two seedings with the same seed have the same ids, secrets and journal: a sandbox with
    a clock of its own is seeded afresh, and ``demo_company`` is a copy of the process's own
    seeding. Another seed gives other ids."""
    seeded = Sandbox(content="demo", clock=Clock())
    assert [t.id for t in seeded.tokens()] == [t.id for t in demo_company.tokens()]
    assert seeded.bootstrap_token == demo_company.bootstrap_token
    assert seeded.journal.equals(demo_company.journal)
    assert [t.id for t in Sandbox.demo(seed=1).tokens()] != [t.id for t in seeded.tokens()]


def _same_state(one: Sandbox, other: Sandbox) -> None:
    assert repr(one) == repr(other)
    assert [t.to_api() for t in one.tokens()] == [t.to_api() for t in other.tokens()]
    assert [repr(u) for u in one.users()] == [repr(u) for u in other.users()]
    assert repr(one.directory()) == repr(other.directory())
    assert one.journal.equals(other.journal)
    assert one.clock.now() == other.clock.now()
    assert one.bootstrap_token == other.bootstrap_token
    assert one.global_api_key == other.global_api_key
    assert one.extras == other.extras
    assert one.issued_secrets() == other.issued_secrets()


def test_demo_is_seeded_once_per_process_and_copied(
    demo_company: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Sandbox.demo() seeds the company once per (seed, now, tick, keep_secrets), holding a
    few such, and hands out copies: each in the state a seeding gives (the same next ids, Ray
    ids and secrets), independent of the others, with its own faults and rate limit. A
    sandbox with a database file, a clock of its own or secrets from the OS is seeded."""
    seedings: list[Sandbox] = []
    seed = seed_demo

    def counted(sb: Sandbox, **options: Any) -> dict[str, Any]:
        seedings.append(sb)
        return seed(sb, **options)

    monkeypatch.setattr(sandbox_core, "seed_demo", counted)
    monkeypatch.setattr(sandbox_core, "_SEEDED", {})
    one, two = Sandbox.demo(), Sandbox.demo(rate_limit=None, faults="rate=1.0")
    assert len(seedings) == 1
    assert seedings[0] is not one and seedings[0] is not two
    seeded = demo_company.copy()  # demo_company: seeded afresh in test_demo_is_deterministic
    _same_state(one, seeded)
    assert [t.to_api() for t in two.tokens()] == [t.to_api() for t in seeded.tokens()]
    with one.client() as mine, seeded.client() as theirs:  # same next ids, Ray ids, secrets
        assert mine.tokens.roll(str(one.bootstrap_token_id)) == theirs.tokens.roll(
            str(seeded.bootstrap_token_id)
        )
        assert one.journal.equals(seeded.journal)
    with pytest.raises(cft.CloudflareError), two.client(max_retries=0) as client:  # its faults
        client.tokens.verify()
    _same_state(Sandbox.demo(), demo_company)  # neither one nor two changed the seeded state
    assert len(seedings) == 1
    # which sandboxes are seeded (an empty seeding will do to count them)
    seed = lambda sb, **options: {}  # noqa: E731
    Sandbox.demo(keep_secrets=False)
    Sandbox.demo(tick=timedelta(seconds=1))
    Sandbox.demo(seed=1)
    assert len(seedings) == 4
    Sandbox.demo(seed=1, faults="rate=0.5", rate_limit=None)
    assert len(seedings) == 4
    later = datetime(2027, 1, 5, tzinfo=UTC)
    assert Sandbox.demo(now=later).clock.now() == later  # a fifth kind: the oldest one out
    assert len(seedings) == 5
    Sandbox.demo(keep_secrets=False)  # still held
    assert len(seedings) == 5
    Sandbox.demo()  # the oldest, seeded again
    assert len(seedings) == 6
    Sandbox.demo(secure_secrets=True)
    Sandbox.demo(db=tmp_path / "demo.db").close()
    Sandbox(content="demo", clock=Clock())
    assert len(seedings) == 9


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


def test_workshop_attendees_are_isolated(two_attendees: tuple[Sandbox, list[Attendee]]) -> None:
    """Each attendee has their own company and token, and cannot see another's."""
    sb, (first, second) = two_attendees
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
