"""--verify against the sandbox: live, invalid, expired/disabled, unknown; one call per secret."""

from __future__ import annotations

import io
from pathlib import Path

import httpx

import cftokens as cft
from cftokens.leak import Verifier, scan
from cftokens.sandbox import Sandbox

FAKE = "cfut_" + "Q" * 20 + "w8E2r4T6y8U0i2O4p6A8" + "s1D3f5"  # right shape, never issued


def _verify_requests(sb: Sandbox) -> int:
    journal = sb.journal
    return int(journal["path"].str.endswith("/tokens/verify").sum())


def test_statuses_from_the_sandbox(demo: Sandbox, tmp_path: Path) -> None:
    """A live token, a disabled one, an expired one and an unknown string get their status."""
    admin = demo.client()
    spec = cft.templates["Edit zone DNS"].build(zones=[demo.extras["zones"]["acme.example"]],
                                                 name="leak-test")  # fmt: skip
    live = admin.tokens.create(spec)
    disabled = admin.tokens.create(spec.replace(name="leak-test-disabled"))
    admin.tokens.update(disabled.id, status="disabled")
    (tmp_path / "a.env").write_text(
        f"ONE={live.secret.reveal()}\nTWO={disabled.secret.reveal()}\nTHREE={FAKE}\n"
    )
    result = scan(tmp_path, verify=demo)
    status = {h.line: (h.status, h.token_id) for h in result.hits}
    assert status == {
        1: ("live", live.id),
        2: ("expired/disabled", disabled.id),
        3: ("invalid", None),
    }
    assert result.failed("live")


def test_expired_tokens_are_expired_disabled(demo: Sandbox) -> None:
    """A token past its expires_on verifies as expired/disabled."""
    from datetime import timedelta

    admin = demo.client()
    spec = (
        cft.templates["Edit zone DNS"]
        .build(zones=[demo.extras["zones"]["acme.example"]], name="short-lived")
        .replace(expires_on=demo.clock.now() + timedelta(days=1))
    )
    created = admin.tokens.create(spec)
    demo.clock.advance(timedelta(days=2))
    result = scan("-", stdin=io.BytesIO(created.secret.reveal().encode()), verify=demo)
    assert [h.status for h in result.hits] == ["expired/disabled"]


def test_one_verify_per_distinct_secret(demo: Sandbox, tmp_path: Path) -> None:
    """The same live secret in 30 files costs one request."""
    secret = demo.bootstrap_token.reveal()
    for i in range(30):
        (tmp_path / f"f{i}.env").write_text(f"token={secret}\n")
    before = _verify_requests(demo)
    verifier = Verifier(sandbox=demo)
    result = scan(tmp_path, verify=verifier)
    assert {h.status for h in result.hits} == {"live"} and len(result.hits) == 30
    assert verifier.calls == 1
    assert _verify_requests(demo) - before == 1


def test_account_tokens_verify_on_the_account_path_with_the_id_beside_them(
    demo: Sandbox, tmp_path: Path
) -> None:
    """A cfat_ secret with CLOUDFLARE_ACCOUNT_ID in its file verifies on the account path;
    without any account id it is unknown (never called invalid)."""
    account = demo.extras["accounts"]["production"]
    spec = cft.TokenSpec(
        name="acct", policies=[cft.Policy.allow(["Account Settings Read"], accounts=[account])]
    )
    created = demo.create_token(spec, account=account)
    (tmp_path / "with.env").write_text(
        f"CLOUDFLARE_API_TOKEN={created.secret.reveal()}\nCLOUDFLARE_ACCOUNT_ID={account}\n"
    )
    (tmp_path / "without.env").write_text(f"CLOUDFLARE_API_TOKEN={created.secret.reveal()}\n")
    hits = {Path(h.path).name: h for h in scan(tmp_path / "with.env", verify=demo).hits}
    assert (hits["with.env"].status, hits["with.env"].owner) == ("live", "account")
    alone = scan(tmp_path / "without.env", verify=demo).hits[0]
    assert alone.status == "unknown" and "account" in alone.note
    by_flag = scan(tmp_path / "without.env", verify=demo, account=account).hits[0]
    assert by_flag.status == "live"


def test_network_failure_is_unknown_and_never_retried() -> None:
    """A connection error is 'unknown' after exactly one attempt: no retry storm."""
    attempts = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request.url.path)
        raise httpx.ConnectError("refused", request=request)

    verifier = Verifier(base_url="http://127.0.0.1:9/client/v4",
                        transport=httpx.MockTransport(refuse))  # fmt: skip
    result = scan("-", stdin=io.BytesIO(f"x {FAKE}\ny {FAKE}\n".encode()), verify=verifier)
    assert [h.status for h in result.hits] == ["unknown", "unknown"]
    assert attempts == ["/client/v4/user/tokens/verify"]
    assert result.failed("live")  # fail closed: unknown counts as live for the gate


