"""least_privilege(): minimal grants, exact resources, the engine's semantics, explanations."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from advisor_helpers import EXAMPLE_COM, EXAMPLE_NET, NOW, PROD, STAGING, STAGING_ZONE, USER
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import cftokens as cft
from cftokens.advisor import costs, least_privilege
from cftokens.advisor.solver import brute_force
from cftokens.catalog.operations import Target
from cftokens.model.resources import ResourceKind, Scope


def allowed_everywhere(advice: cft.Advice, directory: cft.Directory | None) -> None:
    """Every intent the advice covers is allowed by its spec under the policy engine."""
    spec = advice.spec
    at = spec.expires_on - timedelta(seconds=1) if spec.expires_on else None
    assert advice.covered
    for intent in advice.covered:
        decision = cft.evaluate_request(
            spec, intent.method, intent.path, directory=directory, at=at
        )
        assert decision.allowed, (intent.request, decision.reason)


def group_names(advice: cft.Advice) -> set[str]:
    return {g.group.name for g in advice.grants}


def test_dns_intents_get_exactly_dns_on_the_named_zones(directory: cft.Directory) -> None:
    """Reading and writing DNS on two zones named by domain yields DNS Write on exactly those
    zone ids, nothing else, and every intent is allowed."""
    advice = least_privilege(
        ["GET /zones/{zone_id}/dns_records", "POST /zones/{zone_id}/dns_records"],
        zone=["example.com", "example.net"],
        directory=directory,
        now=NOW,
    )
    assert group_names(advice) == {"DNS Write"}
    (policy,) = advice.spec.policies
    assert {r.id for r in policy.resources} == {EXAMPLE_COM, EXAMPLE_NET}
    assert all(r.kind is ResourceKind.ZONE for r in policy.resources)
    allowed_everywhere(advice, directory)
    # The third zone is not reachable.
    other = f"/zones/{STAGING_ZONE}/dns_records"
    assert not cft.evaluate_request(advice.spec, "GET", other, directory=directory).allowed


def test_read_is_chosen_when_read_is_enough(directory: cft.Directory) -> None:
    """Only reading DNS gets DNS Read, not DNS Write, and writing stays denied."""
    advice = least_privilege(
        ["GET /zones/{zone_id}/dns_records"], zone="example.com", directory=directory, now=NOW
    )
    assert group_names(advice) == {"DNS Read"}
    path = f"/zones/{EXAMPLE_COM}/dns_records"
    assert not cft.evaluate_request(advice.spec, "POST", path, directory=directory).allowed


def test_one_group_serving_several_intents_beats_two(directory: cft.Directory) -> None:
    """Zone details plus DNS records need one grant (DNS Read accepts both), not two."""
    advice = least_privilege(
        ["GET /zones/{zone_id}", "GET /zones/{zone_id}/dns_records"],
        zone=EXAMPLE_COM,
        now=NOW,
    )
    assert group_names(advice) == {"DNS Read"}
    assert advice.cost["count"] == 1
    allowed_everywhere(advice, None)


def test_zone_group_is_preferred_to_an_account_group(directory: cft.Directory) -> None:
    """Zone details accept zone and account groups; a zone group on the zone is chosen."""
    advice = least_privilege(["GET /zones/{zone_id}"], zone=EXAMPLE_COM, directory=directory)
    (grant,) = advice.grants
    assert grant.group.scope is Scope.ZONE
    assert grant.resource == cft.Resource.zone(EXAMPLE_COM)
    assert grant.options > 1
    assert "least-privileged" in grant.reason()


def test_account_group_covers_a_zone_path_only_through_the_directory(
    directory: cft.Directory,
) -> None:
    """A zone path accepting only account groups is granted on the zone's account when a
    directory says which account it is; without one it is reported, not guessed."""
    intent = "GET /zones/{zone_id}/access/certificates"
    advice = least_privilege([intent], zone="example.com", directory=directory, now=NOW)
    (grant,) = advice.grants
    assert grant.group.name == "Access: Mutual TLS Certificates Read"
    assert grant.resource == cft.Resource.account(PROD)
    allowed_everywhere(advice, directory)
    with pytest.raises(cft.InvalidInput, match="zone's account, which is unknown"):
        least_privilege([intent], zone=EXAMPLE_COM, now=NOW)


def test_zone_groups_never_serve_account_paths(directory: cft.Directory) -> None:
    """An account path whose schema lists only zone groups is reported as uncoverable; one that
    lists both gets the account group."""
    zone_only = "GET /accounts/{account_id}/addressing/regional_hostnames/regions"
    both = "GET /accounts/{account_id}/access/apps"
    advice = least_privilege([zone_only, both], account=PROD, now=NOW)
    assert [u.intent for u in advice.unmapped] == [zone_only]
    assert "never applies to an account path" in advice.unmapped[0].reason
    assert all(g.group.scope is Scope.ACCOUNT for g in advice.grants)
    allowed_everywhere(advice, None)


def test_paths_naming_no_resource_use_a_touched_resource(directory: cft.Directory) -> None:
    """GET /zones needs Zone Read on some zone: the advice puts it on a zone the intents touch,
    not on all zones; with no zone named it is reported unless broad scope is allowed."""
    advice = least_privilege(
        ["GET /zones", "GET /zones/{zone_id}/dns_records"], zone="example.net", directory=directory
    )
    zone_read = [g for g in advice.grants if g.group.name == "Zone Read"]
    assert [g.resource for g in zone_read] == [cft.Resource.zone(EXAMPLE_NET)]
    allowed_everywhere(advice, directory)
    with pytest.raises(cft.InvalidInput, match="no intent names one"):
        least_privilege(["GET /zones"])
    broad = least_privilege(["GET /zones"], allow_broad_scope=True)
    assert broad.grants[0].resource.kind is ResourceKind.ALL_ZONES


def test_broad_scope_only_when_asked(directory: cft.Directory) -> None:
    """Covering every zone of an account stays a list of zones unless allow_broad_scope=True,
    which turns it into "all zones of account A" and says so."""
    intents = ["GET /zones/{zone_id}/dns_records"]
    exact = least_privilege(intents, zone=[EXAMPLE_COM, EXAMPLE_NET], directory=directory)
    assert all(not r.wildcard for p in exact.spec.policies for r in p.resources)
    broad = least_privilege(
        intents, zone=[EXAMPLE_COM, EXAMPLE_NET], directory=directory, allow_broad_scope=True
    )
    (policy,) = broad.spec.policies
    assert policy.resources == (cft.Resource.all_zones_of(PROD),)
    assert any("allow_broad_scope" in n for n in broad.notes)
    assert broad.grants[0].intents  # the merged grant still lists what it serves
    allowed_everywhere(broad, directory)


def test_policies_are_merged_by_identical_resources(directory: cft.Directory) -> None:
    """Groups granted on the same resources share one policy; different resources, separate
    policies."""
    advice = least_privilege(
        [
            "POST /zones/{zone_id}/dns_records",
            "POST /zones/{zone_id}/purge_cache",
            f"GET /zones/{STAGING_ZONE}/dns_records",
        ],
        zone=[EXAMPLE_COM],
        directory=directory,
    )
    shapes = {
        tuple(sorted(g.label for g in p.permission_groups)): tuple(r.id for r in p.resources)
        for p in advice.spec.policies
    }
    assert shapes == {
        ("Cache Purge", "DNS Write"): (EXAMPLE_COM,),
        ("DNS Read",): (STAGING_ZONE,),
    }


def test_intent_forms_resolve_to_the_same_advice(directory: cft.Directory) -> None:
    """A template, a concrete path with a zone name, an operationId and an Operation object for
    the same request give the same spec."""
    op = cft.operations.template("POST", "/zones/{zone_id}/dns_records")
    assert op is not None
    forms = [
        ["POST /zones/{zone_id}/dns_records"],
        ["POST /zones/example.com/dns_records"],
        [op.operation_id],
        [op],
        [("POST", f"/client/v4/zones/{EXAMPLE_COM}/dns_records/")],
    ]
    specs = {
        least_privilege(f, zone="example.com", directory=directory, now=NOW, name="x").spec
        for f in forms
    }
    assert len(specs) == 1


def test_intent_order_does_not_change_the_advice(directory: cft.Directory) -> None:
    """Shuffling the intents gives the identical spec (deterministic tie-breaks)."""
    intents = [
        "GET /zones/{zone_id}",
        "GET /zones/{zone_id}/settings",
        "GET /zones/{zone_id}/dns_records",
        "PATCH /zones/{zone_id}/settings/{setting_id}",
        "GET /zones/{zone_id}/firewall/rules",
    ]
    first = least_privilege(intents, zone=[EXAMPLE_COM, EXAMPLE_NET], now=NOW, name="t").spec
    for rotation in range(1, len(intents)):
        shuffled = intents[rotation:] + intents[:rotation]
        again = least_privilege(shuffled, zone=[EXAMPLE_NET, EXAMPLE_COM], now=NOW, name="t")
        assert again.spec == first


def test_unmapped_intents_are_reported_never_guessed() -> None:
    """Unknown paths, operations the schema does not annotate, bad methods and unbound
    templates are listed with what to do; the rest is still advised."""
    advice = least_privilege(
        [
            "GET /zones/{zone_id}/dns_records",
            "GET /zones/{zone_id}/argo/tiered_caching",  # in the schema, no permission group
            "POST /no/such/endpoint",
            "FETCH /zones",
            "GET /accounts/{account_id}/workers/scripts",  # no account given
            "not-an-operation-id",
        ],
        zone=EXAMPLE_COM,
    )
    reasons = {u.intent: u.reason for u in advice.unmapped}
    assert "names no permission group" in reasons["GET /zones/{zone_id}/argo/tiered_caching"]
    assert "overrides" in reasons["POST /no/such/endpoint"]
    assert "not an HTTP method" in reasons["FETCH /zones"]
    assert "pass account=" in reasons["GET /accounts/{account_id}/workers/scripts"]
    assert "operationId" in reasons["not-an-operation-id"]
    assert group_names(advice) == {"DNS Read"}
    frame = advice.unmapped_frame
    assert list(frame.columns) == ["intent", "reason"]
    assert len(frame) == 5


def test_nothing_coverable_raises_with_every_reason() -> None:
    """When no intent can be covered the error lists each one's reason."""
    with pytest.raises(cft.InvalidInput, match="no API operation matches"):
        least_privilege(["GET /nothing/here"])
    with pytest.raises(cft.InvalidInput, match="no intents given"):
        least_privilege([])


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_overrides_file_maps_unmapped_intents(tmp_path: Path, suffix: str) -> None:
    """An overrides file (JSON or YAML) gives groups to an operation the schema leaves
    unannotated and to a brand-new endpoint; the advice uses them and says so."""
    mapping = {
        "GET /zones/{zone_id}/argo/tiered_caching": ["Zone Read"],
        "POST /zones/{zone_id}/brand_new": ["Zone Settings Write", "Zone Write"],
    }
    path = tmp_path / f"overrides{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(mapping))
    else:
        import yaml

        path.write_text(yaml.safe_dump({"overrides": mapping}))
    advice = least_privilege(
        [
            "GET /zones/{zone_id}/argo/tiered_caching",
            "POST /zones/{zone_id}/brand_new",
        ],
        zone=EXAMPLE_COM,
        overrides=path,
    )
    assert not advice.unmapped
    assert {i.source for i in advice.intents} == {"override"}
    assert group_names(advice) == {"Zone Read", "Zone Write"}  # Zone Write reaches fewer ops


