"""advice.verify(sandbox): the advised token, created for real, does exactly what it claims."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import attrs
import pytest

import cftokens as cft
from cftokens.advisor import least_privilege


@pytest.fixture(scope="module")
def sandbox(demo_company: cft.Sandbox) -> Iterator[cft.Sandbox]:
    """The demo company."""
    with demo_company.copy() as sb:
        yield sb


def advise(sb: cft.Sandbox, **kwargs: object) -> cft.Advice:
    directory = sb.directory()
    account = directory.accounts[0]
    zone = directory.zones_of(account.id)[0]
    return least_privilege(
        [
            "GET /zones/{zone_id}/dns_records",
            "POST /zones/{zone_id}/dns_records",
            "GET /zones/{zone_id}/dns_records/{dns_record_id}",
            "GET /zones/{zone_id}/settings",  # authorised, not emulated: 501
            "GET /accounts/{account_id}/tokens",
        ],
        zone=zone.name,
        account=account.id,
        directory=sb,
        now=sb.clock.now(),
        **kwargs,  # type: ignore[arg-type]
    )


def test_intents_allowed_and_near_misses_denied(sandbox: cft.Sandbox) -> None:
    """Every intent is allowed (a 501 after authorisation counts), every near miss (other zone,
    other account, write where read was asked, outside the allowlist) is denied, and the token
    is deleted afterwards."""
    advice = advise(sandbox, allow_ips=["127.0.0.1/32"])
    frame = advice.verify(sandbox)
    assert frame.attrs["all_ok"]
    assert frame["ok"].all()
    intents = frame[frame["kind"] == "intent"]
    assert len(intents) == len(advice.covered)
    assert (intents["outcome"] == "allowed").all()
    assert 501 in set(intents["status"])
    assert 404 in set(intents["status"])  # {dns_record_id} filled with an id naming nothing
    misses = frame[frame["kind"] != "intent"]
    assert set(misses["kind"]) == {
        "other zone",
        "other account",
        "write instead of read",
        "outside allowlist",
    }
    assert (misses["outcome"] == "denied").all()
    assert misses["reason"].str.startswith("denied").any()
    token_id = frame.attrs["token_id"]
    assert token_id not in {t.id for t in sandbox.tokens()}


def test_a_token_missing_a_grant_fails_verification(sandbox: cft.Sandbox) -> None:
    """If the spec lacks a grant the advice claims, the intent row is denied and not ok."""
    advice = advise(sandbox)
    crippled = attrs.evolve(advice, spec=advice.spec.replace(policies=advice.spec.policies[:1]))
    frame = crippled.verify(sandbox, near_misses=0)
    assert not frame.attrs["all_ok"]
    failed = frame[~frame["ok"]]
    assert list(failed["path"].str.contains("/tokens")) == [True]
    assert failed.iloc[0]["outcome"] == "denied"


def test_keep_leaves_the_token_and_no_secret_appears(sandbox: cft.Sandbox) -> None:
    """keep=True leaves the token in the sandbox; no issued secret appears in the frame."""
    advice = advise(sandbox)
    frame = advice.verify(sandbox, keep=True, near_misses=3)
    token_id = frame.attrs["token_id"]
    assert token_id in {t.id for t in sandbox.tokens()}
    text = frame.to_csv() + repr(frame) + str(frame.attrs)
    for secret in sandbox.issued_secrets():
        assert secret.reveal() not in text
    assert len(frame[frame["kind"] != "intent"]) <= 3


def test_override_intents_are_undecidable(sandbox: cft.Sandbox) -> None:
    """An intent mapped only by an override is reported undecidable (ok missing), not a
    failure."""
    zone = sandbox.directory().zones[0]
    advice = least_privilege(
        ["GET /zones/{zone_id}/argo/tiered_caching"],
        zone=zone.id,
        overrides={"GET /zones/{zone_id}/argo/tiered_caching": ["Zone Read"]},
        directory=sandbox,
        now=sandbox.clock.now(),
    )
    frame = advice.verify(sandbox, near_misses=0)
    assert list(frame["outcome"]) == ["undecidable"]
    assert frame["ok"].isna().all()
    assert frame.attrs["all_ok"]


def test_verify_refuses_a_window_outside_the_sandbox_clock(sandbox: cft.Sandbox) -> None:
    """A token that would already be expired at the sandbox's time is refused with the fix."""
    advice = advise(sandbox)
    expired = attrs.evolve(
        advice, spec=advice.spec.replace(expires_on=sandbox.clock.now() - timedelta(days=1))
    )
    with pytest.raises(cft.InvalidInput, match=r"now=sandbox\.clock\.now"):
        expired.verify(sandbox)
    with pytest.raises(cft.InvalidInput, match=r"needs a cftokens\.Sandbox"):
        advice.verify(object())
