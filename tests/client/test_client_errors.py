"""Responses mapped to the error tree, with messages that explain the cause (MockTransport)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from client_fakes import ACCOUNT, USER_TOKEN, ZONE, FakeCloudflare, envelope, error, token_payload

import cftokens as cft
from cftokens.errors import ErrorDetail

TOKEN_ID = f"{1:032x}"


def answer(response: httpx.Response) -> Any:
    return lambda request: response


@pytest.mark.parametrize(
    ("response", "kind", "phrase"),
    [
        (
            error(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers"),
            cft.AuthenticationError,
            "no credentials were sent",
        ),
        (
            error(401, 9109, "Invalid access token"),
            cft.AuthenticationError,
            "rolled (rolling invalidates the old secret at once)",
        ),
        (
            error(401, 1000, "Invalid API Token"),
            cft.AuthenticationError,
            "deleted, rolled or mistyped",
        ),
        (
            error(403, 1001, "Unable to authenticate request"),
            cft.AuthenticationError,
            "account-owned token works only on /accounts/",
        ),
        (error(404, 7003, "No route for that URI"), cft.NotFound, "no such route"),
        (error(404, 7000, "No token found"), cft.NotFound, "was not found"),
        (
            error(400, 6007, "Malformed JSON in request body"),
            cft.BadRequest,
            "refused as invalid (HTTP 400)",
        ),
        (error(422, 1002, "name is too long"), cft.BadRequest, "name is too long"),
        (error(501, 1501, "not emulated"), cft.NotEmulated, "not emulated by the sandbox"),
        (error(402, 1, "payment required"), cft.APIError, "HTTP 402"),
    ],
)
def test_error_codes_map_to_typed_errors(make_client, response, kind, phrase):
    """Each Cloudflare error code or status raises its class of the tree with a plain cause."""
    client = make_client(answer(response), max_retries=0)
    with pytest.raises(kind) as info:
        client.tokens.get(TOKEN_ID)
    assert phrase in str(info.value)
    assert info.value.status == response.status_code
    assert info.value.method == "GET"
    assert info.value.url.endswith(f"/user/tokens/{TOKEN_ID}")
    assert type(info.value) is kind


def test_malformed_header_6003_carries_its_error_chain(make_client):
    """6003 with an error_chain 6111 is an AuthenticationError naming the Bearer format."""
    body = envelope(
        success=False,
        errors=[
            {
                "code": 6003,
                "message": "Invalid request headers",
                "error_chain": [
                    {"code": 6111, "message": "Invalid format for Authorization header"}
                ],
            }
        ],
    )
    client = make_client(answer(httpx.Response(400, json=body)))
    with pytest.raises(cft.AuthenticationError) as info:
        client.user.get()
    assert info.value.codes == (6003, 6111)
    assert "Bearer <token>" in str(info.value)
    assert "6111: Invalid format for Authorization header" in str(info.value)


def test_9109_from_a_location_names_the_ip(make_client):
    """9109 'Cannot use the access token from location' says which IP was refused and why."""
    response = error(403, 9109, "Cannot use the access token from location: 198.51.100.4")
    client = make_client(answer(response))
    with pytest.raises(cft.AuthenticationError) as info:
        client.tokens.list().collect()
    assert "the token's IP condition does not accept 198.51.100.4" in str(info.value)
    assert "not from its denied ones" in str(info.value)


def test_10000_names_the_permission_and_resource_needed(make_client):
    """10000 says which permission groups the call accepts, on which zone, from the catalogue."""
    client = make_client(answer(error(403, 10000, "Authentication error")))
    with pytest.raises(cft.PermissionDenied) as info:
        client.dns_records.create(ZONE, type="A", name="www.example.com", content="192.0.2.1")
    assert info.value.needed == ("DNS Write",)
    message = str(info.value)
    assert "needs DNS Write on zone " + ZONE in message
    assert "holds none of them" in message


def test_10000_on_an_account_path_names_the_account(make_client):
    """A 10000 on /accounts/{id}/tokens names the account and Account API Tokens groups."""
    client = make_client(answer(error(403, 10000, "Authentication error")))
    with pytest.raises(cft.PermissionDenied) as info:
        client.account(ACCOUNT).tokens.list().collect()
    assert any("API Tokens" in g for g in info.value.needed)
    assert f"account {ACCOUNT}" in str(info.value)


def test_a_long_list_of_accepted_groups_is_abbreviated(make_client):
    """GET /zones/{id} accepts dozens of groups: the message names five, `needed` has all."""
    client = make_client(answer(error(403, 10000, "Authentication error")))
    with pytest.raises(cft.PermissionDenied) as info:
        client.zones.get(ZONE)
    assert len(info.value.needed) > 20
    assert f"one of {len(info.value.needed)} groups" in str(info.value)
    assert "see the error's `needed`" in str(info.value)
    assert "Policy.allow(['Zone Read'], zones=" in str(info.value)


def test_1000_on_user_verify_explains_account_owned_tokens(make_client):
    """Verify's 1000 on the user path explains account-owned tokens, unless it is a cfut_."""
    client = make_client(answer(error(401, 1000, "Invalid API Token")), token="L" * 40)
    with pytest.raises(cft.AuthenticationError) as info:
        client.tokens.verify()
    assert "client.account(account_id).tokens.verify()" in str(info.value)
    client = make_client(answer(error(401, 1000, "Invalid API Token")))
    with pytest.raises(cft.AuthenticationError) as info:
        client.tokens.verify()
    assert "account-owned" not in str(info.value)
    assert "deleted, rolled or mistyped" in str(info.value)