def test_bad_overrides_are_refused_clearly(tmp_path: Path) -> None:
    """Unknown groups, non-list values, bad JSON and missing files raise InvalidInput naming
    the problem."""
    with pytest.raises(cft.InvalidInput, match="no permission group is called 'DNS Wrte'"):
        least_privilege(["GET /zones"], overrides={"GET /zones": ["DNS Wrte"]})
    with pytest.raises(cft.InvalidInput, match="non-empty list"):
        least_privilege(["GET /zones"], overrides={"GET /zones": []})
    broken = tmp_path / "o.json"
    broken.write_text("{nope")
    with pytest.raises(cft.InvalidInput, match="not valid JSON"):
        least_privilege(["GET /zones"], overrides=broken)
    with pytest.raises(cft.InvalidInput, match="does not exist"):
        least_privilege(["GET /zones"], overrides=tmp_path / "missing.yaml")


def test_account_owned_tokens_hold_no_user_groups(directory: cft.Directory) -> None:
    """An account-owned token is bound to one account: user-scoped needs and other accounts'
    zones are reported, and its resources are in its account only."""
    advice = least_privilege(
        [
            "GET /zones/{zone_id}/dns_records",
            "GET /user",
            f"GET /zones/{STAGING_ZONE}/dns_records",
        ],
        zone="example.com",
        owner="account",
        account="Acme Production",
        directory=directory,
    )
    assert advice.owner == "account"
    assert advice.account_id == PROD
    reasons = " ".join(u.reason for u in advice.unmapped)
    assert "account-owned tokens cannot hold" in reasons
    assert "another account" in reasons
    assert group_names(advice) == {"DNS Read"}
    hcl = advice.to_terraform()
    assert 'resource "cloudflare_account_token"' in hcl
    assert f'account_id = "{PROD}"' in hcl


