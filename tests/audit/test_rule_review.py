"""Rule semantics pinned down in review: fire/not-fire cases for each fix (the firing or
refusing half failed on the behaviour it replaced)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from audit_helpers import (
    ACCOUNTS,
    ACCT,
    ACCT2,
    ALL_ACCOUNTS,
    NOW,
    PUBLIC,
    USER_RES,
    ZONE,
    ZONE2,
    ZONE3,
    ZONES,
    account,
    allow,
    deny,
    every_account_write,
    good,
    hits,
    iso,
    run,
    token,
    zone,
    zones_of,
)

import cftokens as cft
from cftokens.audit import RULES, Audit, Profile
from cftokens.audit.secrets import find_legacy_secrets
from cftokens.audit.suppressions import parse_suppressions
from cftokens.client.models import AuditLogRecord


def _nested_zone(a: str, z: str) -> dict[str, Any]:
    return {f"com.cloudflare.api.account.{a}": {f"com.cloudflare.api.account.zone.{z}": "*"}}


def test_flat_zone_grant_removed_by_a_deny_on_its_account_is_not_in_e_t() -> None:
    """A flat zone allow that a deny on all zones of the zone's account removes is not
    effective: no RK-01, no write for NW-01, and the grants frame agrees with who_can."""
    shadowed = token(
        "shadowed", allow(["DNS Write"], zone(ZONE)), deny(["DNS Write"], zones_of(ACCT)), ip_in=[]
    )
    audit = run(shadowed)
    assert hits(audit, "CFT-RK-01").empty
    assert list(hits(audit, "CFT-NW-01")["severity"].astype(str)) == ["low"]
    grants = audit.grants
    allow_row = grants[(grants["policy"] == 1)]
    assert not allow_row["effective"].any()
    assert audit.who_can("DNS Write", zone="example.com").empty
    assert "removes all of it" in hits(audit, "CFT-LN-02")["evidence"].iloc[0]


def test_flat_zone_grant_removed_by_a_nested_deny_of_the_same_zone() -> None:
    """A deny naming the zone in its nested form removes the flat allow of that zone."""
    t = token(
        "t",
        allow(["DNS Write"], zone(ZONE)),
        deny(["DNS Write"], _nested_zone(ACCT, ZONE)),
        ip_in=[],
    )
    assert hits(run(t), "CFT-RK-01").empty


def test_deny_on_another_account_leaves_the_flat_zone_grant_effective() -> None:
    """A deny on all zones of another account does not touch the zone: RK-01 still fires."""
    t = token("t", allow(["DNS Write"], zone(ZONE)), deny(["DNS Write"], zones_of(ACCT2)), ip_in=[])
    audit = run(t)
    assert not hits(audit, "CFT-RK-01").empty
    assert list(hits(audit, "CFT-NW-01")["severity"].astype(str)) == ["medium"]


def test_e_t_agrees_with_evaluate_on_random_allow_deny_mixes() -> None:
    """On random mixes of flat, nested and wildcard allows and denies, every zone the engine
    allows is covered by an effective grant, and every effective grant of a named zone is one
    the engine allows (no wholly removed grant stays in E(T))."""

    directory = cft.Directory(
        accounts=[cft.Account.from_api(a) for a in ACCOUNTS],
        zones=[cft.Zone.from_api(z) for z in ZONES],
    )
    owner = {z["id"]: z["account"]["id"] for z in ZONES}
    atoms: list[dict[str, Any]] = [
        zone(ZONE),
        zone(ZONE3),
        _nested_zone(ACCT, ZONE),
        _nested_zone(ACCT, ZONE2),
        _nested_zone(ACCT2, ZONE3),
        zones_of(ACCT),
        zones_of(ACCT2),
        {"com.cloudflare.api.account.zone.*": "*"},
    ]
    rng = random.Random(7)
    tokens = []
    for i in range(300):
        policies = []
        for _ in range(rng.randint(1, 3)):
            effect = allow if not policies or rng.random() < 0.5 else deny
            chosen: dict[str, Any] = {}
            for a in rng.sample(atoms, rng.randint(1, 2)):
                for key, value in a.items():
                    if isinstance(value, dict) and isinstance(chosen.get(key), dict):
                        chosen[key] = {**chosen[key], **value}
                    else:
                        chosen[key] = value
            policies.append(effect(["DNS Write"], chosen))
        tokens.append(token(f"r{i}", *policies))
    audit = Audit.from_records(tokens=tokens, accounts=ACCOUNTS, zones=ZONES, now=NOW)
    g = audit.grants
    g = g[g["effective"].astype(bool)]
    effective: dict[str, list[tuple[str, Any, Any]]] = {}  # each token's effective grants
    for tid, kind, rid, racct in zip(
        g["token_id"],
        g["resource_kind"].astype(str),
        g["resource_id"],
        g["resource_account_id"],
        strict=True,
    ):
        effective.setdefault(tid, []).append((kind, rid, racct))
    for payload in tokens:
        subject = cft.Token.from_api(payload)
        allowed = {
            z
            for z in owner
            if cft.evaluate(subject, "DNS Write", zone=z, directory=directory, at=NOW).allowed
        }
        reach: set[str] = set()
        for kind, rid, racct in effective.get(payload["id"], []):
            if kind == "zone":
                assert rid in allowed, (payload["policies"], rid, allowed)
                reach.add(rid)
            elif kind == "all_zones_in":
                reach |= {z for z, a in owner.items() if a == racct}
            else:
                reach |= set(owner)
        assert allowed <= reach, (payload["policies"], allowed, reach)


def test_pe_06_admin_on_one_account_still_escalates_to_another() -> None:
    """Holding every account write group on one account does not hide a minting path to
    another account: PE-06 fires for the account it does not already hold."""
    t = token(
        "t",
        every_account_write(account(ACCT)),
        allow(["Account API Tokens Write"], account(ACCT2)),
    )
    found = hits(run(t), "CFT-PE-06")
    assert list(found["severity"].astype(str)) == ["critical"]
    assert "Acme Staging" in found["evidence"].iloc[0]


def test_pe_06_not_raised_when_the_target_is_already_held() -> None:
    """A token already administrator-equivalent where its paths lead has nothing to reach."""
    assert hits(run(token("t", every_account_write(account(ACCT)))), "CFT-PE-06").empty
    assert hits(run(token("t", every_account_write(ALL_ACCOUNTS))), "CFT-PE-06").empty


def test_minting_fixes_never_loosen_an_existing_allowlist_or_expiry() -> None:
    """The PE-01/PE-03 fixes keep a token's own allowlist and an expiry already sooner than
    the 30-day limit; they set only what is missing."""
    isolated = token("isolated", allow(["API Tokens Write"], USER_RES), expires=10)
    audit = run(isolated)
    found = hits(audit, "CFT-PE-01")
    fix = audit.finding_fix(found["finding_id"].iloc[0])
    body = fix.body or {}
    assert body.get("expires_on", iso(10)) == iso(10)
    assert body.get("condition", isolated["condition"]) == isolated["condition"]
    assert (
        "within 30 days" not in found["remediation"].iloc[0]
        or "already" in (found["remediation"].iloc[0])
    )
    mixed = token(
        "mixed",
        allow(["API Tokens Write"], USER_RES),
        allow(["DNS Write"], zone(ZONE)),
        expires=10,
    )
    audit = run(mixed)
    body = audit.finding_fix(hits(audit, "CFT-PE-03")["finding_id"].iloc[0]).body
    assert body["expires_on"] == iso(10)
    assert body["condition"]["request.ip"]["in"] == [PUBLIC]
    assert [g["name"] for p in body["policies"] for g in p["permission_groups"]] == [
        "API Tokens Write"
    ]


def test_combined_fix_that_would_empty_a_token_says_so() -> None:
    """When a token's fixes together remove every permission, the remediation is not offered as
    a complete PUT with no policies: it says to delete the token or keep what the job needs."""
    isolated = token("isolated", allow(["API Tokens Write"], USER_RES), expires=10)
    fix = run(isolated).fix(isolated["id"])
    assert not (fix.method == "PUT" and fix.body and not fix.body["policies"] and fix.complete)
    assert "would remove all of them" in fix.summary  # in use: kept until replaced


WIDE = "34.0.0.0/20"  # neither tight nor open: no severity modifier


def _use(t: dict[str, Any], path: str, method: str = "GET") -> dict[str, Any]:
    return {
        "time": iso(-1),
        "token_id": t["id"],
        "method": method,
        "path": path,
        "status": 200,
        "ip": "34.0.1.5",
        "user_agent": "Mozilla/5.0",
    }


def test_sc_03_severity_follows_the_zone_grants_not_other_writes() -> None:
    """SC-03 is low when the token's zone grants are read-only, even if it writes elsewhere
    (an account group), and medium when it can write to the zones it does not use."""
    reader = token(
        "reader",
        allow(["Zone Read"], zones_of(ACCT)),
        allow(["Workers Scripts Write"], account(ACCT)),
        ip_in=[WIDE],
    )
    writer = token("writer", allow(["DNS Write"], zones_of(ACCT)), ip_in=[WIDE])
    usage = [_use(reader, f"/zones/{ZONE}"), _use(writer, f"/zones/{ZONE}/dns_records")]
    audit = run(reader, writer, usage=usage)
    assert list(hits(audit, "CFT-SC-03", "reader")["severity"].astype(str)) == ["low"]
    assert list(hits(audit, "CFT-SC-03", "writer")["severity"].astype(str)) == ["medium"]


def test_nw_03_a_slash_zero_allow_with_a_deny_list_is_only_a_deny_list() -> None:
    """An allow list holding a /0 counts as empty, so /0 plus not_in is "only a deny list"."""
    zero = token(
        "zero", allow(["DNS Read"], zone(ZONE)), ip_in=["0.0.0.0/0"], ip_out=["34.1.2.0/24"]
    )
    real = token("real", allow(["DNS Read"], zone(ZONE)), ip_in=[WIDE], ip_out=["34.1.2.0/24"])
    audit = run(zero, real)
    found = hits(audit, "CFT-NW-03", "zero")
    assert list(found["severity"].astype(str)) == ["low"]
    assert "only a deny list" in found["evidence"].iloc[0]
    assert hits(audit, "CFT-NW-03", "real").empty


def test_usage_rules_not_evaluated_when_the_usage_holds_no_request_in_the_window() -> None:
    """Empty usage (e.g. every Audit Logs call failed), or usage older than the window, is no
    usage data: the usage rules say "not evaluated" instead of passing silently."""

    usage_rules = {r for r, meta in RULES.items() if meta.usage}
    t = good()
    old = dict(_use(t, f"/zones/{ZONE}/dns_records"), time="2025-01-01T00:00:00Z")
    for usage in ([], [old]):
        gaps = run(t, usage=usage).gaps
        evaluated = set(gaps.loc[gaps["reason"] == "not evaluated: no usage data", "subject"])
        assert evaluated == usage_rules, usage
    gaps = run(t, usage=[_use(t, f"/zones/{ZONE}/dns_records")]).gaps
    assert not (gaps["reason"] == "not evaluated: no usage data").any()


def test_suppression_by_account_covers_token_level_findings_of_that_accounts_tokens() -> None:
    """match.account_id covers the findings of the account's own tokens (NW-01 names no
    resource) and not the same finding on another account's token."""

    mine = token("mine", allow(["DNS Write"], zone(ZONE)), ip_in=[])
    theirs = token("theirs", allow(["DNS Write"], zone(ZONE)), ip_in=[])
    entry = {
        "rule": "CFT-NW-01",
        "match": {"account_id": ACCT},
        "reason": "egress IPs pending",
        "owner": "platform",
        "expires": "2026-12-30",
    }
    sup = parse_suppressions([entry], now=NOW)
    audit = run(account_tokens={ACCT: [mine], ACCT2: [theirs]}, suppressions=sup)
    assert bool(hits(audit, "CFT-NW-01", "mine")["suppressed"].iloc[0])
    assert not bool(hits(audit, "CFT-NW-01", "theirs")["suppressed"].iloc[0])