def test_global_api_key_needs_its_email(demo: Sandbox, tmp_path: Path) -> None:
    """A Global API Key with CLOUDFLARE_EMAIL beside it is verified (and so are its other hits:
    the status is the secret's); found alone, without an e-mail, it is unknown."""
    key = demo.global_api_key.reveal()
    email = demo.user.email
    (tmp_path / "key.env").write_text(f"CLOUDFLARE_EMAIL={email}\nCLOUDFLARE_API_KEY={key}\n")
    (tmp_path / "alone.env").write_text(f"X-Auth-Key: {key}\n")
    result = scan(tmp_path, verify=demo)
    status = {Path(h.path).name: h.status for h in result.hits}
    assert status == {"key.env": "live", "alone.env": "live"}
    assert [h.status for h in scan(tmp_path / "alone.env", verify=demo).hits] == ["unknown"]


def test_every_verify_shares_one_rate_limiter(demo: Sandbox) -> None:
    """Three distinct secrets under a limit of 2 requests per 0.2 s: the third waits for the
    window (one limiter for every secret checked, not one per secret)."""
    import time

    admin = demo.client()
    zone = demo.extras["zones"]["acme.example"]
    secrets = [
        admin.tokens.create(cft.templates["Edit zone DNS"].build(zones=[zone], name=f"t{i}"))
        for i in range(3)
    ]
    text = "\n".join(f"T{i}={c.secret.reveal()}" for i, c in enumerate(secrets))
    verifier = Verifier(sandbox=demo, rate_limit=(2, 0.2))
    start = time.monotonic()
    result = scan("-", stdin=io.BytesIO(text.encode()), verify=verifier)
    assert time.monotonic() - start >= 0.15  # a lower bound: a loaded machine only adds
    assert [h.status for h in result.hits] == ["live"] * 3 and verifier.calls == 3


def _answering(status: int, body: bytes, content_type: str = "application/json") -> Verifier:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": content_type})

    return Verifier(base_url="http://127.0.0.1:9/client/v4", transport=httpx.MockTransport(answer))


def test_only_cloudflares_invalid_token_answer_is_invalid() -> None:
    """A 401/403 that is not Cloudflare's "Invalid API Token" (a proxy, another service, an
    unknown code) says nothing about the secret: unknown, so --fail-on live fails closed."""
    text = f"x {FAKE}\n".encode()
    proxy = _answering(403, b"<html>Access denied by the corporate proxy</html>", "text/html")
    other = _answering(
        401, b'{"success":false,"errors":[{"code":9999,"message":"nope"}],"result":null}'
    )
    for verifier in (proxy, other):
        result = scan("-", stdin=io.BytesIO(text), verify=verifier)
        assert [h.status for h in result.hits] == ["unknown"]
        assert result.failed("live")
    invalid = _answering(
        401, b'{"success":false,"errors":[{"code":1000,"message":"Invalid API Token"}]}'
    )
    assert [h.status for h in scan("-", stdin=io.BytesIO(text), verify=invalid).hits] == ["invalid"]


def test_a_token_not_valid_yet_is_live_for_the_gate(demo: Sandbox, tmp_path: Path) -> None:
    """A leaked token whose not_before is in the future will work then: live (with a note),
    never passed by --fail-on live as expired/disabled."""
    from datetime import timedelta

    admin = demo.client()
    spec = cft.templates["Edit zone DNS"].build(
        zones=[demo.extras["zones"]["acme.example"]],
        name="leak-later",
        not_before=demo.clock.now() + timedelta(days=3),
    )
    later = admin.tokens.create(spec)
    (tmp_path / "a.env").write_text(f"T={later.secret.reveal()}\n")
    result = scan(tmp_path, verify=demo)
    (hit,) = result.hits
    assert (hit.status, hit.token_id) == ("live", later.id)
    assert "not valid yet" in hit.note
    assert result.failed("live")


def test_a_legacy_token_refused_on_the_user_path_alone_is_unknown() -> None:
    """A legacy (40-character) token may be account-owned: refused on the user path with no
    account id to try the other path, it is unknown (the gate fails closed), not invalid;
    refused on both paths it is invalid."""
    legacy = "Zq8Lm2Np4Rs6Tu8Vw0Xy2Za4Bc6De8Fg0Hi2Jk4L"
    text = f"CLOUDFLARE_API_TOKEN={legacy}\n".encode()
    refuse = b'{"success":false,"errors":[{"code":1000,"message":"Invalid API Token"}]}'
    alone = scan("-", stdin=io.BytesIO(text), verify=_answering(401, refuse)).hits[0]
    assert alone.status == "unknown" and "--account" in alone.note
    both = scan("-", stdin=io.BytesIO(text), verify=_answering(401, refuse), account="a" * 32).hits[
        0
    ]
    assert both.status == "invalid"
