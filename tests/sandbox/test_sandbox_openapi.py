"""Fidelity: every response of every emulated operation (successes and failures) validates
against Cloudflare's schema in tests/data/tokens-openapi.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sandbox_helpers import ACCOUNT_TOKENS_WRITE, DNS_READ, account_token_body, token_body

import cftokens as cft
from cftokens.sandbox import Sandbox

if TYPE_CHECKING:  # the validators load in the tests that use them, not at collection
    from openapi_schema_validator import OAS30Validator

SPEC_PATH = Path(__file__).resolve().parent.parent / "data" / "tokens-openapi.json"


@cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())


def validator(method: str, template: str, status: int) -> OAS30Validator:
    """The validator of one operation's response schema for a status."""
    from openapi_schema_validator import OAS30Validator

    responses = spec()["paths"][template][method.lower()]["responses"]
    key = str(status) if str(status) in responses else f"{str(status)[0]}XX"
    schema = responses[key]["content"]["application/json"]["schema"]
    if key == "4XX" and "allOf" in schema:
        # Spec quirk: some failure schemas are allOf(success envelope, failure envelope),
        # which no body can satisfy (success is both [true] and [false]); the failure part is
        # the one that describes an error answer.
        schema = next(s for s in schema["allOf"] if s.get("$ref", "").endswith("common-failure"))
    return OAS30Validator({"components": spec()["components"], **schema})


class Recorder(httpx.BaseTransport):
    """Wraps the sandbox transport and keeps every (request, response)."""

    def __init__(self, inner: httpx.BaseTransport):
        self.inner = inner
        self.seen: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.seen.append((request, response))
        return response


def exercise(sb: Sandbox) -> Iterator[tuple[httpx.Request, httpx.Response]]:
    """Call every emulated operation, with successes and failures, and yield the traffic."""
    account = sb.directory().accounts[0].id
    zone = sb.directory().zones[0].id
    key = {"X-Auth-Email": "analyst@example.com", "X-Auth-Key": sb.global_api_key.reveal()}
    recorder = Recorder(sb.transport())
    bearer = {"Authorization": f"Bearer {sb.bootstrap_token.reveal()}"}
    with httpx.Client(transport=recorder, base_url=sb.base_url) as http:
        get, post, put = http.get, http.post, http.put
        get("/user/tokens/verify", headers=bearer)
        get("/user/tokens/verify")
        get("/user/tokens/verify", headers={"Authorization": "Bearer nope"})
        get(
            "/user/tokens/permission_groups",
            headers=bearer,
            params={"scope": "com.cloudflare.api.user"},
        )
        created = post("/user/tokens", headers=bearer, json=token_body(zone)).json()["result"]
        post("/user/tokens", headers=bearer, json={"name": 5})
        for i in range(6):
            post("/user/tokens", headers=bearer, json=token_body(zone, f"t{i}"))
        get("/user/tokens", headers=bearer, params={"per_page": 5, "page": 2})
        get("/user/tokens", headers=bearer, params={"per_page": 500})
        get(f"/user/tokens/{created['id']}", headers=bearer)
        get("/user/tokens/" + "0" * 32, headers=bearer)
        put(
            f"/user/tokens/{created['id']}",
            headers=bearer,
            json={**token_body(zone, "renamed"), "status": "disabled"},
        )
        put(f"/user/tokens/{created['id']}/value", headers=bearer, json={})
        http.delete(f"/user/tokens/{created['id']}", headers=bearer)
        http.delete(f"/user/tokens/{created['id']}", headers=bearer)
        base = f"/accounts/{account}/tokens"
        admin = post(
            "/user/tokens",
            headers=bearer,
            json={
                "name": "acct",
                "policies": [
                    {
                        "effect": "allow",
                        "permission_groups": [{"id": ACCOUNT_TOKENS_WRITE}],
                        "resources": {f"com.cloudflare.api.account.{account}": "*"},
                    }
                ],
            },
        ).json()["result"]["value"]
        acct = {"Authorization": f"Bearer {admin}"}
        owned = post(base, headers=acct, json=account_token_body(account, zone)).json()["result"]
        get(base, headers=acct)
        get(base, headers=bearer)
        get(f"{base}/permission_groups", headers=acct, params={"name": "DNS Read"})
        get(f"{base}/{owned['id']}", headers=acct)
        put(
            f"{base}/{owned['id']}", headers=acct, json=account_token_body(account, zone, "renamed")
        )
        rolled = put(f"{base}/{owned['id']}/value", headers=acct, json={}).json()["result"]
        get(f"{base}/verify", headers={"Authorization": f"Bearer {rolled}"})
        get(f"{base}/verify", headers=bearer)
        http.delete(f"{base}/{owned['id']}", headers=acct)
        get("/user", headers=key)
        get("/user", headers=bearer)
        get("/accounts", headers=key)
        get(f"/accounts/{account}", headers=key)
        get("/zones", headers=key, params={"name": "contains:example"})
        get("/zones", headers=bearer)
        get(f"/zones/{zone}", headers=key)
        records = f"/zones/{zone}/dns_records"
        record = post(
            records, headers=key, json={"type": "A", "name": "www", "content": "192.0.2.1"}
        ).json()["result"]
        post(
            records,
            headers=key,
            json={"type": "MX", "name": "@", "content": "mx.example.com", "priority": 5},
        )
        post(records, headers=key, json={"type": "A", "name": "x", "content": "bad"})
        get(records, headers=key)
        get(f"{records}/{record['id']}", headers=key)
        put(
            f"{records}/{record['id']}",
            headers=key,
            json={"type": "TXT", "name": "www", "content": "hi"},
        )
        http.patch(
            f"{records}/{record['id']}", headers=key, json={"comment": "note", "tags": ["team:dns"]}
        )
        http.delete(f"{records}/{record['id']}", headers=key)
        get(f"{records}/{record['id']}", headers=key)
    yield from recorder.seen