def test_account_owned_token_needs_exactly_one_account(directory: cft.Directory) -> None:
    """owner='account' with intents in two accounts, or none named, raises with the fix."""
    with pytest.raises(cft.InvalidInput, match="touch 2 accounts"):
        least_privilege(
            ["GET /zones/{zone_id}/dns_records"],
            zone=["example.com", "staging.example"],
            owner="account",
            directory=directory,
        )
    with pytest.raises(cft.InvalidInput, match="pass account="):
        least_privilege(["GET /zones/{zone_id}/dns_records"], zone=EXAMPLE_COM, owner="account")


def test_user_groups_need_the_user_tag() -> None:
    """User-scoped needs are reported without a user tag and granted on the user with one."""
    without = least_privilege(["GET /user", "GET /zones/{zone_id}"], zone=EXAMPLE_COM)
    assert "pass user=" in without.unmapped[0].reason
    advice = least_privilege(["GET /user"], user=USER)
    assert advice.grants[0].resource == cft.Resource.user(USER)
    assert advice.grants[0].group.name == "User Details Read"
    allowed_everywhere(advice, None)


def test_expiry_ips_and_the_notes_that_explain_caller_choices() -> None:
    """The default lifetime is 90 days; IPs go into the condition; leaving out the allowlist
    or the expiry is noted with the rule it trips."""
    advice = least_privilege(
        ["GET /zones/{zone_id}/dns_records"],
        zone=EXAMPLE_COM,
        allow_ips=["203.0.113.0/24"],
        now=NOW,
    )
    assert advice.spec.expires_on == NOW + timedelta(days=90)
    assert advice.spec.allow_ips == ("203.0.113.0/24",)
    assert not any("NW-01" in n or "LC-01" in n for n in advice.notes)
    open_ended = least_privilege(["GET /zones/{zone_id}/dns_records"], zone=EXAMPLE_COM, ttl=None)
    assert open_ended.spec.expires_on is None
    assert any(n.startswith("CFT-LC-01") for n in open_ended.notes)
    assert any(n.startswith("CFT-NW-01") for n in open_ended.notes)
    with pytest.raises(cft.InvalidInput, match="positive timedelta"):
        least_privilege(["GET /zones"], zone=EXAMPLE_COM, ttl=timedelta(0))