def test_suppressions_given_as_dicts_are_validated_like_a_file() -> None:
    """A list of suppression dicts is parsed with the file's rules (not an AttributeError)."""

    t = token("t", allow(["DNS Write"], zone(ZONE)), ip_in=[])
    entry = {"rule": "CFT-NW-01", "reason": "r", "owner": "o", "expires": "2026-12-30"}
    audit = run(t, suppressions=[entry])
    assert bool(hits(audit, "CFT-NW-01")["suppressed"].iloc[0])
    with pytest.raises(cft.InvalidInput, match="180 days"):
        run(t, suppressions=[dict(entry, expires="2028-01-01")])
    with pytest.raises(cft.InvalidInput, match="suppression"):
        run(t, suppressions=[42])


LEGACY = "Zq8Lm2Np4Rs6Tu8Vw0Xy2Za4Bc6De8Fg0Hi2Jk4L"  # 40 random-looking characters, no prefix


def test_id_03_finds_legacy_secrets_in_notebooks_code_and_json() -> None:
    """The scanner sees the forms notebooks and code use (os.environ[...] = "...", JSON-escaped
    in an .ipynb, "api_token": "..."), not only KEY=value lines; prefixed values are skipped."""
    notebook = '{"source": ["os.environ[\\"CLOUDFLARE_API_TOKEN\\"] = \\"' + LEGACY + '\\"\\n"]}'
    files = {
        "lesson.ipynb": notebook,
        "job.py": f'os.environ["CLOUDFLARE_API_TOKEN"] = "{LEGACY}"',
        "getenv.py": f'token = os.getenv("CF_API_TOKEN", "{LEGACY}")',
        "config.json": f'{{"api_token": "{LEGACY}"}}',
        "provider.tf": f'api_token = "{LEGACY}"',
        "new.env": "CLOUDFLARE_API_TOKEN=cfut_" + LEGACY,
        "long.env": f"CLOUDFLARE_API_TOKEN={LEGACY}yz",
    }
    found = {name for name, _, _ in find_legacy_secrets([files])}
    assert found == {"lesson.ipynb", "job.py", "getenv.py", "config.json", "provider.tf"}


