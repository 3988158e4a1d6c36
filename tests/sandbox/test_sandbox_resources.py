"""The other emulated endpoints: user, accounts, zones, DNS records; not-emulated operations
answer 501 once authorised."""

from __future__ import annotations

import pytest
from sandbox_helpers import DNS_WRITE, ZONE_READ, Api, error_codes

from cftokens.sandbox import Sandbox


def key_headers(sb: Sandbox) -> dict[str, str]:
    return {"X-Auth-Email": sb.user.email or "", "X-Auth-Key": sb.global_api_key.reveal()}


@pytest.fixture
def admin(sb: Sandbox) -> Api:
    """Raw access with the user's Global API Key (the user's full rights)."""
    client = Api(sb)
    client.http.headers.update(key_headers(sb))
    return client


def test_get_user(sb: Sandbox, admin: Api) -> None:
    """GET /user returns the caller's user (id is the user tag)."""
    result = admin.get("/user").json()["result"]
    assert result["id"] == sb.user_id and result["email"] == "analyst@example.com"


def test_accounts_list_and_get(sb: Sandbox, admin: Api) -> None:
    """GET /accounts lists the user's accounts (paged); GET /accounts/{id} returns one."""
    other = sb.add_account("Second", owner=sb.user_id)
    sb.add_account("Not a member")
    body = admin.get("/accounts").json()
    assert [a["name"] for a in body["result"]] == ["Example Account", "Second"]
    assert body["result_info"]["total_count"] == 2
    assert admin.get("/accounts", params={"name": "sec"}).json()["result_info"]["count"] == 1
    assert admin.get(f"/accounts/{other.id}").json()["result"]["name"] == "Second"


def test_accounts_visible_to_a_token_are_those_it_reaches(sb: Sandbox, api: Api) -> None:
    """A token sees only accounts where it holds a permission (directly or via its zones)."""
    account = sb.directory().accounts[0].id
    sb.add_account("Second", owner=sb.user_id)
    assert api.get("/accounts").json()["result"] == []
    zone = sb.directory().zones[0].id
    body = {
        "name": "dns",
        "policies": [
            {
                "effect": "allow",
                "permission_groups": [{"id": DNS_WRITE}],
                "resources": {f"com.cloudflare.api.account.zone.{zone}": "*"},
            }
        ],
    }
    secret = api.post("/user/tokens", json=body).json()["result"]["value"]
    assert [a["id"] for a in Api(sb, secret).get("/accounts").json()["result"]] == [account]


def test_zones_list_filters_and_visibility(sb: Sandbox, admin: Api) -> None:
    """GET /zones filters by name operators, status, account.id; paging reports totals;
    a token only sees zones it may read."""
    account = sb.directory().accounts[0].id
    for name in ("b.example", "c.example", "shop.test"):
        sb.add_zone(name, account=account)
    sb.add_zone("pending.example", account=account, status="pending")
    names = lambda **p: [z["name"] for z in admin.get("/zones", params=p).json()["result"]]  # noqa: E731
    assert names() == ["b.example", "c.example", "example.com", "pending.example", "shop.test"]
    assert names(name="contains:shop") == ["shop.test"]
    assert names(name="ends_with:.test") == ["shop.test"]
    assert names(name="c.example") == ["c.example"]
    assert names(status="pending") == ["pending.example"]
    assert names(**{"account.id": "0" * 32}) == []
    assert names(direction="desc")[0] == "shop.test"
    page = admin.get("/zones", params={"per_page": 5, "page": 1}).json()["result_info"]
    assert page == {"page": 1, "per_page": 5, "count": 5, "total_count": 5, "total_pages": 1}
    zone = sb.directory().zone("c.example").id
    body = {
        "name": "one-zone",
        "policies": [
            {
                "effect": "allow",
                "permission_groups": [{"id": ZONE_READ}],
                "resources": {f"com.cloudflare.api.account.zone.{zone}": "*"},
            }
        ],
    }
    secret = Api(sb, sb.bootstrap_token).post("/user/tokens", json=body).json()["result"]["value"]
    assert [z["name"] for z in Api(sb, secret).get("/zones").json()["result"]] == ["c.example"]


