"""The typed token model: wire round trips, tolerance, validation, summaries."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cftokens as cft
from cftokens.model import AccountRef

SPEC = json.loads((Path(__file__).parent / "data" / "tokens-openapi.json").read_text())
SCHEMAS = SPEC["components"]["schemas"]

ZONE = "023e105f4ecef8ad9ca31a8372d0c353"
ZONE2 = "22b1de5f1c0e4b3ea97bb1e963b06a43"
ACCOUNT = "eb78d65290b24279ba6f44721b3ea3c4"
USER = "7c5dae5552338874e5053f2534d2767a"
DNS_WRITE = "4755a26eedb94da69e1066d98aa820be"


# ---------------------------------------------------------------------------------------------
# Example payloads built from Cloudflare's own schema examples (tokens-openapi.json)
# ---------------------------------------------------------------------------------------------


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def example_of(schema: dict[str, Any], variant: int = 0) -> Any:
    """An instance built from the schema's ``example`` values (oneOf: pick ``variant``)."""
    schema = _resolve(schema)
    if "example" in schema and not isinstance(schema.get("example"), dict | list):
        return schema["example"]
    if "oneOf" in schema:
        branches = schema["oneOf"]
        return example_of(branches[variant % len(branches)], variant)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = example_of(part, variant)
            if isinstance(value, dict):
                merged.update(value)
            else:
                return value
        return merged
    if "example" in schema:
        return copy.deepcopy(schema["example"])
    if schema.get("type") == "array" or "items" in schema:
        return [example_of(schema["items"], variant)]
    if "properties" in schema:
        return {k: example_of(v, variant) for k, v in schema["properties"].items()}
    return None


def token_examples() -> list[dict[str, Any]]:
    """Token payloads from the spec's examples, with each resource form and both IP keys."""
    payloads = []
    resource_examples = SCHEMAS["iam_resources"]["example"]
    for index, form in enumerate(("string", "object")):
        payload = example_of(SCHEMAS["iam_token_base"], index)
        payload["policies"][0]["resources"] = resource_examples[form]["value"]
        payloads.append(payload)
    sdk_style = copy.deepcopy(payloads[0])
    sdk_style["condition"] = {"request_ip": sdk_style["condition"].pop("request.ip")}
    payloads.append(sdk_style)
    with_value = example_of(SCHEMAS["iam_token_with_value"], 0)
    with_value["policies"][0]["resources"] = resource_examples["string"]["value"]
    payloads.append(with_value)
    return payloads


def test_spec_examples_cover_every_token_field() -> None:
    """The example payloads carry every property of Cloudflare's token schema."""
    keys = set(SCHEMAS["iam_token_base"]["properties"])
    for payload in token_examples()[:2]:
        assert keys <= set(payload)


@pytest.mark.parametrize("payload", token_examples(), ids=["flat", "nested", "request_ip", "value"])
def test_real_payload_round_trip_keeps_every_field(payload: dict[str, Any]) -> None:
    """to_api(from_api(payload)) keeps every field of a real payload (the secret excepted)."""
    token = cft.Token.from_api(payload)
    wire = token.to_api()
    expected = {k: v for k, v in payload.items() if k != "value"}
    if "request_ip" in expected.get("condition", {}):
        expected["condition"] = {"request.ip": expected["condition"]["request_ip"]}
    for key in ("issued_on", "modified_on", "last_used_on", "not_before", "expires_on"):
        assert cft.model._util.parse_datetime(wire[key], key) == cft.model._util.parse_datetime(
            expected[key], key
        )
        wire.pop(key)
        expected.pop(key)
    assert wire == expected
    assert "value" not in json.dumps(wire)


def test_unknown_keys_are_kept_at_every_level() -> None:
    """Unknown keys survive the round trip on tokens, policies, groups and conditions."""
    payload = {
        "id": "ed17574386854bf78a67040be0a770b0",
        "name": "x",
        "status": "active",
        "future_field": {"a": 1},
        "policies": [
            {
                "id": "f267e341f3dd4697bd3b9f71dd96247f",
                "effect": "allow",
                "new_policy_key": True,
                "permission_groups": [{"id": DNS_WRITE, "meta": {"key": "k", "value": "v"}}],
                "resources": {f"com.cloudflare.api.account.zone.{ZONE}": "*"},
            }
        ],
        "condition": {"request.ip": {"in": ["10.0.0.0/8"], "extra": 1}, "request.geo": ["DE"]},
    }
    assert cft.Token.from_api(payload).to_api() == payload


