"""The token API: create, list and paging, get, update (PUT), roll, delete, verify,
permission groups, quotas, account-owned tokens, and one transaction per call."""

from __future__ import annotations

import json

import pytest
from sandbox_helpers import (
    ACCOUNT_TOKENS_WRITE,
    DNS_READ,
    DNS_WRITE,
    Api,
    error_codes,
    token_body,
    zone_policy,
)

from cftokens.sandbox import Sandbox
from cftokens.sandbox.credentials import is_sandbox_secret


@pytest.fixture
def zone(sb: Sandbox) -> str:
    return sb.directory().zones[0].id


@pytest.fixture
def account(sb: Sandbox) -> str:
    return sb.directory().accounts[0].id


def test_create_returns_token_and_prefixed_secret_once(sb: Sandbox, api: Api, zone: str) -> None:
    """Create returns the token with a cfut_ secret (valid checksum); get never shows it."""
    r = api.post("/user/tokens", json=token_body(zone))
    assert r.status_code == 200
    result = r.json()["result"]
    assert result["value"].startswith("cfut_") and len(result["value"]) == 51
    assert is_sandbox_secret(result["value"])
    assert result["policies"][0]["permission_groups"] == [{"id": DNS_WRITE, "name": "DNS Write"}]
    assert len(result["policies"][0]["id"]) == 32
    fetched = api.get(f"/user/tokens/{result['id']}").json()["result"]
    assert "value" not in fetched
    assert fetched["name"] == "ci-dns" and fetched["issued_on"] == "2026-11-02T09:00:00Z"


def test_list_pages_agree_with_counts(sb: Sandbox, api: Api, zone: str) -> None:
    """Pages of 5 walk every token once; result_info counts agree; past the end is empty."""
    for i in range(11):
        assert api.post("/user/tokens", json=token_body(zone, f"t{i:02d}")).status_code == 200
    seen = []
    page = 1
    while True:
        body = api.get("/user/tokens", params={"page": page, "per_page": 5}).json()
        info = body["result_info"]
        assert info == {
            "page": page,
            "per_page": 5,
            "count": len(body["result"]),
            "total_count": 12,
        }
        if not body["result"]:
            break
        seen += [t["name"] for t in body["result"]]
        page += 1
    assert seen == ["cftokens-bootstrap"] + [f"t{i:02d}" for i in range(11)]
    desc = api.get("/user/tokens", params={"direction": "desc", "per_page": 5}).json()
    assert desc["result"][0]["name"] == "t10"


def test_default_page_size_is_20(sb: Sandbox, api: Api, zone: str) -> None:
    """Without per_page a page holds 20 tokens."""
    for i in range(21):
        api.post("/user/tokens", json=token_body(zone, f"t{i}"))
    body = api.get("/user/tokens").json()
    assert body["result_info"]["per_page"] == 20 and len(body["result"]) == 20


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"per_page": 4}, "per_page"),
        ({"per_page": 51}, "per_page"),
        ({"page": 0}, "page"),
        ({"page": "x"}, "page"),
        ({"direction": "up"}, "direction"),
        ({"include_expired": "maybe"}, "include_expired"),
    ],
)
def test_bad_list_parameters_are_400(api: Api, params: dict[str, object], field: str) -> None:
    """Out-of-range or malformed list parameters get 400 naming the parameter."""
    r = api.get("/user/tokens", params=params)
    assert r.status_code == 400
    assert r.json()["errors"][0]["message"].startswith(f"{field}:")


def test_a_page_far_past_the_end_is_an_empty_list(api: Api) -> None:
    """A page number too large for SQLite's integers is an empty page, not a 500."""
    for page in ("999999999999999999999", str(2**63 - 1)):
        r = api.get("/user/tokens", params={"page": page, "per_page": 5})
        assert r.status_code == 200, r.text
        assert r.json()["result"] == [] and r.json()["result_info"]["total_count"] == 1


