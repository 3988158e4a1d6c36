"""Authentication and authorisation: Cloudflare's error codes, the policy engine deciding,
owners bounding their tokens, IP conditions, the Global API Key."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sandbox_helpers import (
    ACCOUNT_SETTINGS_READ,
    DNS_READ,
    Api,
    error_codes,
    token_body,
    zone_policy,
)

import cftokens as cft
from cftokens.policy import check_token
from cftokens.sandbox import Sandbox


def zone_of(sb: Sandbox) -> str:
    return sb.directory().zones[0].id


def test_missing_credentials_is_9106(sb: Sandbox) -> None:
    """A request without credentials gets 400 with code 9106."""
    r = Api(sb).get("/user/tokens/verify")
    assert r.status_code == 400
    assert error_codes(r) == [9106]
    assert r.json()["result"] is None and r.json()["success"] is False


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer a b", "token abc"])
def test_malformed_authorization_is_6003_with_6111(sb: Sandbox, header: str) -> None:
    """A malformed Authorization header gets 400, code 6003 with error_chain 6111."""
    r = Api(sb).get("/user/tokens", headers={"Authorization": header})
    assert r.status_code == 400
    assert error_codes(r) == [6003, 6111]


def test_unknown_token_is_9109(sb: Sandbox) -> None:
    """An unknown secret gets 401 with 9109 "Invalid access token"."""
    r = Api(sb, "cfut_" + "A" * 40 + "ZZZZZZ").get("/user/tokens")
    assert r.status_code == 401
    assert r.json()["errors"][0] == {"code": 9109, "message": "Invalid access token"}


def test_verify_returns_documented_body(sb: Sandbox, api: Api) -> None:
    """Verify answers the documented body with code 10000 and the token's id."""
    r = api.get("/user/tokens/verify")
    assert r.status_code == 200
    assert r.json() == {
        "success": True,
        "errors": [],
        "messages": [
            {"code": 10000, "message": "This API Token is valid and active", "type": None}
        ],
        "result": {"id": sb.bootstrap_token_id, "status": "active"},
    }


def test_verify_unknown_token_is_1000(sb: Sandbox) -> None:
    """Verify with an unknown secret gets 401 with code 1000 "Invalid API Token"."""
    r = Api(sb, "not-a-real-token").get("/user/tokens/verify")
    assert r.status_code == 401
    assert error_codes(r) == [1000]


def test_account_token_on_user_verify_is_1000_and_on_accounts_1001(sb: Sandbox) -> None:
    """An account-owned token gets 1000 on /user/tokens/verify, verifies on its account path,
    and gets 1001 on GET /accounts."""
    account = sb.directory().accounts[0].id
    created = sb.create_token(token_body(zone_of(sb)), account=account)
    client = Api(sb, created.secret)
    assert error_codes(client.get("/user/tokens/verify")) == [1000]
    ok = client.get(f"/accounts/{account}/tokens/verify")
    assert ok.status_code == 200 and ok.json()["result"]["id"] == created.id
    r = client.get("/accounts")
    assert r.status_code == 403 and error_codes(r) == [1001]


def test_user_token_on_account_verify_is_1000(sb: Sandbox, api: Api) -> None:
    """A user-owned token is not valid on an account's verify path (1000)."""
    account = sb.directory().accounts[0].id
    assert error_codes(api.get(f"/accounts/{account}/tokens/verify")) == [1000]


def test_missing_permission_is_403_10000_with_reason_in_journal(sb: Sandbox, api: Api) -> None:
    """A valid token without the permission gets 403/10000; the journal keeps the engine's
    reason."""
    r = api.get("/zones")
    assert r.status_code == 403
    assert r.json()["errors"] == [{"code": 10000, "message": "Authentication error"}]
    last = sb.journal.iloc[-1]
    assert last["status"] == 403
    assert "Zone Read" in last["reason"]


def test_permission_granted_by_engine_allows(sb: Sandbox, api: Api) -> None:
    """A token created with DNS Write on the zone can list its DNS records but not others'."""
    zone = zone_of(sb)
    secret = api.post("/user/tokens", json=token_body(zone)).json()["result"]["value"]
    client = Api(sb, secret)
    assert client.get(f"/zones/{zone}/dns_records").status_code == 200
    other = sb.add_zone("other.example", account=sb.directory().accounts[0].id)
    assert client.get(f"/zones/{other.id}/dns_records").status_code == 403