def test_from_api_reads_request_ip_and_writes_dotted_key() -> None:
    """The SDKs' request_ip key is read, and the wire's request.ip key is written."""
    token = cft.Token.from_api(
        {"id": "ed17574386854bf78a67040be0a770b0", "name": "x", "policies": [],
         "condition": {"request_ip": {"in": ["192.0.2.0/24"], "not_in": ["2001:db8::/32"]}}}
    )  # fmt: skip
    assert [str(n) for n in token.condition.allow] == ["192.0.2.0/24"]
    assert [str(n) for n in token.condition.deny] == ["2001:db8::/32"]
    assert token.to_api()["condition"] == {
        "request.ip": {"in": ["192.0.2.0/24"], "not_in": ["2001:db8::/32"]}
    }


def test_cidr_text_with_host_bits_is_kept_but_compares_by_network() -> None:
    """A CIDR written with host bits round-trips as written and equals its network."""
    a = cft.Condition.from_api({"request.ip": {"in": ["123.123.123.100/24"]}})
    b = cft.Condition.from_api({"request.ip": {"in": ["123.123.123.0/24"]}})
    assert a == b
    assert a.to_api() == {"request.ip": {"in": ["123.123.123.100/24"]}}


def test_nested_and_flat_resources_parse_to_atoms() -> None:
    """Flat keys, nested "all zones of an account", nested single zones and unknown keys parse."""
    atoms = cft.Resource.from_api(
        {
            f"com.cloudflare.api.account.zone.{ZONE}": "*",
            f"com.cloudflare.api.account.{ACCOUNT}": {
                "com.cloudflare.api.account.zone.*": "*",
                f"com.cloudflare.api.account.zone.{ZONE2}": "*",
            },
            "com.cloudflare.api.account.*": "*",
            "com.cloudflare.api.account.zone.*": "*",
            f"com.cloudflare.api.user.{USER}": "*",
            "com.cloudflare.edge.r2.bucket.abc_default_bucket": "*",
            f"com.cloudflare.api.account.{ACCOUNT[:-1]}x": "*",
        }
    )
    kinds = [a.kind for a in atoms]
    assert kinds == [
        cft.ResourceKind.ZONE,
        cft.ResourceKind.ALL_ZONES_IN,
        cft.ResourceKind.ZONE,
        cft.ResourceKind.ALL_ACCOUNTS,
        cft.ResourceKind.ALL_ZONES,
        cft.ResourceKind.USER,
        cft.ResourceKind.UNPARSED,
        cft.ResourceKind.UNPARSED,
    ]
    assert atoms[2].account_id == ACCOUNT


def test_unknown_nested_form_is_kept_verbatim() -> None:
    """A nested map cftokens does not understand stays one UNPARSED atom and round-trips."""
    wire = {f"com.cloudflare.api.account.{ACCOUNT}": {"com.cloudflare.api.account.worker.*": "*"}}
    atoms = cft.Resource.from_api(wire)
    assert [a.kind for a in atoms] == [cft.ResourceKind.UNPARSED]
    assert cft.Resource.to_api(atoms) == wire


def test_token_ids_are_validated() -> None:
    """A token id that is not 32 lower-case hex characters is refused with a clear message."""
    with pytest.raises(cft.InvalidInput, match="32 lower-case hex"):
        cft.Token.from_api({"id": "not-an-id", "name": "x", "policies": []})


def test_bad_wire_values_raise_clear_errors() -> None:
    """Wrong types and values in payloads raise InvalidInput naming the field."""
    base = {"id": "ed17574386854bf78a67040be0a770b0", "name": "x"}
    with pytest.raises(cft.InvalidInput, match="status"):
        cft.Token.from_api({**base, "status": "paused", "policies": []})
    with pytest.raises(cft.InvalidInput, match="effect"):
        cft.Token.from_api({**base, "policies": [{"effect": "maybe", "permission_groups": []}]})
    with pytest.raises(cft.InvalidInput, match="not a valid IPv4 or IPv6 CIDR"):
        cft.Token.from_api({**base, "policies": [], "condition": {"request.ip": {"in": ["x"]}}})
    with pytest.raises(cft.InvalidInput, match="timestamp"):
        cft.Token.from_api({**base, "policies": [], "expires_on": "tomorrow"})
    with pytest.raises(cft.InvalidInput, match="JSON object"):
        cft.Token.from_api(["not", "a", "dict"])  # type: ignore[arg-type]