def test_id_03_findings_honour_suppressions_and_the_profile() -> None:
    """scan_secrets findings are suppressed like any other, and a profile without CFT-ID-03
    (ci) adds none."""
    files = {"deploy/.env": f"CLOUDFLARE_API_TOKEN={LEGACY}"}
    entry = {
        "rule": "CFT-ID-03",
        "reason": "rolling in INFRA-9",
        "owner": "o",
        "expires": "2026-12-30",
    }
    audit = run(good(), suppressions=[entry]).scan_secrets(files)
    found = hits(audit, "CFT-ID-03")
    assert len(found) == 1 and bool(found["suppressed"].iloc[0])
    assert "INFRA-9" in found["suppression"].iloc[0]
    assert hits(run(good(), profile="ci").scan_secrets(files), "CFT-ID-03").empty


def test_nw_01_covers_minting_tokens_when_pe_03_does_not_run() -> None:
    """Minting tokens are left to PE-03 only while PE-03 runs; a profile without it still
    reports their missing allowlist under NW-01."""

    mint = token("mint", allow(["API Tokens Write"], USER_RES), ip_in=[])
    assert hits(run(mint), "CFT-NW-01").empty
    only_nw = Profile.named("baseline").replace(include=("CFT-NW-*",))
    found = hits(run(mint, profile=only_nw), "CFT-NW-01")
    assert list(found["severity"].astype(str)) == ["medium"]


