"""The catalogues: permission groups, operations and templates built from Cloudflare's data."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import cftokens as cft
from cftokens.advisor.intents import Overrides
from cftokens.catalog import Level, OperationCatalog, Target
from cftokens.catalog.operations import Operation, _make_operation
from cftokens.policy import evaluate_request

ROOT = Path(__file__).resolve().parent.parent
ZONE = "023e105f4ecef8ad9ca31a8372d0c353"
ACCOUNT = "eb78d65290b24279ba6f44721b3ea3c4"


# -- permission groups ---------------------------------------------------------------------


def test_catalogue_has_every_group_with_unique_ids() -> None:
    """All 339 groups load, each with a 32-hex id, a name and one scope."""
    groups = list(cft.permission_groups)
    assert len(groups) == 339
    assert len({g.id for g in groups}) == 339
    assert all(re.fullmatch(r"[0-9a-f]{32}", g.id) and g.name for g in groups)
    assert {g.scope for g in groups} == set(cft.Scope)


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("DNS Write", "DNS Write"),
        ("dns write", "DNS Write"),
        ("DNS Edit", "DNS Write"),
        ("  DNS   Edit ", "DNS Write"),
        ("Zone / DNS / Edit", "DNS Write"),
        ("Zone / DNS / Read", "DNS Read"),
        ("4755a26eedb94da69e1066d98aa820be", "DNS Write"),
        ("Zaraz Edit", "Zaraz Edit"),
    ],
)
def test_get_accepts_api_and_dashboard_names(query: str, name: str) -> None:
    """get() resolves API names, any case, dashboard "Edit" wording and ids."""
    assert cft.permission_groups.get(query).name == name


SPELLINGS = [
    ("Zone:DNS:Edit", "DNS Write", "zone"),
    ("Zone / DNS / Edit", "DNS Write", "zone"),
    ("Zone - DNS - Edit", "DNS Write", "zone"),
    ("Zone \u2013 DNS \u2013 Edit", "DNS Write", "zone"),  # en dash
    ("Zone \u2014 DNS \u2014 Edit", "DNS Write", "zone"),  # em dash
    ("Zone\u2014DNS\u2014Edit", "DNS Write", "zone"),
    ("Zone.DNS:Edit", "DNS Write", "zone"),
    ("DNS:Edit", "DNS Write", "zone"),
    ("Zone:Zone:Read", "Zone Read", "zone"),
    ("Zone:Zone:Edit", "Zone Write", "zone"),
    ("Account:Cloudflare Pages:Edit", "Pages Write", "account"),
    ("User:API Tokens:Edit", "API Tokens Write", "user"),
    ("Account:API Tokens:Edit", "Account API Tokens Write", "account"),
    ("Zone:Cache Purge:Purge", "Cache Purge", "zone"),
    ("Account Filter Lists Edit", "Account Rule Lists Write", "account"),
    ("Account Filter Lists Read", "Account Rule Lists Read", "account"),
    ("Zone Zone Read", "Zone Read", "zone"),
    ("Zone DNS Edit", "DNS Write", "zone"),
    ("Account:Access: Apps and Policies:Edit", "Access: Apps and Policies Write", "account"),
    ("Zone:Logs:Read", "Logs Read", "zone"),
    ("Account:Workers R2 Storage:Edit", "Workers R2 Storage Write", "account"),
    (
        "Magic Firewall Packet Captures - Write PCAPs API",
        "Magic Firewall Packet Captures - Write PCAPs API",
        "account",
    ),
]


@pytest.mark.parametrize(("query", "name", "scope"), SPELLINGS)
def test_get_accepts_the_names_people_write(query: str, name: str, scope: str) -> None:
    """Dashboard, README and old schema spellings resolve to the one group they mean."""
    group = cft.permission_groups.get(query)
    assert (group.name, group.scope.label) == (name, scope)
    assert cft.permission_groups.search(query)[0] == group
    assert cft.permission_groups.resolve(query) == group


def test_zone_dns_edit_never_suggests_dns_settings() -> None:
    """'Zone:DNS:Edit' is DNS Write; it used to miss and suggest Zone DNS Settings Write."""
    assert cft.permission_groups.get("Zone:DNS:Edit").name == "DNS Write"
    assert "Zone:DNS:Edit" in cft.permission_groups


def test_every_group_resolves_from_its_dashboard_spelling() -> None:
    """Scope:Product:Edit/Read with every separator gives back exactly that group, for all
    read and write groups of the catalogue (never a different group, never a miss)."""
    separators = [":", " / ", " - ", " \u2013 ", " \u2014 "]
    checked = 0
    for group in cft.permission_groups:
        found = re.fullmatch(r"(.*?):? (Read|Write)", group.name)
        if not found or group.scope is cft.Scope.R2_BUCKET:
            continue
        base, level = found.groups()
        for sep in separators:
            query = f"{group.scope.label.title()}{sep}{base}{sep}{'Edit' if level == 'Write' else level}"
            assert cft.permission_groups.get(query) == group, query
            checked += 1
    assert checked > 1000


def test_a_stated_scope_is_never_loosened() -> None:
    """A spelling naming a scope the group lacks is a miss, not another scope's group; a
    scope passed to get() picks the account twin of a user group."""
    with pytest.raises(cft.UnknownPermissionGroup):
        cft.permission_groups.get("Account:DNS:Edit")
    assert cft.permission_groups.resolve("Account:DNS:Edit") is None
    assert cft.permission_groups.get("API Tokens:Edit", scope="account").name == (
        "Account API Tokens Write"
    )
    assert cft.permission_groups.resolve("DNS Write", scope="account") is None


def test_search_finds_renamed_groups_by_their_old_name() -> None:
    """The schema's old names (Filter Lists) find the renamed groups (Rule Lists)."""
    names = {g.name for g in cft.permission_groups.search("filter lists")}
    assert names == {"Account Rule Lists Read", "Account Rule Lists Write"}