def test_cf_ray_is_kept_as_request_id(make_client):
    """The cf-ray header becomes the error's request_id and appears in the message."""
    client = make_client(answer(error(404, 7000, "nope", **{"cf-ray": "8f1b2c3d4e5f-LHR"})))
    with pytest.raises(cft.NotFound) as info:
        client.tokens.get(TOKEN_ID)
    assert info.value.request_id == "8f1b2c3d4e5f-LHR"
    assert "8f1b2c3d4e5f-LHR" in str(info.value)


def test_html_502_from_a_proxy_is_retried_then_unexpected(make_client, fake_time):
    """A proxy's HTML 502 is retried for a GET, then raises UnexpectedResponse with an excerpt."""
    html = (
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    )
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(502, text=html, headers={"content-type": "text/html"})

    client = make_client(handler, max_retries=2)
    with pytest.raises(cft.UnexpectedResponse) as info:
        client.tokens.get(TOKEN_ID)
    assert len(seen) == 3
    assert info.value.status == 502
    assert "HTML page" in str(info.value) and "proxy" in str(info.value)
    assert "502 Bad Gateway" in info.value.excerpt
    assert "gave up after 3 attempts" in str(info.value)


@pytest.mark.parametrize(
    ("content", "phrase"),
    [
        (b"", "the body is empty"),
        (
            b'{"success": true, "errors": [], "result": {"id": "00000000000000000000000000',
            "cut off",
        ),
        (b"not json at all", "not valid JSON"),
        (b"[1, 2, 3]", "JSON list"),
        (b'{"errors": [], "result": {}}', "no boolean `success`"),
        (b'{"success": true, "errors": [], "messages": []}', "no `result` field"),
        (b'{"success": true, "errors": [], "result": {}, "result_info": [1]}', "`result_info`"),
    ],
)
def test_bodies_that_are_not_the_envelope_raise_unexpected_response(make_client, content, phrase):
    """Empty, truncated, non-JSON and incomplete envelopes raise UnexpectedResponse saying why."""
    client = make_client(answer(httpx.Response(200, content=content)))
    with pytest.raises(cft.UnexpectedResponse) as info:
        client.tokens.get(TOKEN_ID)
    assert phrase in str(info.value)
    assert "Expected Cloudflare's JSON envelope" in str(info.value)


