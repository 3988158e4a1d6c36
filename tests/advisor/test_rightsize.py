"""rightsize(): keep only what is needed, never add power, and say that PUT replaces all."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from advisor_helpers import EXAMPLE_COM, EXAMPLE_NET, PROD, STAGING, STAGING_ZONE, USER
from hypothesis import given, settings
from hypothesis import strategies as st

import cftokens as cft
from cftokens.advisor import least_privilege
from cftokens.advisor.rightsizing import PUT_WARNING, rightsize

TOKEN_ID = "ed17574386854bf78a67040be0a770b0"
EXPIRES = datetime(2027, 1, 1, tzinfo=UTC)


def wide_token() -> cft.Token:
    """DNS Write + Cache Purge on all zones of production minus example.net, Workers on the
    account, from one office range, expiring 2027."""
    return cft.Token(
        id=TOKEN_ID,
        name="deploy",
        policies=[
            cft.Policy.allow(["DNS Write", "Cache Purge"], all_zones_of=PROD),
            cft.Policy.deny(["DNS Write"], zones=[EXAMPLE_NET]),
            cft.Policy.allow(["Workers Scripts Write"], accounts=[PROD]),
        ],
        condition=cft.Condition.of(["203.0.113.0/24"]),
        expires_on=EXPIRES,
    )


def test_wildcards_narrow_and_unused_grants_go(directory: cft.Directory) -> None:
    """Needing DNS writes on one zone keeps DNS Write on that zone only, removes Cache Purge,
    Workers and the deny, and keeps the name, IPs and expiry."""
    result = rightsize(
        wide_token(),
        ["POST /zones/{zone_id}/dns_records"],
        zone="example.com",
        directory=directory,
    )
    (policy,) = result.spec.policies
    assert [g.label for g in policy.permission_groups] == ["DNS Write"]
    assert policy.resources == (cft.Resource.zone(EXAMPLE_COM),)
    assert result.spec.allow_ips == ("203.0.113.0/24",)
    assert result.spec.expires_on == EXPIRES
    assert result.spec.name == "deploy"
    changes = result.changes
    actions = {(r.group, r.action) for r in changes.itertuples()}
    assert ("DNS Write", "narrow") in actions
    assert ("Cache Purge", "remove") in actions
    assert ("Workers Scripts Write", "remove") in actions
    deny = changes[changes["effect"] == "deny"].iloc[0]
    assert deny["action"] == "remove"
    assert set(result.remove["action"]) <= {"narrow", "remove", "downgrade"}
    assert list(result.keep["group"]) == ["DNS Write"]
    assert result.changed


def test_put_body_path_and_warning(directory: cft.Directory) -> None:
    """The PUT body is the whole new spec, the path names the token, and the warning says PUT
    replaces the whole token; account-owned tokens PUT under their account."""
    result = rightsize(
        wide_token(), ["GET /zones/{zone_id}/dns_records"], zone=EXAMPLE_COM, directory=directory
    )
    assert result.put_body == result.spec.to_api()
    assert result.put_path == f"/user/tokens/{TOKEN_ID}"
    assert "PUT replaces the whole token" in result.warning
    assert result.warning == PUT_WARNING
    assert "PUT replaces the whole token" in str(result)
    assert "PUT replaces the whole token" in result._repr_html_()
    owned = rightsize(
        wide_token(),
        ["GET /zones/{zone_id}/dns_records"],
        zone=EXAMPLE_COM,
        account_id=PROD,
        directory=directory,
    )
    assert owned.put_path == f"/accounts/{PROD}/tokens/{TOKEN_ID}"
    spec = wide_token().to_spec()
    needs = ["GET /zones/{zone_id}/dns_records"]
    assert rightsize(spec, needs, zone=EXAMPLE_COM, directory=directory).put_path is None


def test_write_is_downgraded_to_read_when_only_reading(directory: cft.Directory) -> None:
    """A token holding DNS Write whose needs only read DNS gets DNS Read (its read twin), a
    downgrade, never a new power."""
    result = rightsize(
        wide_token(), ["GET /zones/{zone_id}/dns_records"], zone=EXAMPLE_COM, directory=directory
    )
    assert [g.group.name for g in result.grants] == ["DNS Read"]
    downgrade = result.remove[result.remove["action"] == "downgrade"]
    assert list(downgrade["group"]) == ["DNS Write"]
    assert "only read" in downgrade.iloc[0]["reason"]


def test_needs_the_token_cannot_meet_are_reported_not_added(
    directory: cft.Directory,
) -> None:
    """A needed intent outside the token's grants (a denied zone, a staging zone) is listed as
    missing and nothing is added for it."""
    result = rightsize(
        wide_token(),
        [
            "POST /zones/{zone_id}/dns_records",
            f"POST /zones/{EXAMPLE_NET}/dns_records",  # denied by policy 2
            f"GET /zones/{STAGING_ZONE}/dns_records",  # another account
        ],
        zone=EXAMPLE_COM,
        directory=directory,
    )
    assert len(result.missing) == 2
    assert all("never adds" in m.reason for m in result.missing)
    assert "policy 2 denies DNS Write" in result.missing[0].reason
    assert {r.id for p in result.spec.policies for r in p.resources} == {EXAMPLE_COM}


def test_zone_account_unknown_means_not_held() -> None:
    """Without a directory a grant on "all zones of account A" cannot be matched to a zone, so
    the need is reported with the engine's reason (pass directory=)."""
    with pytest.raises(cft.InvalidInput, match="account is unknown: pass directory="):
        rightsize(wide_token(), ["GET /zones/{zone_id}/dns_records"], zone=EXAMPLE_COM)