def test_ambiguous_names_need_a_scope() -> None:
    """A name existing for accounts and zones raises unless a scope or (name, scope) is given."""
    with pytest.raises(cft.AmbiguousPermissionGroup, match="scope='account' or scope='zone'"):
        cft.permission_groups.get("Logs Read")
    assert cft.permission_groups.get("Logs Read", scope="zone").scope is cft.Scope.ZONE
    assert cft.permission_groups.get(("Logs Read", "account")).scope is cft.Scope.ACCOUNT
    with pytest.raises(cft.UnknownPermissionGroup, match="only with scope zone"):
        cft.permission_groups.get("DNS Write", scope="account")


def test_a_miss_suggests_close_names() -> None:
    """An unknown name raises with the closest names in the message and the exception."""
    with pytest.raises(cft.UnknownPermissionGroup) as info:
        cft.permission_groups.get("Worker Script Write")
    assert "Workers Scripts Write" in info.value.suggestions
    assert "did you mean" in str(info.value)
    with pytest.raises(cft.UnknownPermissionGroup, match="no permission group has id"):
        cft.permission_groups.get("0" * 32)


def test_search_ranks_name_matches_first_and_raises_on_a_miss() -> None:
    """search() puts exact and prefix name matches first; a miss raises with suggestions."""
    found = cft.permission_groups.search("dns write")
    assert found[0].name == "DNS Write"
    assert all("dns" in (g.name + g.description).lower() for g in found)
    assert all(
        g.scope is cft.Scope.ACCOUNT for g in cft.permission_groups.search("dns", scope="account")
    )
    with pytest.raises(cft.UnknownPermissionGroup, match="no permission group matches"):
        cft.permission_groups.search("qqqzzz")


def test_levels_follow_names_and_the_curated_list() -> None:
    """Read/Write names get their level; Cache Purge and revoke groups are write-level."""
    get = cft.permission_groups.get
    assert get("DNS Read").level is Level.READ
    assert get("DNS Write").is_write
    assert get("Cache Purge").is_write
    assert get("Access: Apps Revoke").is_write
    assert get("AI Gateway Run").level is Level.OTHER