def test_ip_condition_refuses_with_location_message(sb: Sandbox, api: Api) -> None:
    """A token limited to 203.0.113.0/24 works from inside and gets 9109 "Cannot use the access
    token from location" from outside."""
    zone = zone_of(sb)
    body = token_body(zone, condition={"request.ip": {"in": ["203.0.113.0/24"]}})
    secret = api.post("/user/tokens", json=body).json()["result"]["value"]
    inside = Api(sb, secret, ip="203.0.113.9").get(f"/zones/{zone}/dns_records")
    assert inside.status_code == 200
    outside = Api(sb, secret, ip="198.51.100.4").get(f"/zones/{zone}/dns_records")
    assert outside.status_code == 403
    assert outside.json()["errors"][0] == {
        "code": 9109,
        "message": "Cannot use the access token from location: 198.51.100.4",
    }


def test_not_in_range_refused_ipv6(sb: Sandbox, api: Api) -> None:
    """An IPv6 address in a not_in range is refused; one outside it is allowed."""
    zone = zone_of(sb)
    body = token_body(zone, condition={"request.ip": {"not_in": ["2001:db8::/32"]}})
    secret = api.post("/user/tokens", json=body).json()["result"]["value"]
    assert Api(sb, secret, ip="2001:db8::1").get(f"/zones/{zone}/dns_records").status_code == 403
    assert Api(sb, secret, ip="2001:db9::1").get(f"/zones/{zone}/dns_records").status_code == 200


def test_disabled_token_is_invalid_but_verify_reports_status(sb: Sandbox, api: Api) -> None:
    """A disabled token gets 9109 on every endpoint, while verify answers 200 with status
    "disabled"."""
    zone = zone_of(sb)
    created = api.post("/user/tokens", json=token_body(zone)).json()["result"]
    body = token_body(zone, status="disabled")
    assert api.put(f"/user/tokens/{created['id']}", json=body).status_code == 200
    client = Api(sb, created["value"])
    r = client.get(f"/zones/{zone}/dns_records")
    assert r.status_code == 401 and error_codes(r) == [9109]
    verify = client.get("/user/tokens/verify")
    assert verify.status_code == 200
    assert verify.json()["result"]["status"] == "disabled"
    assert verify.json()["messages"][0]["message"] == "This API Token is disabled"


def test_expired_and_not_yet_valid_tokens(sb: Sandbox, api: Api) -> None:
    """Past expires_on the token is invalid (status expired); before not_before it is invalid
    and verify says it is not valid yet."""
    zone = zone_of(sb)
    now = sb.clock.now()
    later = token_body(zone, expires_on="2026-11-03T09:00:00Z")
    soon = token_body(zone, not_before="2026-11-05T00:00:00Z")
    expiring = api.post("/user/tokens", json=later).json()["result"]["value"]
    pending = api.post("/user/tokens", json=soon).json()["result"]["value"]
    assert Api(sb, pending).get(f"/zones/{zone}/dns_records").status_code == 401
    pending_verify = Api(sb, pending).get("/user/tokens/verify").json()
    assert pending_verify["messages"][0]["message"] == "This API Token is not valid yet"
    assert Api(sb, expiring).get(f"/zones/{zone}/dns_records").status_code == 200
    sb.clock.set(now + timedelta(days=2))
    assert Api(sb, expiring).get(f"/zones/{zone}/dns_records").status_code == 401
    assert Api(sb, expiring).get("/user/tokens/verify").json()["result"]["status"] == "expired"
    assert Api(sb, pending).get(f"/zones/{zone}/dns_records").status_code == 401
    sb.clock.advance(timedelta(days=2))
    assert Api(sb, pending).get(f"/zones/{zone}/dns_records").status_code == 200


def test_token_bounded_by_users_role(sb: Sandbox, api: Api) -> None:
    """A read-only member's token cannot write even if its policy says DNS Write, and the
    API refuses to grant DNS Write to it at all."""
    reader = sb.add_user("reader@example.com")
    account = sb.directory().accounts[0].id
    zone = zone_of(sb)
    sb.add_member(reader.id, account, "Administrator Read Only")
    planted = sb.create_token(token_body(zone), user=reader.id)
    client = Api(sb, planted.secret)
    assert client.get(f"/zones/{zone}/dns_records").status_code == 200
    r = client.post(
        f"/zones/{zone}/dns_records", json={"type": "A", "name": "x", "content": "192.0.2.1"}
    )
    assert r.status_code == 403
    assert "its user may not" in sb.journal.iloc[-1]["reason"]
    minting = sb.create_token(
        {
            "name": "minter",
            "policies": [
                {
                    "effect": "allow",
                    "permission_groups": [{"id": "686d18d5ac6c441c867cbf6771e58a0a"}],
                    "resources": {f"com.cloudflare.api.user.{reader.id}": "*"},
                }
            ],
        },
        user=reader.id,
    )
    refused = Api(sb, minting.secret).post("/user/tokens", json=token_body(zone))
    assert refused.status_code == 400
    assert "permission_groups[0]" in refused.json()["errors"][0]["message"]
    assert "does not include DNS Write" in refused.json()["errors"][0]["message"]


