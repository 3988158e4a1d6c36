"""Client methods as intents: the table agrees with the client's classes and the catalogue."""

from __future__ import annotations

import inspect

import pytest
from advisor_helpers import EXAMPLE_COM, PROD

import cftokens as cft
from cftokens import client as client_module
from cftokens.advisor import least_privilege
from cftokens.advisor.clientmap import CLIENT_METHODS, NOT_REQUESTS, intent_of_method
from cftokens.advisor.intents import FREE_OPERATIONS

SYNC_CLASSES = [
    client_module.Client,
    *(
        getattr(client_module._sync, name)
        for name in (
            "Tokens",
            "PermissionGroups",
            "Accounts",
            "AuditLogs",
            "AccountScope",
            "Zones",
            "DnsRecords",
            "UserResource",
        )
    ),
]


def public_methods(cls: type) -> list[str]:
    return [
        name
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_")
        and callable(member)
        and not isinstance(inspect.getattr_static(cls, name), property)
    ]


@pytest.mark.parametrize("cls", SYNC_CLASSES, ids=lambda c: c.__name__)
def test_every_public_client_method_is_in_a_table(cls: type) -> None:
    """Each public method of the client's resource classes (sync and async) is either mapped
    to its requests or listed as sending none, so a new client method cannot go unnoticed."""
    base = cls.__name__
    async_cls = getattr(client_module, "Async" + base, None) or getattr(
        client_module._async, "Async" + base
    )
    for klass in (cls, async_cls):
        for name in public_methods(klass):
            key = f"{base}.{name}"
            if key == "Client.aclose":
                continue
            assert key in CLIENT_METHODS or key in NOT_REQUESTS, key


@pytest.mark.parametrize("key", sorted(CLIENT_METHODS))
def test_every_mapped_request_is_a_catalogue_operation(key: str) -> None:
    """Every request in the table, for user- and account-owned token collections, is an
    operation of the catalogue with permission groups (or a free verify)."""
    for method, template in CLIENT_METHODS[key]:
        for prefix in ("/user/tokens", f"/accounts/{PROD}/tokens"):
            path = template.replace("{tokens}", prefix).replace("{account}", f"/accounts/{PROD}")
            match = cft.operations.match(method, path)
            op = match.operation
            assert op.mapped or (op.method, op.path) in FREE_OPERATIONS, (key, path)


def test_bound_methods_become_their_requests() -> None:
    """client.account(a).tokens.create maps to POST /accounts/<a>/tokens and the advice gives
    Account API Tokens Write on that account; dns_records.update reads then writes."""
    client = cft.Client(token="cfut_" + "a" * 43)
    try:
        assert intent_of_method(client.account(PROD).tokens.create) == [
            ("POST", f"/accounts/{PROD}/tokens")
        ]
        assert intent_of_method(client.tokens.roll) == [("PUT", "/user/tokens/{token_id}/value")]
        assert [m for m, _ in intent_of_method(client.dns_records.update)] == ["GET", "PUT"]
        advice = least_privilege(
            [client.dns_records.create, client.dns_records.list, client.account(PROD).tokens.list],
            zone=EXAMPLE_COM,
        )
        names = {(g.group.name, g.resource.id) for g in advice.grants}
        assert names == {("DNS Write", EXAMPLE_COM), ("Account API Tokens Read", PROD)}
        assert advice.intents[0].text == "client.dns_records.create"
    finally:
        client.close()


def test_async_methods_map_like_sync_ones() -> None:
    """An AsyncClient's bound methods map to the same requests as the sync client's."""
    client = cft.AsyncClient(token="cfut_" + "a" * 43)
    assert intent_of_method(client.dns_records.create) == [("POST", "/zones/{zone_id}/dns_records")]
    assert intent_of_method(client.account(PROD).audit_logs.list) == [
        ("GET", f"/accounts/{PROD}/logs/audit")
    ]


def test_methods_that_send_no_fixed_request_are_reported() -> None:
    """client.request and foreign callables are reported as unmapped, with what to write."""
    client = cft.Client(token="cfut_" + "a" * 43)
    try:
        advice = least_privilege(
            [client.request, len, "GET /zones/{zone_id}/dns_records"], zone=EXAMPLE_COM
        )
    finally:
        client.close()
    reasons = [u.reason for u in advice.unmapped]
    assert len(reasons) == 2
    assert all("METHOD /path" in r for r in reasons)