def test_zone_get_and_unknown_zone(sb: Sandbox, admin: Api) -> None:
    """GET /zones/{id} returns the zone with its account; an unknown zone id is refused with
    403 (no one holds rights on a zone that does not exist)."""
    zone = sb.directory().zones[0]
    result = admin.get(f"/zones/{zone.id}").json()["result"]
    assert result["name"] == "example.com" and result["account"]["id"] == zone.account_id
    unknown = admin.get("/zones/" + "f" * 32)
    assert unknown.status_code == 403 and error_codes(unknown) == [10000]


def test_dns_crud(sb: Sandbox, admin: Api) -> None:
    """DNS records: create (relative name made absolute), get, list with filters, PATCH,
    PUT, delete."""
    zone = sb.directory().zones[0].id
    base = f"/zones/{zone}/dns_records"
    created = admin.post(
        base, json={"type": "A", "name": "www", "content": "192.0.2.1", "proxied": True}
    )
    record = created.json()["result"]
    assert created.status_code == 200
    assert record["name"] == "www.example.com" and record["proxied"] is True
    assert admin.get(f"{base}/{record['id']}").json()["result"] == record
    admin.post(base, json={"type": "TXT", "name": "@", "content": "hello"})
    admin.post(base, json={"type": "MX", "name": "@", "content": "mx.example.com", "priority": 10})
    listed = admin.get(base, params={"type": "TXT"}).json()
    assert [r["content"] for r in listed["result"]] == ["hello"]
    assert admin.get(base).json()["result_info"]["total_count"] == 3
    patched = admin.patch(f"{base}/{record['id']}", json={"content": "192.0.2.2"}).json()["result"]
    assert patched["content"] == "192.0.2.2" and patched["proxied"] is True
    put = admin.put(
        f"{base}/{record['id']}", json={"type": "A", "name": "www", "content": "192.0.2.3"}
    )
    assert put.json()["result"]["proxied"] is False
    assert admin.delete(f"{base}/{record['id']}").json()["result"] == {"id": record["id"]}
    assert admin.get(f"{base}/{record['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "A", "name": "x", "content": "not-an-ip"}, "content"),
        ({"type": "AAAA", "name": "x", "content": "192.0.2.1"}, "content"),
        ({"type": "SRV", "name": "x", "content": "y"}, "type"),
        ({"name": "x", "content": "y"}, "type"),
        ({"type": "TXT", "name": "x", "content": "y", "proxied": True}, "proxied"),
        ({"type": "A", "name": "x", "content": "192.0.2.1", "ttl": 5}, "ttl"),
        ({"type": "MX", "name": "x", "content": "mx.example.com"}, "priority"),
        ({"type": "TXT", "name": "x", "content": "y", "tags": ["nocolon"]}, "tags"),
    ],
)
def test_dns_bad_bodies(sb: Sandbox, admin: Api, body: dict[str, object], field: str) -> None:
    """Invalid DNS bodies get 400 naming the field, and write nothing."""
    zone = sb.directory().zones[0].id
    r = admin.post(f"/zones/{zone}/dns_records", json=body)
    assert r.status_code == 400 and r.json()["errors"][0]["message"].startswith(f"{field}:")
    assert admin.get(f"/zones/{zone}/dns_records").json()["result_info"]["total_count"] == 0


def test_authorised_but_not_emulated_is_501(sb: Sandbox, admin: Api, api: Api) -> None:
    """An authorised call to a catalogued but not emulated endpoint answers 501 with the
    documented message; an unauthorised one 403."""
    zone = sb.directory().zones[0].id
    r = admin.get(f"/zones/{zone}/firewall/rules")
    assert r.status_code == 501
    message = r.json()["errors"][0]["message"]
    assert (
        message
        == f"authorized, but GET /zones/{zone}/firewall/rules is not emulated by the sandbox"
    )
    assert api.get(f"/zones/{zone}/firewall/rules").status_code == 403


def test_unmapped_operation_is_501_explaining_why(sb: Sandbox, admin: Api) -> None:
    """An operation Cloudflare's schema does not annotate answers 501 saying the sandbox
    cannot decide it."""
    zone = sb.directory().zones[0].id
    r = admin.get(f"/zones/{zone}/analytics/dashboard")
    assert r.status_code == 501
    assert "names no permission group" in r.json()["errors"][0]["message"]


def test_wrong_method_is_7003(admin: Api) -> None:
    """A method the path does not support gets 404/7003."""
    assert error_codes(admin.patch("/user/tokens", json={})) == [7003]