def test_token_from_api_never_keeps_a_secret_value() -> None:
    """A 'value' key in a token payload is dropped, so no Token can carry a secret."""
    secret = "cfut_" + "A" * 40 + "abcd1234"
    token = cft.Token.from_api(
        {"id": "ed17574386854bf78a67040be0a770b0", "name": "x", "policies": [], "value": secret}
    )
    assert secret not in repr(token)
    assert secret not in json.dumps(token.to_api())


def test_created_token_masks_its_secret_and_forwards_attributes() -> None:
    """CreatedToken shows the token, masks the secret and forwards attributes to the token."""
    secret = "cfut_" + "B" * 40 + "abcd1234"
    created = cft.CreatedToken.from_api(
        {"id": "ed17574386854bf78a67040be0a770b0", "name": "ci", "policies": [], "value": secret}
    )
    assert created.name == "ci"
    assert created.secret.reveal() == secret
    assert secret not in repr(created) and secret not in str(created)


def test_datetimes_are_utc_and_naive_ones_are_refused() -> None:
    """Offsets are converted to UTC; naive datetimes are refused with the fix in the message."""
    token = cft.Token.from_api(
        {"id": "ed17574386854bf78a67040be0a770b0", "name": "x", "policies": [],
         "expires_on": "2030-01-01T02:00:00+02:00"}
    )  # fmt: skip
    assert token.expires_on == datetime(2030, 1, 1, tzinfo=UTC)
    assert token.to_api()["expires_on"] == "2030-01-01T00:00:00Z"
    policy = cft.Policy.allow(["DNS Read"], zones=[ZONE])
    with pytest.raises(cft.InvalidInput, match="timezone-aware"):
        cft.TokenSpec(name="x", policies=[policy], expires_on=datetime(2030, 1, 1))


def test_spec_validates_name_policies_and_window() -> None:
    """A spec refuses an empty or over-long name, no policies, and not_before >= expires_on."""
    policy = cft.Policy.allow(["DNS Read"], zones=[ZONE])
    with pytest.raises(cft.InvalidInput, match="non-empty name"):
        cft.TokenSpec(name=" ", policies=[policy])
    with pytest.raises(cft.InvalidInput, match="at most 120"):
        cft.TokenSpec(name="x" * 121, policies=[policy])
    with pytest.raises(cft.InvalidInput, match="at least one policy"):
        cft.TokenSpec(name="x", policies=[])
    t = datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(cft.InvalidInput, match="never be valid"):
        cft.TokenSpec(name="x", policies=[policy], not_before=t, expires_on=t)
    with pytest.raises(cft.InvalidInput, match="CIDR"):
        cft.TokenSpec(name="x", policies=[policy], allow_ips=["300.1.1.1/24"])


