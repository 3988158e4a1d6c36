"""One fix per token: typed steps, each once, by name; built from usage like rightsize; a PUT
body that keeps at least one policy (else a delete); applied to the sandbox, what the token used
keeps working."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from audit_helpers import USER_RES, allow, run, token, zone
from audit_helpers import ZONE as HELPER_ZONE

import cftokens as cft
from cftokens.audit import Audit
from cftokens.audit.steps import (
    DeleteToken,
    Disable,
    RemoveGroups,
    ReplaceFirst,
    SetAllowlist,
    SetExpiry,
)
from cftokens.errors import AuthenticationError, PermissionDenied
from cftokens.policy import effective_grants

HEX_ID = re.compile(r"\b[0-9a-f]{32}\b")
BIG = ("terraform-cloud", "dana-full-access-2023")


@pytest.fixture(scope="module")
def with_usage(demo_audit: Audit) -> Audit:
    return demo_audit


@pytest.fixture(scope="module")
def without_usage(demo_audit_without_usage: Audit) -> Audit:
    return demo_audit_without_usage


def _id(audit: Audit, name: str) -> str:
    t = audit.tokens
    return str(t.loc[t["name"] == name, "token_id"].item())


def _owning_account(audit: Audit, tid: str) -> str | None:
    """The account that owns the token (None for a user-owned one), from the tokens frame."""
    row = audit.tokens.set_index("token_id").loc[tid]
    return str(row["owner_id"]) if row["kind"] == "account" else None


def _used(audit: Audit, tid: str) -> Any:
    """The token's successful requests in the audit's usage window."""
    usage = audit.usage
    start = audit.now - timedelta(days=audit.profile.thresholds.usage_window_days)
    return usage[
        (usage["token_id"] == tid)
        & (usage["status"] < 400)
        & (usage["time"] >= start)
        & (usage["time"] <= audit.now)
    ]


def _check_one_fix(fix: Any) -> None:
    kinds = [type(s).__name__ for s in fix.steps]
    assert len(kinds) == len(set(kinds)), kinds  # each kind of step once
    lines = fix.lines()
    assert len(lines) == len(set(lines))
    assert all(line.startswith(f"{i}. ") for i, line in enumerate(lines, start=1))
    # names, not ids, in the steps (the roll step names the request path)
    assert not [line for line in lines if HEX_ID.search(line) and "/value" not in line]
    assert sum(isinstance(s, SetExpiry) for s in fix.steps) <= 1
    assert sum(isinstance(s, SetAllowlist) for s in fix.steps) <= 1
    assert fix.method == "PUT" and fix.put_body is not None
    assert fix.put_body["policies"], "a PUT body always keeps at least one policy"
    assert str(fix).splitlines()[1 : 1 + len(lines)] == lines


@pytest.mark.parametrize("name", BIG)
def test_big_tokens_get_one_fix_each_step_once_by_name(with_usage: Audit, name: str) -> None:
    """terraform-cloud listed one removal twice, raw ids, seven allowlists, two expiries and a
    PUT with no policy; dana-full-access-2023 nineteen allowlists."""
    fix = with_usage.fix(_id(with_usage, name))
    _check_one_fix(fix)
    assert "from its" in fix.evidence and "requests" in fix.evidence
    text = str(fix)
    assert text.count("allow only") == 1 and text.count("expire on") == 1
    assert len(fix.steps) <= 7


@pytest.mark.parametrize("name", BIG)
def test_fix_from_usage_keeps_exactly_what_rightsize_keeps(
    demo_company: cft.Sandbox, with_usage: Audit, name: str
) -> None:
    """Built from the same evidence as rightsize: the body's effective grants are the
    right-sized token's (the audited token as the audited company holds it; read only)."""
    tid = _id(with_usage, name)
    resized = cft.rightsize(
        demo_company.token(tid),
        _used(with_usage, tid),
        directory=with_usage.directory,
        account_id=_owning_account(with_usage, tid),
    )
    fix = with_usage.fix(tid)
    got = {(g.group_id, g.resource) for g in effective_grants(cft.TokenSpec.from_api(fix.put_body))}
    want = {(g.group_id, g.resource) for g in effective_grants(resized.spec)}
    assert got == want


