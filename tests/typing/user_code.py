"""Realistic user code against the client, checked by ``mypy tests/typing`` (strict, from the
project's mypy configuration; a step of ``.ci/run``; never executed).

Every public call must type-check without casts, and ``assert_type`` pins what each call
returns; ``misuse.py`` next to it holds what must not type-check.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import assert_type

import httpx
import pandas as pd

import cftokens as cft
from cftokens.client import (
    AsyncPager,
    AuditLogRecord,
    DnsRecord,
    JSONValue,
    Pager,
    RateLimit,
    Retry,
)


def rotate_ci_token(account_id: str, zone_id: str) -> cft.Secret:
    """Create a least-privilege CI token, narrow it, roll it, and return the new secret."""
    with cft.Client.from_env(account_id=account_id, max_retries=Retry(total=2)) as client:
        assert_type(client, cft.Client)
        verified = client.tokens.verify()
        assert_type(verified, cft.VerifyResult)
        assert_type(verified.active, bool)

        spec = cft.TokenSpec(
            name="ci-dns",
            policies=[cft.Policy.allow(["DNS Write"], zones=[zone_id])],
            allow_ips=["203.0.113.0/24"],
            expires_on=datetime.now(UTC) + timedelta(days=30),
        )
        try:
            created = client.account(account_id).tokens.create(spec)
        except cft.MaybeCreated as unclear:
            matches = [
                t for t in client.account(account_id).tokens.list() if t.name == unclear.name
            ]
            raise SystemExit(f"check {len(matches)} token(s) named {unclear.name}") from None
        assert_type(created, cft.CreatedToken)
        assert_type(created.secret, cft.Secret)
        assert_type(created.token, cft.Token)

        narrowed = client.account(account_id).tokens.update(
            created.token.id, allow_ips=["203.0.113.7/32"]
        )
        assert_type(narrowed, cft.Token)
        try:
            secret = client.account(account_id).tokens.roll(narrowed.id)
        except cft.MaybeRolled as unclear:
            secret = client.account(account_id).tokens.roll(unclear.token_id)
        assert_type(secret, cft.Secret)
        return secret


def inventory(token: cft.Secret) -> dict[str, list[str]]:
    """Names of every user token and every zone, and the DNS records of one zone."""
    client = cft.Client(token=token, rate_limit=RateLimit(requests=600, per=300), timeout=10)
    assert_type(client.rate_limit, RateLimit | None)
    pager = client.tokens.list(per_page=50, include_expired=True)
    assert_type(pager, Pager[cft.Token])
    names = [t.name for t in pager]
    zones = client.zones.list(name="example.com", status="active").collect()
    assert_type(zones, list[cft.Zone])
    records: list[DnsRecord] = []
    for zone in zones:
        records += client.dns_records.list(zone.id, type="A")
        record = client.dns_records.create(zone.id, type="TXT", name="_check", content="ok")
        client.dns_records.update(zone.id, record.id, ttl=300)
        client.dns_records.delete(zone.id, record.id)
    directory = client.directory()
    assert_type(directory, cft.Directory)
    assert_type(client.user.get(), cft.User)
    assert_type(client.accounts.get(zones[0].account_id), cft.Account)
    groups = client.permission_groups.list(scope="zone").collect()
    assert_type(groups, list[cft.PermissionGroup])
    policy = cft.Policy.allow([groups[0]], zones=[zones[0].id])
    assert_type(policy, cft.Policy)
    rules = client.request("GET", f"/zones/{zones[0].id}/firewall/rules", params={"page": 1})
    assert_type(rules, JSONValue)
    if isinstance(rules, list):  # someone else's JSON: narrowed before use
        names += [str(r.get("description")) for r in rules if isinstance(r, dict)]
    client.close()
    return {"tokens": names, "records": [r.name for r in records]}


def who_rolled(client: cft.Client, account_id: str) -> list[str]:
    """Token ids that performed a roll in the last week, from Audit Logs v2."""
    since = datetime.now(UTC) - timedelta(days=7)
    rows = client.account(account_id).audit_logs.list(since=since, action_type="roll")
    assert_type(rows, Pager[AuditLogRecord])
    return [r.actor_token_id for r in rows if r.actor_token_id is not None]


def handle_errors(client: cft.Client, token_id: str) -> str:
    """The error tree narrows as users expect."""
    try:
        client.tokens.delete(token_id)
    except cft.PermissionDenied as denied:
        assert_type(denied.needed, tuple[str, ...])
        return "needs " + ", ".join(denied.needed)
    except cft.RateLimited as limited:
        assert_type(limited.retry_after, float | None)
        return "later"
    except cft.APIError as failed:
        assert_type(failed.status, int | None)
        assert_type(failed.codes, tuple[int, ...])
        return failed.request_id or "no ray"
    except cft.TransportError:
        return "network"
    return "deleted"


async def audit_all_accounts(token: str) -> dict[str, int]:
    """Count account-owned tokens per account, concurrently."""
    transport = httpx.AsyncHTTPTransport(retries=0)
    async with cft.AsyncClient(token=token, transport=transport) as client:
        assert_type(client, cft.AsyncClient)
        mine = client.tokens.list(concurrency=4)
        assert_type(mine, AsyncPager[cft.Token])
        first = [t async for t in mine][:1]
        assert_type(first, list[cft.Token])
        by_account = await client.tokens_by_account(concurrency=8, skip_denied=True)
        assert_type(by_account, dict[str, list[cft.Token]])
        verified = await client.account(next(iter(by_account))).tokens.verify()
        assert_type(verified, cft.VerifyResult)
        directory = await client.directory()
        assert_type(directory, cft.Directory)
        return {account: len(tokens) for account, tokens in by_account.items()}


def run() -> None:
    """Entry point a user would write."""
    print(asyncio.run(audit_all_accounts("cfut_example")))


def audit_the_sandbox_with_recorded_usage() -> cft.Audit:
    """The audit takes a Sandbox (an AuditSource, without the audit importing the sandbox) and
    a Recorder as usage; the recorder's rows have the usage table's columns."""
    sb = cft.Sandbox.demo()
    recorder = cft.Recorder(clock=sb.clock.now, ip="198.51.100.7", actor="nightly job")
    sb.client(recorder=recorder).zones.list().collect()
    for row in recorder:
        assert_type(row["ip"], str | None)
    audit = cft.run_audit(sb, usage=recorder, progress=False)
    assert_type(audit, cft.Audit)
    assert_type(audit.iter_findings(), Iterator[cft.Finding])
    spec = cft.TokenSpec(name="t", policies=[cft.Policy.allow(["DNS Read"], zones=["z" * 32])])
    assert_type(spec.replace(name="t2", allow_ips=["192.0.2.0/24"], status="active"), cft.TokenSpec)
    assert_type(spec.policies[0].describe(sb.directory()), str)
    assert_type(cft.Sandbox.demo(seed=1, rate_limit="100/60s"), cft.Sandbox)
    assert_type(cft.evaluate(spec, "DNS Read", ip=ipaddress.ip_address("192.0.2.1")), cft.Decision)
    return audit


def audit_terraform_then_replay(path: str) -> int:
    """The audit's constructors take typed options (TypedDicts, not **kwargs: Any); summary()
    and the frames have precise types."""
    audit = cft.Audit.from_terraform(path, var_files=["prod.tfvars"], profile="ci")
    again = cft.Audit.from_json(audit.to_json(), profile="strict", now=datetime.now(UTC))
    summary = again.summary()
    assert_type(summary["live_tokens"], int)
    assert_type(summary["findings"], dict[str, int])
    assert_type(again.grants, pd.DataFrame)
    assert_type(again.who_can("DNS Write", zone="example.com"), pd.DataFrame)
    known = {"3f2a…": "ed17574386854bf78a67040be0a770b0"}
    checked = again.scan_secrets(".env", verify=lambda secret: known.get(secret.fingerprint()))
    return summary["tokens"] + len(checked.findings)


def design_and_shrink_in_the_sandbox(zone: str) -> cft.RightSize:
    """The sandbox's clients take the client's own settings; the advisor takes intents
    (strings, client methods, operations) and a directory source (a Directory, a client or a
    sandbox); right-sizing takes intents, an Advice or usage rows."""
    sb = cft.Sandbox.demo()
    client = sb.client(max_retries=0, rate_limit=None, recorder=cft.Recorder())
    assert_type(client, cft.Client)
    assert_type(sb.async_client(timeout=5.0), cft.AsyncClient)
    advice = cft.least_privilege(
        ["GET /zones", client.dns_records.create, ("GET", "/accounts")],
        zone=zone,
        directory=client,
    )
    assert_type(advice, cft.Advice)
    assert_type(cft.least_privilege("GET /zones", directory=sb.directory()), cft.Advice)
    token = client.tokens.list().collect()[0]
    assert_type(cft.rightsize(token, advice, directory=sb), cft.RightSize)
    assert_type(cft.rightsize(token, sb.journal), cft.RightSize)
    resized = cft.rightsize(token, ["GET /zones"], directory=sb)
    assert_type(resized.apply(client), cft.Token)
    assert_type(cft.least_privilege_from_usage(sb.journal, zone=zone), cft.Advice)
    assert_type(cft.Condition.of(allow="203.0.113.0/24"), cft.Condition)
    assert_type(cft.Directory(accounts=sb.directory().accounts), cft.Directory)
    assert_type(cft.triage(cft.Secret("x" * 40), admin=sb), cft.Triage)
    assert_type(cft.scan(".", verify=sb), cft.ScanResult)
    return resized