def test_user_token_cannot_name_foreign_accounts(sb: Sandbox, api: Api) -> None:
    """Creating a token on an account the user is not a member of is refused, naming the key."""
    stranger = sb.add_account("Not Mine")
    body = {
        "name": "x",
        "policies": [
            {
                "effect": "allow",
                "permission_groups": [{"id": ACCOUNT_SETTINGS_READ}],
                "resources": {f"com.cloudflare.api.account.{stranger.id}": "*"},
            }
        ],
    }
    r = api.post("/user/tokens", json=body)
    assert r.status_code == 400
    assert f"com.cloudflare.api.account.{stranger.id}" in r.json()["errors"][0]["message"]


def test_wildcards_are_bounded_by_membership(sb: Sandbox, api: Api) -> None:
    """A token on all zones cannot reach a zone of an account its user is not a member of."""
    foreign_account = sb.add_account("Someone Else")
    foreign_zone = sb.add_zone("foreign.example", account=foreign_account.id)
    body = {
        "name": "all-zones",
        "policies": [
            {
                "effect": "allow",
                "permission_groups": [{"id": DNS_READ}],
                "resources": {"com.cloudflare.api.account.zone.*": "*"},
            }
        ],
    }
    secret = api.post("/user/tokens", json=body).json()["result"]["value"]
    client = Api(sb, secret)
    assert client.get(f"/zones/{zone_of(sb)}/dns_records").status_code == 200
    assert client.get(f"/zones/{foreign_zone.id}/dns_records").status_code == 403


def test_global_api_key_has_the_users_rights(sb: Sandbox) -> None:
    """X-Auth-Email + X-Auth-Key act with the user's full rights; a wrong key gets 9103."""
    headers = {"X-Auth-Email": "analyst@example.com", "X-Auth-Key": sb.global_api_key.reveal()}
    client = Api(sb)
    r = client.get("/zones", headers=headers)
    assert r.status_code == 200 and r.json()["result_info"]["total_count"] == 1
    assert sb.journal.iloc[-1]["auth"] == "api_key"
    bad = client.get("/zones", headers={**headers, "X-Auth-Key": "0" * 37})
    assert bad.status_code == 403 and error_codes(bad) == [9103]
    half = client.get("/zones", headers={"X-Auth-Email": "analyst@example.com"})
    assert error_codes(half) == [9106]


def test_deny_policy_wins(sb: Sandbox, api: Api) -> None:
    """An explicit deny on the zone refuses what an allow on all zones grants."""
    zone = zone_of(sb)
    account = sb.directory().accounts[0].id
    body = {
        "name": "deny",
        "policies": [
            {
                "effect": "allow",
                "permission_groups": [{"id": DNS_READ}],
                "resources": {
                    f"com.cloudflare.api.account.{account}": {
                        "com.cloudflare.api.account.zone.*": "*"
                    }
                },
            },
            zone_policy(zone, DNS_READ, effect="deny"),
        ],
    }
    secret = api.post("/user/tokens", json=body).json()["result"]["value"]
    assert Api(sb, secret).get(f"/zones/{zone}/dns_records").status_code == 403
    assert "policy 2 denies DNS Read" in sb.journal.iloc[-1]["reason"]


def test_last_used_on_updates_on_authenticated_use(sb: Sandbox, api: Api) -> None:
    """last_used_on is set by an authenticated request (even a refused one) at the sandbox
    time, and not by a request refused for location."""
    created = api.post("/user/tokens", json=token_body(zone_of(sb))).json()["result"]
    assert "last_used_on" not in created
    sb.clock.advance(timedelta(hours=1))
    Api(sb, created["value"]).get("/zones")  # 403, but authenticated
    stored = sb.token(created["id"])
    assert stored.last_used_on == sb.clock.now()


def test_check_token_distinguishes_window_from_ip() -> None:
    """policy.check_token reports status/window refusals without an IP and IP refusals with
    one."""
    zid = "0" * 31 + "1"
    spec = cft.TokenSpec(
        name="x", policies=[cft.Policy.allow(["DNS Read"], zones=[zid])], allow_ips=["10.0.0.0/8"]
    )
    assert check_token(spec).allowed
    assert not check_token(spec, ip="192.0.2.1").allowed
    assert check_token(spec, ip="10.1.2.3").allowed
    disabled = cft.Token(id="0" * 32, name="x", status="disabled")
    assert "disabled" in check_token(disabled).reason
