"""A secret given to triage with its prefix in another case (``CFUT_…``, as a log in capitals
or a sentence's first word writes it) is the secret Cloudflare wrote in lower case, as the
leak scanner reads it: triage and the verifier check that secret, so a live token is not
reported unknown (or, on the account path, invalid)."""

from __future__ import annotations

import re

import pytest

import cftokens as cft
from cftokens.leak import Verifier
from cftokens.sandbox import Sandbox


@pytest.fixture(scope="module")
def leak(leak_company: Sandbox) -> Sandbox:
    return leak_company.copy(rate_limit=None)


def _leaked(sb: Sandbox) -> str:
    text = sb.extras["repository"][sb.extras["leak"]["file"]]
    return re.search(r"cfut_\w+", text).group()  # type: ignore[union-attr]


@pytest.mark.parametrize("prefix", ["CFUT_", "Cfut_", "cfUT_"])
def test_a_prefix_in_another_case_is_verified_as_cloudflare_writes_it(
    leak: Sandbox, prefix: str
) -> None:
    secret = _leaked(leak)
    spelled = prefix + secret[5:]
    verifier = Verifier(sandbox=leak)
    # an account given: the account path alone would call the live user token invalid
    for account in (None, leak.extras["accounts"]["production"]):
        found = cft.triage(spelled, verifier=verifier, account=account)
        assert found.verification.status == "live", found.verification
        assert found.fingerprint == f"cfut_…{secret[-4:]}"
    assert verifier.check(cft.Secret(spelled)).status == "live"