@pytest.mark.parametrize("name", BIG)
def test_applied_fix_keeps_what_the_token_used_working(
    demo: cft.Sandbox, with_usage: Audit, name: str
) -> None:
    """PUT fix.put_body through client.tokens.update, roll, then replay every request the
    token made successfully in the usage window from its own address: none is refused."""
    sandbox = demo  # its own copy: the update must not change the others' tokens
    tid = _id(with_usage, name)
    assert sandbox.token(tid).name == name
    fix = with_usage.fix(tid)
    account = _owning_account(with_usage, tid)
    now = sandbox.clock.now()
    bootstrap = sandbox.client()
    if account is not None:
        glass = bootstrap.tokens.create(
            cft.TokenSpec(
                name="break-glass",
                policies=[cft.Policy.allow(["Account API Tokens Write"], accounts=[account])],
                expires_on=now + timedelta(hours=1),
            )
        )
        tokens = sandbox.client(token=glass.secret).account(account).tokens
    else:
        tokens = bootstrap.tokens
    updated = tokens.update(tid, fix.put_body)
    assert [p.to_api()["permission_groups"] for p in updated.policies]
    secret = tokens.roll(tid)
    used = _used(with_usage, tid)
    assert len(used)
    refused = []
    for (method, path, ip), _ in used.groupby(["method", "path", "ip"], observed=True):
        client = sandbox.client(token=secret, ip=str(ip), max_retries=0, rate_limit=None)
        try:
            client.request(str(method), str(path), json={} if method in ("PUT", "POST") else None)
        except (PermissionDenied, AuthenticationError) as exc:
            refused.append(f"{method} {path}: {exc}")
        except cft.APIError:
            pass  # refused after authorisation (an empty body, a missing object)
    assert not refused, refused[:3]


def test_fix_without_usage_names_the_placeholder_and_keeps_a_policy(without_usage: Audit) -> None:
    """Without usage: the rules' edits merged once; the allowlist CIDRs must come from the
    user and the placeholder is named; the body still holds policies."""
    fix = without_usage.fix(_id(without_usage, "terraform-cloud"))
    _check_one_fix(fix)
    assert fix.placeholders == ("REPLACE-WITH-YOUR-CALLERS-CIDR",)
    assert not fix.complete and fix.spec is None
    assert "REPLACE-WITH-YOUR-CALLERS-CIDR" in str(fix)
    removed = [s for s in fix.steps if isinstance(s, RemoveGroups)]
    assert removed and "Account API Tokens Write" in removed[0].describe()
    groups = {g["name"] for p in fix.put_body["policies"] for g in p["permission_groups"]}
    assert "Account API Tokens Write" not in groups and "DNS Write" in groups


def test_fix_that_would_leave_nothing_never_breaks_a_token_in_use() -> None:
    """A fix never PUTs a token with no policy. A token its findings would empty is disabled
    when unused (saying its last use); one used within the usage window is never emptied or
    deleted on its findings alone (its callers would break): it keeps its grants until a
    replacement exists, and the other steps still apply."""
    stale = token("stale", allow(["API Tokens Write"], USER_RES), expires=10, last_used=-45)
    fix = run(stale).fix(stale["id"])  # unused for 45 days: CFT-LC-04 disables it first
    assert [type(s) for s in fix.steps] == [Disable] and "last used 2026-10-13" in str(fix)
    busy = token("busy", allow(["API Tokens Write"], USER_RES), expires=None, last_used=-3)
    fix = run(busy).fix(busy["id"])
    assert [type(s) for s in fix.steps] == [ReplaceFirst, SetExpiry]
    assert fix.put_body is not None and fix.put_body["policies"] == busy["policies"]
    assert "last used 2026-11-24" in str(fix) and "API Tokens Write" in str(fix)
    assert "never used" in DeleteToken(last_used=None).describe()
    never = token("never", allow(["API Tokens Write"], USER_RES), expires=10, last_used=None)
    fix = run(never).fix(never["id"])
    assert [type(s) for s in fix.steps] == [Disable]
    assert fix.put_body is not None and fix.put_body["status"] == "disabled"
    assert "never used" in str(fix)


def test_single_rule_fix_is_a_typed_step_too() -> None:
    """fix(token, rule=…) and finding_fix use the same steps: names, no raw group ids."""
    wide = token("wide", allow(["DNS Write", "Zone Write"], zone(HELPER_ZONE)), expires=None)
    audit = run(wide)
    fix = audit.fix(wide["id"], rule="CFT-LC-01")
    assert [type(s) for s in fix.steps] == [SetExpiry]
    assert fix.put_body is not None and fix.put_body["expires_on"]
    assert str(fix).startswith("Fix for 'wide' (PUT /user/tokens/")