def test_rk_scope_treats_an_effectively_open_allowlist_as_none() -> None:
    """A risky group on a named zone behind an allowlist NW-02 calls open (a /16) is not the
    least-privilege design: RK-01 fires, as it does without an allowlist; a real one is clean."""
    open_ = token("open", allow(["DNS Write"], zone(ZONE)), ip_in=["34.0.0.0/16"])
    real = token("real", allow(["DNS Write"], zone(ZONE)), ip_in=[WIDE])
    audit = run(open_, real)
    assert list(hits(audit, "CFT-RK-01", "open")["severity"].astype(str)) == ["high"]
    assert hits(audit, "CFT-RK-01", "real").empty
    logs = token("logs", allow(["Logs Read"], account(ACCT)), ip_in=["34.0.0.0/16"])
    assert list(hits(run(logs), "CFT-RK-02")["severity"].astype(str)) == ["high"]


def test_ln_01_reports_an_unknown_group_even_in_a_policy_without_resources() -> None:
    """An unknown group id is LN-01's whether or not its policy names resources."""
    bare = {"effect": "allow", "permission_groups": [{"id": "f" * 32}], "resources": {}}
    t = token("t", bare, allow(["DNS Read"], zone(ZONE)))
    found = hits(run(t), "CFT-LN-01")
    assert len(found) == 1 and "f" * 32 in found["evidence"].iloc[0]
    assert hits(run(token("t", allow(["DNS Read"], zone(ZONE)))), "CFT-LN-01").empty


def test_an_unknown_group_is_ln_01_only_not_also_a_scope_misfit() -> None:
    """An unknown id has no known scope, so LN-02 does not call it a group without a resource
    of its scope; LN-01 reports it once."""
    t = token("t", allow(["f" * 32], zone(ZONE)))
    audit = run(t)
    assert len(hits(audit, "CFT-LN-01")) == 1
    assert hits(audit, "CFT-LN-02").empty


def test_a_read_request_a_read_group_serves_does_not_use_the_write_groups() -> None:
    """GET /zones/{id} accepts almost every zone group; when the token's Zone Read serves it,
    its write groups served nothing (SC-06, remove them), not "served only a read" (SC-05)."""
    t = token(
        "t",
        allow(["Zone Read", "DNS Write", ("Zone Settings Write", "zone")], zone(ZONE)),
        ip_in=[WIDE],
    )
    audit = run(t, usage=[_use(t, f"/zones/{ZONE}")])
    assert hits(audit, "CFT-SC-05").empty, hits(audit, "CFT-SC-05")["evidence"].tolist()
    unused = set(hits(audit, "CFT-SC-06")["group"])
    assert unused == {"DNS Write", "Zone Settings Write"}
    only_write = token("w", allow(["DNS Write"], zone(ZONE)), ip_in=[WIDE])
    audit = run(only_write, usage=[_use(only_write, f"/zones/{ZONE}/dns_records")])
    assert list(hits(audit, "CFT-SC-05")["group"]) == ["DNS Write"]
    assert hits(audit, "CFT-SC-06").empty