@pytest.mark.slow  # about a second; the inner loop validates every response against it
def test_the_spec_itself_is_valid() -> None:
    """The copied spec is a valid OpenAPI 3.0 document."""
    from openapi_spec_validator import validate as validate_spec

    validate_spec(spec())


def test_every_response_validates_against_the_spec() -> None:
    """Each response of the exercise validates against its operation's schema, and the
    exercise covers all 28 emulated operations with a success."""
    sb = Sandbox(rate_limit=None)
    covered: set[tuple[str, str]] = set()
    checked = 0
    for request, response in exercise(sb):
        match = cft.operations.find(request.method, request.url.path)
        assert match is not None
        template = match.operation.path
        errors = list(
            validator(request.method, template, response.status_code).iter_errors(response.json())
        )
        assert not errors, (
            request.method,
            request.url.path,
            response.status_code,
            errors[0].message,
        )
        checked += 1
        if response.status_code == 200:
            covered.add((request.method, template))
    assert checked > 45
    spec_ops = {
        (m.upper(), p) for p, item in spec()["paths"].items() for m in item if m != "parameters"
    }
    assert spec_ops == covered


@pytest.mark.parametrize(
    "body",
    [
        {
            "name": "x",
            "policies": [
                {
                    "effect": "allow",
                    "permission_groups": [{"id": DNS_READ}],
                    "resources": {"com.cloudflare.api.account.zone.*": "*"},
                }
            ],
            "condition": {"request.ip": {"in": ["192.0.2.0/24"], "not_in": ["192.0.2.7"]}},
            "not_before": "2026-11-03T00:00:00Z",
            "expires_on": "2027-01-01T00:00:00Z",
        },
    ],
)
def test_full_token_with_condition_and_window_validates(body: dict[str, Any]) -> None:
    """A token with every optional field validates on create, get and list."""
    sb = Sandbox(rate_limit=None)
    recorder = Recorder(sb.transport())
    headers = {"Authorization": f"Bearer {sb.bootstrap_token.reveal()}"}
    with httpx.Client(transport=recorder, base_url=sb.base_url, headers=headers) as http:
        created = http.post("/user/tokens", json=body).json()["result"]
        http.get(f"/user/tokens/{created['id']}")
        http.get("/user/tokens")
    for request, response in recorder.seen:
        assert response.status_code == 200
        template = cft.operations.find(request.method, request.url.path).operation.path  # type: ignore[union-attr]
        assert not list(validator(request.method, template, 200).iter_errors(response.json()))