def test_minting_tokens_are_short_lived_and_explained() -> None:
    """A token that must create tokens gets API Tokens Write, 30 days by default, and notes
    for the escalation, the missing allowlist and the advice to isolate it."""
    advice = least_privilege(
        ["POST /user/tokens", "GET /zones/{zone_id}/dns_records"],
        zone=EXAMPLE_COM,
        user=USER,
        now=NOW,
    )
    assert "API Tokens Write" in group_names(advice)
    assert advice.spec.expires_on == NOW + timedelta(days=30)
    notes = " ".join(advice.notes)
    assert "CFT-PE: API Tokens Write" in notes
    assert "token of its own" in notes
    assert "CFT-PE-03: no IP allowlist" in notes
    assert advice.cost["escalation"] == 1


def test_no_escalation_group_when_a_safer_one_works() -> None:
    """Listing Access apps accepts read, revoke and write groups; the escalation-free read
    group is chosen."""
    advice = least_privilege(["GET /accounts/{account_id}/access/apps"], account=PROD)
    assert advice.cost["escalation"] == 0
    assert all("PE" not in g.group.families for g in advice.grants)


def test_justification_has_one_row_per_grant_with_its_intents(directory: cft.Directory) -> None:
    """The justification frame lists each (group, resource) once, with typed columns, the
    policy it sits in and the intents that need it."""
    advice = least_privilege(
        [
            "GET /zones/{zone_id}/dns_records",
            "POST /zones/{zone_id}/dns_records",
            "GET /accounts/{account_id}/workers/scripts",
        ],
        zone=["example.com", "example.net"],
        account="Acme Staging",
        directory=directory,
    )
    frame = advice.justification
    assert list(frame.columns) == [
        "policy",
        "group",
        "group_id",
        "scope",
        "level",
        "families",
        "resource",
        "resource_key",
        "intents",
        "operations",
        "n_intents",
        "reason",
    ]
    assert str(frame["policy"].dtype) == "int64"
    assert str(frame["scope"].dtype) == "category"
    assert not frame.duplicated(["group", "resource_key"]).any()
    dns = frame[frame["group"] == "DNS Write"].set_index("resource")
    assert set(dns.index) == {"zone example.com", "zone example.net"}
    assert dns.loc["zone example.com", "n_intents"] == 2
    assert any("/dns_records" in i for i in dns.loc["zone example.com", "intents"])
    scripts = frame[frame["group"] == "Workers Scripts Read"].iloc[0]
    assert scripts["resource"] == "account Acme Staging"
    assert scripts["resource_key"] == f"com.cloudflare.api.account.{STAGING}"
    assert "the only grant" in scripts["reason"] or "least-privileged" in scripts["reason"]
    text = str(advice)
    assert "DNS Write" in text
    assert "<table>" in advice._repr_html_()