def test_twin_finds_the_other_level_in_the_same_scope() -> None:
    """twin() maps DNS Write to DNS Read and keeps the scope of ambiguous names."""
    dns_write = cft.permission_groups.get("DNS Write")
    assert cft.permission_groups.twin(dns_write, "read") == cft.permission_groups.get("DNS Read")
    zone_logs = cft.permission_groups.get("Logs Write", scope="zone")
    twin = cft.permission_groups.twin(zone_logs, Level.READ)
    assert twin is not None and twin.scope is cft.Scope.ZONE and twin.name == "Logs Read"


def test_risk_families_match_the_audit_catalogue() -> None:
    """Families hold the catalogue's groups, and CRED holds the token-minting groups."""
    get = cft.permission_groups.get
    assert "PE" in get("API Tokens Write").families
    assert "HIJACK" in get("DNS Write").families
    assert {"EXFIL", "EVASION"} <= get("Logs Write", scope="zone").families
    assert "CRED" in get("Account API Tokens Write").families
    assert "CRED" in get("Access: Service Tokens Write").families
    assert get("DNS Read").families == frozenset()
    assert "PE" in get("Page Shield").families or "EVASION" in get("Page Shield").families


def test_as_frame_has_categorical_columns() -> None:
    """as_frame() returns one row per group with categorical scope and level."""
    frame = cft.permission_groups.as_frame()
    assert len(frame) == 339
    assert str(frame["scope"].dtype) == "category"
    assert list(frame["level"].cat.categories) == ["read", "write", "other"]


# -- operations ----------------------------------------------------------------------------


def test_every_annotated_operation_resolves_to_groups() -> None:
    """Every x-api-token-group name resolves, after the override table, to catalogue groups."""
    mapped = [op for op in cft.operations if op.mapped]
    assert len(mapped) == 2294
    assert len(cft.operations) == 2959 + 5  # the reference schema + the deploy tools' extras
    for op in mapped:
        assert op.accepted_groups, op