@pytest.mark.parametrize("usage", [True, False], ids=["from-usage", "from-findings"])
def test_every_fix_built_from_usage_is_a_body_cloudflare_accepts(
    demo: cft.Sandbox, usage: bool, with_usage: Audit, without_usage: Audit
) -> None:
    """Each complete PUT is accepted by the sandbox as it is, with and without usage data:
    legacy-analytics kept its unknown group ("Analytics Read (legacy)", which it never used and
    which grants nothing), and Cloudflare refuses a body naming an unknown group. A disable
    kept the parts Cloudflare refuses (a misfit policy, a deleted zone, an unparsed key), so
    applying it answered 400: now they go first, and a token left with nothing is deleted."""
    audit = with_usage if usage else without_usage
    sandbox = demo
    admin = cft.Client(
        api_key=sandbox.global_api_key,
        email=sandbox.user.email,
        transport=sandbox.transport(),
        rate_limit=None,
    )
    refused, applied = [], 0
    for row in audit.tokens.itertuples():
        fix = audit.fix(str(row.token_id))
        if fix.put_body is None or not fix.complete:
            continue
        tokens = admin.account(str(row.owner_id)).tokens if row.kind == "account" else admin.tokens
        try:
            tokens.update(str(row.token_id), fix.put_body)
            applied += 1
        except cft.BadRequest as exc:
            refused.append(f"{row.name}: {exc}")
    assert not refused, refused
    assert applied >= (10 if usage else 6)  # without usage, most need your CIDRs first
    for name in ("workers-read-on-zone", "deleted-zone-token"):
        fix = audit.fix(_id(audit, name))
        assert fix.method == "DELETE" and fix.put_body is None, str(fix)
        assert [type(s) for s in fix.steps] == [DeleteToken], str(fix)
        assert "never used" in str(fix)
    fix = audit.fix(_id(audit, "unparsed-key-token"))
    assert fix.put_body is not None and fix.put_body["status"] == "disabled", str(fix)
    assert any(isinstance(s, Disable) for s in fix.steps)
    assert "acme-legacy" not in str(fix.put_body)
    if usage:
        fix = audit.fix(_id(audit, "legacy-analytics"))
        assert "Analytics Read (legacy)" in str(fix)


def test_account_owned_copy_is_accepted_and_keeps_the_job_working(
    demo: cft.Sandbox, with_usage: Audit
) -> None:
    """CFT-ID-02's fix (an account-owned copy of a personal token doing automation) copied the
    user token verbatim: flat zone keys, which an account-owned token must nest under its
    account, and grants on the user, which it cannot hold at all; every such POST was refused.
    Now the copy nests the zones, is accepted, and replays what the token used; a token that
    needs grants on the user gets no request, and the fix says why."""
    sandbox = demo
    admin = cft.Client(
        api_key=sandbox.global_api_key,
        email=sandbox.user.email,
        transport=sandbox.transport(),
        rate_limit=None,
    )
    copies = []
    for row in with_usage.tokens.itertuples():
        tid = str(row.token_id)
        fix = with_usage.fix(tid)
        if "account-owned" not in str(fix):
            continue
        if fix.method != "POST":
            assert fix.body is None and "on the user" in str(fix), str(fix)
            copies.append((row.name, None))
            continue
        created = admin.request("POST", fix.path, json=fix.body)
        secret = created["value"]
        refused = []
        for (method, path, ip), _ in _used(with_usage, tid).groupby(
            ["method", "path", "ip"], observed=True
        ):
            client = sandbox.client(token=secret, ip=str(ip), max_retries=0, rate_limit=None)
            try:
                client.request(str(method), str(path))
            except (PermissionDenied, AuthenticationError) as exc:
                refused.append(f"{method} {path}: {exc}")
            except cft.APIError:
                pass
        assert not refused, (row.name, refused[:2])
        copies.append((row.name, fix.method))
    named = dict(copies)
    assert named.get("noop-deny") == "POST" and named.get("renamed-group-token") == "POST"
    assert named.get("token-inventory-readonly", "missing") is None
