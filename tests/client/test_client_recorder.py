"""Recorder: the requests a client sends, as observed usage for the advisor and the audit."""

from __future__ import annotations

import warnings

import pytest

import cftokens as cft
from cftokens.sandbox import Sandbox


@pytest.fixture
def sb(demo_company: Sandbox) -> Sandbox:
    return demo_company.copy()


def dns_token(sb: Sandbox) -> tuple[cft.CreatedToken, str]:
    """A token with DNS Write and Zone Read on one zone, from the bootstrap client."""
    zone = sb.directory().zone("acme-status.example")
    spec = cft.TokenSpec(
        name="recorded-job",
        policies=[cft.Policy.allow(["DNS Write", "Zone Read"], zones=[zone.id])],
    )
    return sb.client().tokens.create(spec), zone.id


def test_every_answer_is_a_row_and_verify_fills_in_the_token(sb: Sandbox) -> None:
    """Each HTTP answer (refusals too) becomes a row with its operation, zone and status; the
    token id learned from verify() is filled into earlier rows."""
    created, zone = dns_token(sb)
    recorder = cft.Recorder(clock=sb.clock.now)
    client = sb.client(token=created.secret, recorder=recorder)
    client.dns_records.list(zone).collect()
    with pytest.raises(cft.PermissionDenied):
        client.request("GET", f"/zones/{zone}/firewall/rules")
    assert recorder.token_id is None
    client.tokens.verify()
    rows = list(recorder)
    assert [r["status"] for r in rows] == [200, 403, 200]
    assert {r["token_id"] for r in rows} == {created.id}
    assert rows[0]["operation_id"] == "dns-records-for-a-zone-list-dns-records"
    assert rows[0]["zone_id"] == zone
    assert rows[0]["time"] == sb.clock.now()
    frame = recorder.frame()
    assert str(frame["time"].dt.tz) == "UTC"
    assert str(frame["status"].dtype) == "Int64"
    assert repr(recorder) == f"Recorder(3 requests, token_id={created.id!r})"


def test_recorded_usage_designs_the_least_privilege_token(sb: Sandbox) -> None:
    """least_privilege_from_usage reads a recorder: the job listed and created DNS records, so
    the advice is DNS Write on that zone only (Zone Read was never needed)."""
    created, zone = dns_token(sb)
    recorder = cft.Recorder(clock=sb.clock.now)
    client = sb.client(token=created.secret, recorder=recorder)
    client.tokens.verify()
    client.dns_records.list(zone).collect()
    client.dns_records.create(zone, type="TXT", name="_job", content="ok")
    advice = cft.least_privilege_from_usage(recorder, directory=sb.directory())
    grants = {(g.group.name, g.resource) for g in advice.grants}
    assert grants == {("DNS Write", cft.Resource.zone(zone))}


def test_the_audit_reads_a_recorder_as_usage(sb: Sandbox) -> None:
    """cft.run_audit(..., usage=recorder) evaluates the usage rules: the recorded token never used
    Zone Read, which CFT-SC-06 reports as unused."""
    created, zone = dns_token(sb)
    recorder = cft.Recorder(clock=sb.clock.now)
    client = sb.client(token=created.secret, recorder=recorder)
    client.tokens.verify()
    client.dns_records.list(zone).collect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = cft.run_audit(sb, usage=recorder, progress=False)
    mine = result.findings[result.findings["token_id"] == created.id]
    unused = mine[mine["rule_id"] == "CFT-SC-06"]
    assert list(unused["group"]) == ["Zone Read"]


def test_no_secret_is_recorded_and_bad_arguments_are_refused(sb: Sandbox) -> None:
    """Rows hold no credential; the recorder's arguments are checked with clear errors."""
    created, zone = dns_token(sb)
    recorder = cft.Recorder(max_rows=2)
    client = sb.client(token=created.secret, recorder=recorder)
    for _ in range(3):
        client.dns_records.list(zone).collect()
    assert len(recorder) == 2 and recorder.dropped == 1
    text = repr(list(recorder)) + recorder.frame().to_string()
    assert created.secret.reveal() not in text
    assert "Bearer" not in text
    with pytest.raises(cft.InvalidInput, match="max_rows"):
        cft.Recorder(max_rows=0)
    with pytest.raises(cft.InvalidInput, match=r"cftokens\.Recorder"):
        cft.Client(token="x" * 40, recorder=[])  # type: ignore[arg-type]


def test_rows_follow_the_usage_schema_with_ip_and_actor(sb: Sandbox) -> None:
    """Recorder rows have the usage table's columns, ip and actor included: the recorder's
    ``ip=``/``actor=`` reach the audit's usage table, which has the same columns in order."""
    from cftokens._usage import USAGE_COLUMNS
    from cftokens.audit.usage import normalise_usage

    created, zone = dns_token(sb)
    recorder = cft.Recorder(clock=sb.clock.now, ip="198.51.100.7", actor="dns-sync job")
    client = sb.client(token=created.secret, recorder=recorder)
    client.dns_records.list(zone).collect()
    (row,) = list(recorder)
    assert tuple(row) == USAGE_COLUMNS
    assert (row["ip"], row["actor"]) == ("198.51.100.7", "dns-sync job")
    assert tuple(recorder.frame().columns) == USAGE_COLUMNS
    assert str(recorder.frame()["ip"].dtype) == "string"
    usage = normalise_usage(recorder)
    assert tuple(usage.columns) == USAGE_COLUMNS
    assert (usage["ip"].iloc[0], usage["actor"].iloc[0]) == ("198.51.100.7", "dns-sync job")
    with pytest.raises(cft.InvalidInput, match="egress"):
        cft.Recorder(ip="198.51.100.0/24")
    with pytest.raises(cft.InvalidInput, match="actor must be text"):
        cft.Recorder(actor=["job"])  # type: ignore[arg-type]


def test_global_api_key_rows_name_the_email_that_used_it(sb: Sandbox) -> None:
    """With the Global API Key the client records its email as each row's actor, so CFT-ID-01
    names who still uses the key (not "unknown actor"); the key itself is never recorded."""
    recorder = cft.Recorder(clock=sb.clock.now)
    email = sb.user.email or ""
    client = cft.Client(
        api_key=sb.global_api_key,
        email=email,
        transport=sb.transport(),
        recorder=recorder,
        rate_limit=None,
    )
    client.zones.list().collect()
    rows = list(recorder)
    assert rows and {(r["auth"], r["actor"]) for r in rows} == {("api_key", email)}
    assert sb.global_api_key.reveal() not in repr(rows) + recorder.frame().to_string()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = cft.run_audit(sb, usage=recorder, progress=False)
    evidence = result.findings.loc[result.findings["rule_id"] == "CFT-ID-01", "evidence"]
    assert len(evidence) == 1 and evidence.iloc[0].startswith(f"{email}: ")
