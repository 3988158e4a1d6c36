"""DNS fidelity: Cloudflare's list filters (and a refusal for any other), its record rules and
error codes, its quotas and limits, and a page cache that junk cannot grow."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sandbox_helpers import Api, error_codes

from cftokens.sandbox import Sandbox


@pytest.fixture
def admin(sb: Sandbox) -> Api:
    """Raw access with the user's Global API Key (their full rights)."""
    client = Api(sb)
    client.http.headers.update(
        {"X-Auth-Email": sb.user.email or "", "X-Auth-Key": sb.global_api_key.reveal()}
    )
    return client


@pytest.fixture
def zone(sb: Sandbox) -> str:
    return sb.directory().zones[0].id


def create(admin: Api, zone: str, **body: Any) -> Any:
    r = admin.post(f"/zones/{zone}/dns_records", json=body)
    assert r.status_code == 200, r.text
    return r.json()["result"]


@pytest.fixture
def records(admin: Api, zone: str) -> dict[str, str]:
    """Four records: names and ids."""
    made = [
        create(
            admin,
            zone,
            type="A",
            name="www",
            content="192.0.2.1",
            comment="Hello, world",
            tags=["team:DNS", "important:yes"],
        ),
        create(admin, zone, type="A", name="api", content="192.0.2.2", tags=["team:Web"]),
        create(admin, zone, type="MX", name="@", content="mx.example.com", priority=10),
        create(admin, zone, type="TXT", name="_verify", content="Token=ABC", comment="ci"),
    ]
    return {r["name"]: r["id"] for r in made}


def names(admin: Api, zone: str, **params: Any) -> list[str]:
    r = admin.get(f"/zones/{zone}/dns_records", params=params)
    assert r.status_code == 200, r.text
    return [rec["name"] for rec in r.json()["result"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"name": "WWW.example.com"}, ["www.example.com"]),
        ({"name.exact": "api.example.com"}, ["api.example.com"]),
        ({"name.exact": "www"}, ["www.example.com"]),
        ({"name.contains": "ww"}, ["www.example.com"]),
        ({"name.startswith": "_ver"}, ["_verify.example.com"]),
        ({"name.endswith": "i.example.com"}, ["api.example.com"]),
        ({"content": "192.0.2.2"}, ["api.example.com"]),
        ({"content.exact": "token=abc"}, ["_verify.example.com"]),
        ({"content.contains": "0.2."}, ["api.example.com", "www.example.com"]),
        ({"content.startswith": "mx."}, ["example.com"]),
        ({"content.endswith": ".1"}, ["www.example.com"]),
        ({"type": "MX"}, ["example.com"]),
        ({"type": "SRV"}, []),
        ({"tag": "team:dns"}, ["www.example.com"]),
        ({"tag": "team"}, ["api.example.com", "www.example.com"]),
        ({"tag.present": "important"}, ["www.example.com"]),
        ({"tag.absent": "team", "type": "A"}, []),
        ({"tag.exact": "team:Web"}, ["api.example.com"]),
        ({"tag.contains": "team:e"}, ["api.example.com"]),
        ({"tag.startswith": "team:D"}, ["www.example.com"]),
        ({"tag.endswith": "important:ES"}, ["www.example.com"]),
        ({"comment": "hello, world"}, ["www.example.com"]),
        ({"comment.exact": "CI"}, ["_verify.example.com"]),
        ({"comment.contains": "o, w"}, ["www.example.com"]),
        ({"comment.startswith": "hel"}, ["www.example.com"]),
        ({"comment.endswith": "world"}, ["www.example.com"]),
        ({"comment.present": "", "type": "A"}, ["www.example.com"]),
        ({"comment.absent": "1", "type": "A"}, ["api.example.com"]),
        ({"type": "MX", "name": "www", "match": "any"}, ["www.example.com", "example.com"]),
        ({"type": "MX", "name": "www", "match": "all"}, []),
        (
            {"tag.present": "important", "tag.exact": "team:Web", "tag_match": "any"},
            ["api.example.com", "www.example.com"],
        ),
        ({"tag.present": "important", "tag.exact": "team:Web"}, []),
        (
            {"order": "name", "direction": "desc"},
            ["www.example.com", "example.com", "api.example.com", "_verify.example.com"],
        ),
        ({"order": "content", "type": "A"}, ["www.example.com", "api.example.com"]),
    ],
)
def test_list_filters_of_the_schema_are_applied(
    admin: Api, zone: str, records: dict[str, str], params: dict[str, str], expected: list[str]
) -> None:
    """Each filter of Cloudflare's DNS list operation selects the records it documents."""
    got = names(admin, zone, **params)
    if "order" in params:
        assert got == expected
    else:
        assert sorted(got) == sorted(expected)