def test_names_require_a_directory() -> None:
    """A zone name without a directory is refused with the fix; unknown names list the known
    ones."""
    with pytest.raises(cft.InvalidInput, match="pass directory="):
        least_privilege(["GET /zones/{zone_id}"], zone="example.com")
    with pytest.raises(cft.InvalidInput, match="owner must be"):
        least_privilege(["GET /zones"], owner="team")  # type: ignore[arg-type]


def test_unknown_zone_names_in_the_directory_are_refused(directory: cft.Directory) -> None:
    """A zone name the directory does not know raises InvalidInput listing the known zones."""
    with pytest.raises(cft.InvalidInput, match=r"known: example\.com"):
        least_privilege(["GET /zones/{zone_id}"], zone="nope.example", directory=directory)


# ---------------------------------------------------------------------------------------------
# Minimality against brute force, on real catalogue operations
# ---------------------------------------------------------------------------------------------

_ZONE_OPS = sorted(
    (o for o in cft.operations if o.mapped and o.target is Target.ZONE),
    key=lambda o: (o.path, o.method),
)
_ACCOUNT_OPS = sorted(
    (o for o in cft.operations if o.mapped and o.target is Target.ACCOUNT),
    key=lambda o: (o.path, o.method),
)
_ZONES = [EXAMPLE_COM, EXAMPLE_NET, STAGING_ZONE]
_ACCOUNTS = [PROD, STAGING]


def _concrete(op: cft.Operation, ident: str) -> str:
    segments = op.path.split("/")
    segments[2] = ident
    return f"{op.method} {'/'.join(segments)}"


intent_lists = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(_ZONE_OPS), st.sampled_from(_ZONES)),
        st.tuples(st.sampled_from(_ACCOUNT_OPS), st.sampled_from(_ACCOUNTS)),
    ),
    min_size=1,
    max_size=5,
)


@pytest.mark.parametrize("examples", [15, pytest.param(45, marks=pytest.mark.slow)])
def test_advice_is_minimal_and_allowed(examples: int) -> None:
    """For random intents over real catalogue operations the advised grants cost exactly the
    brute-force minimum over the same options on every tier above *reach* (the last tier,
    where the advisor prefers the group naming the operation's subject), and the engine
    allows every intent."""

    @settings(
        max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
    )
    @given(intent_lists)
    def check(pairs: list[tuple[cft.Operation, str]]) -> None:
        directory = cft.Directory(
            accounts=[cft.Account(id=PROD, name="P"), cft.Account(id=STAGING, name="S")],
            zones=[
                cft.Zone(id=EXAMPLE_COM, name="a.example", account=cft.model.AccountRef(id=PROD)),
                cft.Zone(id=EXAMPLE_NET, name="b.example", account=cft.model.AccountRef(id=PROD)),
                cft.Zone(
                    id=STAGING_ZONE, name="c.example", account=cft.model.AccountRef(id=STAGING)
                ),
            ],
        )
        intents = [_concrete(op, ident) for op, ident in pairs]
        try:
            advice = least_privilege(intents, directory=directory)
        except cft.InvalidInput:
            assume(False)
            raise
        requirements = [opts for _, opts in advice.requirements]
        universe = {e for opts in requirements for e in opts}
        assume(len(universe) <= 16)

        def cost(element: tuple[cft.PermissionGroup, cft.Resource]) -> int:
            return costs.cost_of(element[0].id)

        chosen = {(g.group, g.resource) for g in advice.grants}
        assert all(chosen & opts for opts in requirements)
        reach_bits = 24
        assert (
            sum(cost(e) for e in chosen) >> reach_bits
            == brute_force(requirements, cost) >> reach_bits
        )
        assert len(chosen) == len(advice.grants)
        assert advice.optimal
        allowed_everywhere(advice, directory)

    check()