def test_unknown_fields_are_kept(make_client):
    """Keys the client does not know survive in ``extra`` and in ``to_api()``."""
    payload = {**token_payload(1), "brand_new_field": {"x": 1}}
    payload["policies"][0]["future_key"] = True
    body = {**envelope(payload), "also_new": 1}
    client = make_client(answer(httpx.Response(200, json=body)))
    token = client.tokens.get(TOKEN_ID)
    assert token.extra["brand_new_field"] == {"x": 1}
    assert token.to_api()["policies"][0]["future_key"] is True


@pytest.mark.parametrize(
    ("mutate", "phrase"),
    [
        (lambda p: p.update(id=12345), "token id"),
        (lambda p: p.update(policies="all"), "policies must be a list"),
        (lambda p: p.update(expires_on=17), "expires_on"),
        (lambda p: p.update(status="weird"), "token status"),
    ],
)
def test_wrong_types_raise_unexpected_response(make_client, mutate, phrase):
    """A result of the wrong shape raises UnexpectedResponse naming the bad field."""
    payload = token_payload(1)
    mutate(payload)
    client = make_client(answer(httpx.Response(200, json=envelope(payload))))
    with pytest.raises(cft.UnexpectedResponse) as info:
        client.tokens.get(TOKEN_ID)
    assert phrase in str(info.value)
    assert "unexpected shape" in str(info.value)


def test_a_result_list_where_an_object_is_expected_is_unexpected(make_client):
    """A list where a token object belongs raises UnexpectedResponse, not a TypeError."""
    client = make_client(answer(httpx.Response(200, json=envelope([token_payload(1)]))))
    with pytest.raises(cft.UnexpectedResponse, match="must be a JSON object"):
        client.tokens.get(TOKEN_ID)


def test_success_false_with_http_200_is_an_error(make_client):
    """``success: false`` in a 200 answer still raises, with Cloudflare's message."""
    body = envelope(success=False, errors=[{"code": 1004, "message": "DNS Validation Error"}])
    client = make_client(answer(httpx.Response(200, json=body)))
    with pytest.raises(cft.BadRequest, match="DNS Validation Error"):
        client.zones.get(ZONE)


def test_permission_denied_is_not_retried(make_client):
    """Final errors such as 403 are raised after one attempt."""
    cloudflare = FakeCloudflare()
    cloudflare.script(*[answer(error(403, 10000, "Authentication error"))] * 3)
    client = make_client(cloudflare)
    with pytest.raises(cft.PermissionDenied):
        client.user.get()
    assert len(cloudflare.requests) == 1


def test_1000_on_account_verify_explains_user_owned_tokens(make_client):
    """Verify's 1000 on the account path with a cfut_ token points to the user path."""
    client = make_client(answer(error(401, 1000, "Invalid API Token")))
    with pytest.raises(cft.AuthenticationError) as info:
        client.account(ACCOUNT).tokens.verify()
    assert "user-owned token (cfut_…)" in str(info.value)
    assert "client.tokens.verify()" in str(info.value)


def test_9103_names_the_global_api_key(make_client):
    """9103 (wrong Global API Key or e-mail) says which credentials to check."""
    response = error(403, 9103, "Unknown X-Auth-Key or X-Auth-Email")
    client = make_client(answer(response), token=None, api_key="k" * 37, email="a@b.c")
    with pytest.raises(cft.AuthenticationError) as info:
        client.user.get()
    assert "Global API Key" in str(info.value) and "CLOUDFLARE_EMAIL" in str(info.value)


def test_7003_for_an_unknown_object_id_is_not_called_a_missing_route(make_client):
    """Cloudflare's 7003 "perhaps your object identifier is invalid" says the object is missing."""
    message = (
        f"Could not route to /user/tokens/{TOKEN_ID}, perhaps your object identifier is invalid?"
    )
    client = make_client(answer(error(404, 7003, message)))
    with pytest.raises(cft.NotFound) as info:
        client.tokens.get(TOKEN_ID)
    assert "was not found" in str(info.value) and "no such route" not in str(info.value)
    assert "invalid?." not in str(info.value)