def test_include_expired(sb: Sandbox, api: Api, zone: str) -> None:
    """Expired tokens are listed only with include_expired=true, with status expired."""
    api.post("/user/tokens", json=token_body(zone, "soon", expires_on="2026-11-02T10:00:00Z"))
    from datetime import timedelta

    sb.clock.advance(timedelta(hours=2))
    names = [t["name"] for t in api.get("/user/tokens").json()["result"]]
    assert "soon" not in names
    listed = api.get("/user/tokens", params={"include_expired": "true"}).json()["result"]
    assert [t["status"] for t in listed if t["name"] == "soon"] == ["expired"]


def test_put_replaces_whole_token_and_keeps_status_unless_given(
    sb: Sandbox, api: Api, zone: str
) -> None:
    """PUT replaces name, policies and condition (omitted = removed), keeps the status
    unless given, bumps modified_on and keeps policy ids that are sent back."""
    from datetime import timedelta

    body = token_body(zone, condition={"request.ip": {"in": ["203.0.113.0/24"]}})
    created = api.post("/user/tokens", json=body).json()["result"]
    sb.clock.advance(timedelta(minutes=5))
    policy = dict(created["policies"][0])
    policy["permission_groups"] = [{"id": DNS_READ}]
    r = api.put(f"/user/tokens/{created['id']}", json={"name": "renamed", "policies": [policy]})
    updated = r.json()["result"]
    assert r.status_code == 200
    assert updated["name"] == "renamed" and "condition" not in updated
    assert updated["policies"][0]["id"] == created["policies"][0]["id"]
    assert updated["policies"][0]["permission_groups"][0]["name"] == "DNS Read"
    assert updated["modified_on"] == "2026-11-02T09:05:00Z"
    assert updated["issued_on"] == created["issued_on"]
    disabled = api.put(f"/user/tokens/{created['id']}", json={**updated, "status": "disabled"})
    assert disabled.json()["result"]["status"] == "disabled"
    again = api.put(f"/user/tokens/{created['id']}", json={"name": "x", "policies": [policy]})
    assert again.json()["result"]["status"] == "disabled"
    bad = api.put(f"/user/tokens/{created['id']}", json={**updated, "status": "expired"})
    assert bad.status_code == 400 and "status" in bad.json()["errors"][0]["message"]


def test_roll_invalidates_old_secret_at_once(sb: Sandbox, api: Api, zone: str) -> None:
    """Roll returns a new secret; the old one stops working immediately, id and policies stay."""
    created = api.post("/user/tokens", json=token_body(zone)).json()["result"]
    r = api.put(f"/user/tokens/{created['id']}/value", json={})
    assert r.status_code == 200
    new = r.json()["result"]
    assert isinstance(new, str) and new != created["value"] and is_sandbox_secret(new)
    assert Api(sb, created["value"]).get(f"/zones/{zone}/dns_records").status_code == 401
    assert Api(sb, new).get(f"/zones/{zone}/dns_records").status_code == 200
    assert (
        api.get(f"/user/tokens/{created['id']}").json()["result"]["policies"] == created["policies"]
    )


def test_delete_removes_token_and_secret(sb: Sandbox, api: Api, zone: str) -> None:
    """Delete answers {id}; the token is gone (404) and its secret no longer authenticates."""
    created = api.post("/user/tokens", json=token_body(zone)).json()["result"]
    r = api.delete(f"/user/tokens/{created['id']}")
    assert r.status_code == 200 and r.json()["result"] == {"id": created["id"]}
    assert api.get(f"/user/tokens/{created['id']}").status_code == 404
    assert api.delete(f"/user/tokens/{created['id']}").status_code == 404
    assert Api(sb, created["value"]).get("/user/tokens/verify").status_code == 401