@pytest.mark.parametrize(
    ("intents", "expected"),
    [
        ([f"GET /zones/{EXAMPLE_COM}"], ["Zone Read"]),
        ([f"GET /accounts/{PROD}"], ["Account Settings Read"]),
        (
            [f"GET /zones/{EXAMPLE_COM}", f"GET /zones/{EXAMPLE_COM}/load_balancers"],
            ["Load Balancers Read"],
        ),
    ],
)
def test_equal_cost_grants_prefer_the_group_naming_the_subject(
    intents: list[str], expected: list[str]
) -> None:
    """Among equally cheap groups the advisor picks the one naming what the call is about,
    unless another group covers more of the intents with fewer grants."""
    advice = least_privilege(intents, now=NOW)
    assert sorted(g.group.name for g in advice.grants) == expected


def test_the_zone_prefix_does_not_make_a_zone_group_look_natural() -> None:
    """Every zone path starts with /zones/{zone_id}: that prefix does not count as the subject,
    so "Zone Settings Read" (reach 51) does not replace "SSL and Certificates Read" on the
    automatic SSL/TLS setting, nor does "Zone WAF Read" take URL normalization."""
    ssl = least_privilege([f"GET /zones/{EXAMPLE_COM}/settings/ssl_automatic_mode"], now=NOW)
    assert group_names(ssl) == {"SSL and Certificates Read"}
    url = least_privilege([f"GET /zones/{EXAMPLE_COM}/url_normalization"], now=NOW)
    assert not any(name.startswith("Zone") for name in group_names(url)), group_names(url)


def test_cost_is_the_cost_of_the_grants_given() -> None:
    """advice.cost describes the grants in the spec, after the natural-group pass swapped
    Load Balancers Read for Zone Read on GET /zones/{zone_id}."""
    advice = least_privilege([f"GET /zones/{EXAMPLE_COM}"], now=NOW)
    (grant,) = advice.grants
    assert grant.group.name == "Zone Read"
    assert advice.cost == costs.decode(costs.cost_of(grant.group.id))
    assert advice.cost["reach"] == costs.reach(grant.group)


def test_one_ip_range_may_be_a_plain_string() -> None:
    """allow_ips="203.0.113.7" is one range (not eleven characters), as is deny_ips."""
    advice = least_privilege(
        ["GET /zones/{zone_id}/dns_records"],
        zone=EXAMPLE_COM,
        allow_ips="203.0.113.0/24",
        deny_ips="203.0.113.7",
        now=NOW,
    )
    assert advice.spec.allow_ips == ("203.0.113.0/24",)
    assert advice.spec.deny_ips == ("203.0.113.7",)


def test_reasons_do_not_repeat_the_request() -> None:
    """An intent written as its own request is not repeated in front of the reason; a template
    still shows the request it was bound to."""
    with pytest.raises(cft.InvalidInput) as caught:
        least_privilege(["GET /user/tokens"], now=NOW)
    assert "GET /user/tokens: GET /user/tokens" not in str(caught.value)
    advice = least_privilege(
        ["GET /user/tokens", "GET /zones/{zone_id}/dns_records"], zone=EXAMPLE_COM, now=NOW
    )
    (missing,) = advice.unmapped
    assert missing.intent == "GET /user/tokens"
    assert missing.reason.startswith("it needs API Tokens")


def test_notes_agree_in_number() -> None:
    """One request "accepts" no less-privileged group; several "accept"."""
    one = least_privilege(["POST /user/tokens"], user=USER, now=NOW)
    assert any("POST /user/tokens accepts no less-privileged group" in n for n in one.notes)


def test_default_name_says_where_broad_grants_reach(directory: cft.Directory) -> None:
    """A name chosen by the advisor counts "all zones of N accounts" and wildcards too, not
    only single zones and accounts."""
    zones = [z.id for z in directory.zones_of(PROD)]
    wide = least_privilege(
        ["GET /zones/{zone_id}/dns_records"],
        zone=zones,
        directory=directory,
        allow_broad_scope=True,
        now=NOW,
    )
    assert wide.spec.name == "least-privilege: DNS Read on all zones of 1 account"
    anywhere = least_privilege(["GET /zones"], allow_broad_scope=True, now=NOW)
    assert anywhere.spec.name == "least-privilege: Zone Read on all zones"
