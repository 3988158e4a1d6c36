"""advice.verify(sandbox, token=...) proves account-owned advice with an admin credential."""

from __future__ import annotations

from datetime import timedelta

import pytest

import cftokens as cft


def _account_advice(sb: cft.Sandbox) -> tuple[cft.Advice, str]:
    directory = sb.directory()
    account = directory.account("Acme Production")
    advice = cft.least_privilege(
        ["GET /zones/{zone_id}/dns_records", "GET /accounts/{account_id}/tokens"],
        zone="acme.example",
        account=account.id,
        owner="account",
        directory=directory,
        now=sb.clock.now(),
    )
    return advice, account.id


def _admin(sb: cft.Sandbox, account_id: str) -> cft.Secret:
    spec = cft.TokenSpec(
        name="admin",
        policies=[cft.Policy.allow(["Account API Tokens Write"], accounts=[account_id])],
        expires_on=sb.clock.now() + timedelta(hours=1),
    )
    with sb.client() as client:
        return client.tokens.create(spec).secret


def test_account_owned_advice_verifies_with_an_admin_token(
    demo_company: cft.Sandbox,
) -> None:
    """With token= holding Account API Tokens Write, the trial token is account-owned."""
    sb = demo_company.copy(rate_limit=None)
    advice, account_id = _account_advice(sb)
    proof = advice.verify(sb, token=_admin(sb, account_id))
    assert proof.attrs["all_ok"]
    assert (proof["kind"] == "intent").sum() == 2
    created = proof.attrs["token_id"]
    assert created not in {t.id for t in sb.tokens()}  # deleted again
    journal = sb.journal
    assert (journal.loc[journal["token_id"] == created, "owner_type"] == "account").all()


def test_without_an_admin_token_the_refusal_says_why(
    demo_company: cft.Sandbox,
) -> None:
    """The demo's bootstrap token cannot create account tokens: a clear InvalidInput."""
    sb = demo_company.copy(rate_limit=None)
    advice, _ = _account_advice(sb)
    with pytest.raises(cft.InvalidInput, match="refused to create the advised token"):
        advice.verify(sb)