def test_sc_03_counts_only_zones_the_denies_leave_granted() -> None:
    """A zone a deny removes from "all zones of the account" is not granted: using the only
    zone left is full use (no SC-03); without the deny, half the zones are unused."""
    narrowed = token(
        "narrowed",
        allow(["DNS Write"], zones_of(ACCT)),
        deny(["DNS Write"], zone(ZONE2)),
        ip_in=[WIDE],
    )
    wide = token("wide", allow(["DNS Write"], zones_of(ACCT)), ip_in=[WIDE])
    usage = [
        _use(narrowed, f"/zones/{ZONE}/dns_records"),
        _use(wide, f"/zones/{ZONE}/dns_records"),
    ]
    audit = run(narrowed, wide, usage=usage)
    assert hits(audit, "CFT-SC-03", "narrowed").empty, hits(audit, "CFT-SC-03")["evidence"]
    assert not hits(audit, "CFT-SC-03", "wide").empty


def test_usage_accepts_the_clients_audit_log_records() -> None:
    """Audit Logs v2 rows as the client returns them (AuditLogRecord models) are usage data:
    a Global API Key row becomes an ID-01 finding, as the raw dicts do."""

    raw = {
        "id": "r1",
        "action": {"time": iso(-2), "type": "list"},
        "actor": {"context": "api_key", "email": "dana@acme.example", "ip_address": "34.0.1.9"},
        "raw": {"method": "GET", "uri": f"/zones/{ZONE}/dns_records", "status_code": 200},
        "zone": {"id": ZONE},
    }
    for usage in ([raw], [AuditLogRecord.from_api(raw)]):
        found = hits(run(good(), usage=usage), "CFT-ID-01")
        assert len(found) == 1 and "dana@acme.example" in found["evidence"].iloc[0]


def test_id_02_and_lc_03_read_the_usage() -> None:
    """ID-02 fires on a user token used by a CI agent, not on an account token doing the same;
    LC-03 takes a roll seen in the usage as the last secret change."""
    laptop = good("laptop")
    service = good("service")
    rolled = token("rolled", allow(["DNS Read"], zone(ZONE)), issued=-200)
    roll = dict(_use(laptop, f"/user/tokens/{rolled['id']}/value", "PUT"), time=iso(-10))
    usage = [
        dict(_use(laptop, f"/zones/{ZONE}/dns_records"), user_agent="GitHub-Actions/2.3"),
        dict(_use(service, f"/zones/{ZONE}/dns_records"), user_agent="GitHub-Actions/2.3"),
        roll,
    ]
    audit = run(laptop, rolled, account_tokens={ACCT: [service]}, usage=usage)
    assert list(hits(audit, "CFT-ID-02")["token_name"]) == ["laptop"]
    assert hits(audit, "CFT-LC-03", "rolled").empty
    assert not hits(run(rolled), "CFT-LC-03").empty


def test_suppression_by_token_name_takes_any_glob() -> None:
    """A token_name pattern with several ``*`` (Python reads it with an atomic group, which
    the text column's regex engine refuses) matches like fnmatch: whole name, case
    sensitive, ``?`` one character."""

    ci = token("ci-deploy-prod", allow(["DNS Write"], zone(ZONE)), ip_in=[])
    other = token("CI-deploy-prod", allow(["DNS Write"], zone(ZONE)), ip_in=[])
    entry = {
        "rule": "CFT-NW-01",
        "match": {"token_name": ["*-deploy-*", "x?"]},
        "reason": "egress IPs pending",
        "owner": "platform",
        "expires": "2026-12-30",
    }
    audit = run(ci, other, suppressions=[entry])
    assert bool(hits(audit, "CFT-NW-01", "ci-deploy-prod")["suppressed"].iloc[0])
    assert bool(hits(audit, "CFT-NW-01", "CI-deploy-prod")["suppressed"].iloc[0])
    entry["match"] = {"token_name": ["ci-*-prod*"]}
    audit = run(ci, other, suppressions=[entry])
    assert bool(hits(audit, "CFT-NW-01", "ci-deploy-prod")["suppressed"].iloc[0])
    assert not bool(hits(audit, "CFT-NW-01", "CI-deploy-prod")["suppressed"].iloc[0])