def test_nothing_needed_that_the_token_has_raises() -> None:
    """When the token allows none of the needs, rightsize refuses and points to
    least_privilege."""
    with pytest.raises(cft.InvalidInput, match="least_privilege"):
        rightsize(wide_token(), [f"GET /accounts/{STAGING}/workers/scripts"])


def test_already_minimal_token_is_unchanged() -> None:
    """A token that is already the least-privilege answer comes back with nothing removed."""
    advice = least_privilege(["POST /zones/{zone_id}/dns_records"], zone=EXAMPLE_COM)
    token = cft.Token(id=TOKEN_ID, name="min", policies=advice.spec.policies)
    result = rightsize(token, advice)
    assert not result.changed
    assert result.spec.policies == token.policies
    assert "nothing to remove" in str(result)


def test_user_tag_comes_from_the_token() -> None:
    """A token with user-scoped grants is right-sized without passing user=: the tag is read
    from its resources."""
    token = cft.Token(
        id=TOKEN_ID,
        name="me",
        policies=[
            cft.Policy.allow(["User Details Write", "Memberships Read"], user=USER),
        ],
    )
    result = rightsize(token, ["GET /user"])
    assert [(g.group.name, g.resource) for g in result.grants] == [
        ("User Details Read", cft.Resource.user(USER))
    ]


def test_apply_updates_the_token_in_a_sandbox(
    demo: cft.Sandbox,
) -> None:
    """apply() PUTs the new spec through a client; the sandbox then allows the needed call and
    refuses what was removed."""
    with demo as sb:
        directory = sb.directory()
        account = directory.accounts[0]
        zone, other = directory.zones_of(account.id)[:2]
        with sb.client() as admin:
            created = admin.tokens.create(
                cft.TokenSpec(
                    name="wide",
                    policies=[cft.Policy.allow(["DNS Write"], all_zones_of=account.id)],
                )
            )
            result = rightsize(
                created.token,
                ["GET /zones/{zone_id}/dns_records"],
                zone=zone.id,
                directory=directory,
            )
            updated = result.apply(admin)
        assert updated.policies[0].resources == (cft.Resource.zone(zone.id),)
        with sb.client(token=created.secret) as client:
            client.dns_records.list(zone.id).collect()
            with pytest.raises(cft.PermissionDenied):
                client.dns_records.list(other.id).collect()
            with pytest.raises(cft.PermissionDenied):
                client.dns_records.create(zone.id, type="A", name="x", content="203.0.113.1")


GROUPS = ["DNS Write", "DNS Read", "Zone Read", "Cache Purge", "Zone Settings Write"]
ZONES = [EXAMPLE_COM, EXAMPLE_NET]
NEEDS = [
    "GET /zones/{zone_id}/dns_records",
    "POST /zones/{zone_id}/dns_records",
    "GET /zones/{zone_id}",
    "POST /zones/{zone_id}/purge_cache",
    "GET /zones/{zone_id}/settings",
]