def test_an_operations_groups_are_looked_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The policy engine asks an operation for its groups on every request: the names are
    looked up the first time only (the same groups after, for any operation naming them); a
    name the catalogue lacks raises each time, nothing remembered of it."""
    asked: list[str] = []
    lookup = cft.permission_groups.lookup

    def counted(query: str) -> list[cft.PermissionGroup]:
        asked.append(query)
        return lookup(query)

    monkeypatch.setattr(cft.permission_groups, "lookup", counted)
    names = ("DNS Write", "Zone Read", "DNS Read")
    assert names not in {o.group_names for o in cft.operations}  # not looked up before
    op = Operation(method="GET", path="/zones/{zone_id}/x", operation_id="x", group_names=names)
    first = op.accepted_groups
    assert [g.name for g in first] == ["DNS Write", "Zone Read", "DNS Read"]
    assert asked == list(names)
    assert op.accepted_groups == first and asked == list(names)
    twin = Operation(method="PUT", path="/zones/{zone_id}/y", operation_id="y", group_names=names)
    assert twin.accepted_groups == first and asked == list(names)
    unknown = Operation(
        method="GET", path="/z", operation_id="z", group_names=("No Such Group Write",)
    )
    for _ in range(2):
        with pytest.raises(cft.UnknownPermissionGroup, match="No Such Group Write"):
            unknown.accepted_groups  # noqa: B018 - the property raises
    assert asked == [*names, "No Such Group Write", "No Such Group Write"]


def test_spec_quirks_are_normalised() -> None:
    """'Zone Zone Read' on GET /zones means Zone Read; 'Zone DNS Edit' means DNS Write."""
    op = cft.operations.match("GET", "/zones").operation
    assert op.group_names == ("Zone Read",)
    post = cft.operations.match("POST", "/zones").operation
    assert post.group_names == ("Zone Write", "DNS Write")


def test_unannotated_operations_are_listed_not_guessed() -> None:
    """Operations without x-api-token-group are unmapped and accept no group."""
    unmapped = cft.operations.unmapped()
    assert len(unmapped) == 2959 + 5 - 2294
    verify = cft.operations.match("GET", "/user/tokens/verify").operation
    assert not verify.mapped and verify.accepted_groups == ()


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("POST", f"/zones/{ZONE}/dns_records", "/zones/{zone_id}/dns_records"),
        ("GET", f"/client/v4/zones/{ZONE}/dns_records?page=2", "/zones/{zone_id}/dns_records"),
        ("get", f"https://api.cloudflare.com/client/v4/zones/{ZONE}/dns_records/", "/zones/{zone_id}/dns_records"),
        ("GET", f"/zones/{ZONE}/dns_records/export", "/zones/{zone_id}/dns_records/export"),
        ("GET", f"/zones/{ZONE}/dns_records/abc", "/zones/{zone_id}/dns_records/{dns_record_id}"),
        ("PUT", "/user/tokens/ed17574386854bf78a67040be0a770b0/value", "/user/tokens/{token_id}/value"),
        ("GET", "/user/tokens/permission_groups", "/user/tokens/permission_groups"),
        ("GET", f"/accounts/{ACCOUNT}/tokens/verify", "/accounts/{account_id}/tokens/verify"),
        ("GET", f"/accounts/{ACCOUNT}/urlscanner/v2/screenshots/x1.png", "/accounts/{account_id}/urlscanner/v2/screenshots/{scan_id}.png"),
        ("GET", "/zones/{zone_id}/dns_records", "/zones/{zone_id}/dns_records"),
    ],
)  # fmt: skip
def test_match_finds_the_most_literal_template(method: str, path: str, template: str) -> None:
    """match() strips prefix, host and query, and a literal segment beats a parameter."""
    assert cft.operations.match(method, path).operation.path == template


def test_match_extracts_ids_and_params() -> None:
    """The path's zone, account and named parameters are returned."""
    found = cft.operations.match("DELETE", f"/zones/{ZONE}/dns_records/rec1")
    assert found.zone_id == ZONE and found.account_id is None
    assert found.params == {"zone_id": ZONE, "dns_record_id": "rec1"}
    assert found.target is Target.ZONE
    acct = cft.operations.match("GET", f"/accounts/{ACCOUNT}/workers/scripts")
    assert acct.account_id == ACCOUNT and acct.target is Target.ACCOUNT
    assert cft.operations.match("GET", "/user/tokens").target is Target.USER
    assert cft.operations.match("GET", "/zones").target is Target.NONE


def test_match_misses_raise_with_hints() -> None:
    """Unknown paths and methods raise UnknownOperation saying what exists."""
    with pytest.raises(cft.UnknownOperation, match="exists for GET"):
        cft.operations.match("PATCH", "/user/tokens/permission_groups")
    with pytest.raises(cft.UnknownOperation, match="not an HTTP method"):
        cft.operations.match("FETCH", "/zones")
    with pytest.raises(cft.UnknownOperation, match="no API operation matches"):
        cft.operations.match("GET", "/nothing/here")
    assert cft.operations.find("GET", "/nothing/here") is None


def test_match_agrees_with_a_linear_regex_scan() -> None:
    """For every template, a concrete path matches an operation whose regex also matches."""
    ops = list(cft.operations)
    for op in ops[::7]:
        concrete = re.sub(r"\{[^}]+\}", "abc123", op.path)
        found = cft.operations.match(op.method, concrete).operation
        regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(found.path)) + "$"
        assert re.match(regex, concrete), (op, found)
        assert found.method == op.method