def test_other_users_tokens_are_not_visible(sb: Sandbox, api: Api, zone: str) -> None:
    """A token of another user is 404 on this user's paths."""
    other = sb.add_user("other@example.com")
    theirs = sb.create_token(token_body(zone), user=other.id)
    assert api.get(f"/user/tokens/{theirs.id}").status_code == 404
    assert api.delete(f"/user/tokens/{theirs.id}").status_code == 404
    assert theirs.id not in [t["id"] for t in api.get("/user/tokens").json()["result"]]


def test_account_owned_token_lifecycle(sb: Sandbox, api: Api, account: str, zone: str) -> None:
    """With Account API Tokens Write a token manages account-owned tokens (cfat_ secrets),
    which work and are bounded to their account."""
    admin = {
        "name": "acct-admin",
        "policies": [
            {
                "effect": "allow",
                "permission_groups": [{"id": ACCOUNT_TOKENS_WRITE}],
                "resources": {f"com.cloudflare.api.account.{account}": "*"},
            }
        ],
    }
    admin_secret = api.post("/user/tokens", json=admin).json()["result"]["value"]
    client = Api(sb, admin_secret)
    base = f"/accounts/{account}/tokens"
    flat = client.post(base, json=token_body(zone))
    assert flat.status_code == 400  # Cloudflare refuses flat zone keys on account tokens
    message = flat.json()["errors"][0]["message"]
    assert message.startswith("policies[0].resources[") and "nested" in message
    nested = token_body(zone)
    nested["policies"][0]["resources"] = {
        f"com.cloudflare.api.account.{account}": {f"com.cloudflare.api.account.zone.{zone}": "*"}
    }
    created = client.post(base, json=nested).json()["result"]
    assert created["value"].startswith("cfat_")
    assert Api(sb, created["value"]).get(f"/zones/{zone}/dns_records").status_code == 200
    listed = client.get(base).json()
    assert [t["id"] for t in listed["result"]] == [created["id"]]
    assert client.get(f"{base}/{created['id']}").status_code == 200
    put = client.put(f"{base}/{created['id']}", json={"name": "n", "policies": created["policies"]})
    assert put.json()["result"]["name"] == "n"
    refused_put = client.put(f"{base}/{created['id']}", json=token_body(zone))
    assert refused_put.status_code == 400 and "policies[0]" in refused_put.text
    rolled = client.put(f"{base}/{created['id']}/value", json={}).json()["result"]
    assert Api(sb, rolled).get(f"{base}/verify").json()["result"]["id"] == created["id"]
    assert client.delete(f"{base}/{created['id']}").json()["result"]["id"] == created["id"]
    wildcard = token_body(zone)
    wildcard["policies"][0]["resources"] = {"com.cloudflare.api.account.zone.*": "*"}
    refused = client.post(base, json=wildcard)
    assert refused.status_code == 400 and "wildcard" in refused.json()["errors"][0]["message"]
    assert refused.json()["errors"][0]["message"].startswith("policies[0].resources[")
    assert api.get(base).status_code == 403  # the bootstrap lacks Account API Tokens Read


def test_permission_groups_filters(api: Api, account: str, sb: Sandbox) -> None:
    """permission_groups lists every group with scopes, filtered by name and scope; the
    account path omits user groups and needs account token permissions."""
    everything = api.get("/user/tokens/permission_groups").json()
    assert everything["result_info"]["count"] == len(everything["result"]) > 300
    by_name = api.get("/user/tokens/permission_groups", params={"name": "dns write"}).json()
    assert by_name["result"] == [
        {"id": DNS_WRITE, "name": "DNS Write", "scopes": ["com.cloudflare.api.account.zone"]}
    ]
    users = api.get(
        "/user/tokens/permission_groups", params={"scope": "com.cloudflare.api.user"}
    ).json()["result"]
    assert users and all(g["scopes"] == ["com.cloudflare.api.user"] for g in users)
    key = {"X-Auth-Email": "analyst@example.com", "X-Auth-Key": sb.global_api_key.reveal()}
    acct = Api(sb).get(f"/accounts/{account}/tokens/permission_groups", headers=key).json()
    assert all(g["scopes"] != ["com.cloudflare.api.user"] for g in acct["result"])