@pytest.mark.parametrize(
    "params",
    [{"junk": "1"}, {"name.regex": "w+"}, {"content.not": "x"}, {"zone_id": "a"}, {"tag.in": "a"}],
)
def test_a_filter_not_emulated_is_refused(
    admin: Api, zone: str, records: dict[str, str], params: dict[str, str]
) -> None:
    """Any other parameter is a 400 saying "filter not emulated", never the whole zone."""
    r = admin.get(f"/zones/{zone}/dns_records", params=params)
    assert r.status_code == 400
    message = r.json()["errors"][0]["message"]
    assert message.startswith(next(iter(params))) and "filter not emulated" in message


@pytest.mark.slow  # inner twins: the name.exact and tag.present cases of the filter test above
def test_the_official_sdk_finds_a_record_by_exact_name(
    sb: Sandbox, zone: str, records: dict[str, str]
) -> None:
    """cloudflare's dns.records.list(name={"exact": …}) (sent as name.exact=…) returns only
    that record. (Slow: the SDK's DNS resources and their models take about 0.4 s of CPU to
    load; the inner loop sends the same parameters itself.)"""
    import cloudflare  # not at collection: only this test needs it (about 0.2 s of CPU)

    http = httpx.Client(transport=sb.transport())
    cf = cloudflare.Cloudflare(
        api_email=sb.user.email,
        api_key=sb.global_api_key.reveal(),
        base_url=sb.base_url,
        http_client=http,
        max_retries=0,
    )
    found = list(cf.dns.records.list(zone_id=zone, name={"exact": "api.example.com"}))
    assert [r.id for r in found] == [records["api.example.com"]]
    found = list(cf.dns.records.list(zone_id=zone, tag={"present": "important"}))
    assert [r.name for r in found] == ["www.example.com"]


def test_a_cname_cannot_share_its_name(admin: Api, zone: str) -> None:
    """A CNAME next to another record (81053), another record next to a CNAME (81054)."""
    create(admin, zone, type="A", name="shared", content="192.0.2.9")
    r = admin.post(
        f"/zones/{zone}/dns_records", json={"type": "CNAME", "name": "shared", "content": "x.net"}
    )
    assert r.status_code == 400 and error_codes(r) == [81053]
    create(admin, zone, type="CNAME", name="alias", content="x.net")
    for body in (
        {"type": "TXT", "name": "alias", "content": "v=1"},
        {"type": "CNAME", "name": "alias", "content": "y.net"},
    ):
        r = admin.post(f"/zones/{zone}/dns_records", json=body)
        assert r.status_code == 400 and error_codes(r) in ([81054], [81053])


def test_identical_records_are_refused_also_by_an_update(admin: Api, zone: str) -> None:
    """The same type, name and content twice is 81058, on create and on PATCH."""
    create(admin, zone, type="TXT", name="t", content="same")
    body = {"type": "TXT", "name": "t", "content": "SAME"}
    r = admin.post(f"/zones/{zone}/dns_records", json=body)
    assert r.status_code == 400 and error_codes(r) == [81058]
    other = create(admin, zone, type="TXT", name="t", content="other")
    r = admin.patch(f"/zones/{zone}/dns_records/{other['id']}", json={"content": "same"})
    assert r.status_code == 400 and error_codes(r) == [81058]
    unchanged = admin.patch(f"/zones/{zone}/dns_records/{other['id']}", json={"ttl": 120})
    assert unchanged.status_code == 200