def test_timeout_is_renamed_request_timed_out_with_deprecated_aliases() -> None:
    """`cftokens.Timeout` and `cftokens.errors.Timeout` (also via `from … import`) are the
    renamed RequestTimedOut for one release, each use warning where the user wrote it."""
    import cftokens.errors

    with pytest.warns(
        DeprecationWarning, match=r"cftokens\.Timeout is deprecated.*cftokens\.RequestTimedOut"
    ) as caught:
        old = cft.Timeout
    assert old is cft.RequestTimedOut
    assert caught[0].filename == __file__
    with pytest.warns(
        DeprecationWarning, match=r"cftokens\.errors\.Timeout .*cftokens\.errors\.RequestTimedOut"
    ):
        assert cftokens.errors.Timeout is cft.RequestTimedOut
    with pytest.warns(DeprecationWarning, match="RequestTimedOut") as caught:
        from cftokens.errors import Timeout
    assert Timeout is cft.RequestTimedOut
    assert caught[0].filename == __file__
    assert issubclass(cft.RequestTimedOut, cft.TransportError)
    assert "Timeout" not in cft.__all__ and "Timeout" not in cftokens.errors.__all__
    assert "RequestTimedOut" in cft.__all__
    with pytest.raises(AttributeError, match="no attribute 'Timeouts'"):
        cftokens.errors.Timeouts  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'Timeouts'"):
        cft.Timeouts  # noqa: B018


def test_the_new_name_warns_nothing(recwarn: pytest.WarningsRecorder) -> None:
    assert cft.RequestTimedOut.__name__ == "RequestTimedOut"
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]


def test_repeated_error_texts_are_redacted_once_each(make_client, monkeypatch):
    """A hostile answer repeating texts by the thousand (2 errors, each with a chain of 2,000
    entries of two messages, one holding the client's own token and a leaked one) costs one
    redaction per distinct text and pass (reading, then the client's secrets), not one per
    entry (4,002 per pass: ~0.3 s of CPU for a chain of 10,000); every entry is still
    redacted."""
    import cftokens.errors as errors_module

    leaked = "cfat_" + "Q" * 40
    said = [f"token {USER_TOKEN} refused", f"see {leaked}"]
    chain = [{"code": 2000 + n % 2, "message": said[n % 2]} for n in range(2000)]
    body = envelope(
        success=False,
        errors=[{"code": 1004, "message": said[0], "error_chain": chain}] * 2,
    )
    redacted: list[str] = []
    redact = errors_module.redact

    def counted(text: str, **options: Any) -> str:
        redacted.append(text)
        return redact(text, **options)

    monkeypatch.setattr(errors_module, "redact", counted)
    client = make_client(answer(httpx.Response(400, json=body)))
    with pytest.raises(cft.BadRequest) as info:
        client.user.get()
    # the two texts read, then scrubbed, the few quoted in the message and the message: a
    # bound, not a count of entries (8,000 and more when each entry was redacted)
    assert len(redacted) < 50, len(redacted)
    details = info.value.errors
    assert len(details) == 2 and all(len(d.error_chain) == 2000 for d in details)
    texts = [d.message for d in details] + [c.message for d in details for c in d.error_chain]
    assert set(texts) == {"token [redacted] refused", "see [redacted]"}
    assert info.value.codes[:3] == (1004, 2000, 2001) and len(info.value.codes) == 4002


def test_codes_are_listed_depth_first_through_nested_chains():
    """An error's codes: its own, then each chain entry's with that entry's own chain."""
    nested = {
        "code": 1,
        "error_chain": [
            {"code": 2, "error_chain": [{"code": 3}, {"message": "no code"}, {"code": 4}]},
            {"code": 5},
            {"message": "no code", "error_chain": [{"code": 6}]},
        ],
    }
    detail = ErrorDetail.from_api(nested)
    assert detail.codes() == (1, 2, 3, 4, 5, 6)
    error = cft.BadRequest("refused", errors=[detail, ErrorDetail.from_api({"code": 7})])
    assert error.codes == (1, 2, 3, 4, 5, 6, 7)