def test_user_token_quota_is_50(sb: Sandbox, api: Api, zone: str) -> None:
    """The 51st user token is refused with a clear 400 and nothing is written."""
    for i in range(49):  # plus the bootstrap token: 50
        assert api.post("/user/tokens", json=token_body(zone, f"t{i}")).status_code == 200
    r = api.post("/user/tokens", json=token_body(zone, "one-too-many"))
    assert r.status_code == 400
    assert "maximum of 50" in r.json()["errors"][0]["message"]
    assert len(sb.tokens(owner=sb.user_id)) == 50


def test_account_token_quota_is_500(sb: Sandbox, account: str, zone: str) -> None:
    """An account with 500 tokens refuses the next one (quota 500)."""
    sb.seed_tokens(account, 500)
    key = {"X-Auth-Email": "analyst@example.com", "X-Auth-Key": sb.global_api_key.reveal()}
    body = token_body(zone)
    body["policies"][0]["resources"] = {
        f"com.cloudflare.api.account.{account}": {f"com.cloudflare.api.account.zone.{zone}": "*"}
    }
    r = Api(sb).post(f"/accounts/{account}/tokens", json=body, headers=key)
    assert r.status_code == 400 and "maximum of 500" in r.json()["errors"][0]["message"]


def test_failed_call_leaves_nothing_behind(sb: Sandbox, api: Api, zone: str) -> None:
    """A create that fails validation writes no token, and only a journal row records it."""
    before = len(sb.tokens())
    bad = token_body(zone)
    bad["policies"].append(zone_policy(zone, "f" * 32))
    r = api.post("/user/tokens", json=bad)
    assert (
        r.status_code == 400
        and "policies[1].permission_groups[0].id" in r.json()["errors"][0]["message"]
    )
    assert len(sb.tokens()) == before
    assert sb.journal.iloc[-1]["status"] == 400