@pytest.mark.parametrize("ttl", [0, 2, 30, 59, 86401, 3600.5, "3600", True])
def test_a_ttl_outside_1_or_60_to_86400_is_9021(admin: Api, zone: str, ttl: Any) -> None:
    """TTL is 1 (automatic) or 60-86400 on a free zone: 1004 with 9021 in the chain."""
    r = admin.post(
        f"/zones/{zone}/dns_records",
        json={"type": "A", "name": "t", "content": "192.0.2.1", "ttl": ttl},
    )
    assert r.status_code == 400 and error_codes(r) == [1004, 9021]
    assert r.json()["errors"][0]["message"].startswith("ttl:")


def test_ttl_as_a_float_and_the_enterprise_minimum(sb: Sandbox, admin: Api, zone: str) -> None:
    """ttl 3600.0 is the number 3600; enterprise zones take 30."""
    assert create(admin, zone, type="A", name="f", content="192.0.2.1", ttl=3600.0)["ttl"] == 3600
    account = sb.directory().accounts[0].id
    big = sb.add_zone("big.example", account=account, plan="enterprise").id
    assert create(admin, big, type="A", name="f", content="192.0.2.1", ttl=30)["ttl"] == 30


def test_settings_are_echoed_and_checked(admin: Api, zone: str) -> None:
    """settings come back as sent (and stay on PATCH); an unknown setting is a 400."""
    record = create(
        admin, zone, type="A", name="s", content="192.0.2.1", settings={"ipv4_only": True}
    )
    assert record["settings"] == {"ipv4_only": True}
    patched = admin.patch(f"/zones/{zone}/dns_records/{record['id']}", json={"ttl": 300})
    assert patched.json()["result"]["settings"] == {"ipv4_only": True}
    listed = admin.get(f"/zones/{zone}/dns_records").json()["result"]
    assert listed[0]["settings"] == {"ipv4_only": True}
    r = admin.post(
        f"/zones/{zone}/dns_records",
        json={"type": "A", "name": "u", "content": "192.0.2.1", "settings": {"evil": 1}},
    )
    assert r.status_code == 400 and r.json()["errors"][0]["message"].startswith("settings.evil")


def test_txt_content_is_at_most_2048_characters(admin: Api, zone: str) -> None:
    """2,048 characters are accepted, 2,049 refused naming content; other types 255."""
    create(admin, zone, type="TXT", name="long", content="x" * 2048)
    r = admin.post(
        f"/zones/{zone}/dns_records", json={"type": "TXT", "name": "l2", "content": "x" * 2049}
    )
    assert r.status_code == 400 and r.json()["errors"][0]["message"].startswith("content:")
    r = admin.post(
        f"/zones/{zone}/dns_records", json={"type": "CNAME", "name": "c", "content": "x" * 256}
    )
    assert r.status_code == 400 and r.json()["errors"][0]["message"].startswith("content:")


@pytest.mark.parametrize("name", ["a\x00b", "www\nevil", "\x1b[2Kx", "a b", "x\x85y"])
def test_a_record_name_with_control_characters_or_spaces_is_refused(
    admin: Api, zone: str, name: str
) -> None:
    """NUL, newline, escape, NEL and spaces are no part of a DNS name: 400 naming name."""
    r = admin.post(
        f"/zones/{zone}/dns_records", json={"type": "A", "name": name, "content": "192.0.2.1"}
    )
    assert r.status_code == 400 and r.json()["errors"][0]["message"].startswith("name:")


