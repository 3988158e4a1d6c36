"""Properties (hypothesis): random create/update/roll/delete/verify sequences keep secrets,
counts and pages consistent and never answer 5xx; malformed bodies always get a 400 naming
the field and write nothing."""

from __future__ import annotations

import ipaddress
import string
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)
from sandbox_helpers import DNS_READ, DNS_WRITE, ZONE_READ, Api, token_body

from cftokens.catalog import permission_groups
from cftokens.sandbox import Sandbox

NAMES = st.text(
    alphabet=string.ascii_letters + string.digits + "-_ .", min_size=1, max_size=40
).filter(lambda s: s.strip() != "")


class TokenLifecycle(RuleBasedStateMachine):
    """A model of one user's tokens, checked against the sandbox after every step."""

    tokens = Bundle("tokens")

    @initialize()
    def start(self) -> None:
        self.sb = Sandbox(rate_limit=None)
        self.zone = self.sb.directory().zones[0].id
        self.api = Api(self.sb, self.sb.bootstrap_token)
        self.live: dict[str, dict[str, Any]] = {}
        self.dead: list[str] = []

    def call(
        self, client: Api | httpx.Client, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        response = client.request(method, path, **kwargs)
        assert response.status_code < 500, response.text
        return response

    @precondition(lambda self: len(self.live) < 45)
    @rule(target=tokens, name=NAMES, group=st.sampled_from([DNS_READ, DNS_WRITE, ZONE_READ]))
    def create(self, name: str, group: str) -> str:
        body = token_body(self.zone, name)
        body["policies"][0]["permission_groups"] = [{"id": group}]
        r = self.call(self.api, "POST", "/user/tokens", json=body)
        assert r.status_code == 200
        result = r.json()["result"]
        self.live[result["id"]] = {"secret": result["value"], "status": "active", "name": name}
        return str(result["id"])

    @rule(token=tokens, name=NAMES, disable=st.booleans())
    def update(self, token: str, name: str, disable: bool) -> None:
        if token not in self.live:
            return
        status = "disabled" if disable else "active"
        body = token_body(self.zone, name, status=status)
        r = self.call(self.api, "PUT", f"/user/tokens/{token}", json=body)
        assert r.status_code == 200 and r.json()["result"]["status"] == status
        self.live[token].update(status=status, name=name)

    @rule(token=tokens)
    def roll(self, token: str) -> None:
        r = self.call(self.api, "PUT", f"/user/tokens/{token}/value", json={})
        if token not in self.live:
            assert r.status_code == 404
            return
        assert r.status_code == 200
        self.dead.append(self.live[token]["secret"])
        self.live[token]["secret"] = r.json()["result"]

    @rule(token=consumes(tokens))
    def delete(self, token: str) -> None:
        r = self.call(self.api, "DELETE", f"/user/tokens/{token}")
        if token not in self.live:
            assert r.status_code == 404
            return
        assert r.status_code == 200 and r.json()["result"] == {"id": token}
        self.dead.append(self.live.pop(token)["secret"])

    @rule(token=tokens)
    def verify(self, token: str) -> None:
        if token not in self.live:
            return
        entry = self.live[token]
        r = self.call(Api(self.sb, entry["secret"]), "GET", "/user/tokens/verify")
        assert r.status_code == 200
        assert r.json()["result"] == {"id": token, "status": entry["status"]}

    @precondition(lambda self: bool(self.dead))
    @rule(data=st.data())
    def dead_secret_never_authenticates(self, data: st.DataObject) -> None:
        secret = data.draw(st.sampled_from(self.dead))
        client = Api(self.sb, secret)
        assert self.call(client, "GET", "/user/tokens/verify").status_code == 401
        assert self.call(client, "GET", f"/zones/{self.zone}/dns_records").status_code == 401

    @rule(per_page=st.integers(5, 50), descending=st.booleans())
    def pages_agree_with_counts(self, per_page: int, descending: bool) -> None:
        seen: list[str] = []
        page = 1
        expected = len(self.live) + 1  # and the bootstrap token
        while True:
            params = {
                "per_page": per_page,
                "page": page,
                "direction": "desc" if descending else "asc",
            }
            body = self.call(self.api, "GET", "/user/tokens", params=params).json()
            info = body["result_info"]
            assert info["total_count"] == expected and info["count"] == len(body["result"])
            if not body["result"]:
                break
            seen += [t["id"] for t in body["result"]]
            page += 1
        assert len(seen) == len(set(seen)) == expected
        assert set(seen) == set(self.live) | {self.sb.bootstrap_token_id}

    @invariant()
    def names_and_statuses_match(self) -> None:
        if not hasattr(self, "sb"):
            return
        stored = {t.id: t for t in self.sb.tokens(owner=self.sb.user_id)}
        for token, entry in self.live.items():
            assert stored[token].name == entry["name"]
            assert stored[token].status.value == entry["status"]

    def teardown(self) -> None:
        if hasattr(self, "sb"):
            assert (self.sb.journal["status"] >= 500).sum() == 0
            self.sb.close()


TokenLifecycle.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_token_lifecycle = pytest.mark.slow(TokenLifecycle.TestCase)


# --------------------------------------------------------------------------------------------
# Bad bodies
# --------------------------------------------------------------------------------------------

# A seed of its own: this module-wide sandbox lives for the whole session, and sandboxes of the
# same seed issue the same secrets (other tests compare secrets across live sandboxes).
_SANDBOX = Sandbox(rate_limit=None, seed=31337)
_ZONE = _SANDBOX.directory().zones[0].id
_API = Api(_SANDBOX, _SANDBOX.bootstrap_token)
_KNOWN = {g.id for g in permission_groups}

NOT_STRING = st.one_of(
    st.none(),
    st.integers(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
NOT_LIST = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=5),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
NOT_OBJECT = st.one_of(
    st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2), st.booleans()
)


def _not_an_address(text: str) -> bool:
    """True when `text` is not an IP address or network at all ("::" and "1.2.3.4" are)."""
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return True
    return False


BAD_CIDR = st.one_of(
    st.text(max_size=12).filter(_not_an_address),
    st.sampled_from(["10.0.0.0/33", "300.1.1.1/8", "2001:db8::/129", "10.0.0.0/8 ", ""]),
)


def _policy(body: dict[str, Any]) -> dict[str, Any]:
    policy: dict[str, Any] = body["policies"][0]
    return policy


def mutations() -> st.SearchStrategy[tuple[str, Any]]:
    """(field the error must name, a function that breaks a valid body)."""

    def setter(
        path: str, value_strategy: st.SearchStrategy[Any]
    ) -> st.SearchStrategy[tuple[str, Any]]:
        return value_strategy.map(lambda v: (path, v))

    return st.one_of(
        setter("name", NOT_STRING.filter(lambda v: v is not None)),
        setter("name", st.just(None)),
        setter("name", st.text(alphabet=" \t\n", max_size=5)),
        setter("name", st.text(alphabet="ab", min_size=121, max_size=200)),
        setter("policies", NOT_LIST),
        setter("policies", st.just([])),
        setter("policies[0]", NOT_OBJECT),
        setter(
            "policies[0].effect", st.text(max_size=8).filter(lambda t: t not in ("allow", "deny"))
        ),
        setter("policies[0].permission_groups", NOT_LIST),
        setter("policies[0].permission_groups[0]", NOT_OBJECT),
        setter("policies[0].permission_groups[0].id", st.text(max_size=40)),
        setter(
            "policies[0].permission_groups[0].id",
            st.text(alphabet="0123456789abcdef", min_size=32, max_size=32).filter(
                lambda t: t not in _KNOWN
            ),
        ),
        setter("policies[0].resources", NOT_OBJECT),
        setter("policies[0].resources", st.just({})),
        setter("policies[0].resources", st.text(min_size=1, max_size=30).map(lambda k: {k: "*"})),
        setter(
            "policies[0].resources",
            st.text(max_size=5)
            .filter(lambda v: v != "*")
            .map(lambda v: {f"com.cloudflare.api.account.zone.{_ZONE}": v}),
        ),
        setter("policies[0].permission_groups[0]", st.just("user-scope")),
        setter("condition", NOT_OBJECT.filter(lambda v: v not in ("", 0, False))),
        setter('condition["request.ip"].in[0]', BAD_CIDR),
        setter('condition["request.ip"].not_in[0]', BAD_CIDR),
        setter("not_before", st.text(max_size=10)),
        setter("expires_on", st.integers()),
        setter("not_before", st.just("window")),
        setter("expires_on", st.just("past")),
    )


def apply(field: str, value: Any) -> dict[str, Any]:
    body = token_body(_ZONE, "valid")
    if field in ("name", "policies", "condition", "not_before", "expires_on"):
        if field == "not_before" and value == "window":
            body["not_before"], body["expires_on"] = "2027-02-01T00:00:00Z", "2027-01-01T00:00:00Z"
        elif field == "expires_on" and value == "past":
            body["expires_on"] = "2026-01-01T00:00:00Z"
        elif value is None:
            body.pop(field, None)
        else:
            body[field] = value
    elif field == "policies[0]":
        body["policies"][0] = value
    elif field == "policies[0].effect":
        _policy(body)["effect"] = value
    elif field == "policies[0].permission_groups":
        _policy(body)["permission_groups"] = value
    elif field == "policies[0].permission_groups[0]":
        if value == "user-scope":
            _policy(body)["permission_groups"] = [{"id": DNS_WRITE}]
            _policy(body)["resources"] = {f"com.cloudflare.api.user.{_SANDBOX.user_id}": "*"}
        else:
            _policy(body)["permission_groups"] = [value]
    elif field == "policies[0].permission_groups[0].id":
        _policy(body)["permission_groups"] = [{"id": value}]
    elif field == "policies[0].resources":
        _policy(body)["resources"] = value
    elif field.startswith("condition"):
        part = "in" if '"].in' in field else "not_in"
        body["condition"] = {"request.ip": {part: [value]}}
    return body


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations())
def test_bad_bodies_get_400_naming_the_field(mutation: tuple[str, Any]) -> None:
    """Every malformed create body gets a 400 envelope whose message starts with the field,
    and no token is written."""
    field, value = mutation
    body = apply(field, value)
    before = len(_SANDBOX.tokens())
    r = _API.post("/user/tokens", json=body)
    assert r.status_code == 400, (field, value, r.text)
    envelope = r.json()
    assert envelope["success"] is False and envelope["result"] is None
    message = envelope["errors"][0]["message"]
    assert message.startswith(field), (field, message)
    assert len(_SANDBOX.tokens()) == before


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(
    st.one_of(
        JSON,
        st.dictionaries(
            st.sampled_from(["name", "policies", "condition", "expires_on", "status"]),
            JSON,
            max_size=5,
        ),
    )
)
def test_arbitrary_json_never_500_never_written(body: Any) -> None:
    """Arbitrary JSON (for create and PUT) gets a 400 envelope, never a 5xx, writes nothing."""
    before = len(_SANDBOX.tokens())
    for method, path in (
        ("POST", "/user/tokens"),
        ("PUT", f"/user/tokens/{_SANDBOX.bootstrap_token_id}"),
    ):
        r = _API.request(method, path, json=body)
        assert r.status_code == 400 and r.json()["success"] is False
    assert len(_SANDBOX.tokens()) == before
    assert _SANDBOX.token(str(_SANDBOX.bootstrap_token_id)).name == "cftokens-bootstrap"


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_500(raw: bytes) -> None:
    """Any byte string as a body gets 400 (6007 or 1004), never a 5xx."""
    r = _API.post("/user/tokens", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] in (6007, 1004)