def test_get_by_operation_id_and_template() -> None:
    """Operations are found by operationId and by exact template."""
    op = cft.operations.get("dns-records-for-a-zone-create-dns-record")
    assert op.path == "/zones/{zone_id}/dns_records"
    assert cft.operations.template("post", "/zones/{zone_id}/dns_records") == op
    with pytest.raises(cft.UnknownOperation):
        cft.operations.get("nope")


def test_catalog_built_from_a_custom_list() -> None:
    """An OperationCatalog can be built from given operations (for tests and overrides)."""

    catalog = OperationCatalog(
        [
            _make_operation({"method": "GET", "path": "/a/{x}", "operation_id": "one",
                             "summary": "", "tag": "", "deprecated": False, "groups": None}),
            _make_operation({"method": "GET", "path": "/a/b", "operation_id": "two",
                             "summary": "", "tag": "", "deprecated": False, "groups": []}),
        ]
    )  # fmt: skip
    assert catalog.match("GET", "/a/b").operation.operation_id == "two"
    assert catalog.match("GET", "/a/c").params == {"x": "c"}


# -- templates -----------------------------------------------------------------------------


def test_templates_are_found_case_insensitively() -> None:
    """The 8 dashboard templates load and are found whatever the case."""
    assert len(cft.templates) == 8
    assert cft.templates["edit zone dns"].name == "Edit zone DNS"  # as in the how-to, not the table
    assert cft.templates["Read all resources"].inferred
    assert not cft.templates["Edit zone DNS"].inferred
    with pytest.raises(cft.UnknownTemplate, match="templates:"):
        cft.templates["Edit everything"]


def test_template_build_makes_a_policy_per_scope() -> None:
    """build() puts zone groups on zones, account groups on accounts, user groups on the user."""
    user = "7c5dae5552338874e5053f2534d2767a"
    spec = cft.templates["Edit Cloudflare Workers"].build(
        zones=[ZONE], accounts=[ACCOUNT], user=user, name="workers-ci"
    )
    assert spec.name == "workers-ci"
    scopes = [{g.resolve().scope for g in p.permission_groups} for p in spec.policies]  # type: ignore[union-attr]
    assert scopes == [{cft.Scope.ZONE}, {cft.Scope.ACCOUNT}, {cft.Scope.USER}]
    assert cft.evaluate(spec, "Workers Routes Write", zone=ZONE).allowed
    assert cft.evaluate(spec, "Workers Scripts Write", account=ACCOUNT).allowed


def test_template_build_asks_for_resources_instead_of_widening() -> None:
    """A template whose scope has no resources raises, naming the dashboard default."""
    with pytest.raises(cft.InvalidInput, match="pass zones="):
        cft.templates["Edit zone DNS"].build(name="x")
    with pytest.raises(cft.InvalidInput, match="Include all accounts"):
        cft.templates["Read billing info"].build()
    with pytest.raises(cft.InvalidInput, match="user="):
        cft.templates["Create Additional Tokens"].build()
    wide = cft.templates["Read billing info"].build(all_accounts=True)
    assert any("wildcard" in w for w in wide.summary().warnings)


def test_read_all_resources_holds_only_read_level_groups() -> None:
    """The inferred "Read all resources" template holds read-level groups only."""
    template = cft.templates["Read all resources"]
    assert len(template.groups) > 50
    assert all(g.level is not Level.WRITE for g in template.groups)


# -- package data and import cost ----------------------------------------------------------