def test_spec_to_api_is_the_create_body() -> None:
    """TokenSpec.to_api builds the documented create body with the dotted IP condition."""
    spec = cft.TokenSpec(
        name="ci-dns",
        policies=[cft.Policy.allow(["DNS Write"], zones=[ZONE])],
        allow_ips=["203.0.113.0/24"],
        deny_ips=["203.0.113.9"],
        expires_on=datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert spec.to_api() == {
        "name": "ci-dns",
        "policies": [
            {
                "effect": "allow",
                "permission_groups": [{"id": DNS_WRITE, "name": "DNS Write"}],
                "resources": {f"com.cloudflare.api.account.zone.{ZONE}": "*"},
            }
        ],
        "condition": {"request.ip": {"in": ["203.0.113.0/24"], "not_in": ["203.0.113.9"]}},
        "expires_on": "2027-01-01T00:00:00Z",
    }
    assert cft.TokenSpec.from_json(spec.to_json()) == spec


def test_token_to_spec_recreates_the_token() -> None:
    """Token.to_spec keeps policies, IPs, window and status for a faithful PUT."""
    payload = token_examples()[0]
    token = cft.Token.from_api(payload)
    spec = token.to_spec()
    assert spec.policies == token.policies
    assert spec.condition == token.condition
    assert spec.status is token.status
    assert spec.to_api()["condition"] == token.to_api()["condition"]


def test_policy_builder_resolves_names_and_refuses_wrong_scope() -> None:
    """Policy.allow resolves dashboard names and refuses a group that fits none of the resources."""
    policy = cft.Policy.allow(["DNS Edit", "Zone Read"], zones=[ZONE])
    assert [g.name for g in policy.permission_groups] == ["DNS Write", "Zone Read"]
    with pytest.raises(cft.ScopeMismatch, match=r"DNS Write is a zone permission.*account"):
        cft.Policy.allow(["DNS Write"], accounts=[ACCOUNT])
    with pytest.raises(cft.ScopeMismatch, match="Workers Scripts Write is a account permission"):
        cft.Policy.deny(["Workers Scripts Write"], zones=[ZONE])
    with pytest.raises(cft.InvalidInput, match="at least one resource"):
        cft.Policy.allow(["DNS Write"])
    with pytest.raises(cft.UnknownPermissionGroup, match="did you mean"):
        cft.Policy.allow(["DNS Wrte"], zones=[ZONE])


def test_policy_builder_picks_the_scope_that_fits_an_ambiguous_name() -> None:
    """A name existing in two scopes resolves to the one that fits the resources."""
    zone_policy = cft.Policy.allow(["Logs Read"], zones=[ZONE])
    account_policy = cft.Policy.allow(["Logs Read"], accounts=[ACCOUNT])
    zone_group = zone_policy.permission_groups[0].resolve()
    account_group = account_policy.permission_groups[0].resolve()
    assert zone_group is not None and zone_group.scope is cft.Scope.ZONE
    assert account_group is not None and account_group.scope is cft.Scope.ACCOUNT


def test_policy_builder_writes_every_resource_form() -> None:
    """Policy.allow writes zones, nested all-zones, wildcards, accounts and the user."""
    zone_policy = cft.Policy.allow(["DNS Read"], zones=[ZONE], all_zones_of=ACCOUNT)
    assert zone_policy.to_api()["resources"] == {
        f"com.cloudflare.api.account.zone.{ZONE}": "*",
        f"com.cloudflare.api.account.{ACCOUNT}": {"com.cloudflare.api.account.zone.*": "*"},
    }
    other = cft.Policy.allow(
        ["Workers Scripts Read", "User Details Read"],
        accounts=[ACCOUNT],
        all_accounts=True,
        user=USER,
    )
    assert other.to_api()["resources"] == {
        f"com.cloudflare.api.account.{ACCOUNT}": "*",
        "com.cloudflare.api.account.*": "*",
        f"com.cloudflare.api.user.{USER}": "*",
    }
    assert cft.Policy.from_api(zone_policy.to_api()) == zone_policy


def test_policy_refuses_a_key_both_flat_and_nested() -> None:
    """An account named both flat and with nested zones in one policy is refused, not dropped."""
    with pytest.raises(cft.InvalidInput, match="separate policies"):
        cft.Policy.allow(["DNS Read", "Workers Scripts Read"], accounts=[ACCOUNT],
                         all_zones_of=ACCOUNT)  # fmt: skip


def test_summary_lists_policies_and_warnings_with_names() -> None:
    """The review names resources via the directory and warns about risky choices."""
    directory = cft.Directory(
        accounts=[cft.Account(id=ACCOUNT, name="Acme Production")],
        zones=[cft.Zone(id=ZONE, name="example.com", account=AccountRef(id=ACCOUNT))],
    )
    spec = cft.TokenSpec(
        name="mint",
        policies=[
            cft.Policy.allow(["DNS Write"], zones=[ZONE]),
            cft.Policy.allow(["Zone Read"], all_zones=True),
            cft.Policy.allow(["API Tokens Write"], user=USER),
            cft.Policy.deny(["DNS Write"], all_zones_of=ACCOUNT),
        ],
    )
    summary = spec.summary(directory)
    text = str(summary)
    assert "policy 1 allows DNS Write" in text
    assert "zone example.com" in text
    assert "all zones of account Acme Production" in text
    assert any("wildcard scope" in w for w in summary.warnings)
    assert any("create tokens" in w for w in summary.warnings)
    assert any("no IP allowlist" in w for w in summary.warnings)
    assert any("no expiry" in w for w in summary.warnings)
    html = summary._repr_html_()
    assert "<table>" in html and "example.com" in html
    assert spec._repr_html_().startswith("<div")


def test_safe_spec_summary_has_no_warnings() -> None:
    """A scoped, IP-restricted, expiring spec has no warnings."""
    spec = cft.TokenSpec(
        name="ok",
        policies=[cft.Policy.allow(["DNS Write"], zones=[ZONE])],
        allow_ips=["203.0.113.0/24"],
        expires_on=datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert spec.summary().warnings == ()
    assert "only 203.0.113.0/24" in str(spec.summary())


def test_minting_group_ids_match_the_catalogue() -> None:
    """The summary's token-minting ids are the catalogue's API Tokens Write groups."""
    from cftokens.model.token import MINTING_GROUP_IDS

    expected = {
        cft.permission_groups.get("API Tokens Write").id,
        cft.permission_groups.get("Account API Tokens Write").id,
    }
    assert expected == MINTING_GROUP_IDS


def test_directory_lookups_by_id_and_name() -> None:
    """Directory finds accounts and zones by id or name and maps zones to accounts."""
    directory = cft.Directory.from_api(
        accounts=[{"id": ACCOUNT, "name": "Acme"}],
        zones=[{"id": ZONE, "name": "Example.com", "status": "active",
                "account": {"id": ACCOUNT, "name": "Acme"}}],
    )  # fmt: skip
    assert directory.zone("example.com").id == ZONE
    assert directory.zone_account(ZONE) == ACCOUNT
    assert directory.account("acme").id == ACCOUNT
    assert directory.label("zone", ZONE) == "Example.com"
    assert directory.zones_of(ACCOUNT)[0].name == "Example.com"
    with pytest.raises(cft.InvalidInput, match="no zone 'nope'"):
        directory.zone("nope")
    assert directory.zones[0].to_api()["account"] == {"id": ACCOUNT, "name": "Acme"}


def test_models_are_frozen_and_hashable() -> None:
    """Models are immutable and usable as set members."""
    token = cft.Token.from_api(token_examples()[0])
    with pytest.raises(AttributeError):
        token.name = "other"  # type: ignore[misc]
    assert len({token, cft.Token.from_api(token_examples()[0])}) == 1


def test_unknown_keys_kept_on_a_model_stay_frozen() -> None:
    """Keys the API adds are kept in ``extra``; their nested values used to be the payload's
    own lists and dicts: changing the payload after reading, or the value read from
    ``extra``, changed the "frozen" token (its wire form, its equality, not its hash)."""
    group = cft.permission_groups.get("DNS Read").id
    payload: dict[str, Any] = {
        "id": "a" * 32,
        "name": "n",
        "policies": [
            {
                "effect": "allow",
                "permission_groups": [{"id": group, "meta": {"key": "k", "value": ["v"]}}],
                "resources": {"com.cloudflare.api.account.zone.*": "*"},
                "later": {"nested": [1]},
            }
        ],
        "condition": {"request.ip": {"in": ["10.0.0.0/8"], "later": [1]}, "other": {"a": 1}},
        "later": [1, {"a": [2]}],
    }
    token = cft.Token.from_api(payload)
    before = token.to_api()
    twin = cft.Token.from_api(copy.deepcopy(payload))
    # through the source payload
    payload["later"][1]["a"].append("evil")
    payload["policies"][0]["permission_groups"][0]["meta"]["value"].append("evil")
    payload["policies"][0]["later"]["nested"].append("evil")
    payload["condition"]["request.ip"]["later"].append("evil")
    payload["condition"]["other"]["a"] = "evil"
    # through what the model hands out
    token.extra["later"].append("evil")
    token.policies[0].extra["later"]["nested"].append("evil")
    token.policies[0].permission_groups[0].extra["meta"]["value"].append("evil")
    token.condition.extra["other"]["a"] = "evil"
    for value in token.extra.values():
        if isinstance(value, list):
            value.append("evil")
    assert token.to_api() == before
    assert token == twin and hash(token) == hash(twin)
    assert "evil" not in repr(token.extra) + repr(token.policies[0].extra)


def test_verify_result_reads_the_documented_body() -> None:
    """VerifyResult reads the documented verify result and message."""
    body = {
        "result": {"id": "ed17574386854bf78a67040be0a770b0", "status": "active"},
        "messages": [
            {"code": 10000, "message": "This API Token is valid and active", "type": None}
        ],
    }
    result = cft.VerifyResult.from_api(body["result"], body["messages"])
    assert result.active and result.message == "This API Token is valid and active"


# ---------------------------------------------------------------------------------------------
# Property: from_api(to_api(x)) == x for generated tokens
# ---------------------------------------------------------------------------------------------

hex32 = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
times = st.datetimes(
    min_value=datetime(2015, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
groups = st.sampled_from(
    [g.id for g in cft.permission_groups][:40] + ["0123456789abcdef0123456789abcdef"]
)
atoms = st.one_of(
    hex32.map(lambda z: cft.Resource.zone(z)),
    st.tuples(hex32, hex32).map(lambda p: cft.Resource.zone(p[0], account_id=p[1])),
    hex32.map(cft.Resource.all_zones_of),
    st.just(cft.Resource.all_zones()),
    hex32.map(cft.Resource.account),
    st.just(cft.Resource.all_accounts()),
    hex32.map(cft.Resource.user),
    st.text(alphabet="abcdefgh.", min_size=1, max_size=12).map(
        lambda k: cft.Resource.unparsed("x." + k)
    ),
)


@st.composite
def policies(draw: st.DrawFn) -> cft.Policy:
    chosen = draw(st.lists(atoms, min_size=1, max_size=4, unique_by=lambda a: a.wire_key))
    return cft.Policy(
        effect=draw(st.sampled_from(list(cft.Effect))),
        permission_groups=[
            cft.PermissionGroupRef(id=g)
            for g in draw(st.lists(groups, min_size=1, max_size=3, unique=True))
        ],
        resources=chosen,
        id=draw(st.none() | hex32),
    )


networks = st.one_of(
    st.ip_addresses(v=4).map(lambda a: f"{a}/{24}"),
    st.ip_addresses(v=6).map(lambda a: f"{a}/64"),
    st.ip_addresses().map(str),
)


@st.composite
def tokens(draw: st.DrawFn) -> cft.Token:
    return cft.Token(
        id=draw(hex32),
        name=draw(st.text(min_size=1, max_size=30)),
        status=draw(st.sampled_from(list(cft.TokenStatus))),
        policies=draw(st.lists(policies(), max_size=4)),
        condition=cft.Condition.of(
            draw(st.lists(networks, max_size=3)), draw(st.lists(networks, max_size=2))
        ),
        not_before=draw(st.none() | times),
        expires_on=draw(st.none() | times),
        issued_on=draw(st.none() | times),
        modified_on=draw(st.none() | times),
        last_used_on=draw(st.none() | times),
    )


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(tokens())
def test_from_api_inverts_to_api(token: cft.Token) -> None:
    """from_api(to_api(x)) == x for any token, and the wire form is JSON-serialisable."""
    wire = json.loads(json.dumps(token.to_api()))
    assert cft.Token.from_api(wire) == token


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(tokens())
def test_spec_round_trip_through_json(token: cft.Token) -> None:
    """A spec made from any token with policies survives to_json/from_json."""
    if (
        not token.policies
        or not token.name.strip()
        or (token.not_before and token.expires_on and token.not_before >= token.expires_on)
    ):
        return  # a spec refuses these (tested in test_spec_validates_name_policies_and_window)
    spec = token.to_spec()
    assert cft.TokenSpec.from_json(spec.to_json()) == spec


def test_offsets_other_than_utc_are_normalised() -> None:
    """A datetime in another zone is stored in UTC and prints with Z."""
    cet = timezone(timedelta(hours=1))
    spec = cft.TokenSpec(
        name="x",
        policies=[cft.Policy.allow(["DNS Read"], zones=[ZONE])],
        expires_on=datetime(2030, 1, 1, 1, tzinfo=cet),
    )
    assert spec.to_api()["expires_on"] == "2030-01-01T00:00:00Z"


# ---------------------------------------------------------------------------------------------
# from_api assembles models without re-running the converters: the result must be exactly
# what __init__ builds from the same values (eq=False fields included)
# ---------------------------------------------------------------------------------------------


def _same_everywhere(built: Any, rebuilt: Any) -> None:
    """Every init field of two attrs objects is equal (recursively for nested models), of the
    same type, and eq=False fields (CIDR texts) too."""
    import attrs

    assert type(built) is type(rebuilt)
    for f in attrs.fields(type(built)):
        if not f.init:
            continue
        a, b = getattr(built, f.name), getattr(rebuilt, f.name)
        assert type(a) is type(b), f.name
        if attrs.has(type(a)):
            _same_everywhere(a, b)
        elif isinstance(a, tuple):
            assert len(a) == len(b), f.name
            for x, y in zip(a, b, strict=True):
                if attrs.has(type(x)):
                    _same_everywhere(x, y)
                else:
                    assert x == y and type(x) is type(y), f.name
        else:
            assert a == b, f.name


def _rebuilt(model: Any) -> Any:
    """The same model built by its classes' own __init__ (every converter and check run)."""
    import attrs

    values = {}
    for f in attrs.fields(type(model)):
        if not f.init:
            continue
        value = getattr(model, f.name)
        if attrs.has(type(value)):
            value = _rebuilt(value)
        elif isinstance(value, tuple):
            value = tuple(_rebuilt(v) if attrs.has(type(v)) else v for v in value)
        values[f.alias] = value
    return type(model)(**values)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(tokens())
def test_from_api_builds_what_init_builds(token: cft.Token) -> None:
    """A token read by from_api equals, field by field, the one __init__ builds."""
    read = cft.Token.from_api(json.loads(json.dumps(token.to_api())))
    _same_everywhere(read, _rebuilt(read))


@pytest.mark.parametrize("payload", token_examples(), ids=["flat", "nested", "request_ip", "value"])
def test_spec_examples_build_what_init_builds(payload: dict[str, Any]) -> None:
    """Cloudflare's own examples (unknown keys, conditions, both resource forms) too."""
    read = cft.Token.from_api(payload)
    _same_everywhere(read, _rebuilt(read))
    assert read.extra == {k: v for k, v in payload.items() if k not in cft.Token._KNOWN}


def test_resource_constructors_build_what_init_builds() -> None:
    """The Resource class methods give what Resource(...) gives, refusals included."""
    for atom in (
        cft.Resource.zone(ZONE),
        cft.Resource.zone(ZONE, account_id=ACCOUNT),
        cft.Resource.all_zones_of(ACCOUNT),
        cft.Resource.all_zones(),
        cft.Resource.account(ACCOUNT),
        cft.Resource.all_accounts(),
        cft.Resource.user(USER),
    ):
        _same_everywhere(atom, _rebuilt(atom))
        assert hash(atom) == hash(_rebuilt(atom))
    with pytest.raises(cft.InvalidInput, match="zone id must be 32 lower-case hex"):
        cft.Resource.zone("example.com")


def test_from_api_still_refuses_what_init_refuses() -> None:
    """Checks the converters made still happen when from_api assembles the models."""
    good = {
        "id": ZONE,
        "name": "t",
        "policies": [
            {
                "effect": "allow",
                "permission_groups": [{"id": DNS_WRITE}],
                "resources": {f"com.cloudflare.api.account.zone.{ZONE}": "*"},
            }
        ],
    }
    assert cft.Token.from_api(good).policies[0].resources == (cft.Resource.zone(ZONE),)
    bad_id = {**good, "id": "not-an-id"}
    with pytest.raises(cft.InvalidInput, match="token id must be a Cloudflare identifier"):
        cft.Token.from_api(bad_id)
    bad_group = copy.deepcopy(good)
    bad_group["policies"][0]["permission_groups"] = [{"id": "DNS Write"}]
    with pytest.raises(cft.InvalidInput, match="permission group id must be"):
        cft.Token.from_api(bad_group)
    status = {**good, "status": "paused"}
    with pytest.raises(cft.InvalidInput, match="token status must be one of"):
        cft.Token.from_api(status)


def test_api_timestamps_read_as_before() -> None:
    """The API's own timestamp form is read directly; every other accepted form, and every
    refusal, is unchanged."""
    from cftokens.model._util import parse_datetime

    utc = datetime(2026, 1, 31, 12, 30, 5, tzinfo=UTC)
    assert parse_datetime("2026-01-31T12:30:05Z", "t") == utc
    assert parse_datetime("2026-01-31T12:30:05Z", "t").tzinfo is UTC  # type: ignore[union-attr]
    assert parse_datetime("2026-01-31T12:30:05.250Z", "t") == utc.replace(microsecond=250000)
    assert parse_datetime(" 2026-01-31T13:30:05+01:00 ", "t") == utc
    assert parse_datetime("2026-01-31T12:30:05z", "t") == utc
    for bad in ("2026-02-30T00:00:00Z", "2026-01-31T24:00:00Z", "0000-01-01T00:00:00Z"):
        with pytest.raises(cft.InvalidInput, match="t is not a valid timestamp"):
            parse_datetime(bad, "t")


def test_assembler_takes_fields_by_name_with_defaults() -> None:
    """The assembler refuses unknown and missing fields as __init__ does, and fills
    defaults (a fresh one from each factory)."""
    import attrs

    from cftokens.model._util import assembler

    @attrs.frozen
    class Model:
        name: str
        tags: list[str] = attrs.field(factory=list)
        size: int = 3

    build = assembler(Model)
    first, second = build(name="a"), build(name="b", size=4)
    assert first == Model(name="a") and second == Model(name="b", size=4)
    assert first.tags is not second.tags
    with pytest.raises(TypeError):
        build(name="a", colour="red")
    with pytest.raises(TypeError):
        build(size=1)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        first.name = "b"  # type: ignore[misc]


def test_a_token_spec_refuses_text_that_is_not_unicode() -> None:
    """A lone surrogate (what JSON's "\\ud800" escape decodes to) in the name (the spec's one
    free text; ids, groups and addresses are validated) cannot be sent to Cloudflare as UTF-8
    JSON: a clear InvalidInput, from Python or JSON."""
    import cftokens as cft

    with pytest.raises(cft.InvalidInput, match=r"not Unicode \('ci\\ud800'\)"):
        cft.TokenSpec(name="ci\ud800", policies=[cft.Policy.allow(["DNS Read"], all_zones=True)])
    with pytest.raises(cft.InvalidInput, match="not Unicode"):
        cft.TokenSpec.from_json(
            '{"name": "x\\udfff", "policies": [{"effect": "allow", "resources": '
            '{"com.cloudflare.api.account.zone.*": "*"}, "permission_groups": '
            '[{"id": "c8fed203ed3043cba015a93ad1616f1f"}]}]}'
        )
    spec = cft.TokenSpec(
        name="ci \U0001f680", policies=[cft.Policy.allow(["DNS Read"], all_zones=True)]
    )
    assert spec.name == "ci \U0001f680"


def _zone_by_init(payload: dict[str, Any]) -> cft.Zone:
    """What Zone.from_api built before it assembled the zone itself: __init__ and its
    converters."""
    from cftokens.model._util import split_known

    account = payload["account"]
    return cft.Zone(
        id=payload.get("id"),
        name=str(payload.get("name", "")),
        status=payload.get("status"),
        account=AccountRef(id=account["id"], name=account.get("name")),
        extra=split_known(payload, frozenset({"id", "name", "status", "account"})),
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "a" * 32, "name": "example.com", "account": {"id": "b" * 32}},
        {
            "id": "a" * 32,
            "name": "x.com",
            "status": "active",
            "account": {"id": "b" * 32, "name": "Acme"},
        },
        {"id": "a" * 32, "account": {"id": "b" * 32}, "plan": {"name": "Free"}, "paused": False},
        {"id": "a" * 32, "name": 7, "account": {"id": "b" * 32, "extra": 1}},
        {"id": "A" * 32, "name": "x.com", "account": {"id": "b" * 32}},
        {"id": "a" * 32, "name": "x.com", "account": {"id": "not-an-id"}},
        {"id": None, "name": "x.com", "account": {"id": 5}},
    ],
    ids=[
        "plain",
        "status and account name",
        "extra",
        "name not text",
        "bad zone id",
        "bad account id",
        "both bad",
    ],
)
def test_zone_from_api_builds_what_init_builds(payload: dict[str, Any]) -> None:
    """Zone.from_api assembles the zone without running the converters again: the same zone as
    __init__ builds (extra kept), and on bad ids the same error, the account's first."""
    try:
        expected: Any = _zone_by_init(copy.deepcopy(payload))
    except cft.InvalidInput as exc:
        expected = exc
    if isinstance(expected, cft.InvalidInput):
        with pytest.raises(cft.InvalidInput) as raised:
            cft.Zone.from_api(payload)
        assert str(raised.value) == str(expected)
        return
    zone = cft.Zone.from_api(payload)
    assert zone == expected and zone.to_api() == expected.to_api()
    assert zone.account_id == payload["account"]["id"]