def test_a_free_zone_holds_at_most_200_records(sb: Sandbox, admin: Api, zone: str) -> None:
    """The 201st record of a free zone is refused with 81045 and writes nothing."""
    for i in range(199):
        sb.add_dns_record(zone, type="TXT", name=f"r{i}", content="x")
    create(admin, zone, type="TXT", name="last", content="x")
    r = admin.post(
        f"/zones/{zone}/dns_records", json={"type": "TXT", "name": "over", "content": "x"}
    )
    assert r.status_code == 400 and error_codes(r) == [81045]
    total = admin.get(f"/zones/{zone}/dns_records", params={"per_page": 1})
    assert total.json()["result_info"]["total_count"] == 200


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("page", "1_0"),
        ("per_page", "\uff11\uff10"),
        ("per_page", "5000001"),
        ("page", "0"),
        ("page", "1e3"),
        ("per_page", "9" * 5000),
    ],
)
def test_query_numbers_must_be_plain_integers(admin: Api, zone: str, name: str, value: str) -> None:
    """page=1_0, full-width digits, exponents, thousands of digits and out-of-range values
    are 400s naming the parameter."""
    r = admin.get(f"/zones/{zone}/dns_records", params={name: value})
    assert r.status_code == 400 and r.json()["errors"][0]["message"].startswith(f"{name}:")


def test_per_page_up_to_the_schema_maximum(admin: Api, zone: str, records: dict[str, str]) -> None:
    """per_page=5000000 (the schema's maximum) and 20.0 (a number) work."""
    big = admin.get(f"/zones/{zone}/dns_records", params={"per_page": "5000000"})
    assert big.status_code == 200 and big.json()["result_info"]["count"] == 4
    assert admin.get(f"/zones/{zone}/dns_records", params={"per_page": "20.0"}).status_code == 200


def test_a_zone_is_found_by_name_with_per_page_1(sb: Sandbox, admin: Api) -> None:
    """GET /zones?name=example.com&per_page=1, as Cloudflare's legacy client sends it."""
    r = admin.get("/zones", params={"name": "example.com", "per_page": 1})
    assert r.status_code == 200, r.text
    assert [z["name"] for z in r.json()["result"]] == ["example.com"]


def test_the_page_cache_is_keyed_on_parsed_parameters_and_bounded(
    sb: Sandbox, admin: Api, zone: str
) -> None:
    """Equivalent queries share one entry; many distinct pages never hold more than the
    cache's byte bound; a write empties it (before the next read)."""
    for i in range(40):
        sb.add_dns_record(zone, type="TXT", name=f"big{i}", content="y" * 2000)
    cache = sb.store.responses
    admin.get(f"/zones/{zone}/dns_records", params={"per_page": "50"})
    admin.get(f"/zones/{zone}/dns_records", params={"per_page": "50.0"})
    assert len(cache) == 1
    cache.max_bytes = 300_000
    for i in range(60):
        admin.get(f"/zones/{zone}/dns_records", params={"search": "big", "page": str(i % 3 + 1)})
        admin.get(f"/zones/{zone}/dns_records", params={"content.contains": "y" * (i + 1)})
        assert cache.bytes <= cache.max_bytes
    create(admin, zone, type="A", name="w", content="192.0.2.1")
    assert names(admin, zone, type="A") == ["w.example.com"]
    assert len(cache) == 1


def test_page_cache_evicts_least_recently_used_and_skips_huge_pages() -> None:
    """PageCache: the byte bound holds, the oldest entry leaves first, an entry over
    max_entry is never kept."""
    from cftokens.sandbox.store import PageCache

    cache = PageCache(max_bytes=100, max_entry=60)
    cache.put("a", "A", 40)
    cache.put("b", "B", 40)
    assert cache.get("a") == "A"
    cache.put("c", "C", 40)
    assert cache.get("b") is None and cache.get("a") == "A" and cache.bytes == 80
    cache.put("huge", "H", 61)
    assert cache.get("huge") is None and cache.bytes == 80