@pytest.mark.skipif(
    not (ROOT.parent / "shared" / "cloudflare").is_dir(), reason="../shared/cloudflare absent"
)
def test_package_data_is_up_to_date_with_the_reference_data() -> None:
    """scripts/build_catalog.py --check finds the committed data current."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_catalog.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_import_is_light() -> None:
    """import cftokens loads neither pandas, httpx, starlette nor ipywidgets, nor catalogue data."""
    code = (
        "import sys, cftokens\n"
        "heavy = [m for m in ('pandas', 'httpx', 'starlette', 'ipywidgets', 'matplotlib') "
        "if m in sys.modules]\n"
        "print(heavy, cftokens.permission_groups._groups is None)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] True"


@pytest.mark.slow
def test_a_client_loads_httpx_and_asyncio_only_when_used() -> None:
    """Building a Client and looking up a group loads neither httpx nor asyncio (nor the
    models or the policy engine); the first request loads httpx, AsyncClient asyncio."""
    code = (
        "import sys, cftokens\n"
        "client = cftokens.Client(token='x' * 40)\n"
        "cftokens.permission_groups.get('DNS Write')\n"
        "print(sorted(m for m in ('httpx', 'asyncio', 'cftokens.policy', 'cftokens.client._async')"
        " if m in sys.modules))\n"
        "sb = cftokens.Sandbox()\n"
        "sb.client().tokens.verify()\n"
        "print('httpx' in sys.modules, 'asyncio' in sys.modules)\n"
        "cftokens.AsyncClient(token='x' * 40)\n"
        "print('asyncio' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:3] == ["[]", "True False", "True"], out.stdout


def test_public_api_is_sorted_and_complete() -> None:
    """__all__ is sorted and every name in it resolves."""
    assert list(cft.__all__) == sorted(cft.__all__)
    assert [name for name in cft.__all__ if not hasattr(cft, name)] == []


def test_callers_taking_group_names_share_the_resolver() -> None:
    """Policies, advisor overrides and operations read the spellings people write."""

    dns_write = cft.permission_groups.get("DNS Write")
    policy = cft.Policy.allow(["Zone:DNS:Edit"], zones=["0" * 31 + "1"])
    assert [g.id for g in policy.permission_groups] == [dns_write.id]
    rules = Overrides.from_mapping(
        {"POST /zones/{zone_id}/custom_thing": ["Zone \u2013 DNS \u2013 Edit"]}, origin="test"
    )
    assert len(rules) == 1
    with pytest.raises(cft.InvalidInput, match="Zone:DNS:Writ"):
        Overrides.from_mapping({"GET /x": ["Zone:DNS:Writ"]}, origin="test")


@pytest.mark.parametrize(
    ("method", "path", "why"),
    [
        ("GET", "/accounts/0123/pages/projects/site/upload-token", "not in the reference copy"),
        ("POST", "/pages/assets/upload", "upload JWT"),
        ("POST", "/pages/assets/check-missing", "upload JWT"),
        ("POST", "/pages/assets/upsert-hashes", "upload JWT"),
        ("POST", "/accounts/0123/workers/assets/upload", "assets-upload-session"),
        ("GET", "/accounts/0123/workers/services/api", "wrangler deploy"),
        ("GET", "/accounts", "any valid token"),
    ],
)
def test_deploy_tool_operations_are_listed_with_why_they_are_unmapped(
    method: str, path: str, why: str
) -> None:
    """Operations the Pages and Workers deploy actions call are in the catalogue: the schema
    names no group for them, so they are unmapped with the reason, never guessed."""
    op = cft.operations.match(method, path).operation
    assert not op.mapped and op.accepted_groups == ()
    assert why in op.why_unmapped
    frame = cft.operations.as_frame()
    row = frame[(frame["method"] == method) & (frame["path"] == op.path)]
    assert why in row["unmapped_reason"].iloc[0]

    spec = cft.TokenSpec(
        name="t", policies=[cft.Policy.allow(["Pages Write"], accounts=["a1" * 16])]
    )
    decision = evaluate_request(spec, method, path)
    assert not decision.allowed and why in decision.reason


def test_the_deploy_flows_other_operations_stay_mapped_by_the_schema() -> None:
    """The deploy calls the schema annotates keep their groups (Pages Write, Workers Scripts
    Write); the reasons table adds nothing to them."""
    deploy = cft.operations.match("POST", "/accounts/0123/pages/projects/site/deployments")
    assert [g.name for g in deploy.accepted_groups] == ["Pages Write"]
    script = cft.operations.match("PUT", "/accounts/0123/workers/scripts/api").operation
    assert script.mapped and script.why_unmapped == ""