@pytest.mark.parametrize("examples", [10, pytest.param(30, marks=pytest.mark.slow)])
def test_rightsizing_never_adds_power(examples: int) -> None:
    """For random tokens and needs, every kept grant is allowed by the old token (or is the
    read twin of a write it holds there), and every need the old token met is still met."""

    @settings(max_examples=examples, deadline=None)
    @given(
        held=st.lists(
            st.tuples(st.sampled_from(GROUPS), st.sampled_from([*ZONES, "all"])), min_size=1
        ),
        needs=st.lists(st.tuples(st.sampled_from(NEEDS), st.sampled_from(ZONES)), min_size=1),
    )
    def check(held: list[tuple[str, str]], needs: list[tuple[str, str]]) -> None:
        policies = [
            cft.Policy.allow([g], all_zones_of=PROD)
            if z == "all"
            else cft.Policy.allow([g], zones=[z])
            for g, z in held
        ]
        token = cft.Token(id=TOKEN_ID, name="t", policies=policies)
        directory = cft.Directory(
            accounts=[cft.Account(id=PROD, name="P")],
            zones=[
                cft.Zone(id=z, name=f"{i}.example", account=cft.model.AccountRef(id=PROD))
                for i, z in enumerate(ZONES)
            ],
        )
        intents = [n.replace("{zone_id}", z) for n, z in needs]
        met = [
            i
            for i in intents
            if cft.evaluate_request(token, *i.split(" ", 1), directory=directory).allowed
        ]
        try:
            result = rightsize(token, intents, directory=directory)
        except cft.InvalidInput:
            assert not met
            return
        for grant in result.grants:
            old = cft.evaluate(token, grant.group, zone=grant.resource.id, directory=directory)
            if not old.allowed:
                write = cft.permission_groups.twin(grant.group, "write")
                assert write is not None
                assert cft.evaluate(
                    token, write, zone=grant.resource.id, directory=directory
                ).allowed
        for intent in met:
            assert cft.evaluate_request(result.spec, *intent.split(" ", 1), directory=directory)

    check()


def test_usage_may_be_any_iterable_of_audit_log_records(directory: cft.Directory) -> None:
    """Audit-log records read lazily (a paginator or a generator, not a list) count as usage
    rows, exactly like the same records in a list."""
    record = {
        "actor": {"token_id": TOKEN_ID},
        "raw": {"method": "POST", "uri": f"/client/v4/zones/{EXAMPLE_COM}/dns_records"},
    }
    as_list = rightsize(wide_token(), [record], directory=directory)
    lazily = rightsize(wide_token(), (r for r in [record]), directory=directory)
    assert lazily.spec == as_list.spec
    assert lazily.spec.policies == (cft.Policy.allow(["DNS Write"], zones=[EXAMPLE_COM]),)


def test_nothing_understood_says_why() -> None:
    """When no needed intent is understood, the error carries the reasons."""
    with pytest.raises(cft.InvalidInput, match="not an operationId"):
        rightsize(wide_token(), ["no-such-operation"])


def test_a_token_given_as_its_api_dict_is_rightsized_like_the_token(
    directory: cft.Directory,
) -> None:
    """rightsize() accepts GET /user/tokens/{id}'s result (and a creation body) as a dict and
    gives the same answer as for the Token."""
    needed = ["POST /zones/{zone_id}/dns_records"]
    from_token = rightsize(wide_token(), needed, zone="example.com", directory=directory)
    payload = wide_token().to_api()
    from_dict = rightsize(payload, needed, zone="example.com", directory=directory)
    assert from_dict.spec == from_token.spec
    assert from_dict.put_path == from_token.put_path
    body = {k: v for k, v in payload.items() if k != "id"}
    from_body = rightsize(body, needed, zone="example.com", directory=directory)
    assert from_body.spec == from_token.spec
    with pytest.raises(cft.InvalidInput, match="policies"):
        rightsize({"id": TOKEN_ID, "name": "x", "policies": "all"}, needed, zone="example.com")