def test_handler_crash_rolls_back_and_answers_500(
    sb: Sandbox, api: Api, zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error inside a handler rolls back its writes and answers a 500 envelope."""
    from cftokens.sandbox import engine as engine_module

    original = engine_module.Engine.issue_token

    def broken(self: object, **kwargs: object) -> object:
        original(self, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("boom")

    monkeypatch.setattr(engine_module.Engine, "issue_token", broken)
    before = len(sb.tokens())
    r = api.post("/user/tokens", json=token_body(zone))
    assert r.status_code == 500 and r.json()["success"] is False
    assert len(sb.tokens()) == before


def test_unknown_route_is_7003_and_unknown_token_id_404(api: Api) -> None:
    """An unknown path gets 404/7003; an unknown token id gets 404."""
    r = api.get("/no/such/thing")
    assert r.status_code == 404 and error_codes(r) == [7003]
    assert api.get("/user/tokens/" + "a" * 32).status_code == 404
    outside = api.get("https://sandbox.cftokens.invalid/elsewhere")
    assert outside.status_code == 404


def test_same_seed_same_ids_times_and_secrets() -> None:
    """Two sandboxes with one seed issue identical ids and secrets; another seed differs."""

    def run(seed: int) -> tuple[str, str, str]:
        with Sandbox(seed=seed) as sandbox:
            zone = sandbox.directory().zones[0].id
            created = (
                Api(sandbox, sandbox.bootstrap_token)
                .post("/user/tokens", json=token_body(zone))
                .json()["result"]
            )
            return created["id"], created["value"], created["issued_on"]

    assert run(7) == run(7)
    assert run(7)[:2] != run(8)[:2]


def test_error_codes_of_bad_json(api: Api) -> None:
    """A body that is not JSON gets 400 with code 6007."""
    r = api.post("/user/tokens", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and error_codes(r) == [6007]
    big = api.post("/user/tokens", content=b"[" + b"0," * 40000 + b"0]")
    assert big.status_code == 413


def test_a_lone_surrogate_in_a_json_string_is_400(sb: Sandbox, api: Api, zone: str) -> None:
    """A name like "\\ud800" (valid JSON, not Unicode) is refused as malformed, never a 500;
    a proper surrogate pair (an emoji) is fine."""
    body = json.dumps(token_body(zone)).replace('"ci-dns"', '"\\ud800"')
    r = api.post("/user/tokens", content=body.encode())
    assert r.status_code == 400 and error_codes(r) == [6007]
    assert "surrogate" in r.json()["errors"][0]["message"]
    emoji = json.dumps(token_body(zone)).replace('"ci-dns"', '"\\ud83d\\ude80 ci"')
    created = api.post("/user/tokens", content=emoji.encode())
    assert created.status_code == 200 and created.json()["result"]["name"] == "\U0001f680 ci"


def test_listed_tokens_are_the_tokens_get_returns(sb: Sandbox, api: Api, zone: str) -> None:
    """A list page (serialised with the stored policies spliced in) holds exactly what GET
    returns for each token: conditions, non-ASCII names, every time field, expired status."""
    from datetime import timedelta

    created = [
        api.post("/user/tokens", json=token_body(zone, "plain")).json()["result"]["id"],
        api.post(
            "/user/tokens",
            json={
                **token_body(zone, 'café \u2603 "quoted" \\ tab\t'),
                "condition": {"request.ip": {"in": ["203.0.113.0/24"], "not_in": ["::1/128"]}},
                "not_before": "2026-11-02T09:30:00Z",
                "expires_on": "2026-11-02T10:00:00Z",
            },
        ).json()["result"]["id"],
    ]
    sb.clock.advance(timedelta(hours=2))  # the second one has expired
    listed = api.get("/user/tokens", params={"include_expired": "true", "per_page": 50})
    assert listed.status_code == 200, listed.text
    by_id = {t["id"]: t for t in listed.json()["result"]}
    assert set(created) <= set(by_id)
    for token_id in by_id:
        got = api.get(f"/user/tokens/{token_id}").json()["result"]
        if token_id == sb.bootstrap_token_id:  # the caller: used again since the listing
            got.pop("last_used_on"), by_id[token_id].pop("last_used_on")
        assert by_id[token_id] == got
    assert by_id[created[1]]["status"] == "expired"
    assert by_id[created[1]]["condition"]["request.ip"]["in"] == ["203.0.113.0/24"]
    assert by_id[created[1]]["name"].startswith("café \u2603")


def test_the_admin_api_refuses_text_that_is_not_unicode(sb: Sandbox, zone: str) -> None:
    """Seeding with a lone surrogate (a token spec as a dict, an account, a zone, a DNS
    record, a user, a journal entry) is a clear InvalidInput, not the store's bare
    UnicodeEncodeError, and nothing is stored."""
    from datetime import UTC, datetime

    import cftokens as cft

    before = len(sb.store.all_tokens())
    spec = {**token_body(zone), "name": "x\ud800"}
    for seed in (
        lambda: sb.create_token(spec),
        lambda: sb.create_token(spec, check=False),
        lambda: sb.add_account("Acme \udc00"),
        lambda: sb.add_zone("ex\ud800ample.com", account=sb.store.accounts()[0].id),
        lambda: sb.add_dns_record(zone, type="TXT", name="t", content="v\ud800"),
        lambda: sb.add_user("who@example.com", first_name="\udfff"),
        lambda: sb.add_journal(
            [{"time": datetime(2026, 1, 1, tzinfo=UTC), "method": "GET", "path": "/u\ud800"}]
        ),
    ):
        with pytest.raises(cft.InvalidInput, match="holds text that is not Unicode") as caught:
            seed()
        assert str(caught.value).encode("utf-8")  # the message shows the text escaped
    assert len(sb.store.all_tokens()) == before
    assert not [a for a in sb.store.accounts() if a.name.startswith("Acme")]
