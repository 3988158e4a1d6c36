"""Terraform as people write it: plans, state, HCL files and directories, unknown values."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import ACCT, NOW, ZONE, iso
from definitions import CORPUS, audit_case, cases, expected, gaps
from definitions import findings as corpus_findings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cftokens as cft
from cftokens.audit import Audit
from cftokens.cli import main
from cftokens.model.terraform import to_terraform

DNS_WRITE = "4755a26eedb94da69e1066d98aa820be"


def plan_file(tmp_path: Path, values: dict[str, Any], *, unknown: Any = None) -> Path:
    """A `terraform show -json` plan creating one cloudflare_api_token."""
    address = "cloudflare_api_token.t"
    resource = {
        "address": address,
        "mode": "managed",
        "type": "cloudflare_api_token",
        "name": "t",
        "values": values,
    }
    plan: dict[str, Any] = {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": [resource]}},
        "resource_changes": [
            {
                "address": address,
                "mode": "managed",
                "type": "cloudflare_api_token",
                "name": "t",
                "change": {
                    "actions": ["create"],
                    "after": values,
                    "after_unknown": unknown if unknown is not None else {},
                },
            }
        ],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    return path


def test_a_definition_is_issued_at_the_audits_now(tmp_path: Path) -> None:
    """A planned token has no issued_on: its lifetime counts from the audit's now, so a
    364-day write token breaks the 90-day write limit (CFT-LC-02 used to stay silent)."""
    values = {
        "name": "long-dns",
        "policies": [
            {
                "effect": "allow",
                "permission_groups": [{"id": DNS_WRITE}],
                "resources": {f"com.cloudflare.api.account.zone.{ZONE}": "*"},
            }
        ],
        "condition": {"request_ip": {"in": ["34.120.1.0/24"]}},
        "expires_on": iso(364),
    }
    audit = Audit.from_terraform(plan_file(tmp_path, values), now=NOW)
    lc02 = audit.findings[audit.findings["rule_id"] == "CFT-LC-02"]
    assert list(lc02["token_name"]) == ["long-dns"]
    assert "from its creation, taken as the audit's now" in lc02["evidence"].iloc[0]
    assert audit.tokens["issued_on"].iloc[0] == NOW


# -- the corpus ------------------------------------------------------------------------------

CASES = cases()


def test_the_corpus_has_thirty_definitions() -> None:
    """At least 30 realistic definitions, each with its expected findings written down."""
    assert len(CASES) >= 30
    assert all((case / "expected.yaml").is_file() for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_definition_gets_the_findings_an_analyst_expects(case: Path) -> None:
    """Each definition's findings (rule id, token) and gaps are exactly the expected ones."""
    audit = audit_case(case)
    want = expected(case)
    assert corpus_findings(audit) == want["findings"]
    assert gaps(audit) == want["gaps"]


# -- unknown values ----------------------------------------------------------------------------


def test_a_zone_known_only_after_apply_is_one_zone_and_fails_the_gate(
    tmp_path: Path, capsys: Any
) -> None:
    """DNS Write on a zone created in the same plan is judged on one zone (RK-01 high, not
    LN-02 'names no zone'), says so, and a --fail-on high gate fails."""
    plan = CORPUS / "plan-zone-after-apply" / "plan.json"
    audit = Audit.from_terraform(plan, now=NOW)
    rk = audit.findings[audit.findings["rule_id"] == "CFT-RK-01"]
    assert list(rk["severity"].astype(str)) == ["high"]
    assert "resource known only after apply" in rk["evidence"].iloc[0]
    assert "CFT-LN-02" not in set(audit.findings["rule_id"])
    assert audit.grants["resource_kind"].astype(str).tolist() == ["zone"]
    code = main(["audit", "--terraform", str(plan), "--fail-on", "high", "--no-progress"])
    assert code == 1
    capsys.readouterr()


def test_unknown_keys_are_never_read_narrower_than_written(tmp_path: Path) -> None:
    """A whole key unknown is the widest key of the policy's scope; a nested value unknown
    under an account is all zones of that account."""
    (tmp_path / "main.tf").write_text(
        """
variable "key" {}
resource "cloudflare_api_token" "t" {
  name = "wide"
  policies = [{
    effect = "allow"
    permission_groups = [{ id = "4755a26eedb94da69e1066d98aa820be" }]
    resources = { (var.key) = "*" }
  }]
}
"""
    )
    audit = Audit.from_terraform(tmp_path, now=NOW)
    assert audit.grants["resource_kind"].astype(str).tolist() == ["all_zones"]
    plan = CORPUS / "plan-nested-value-after-apply" / "plan.json"
    kinds = Audit.from_terraform(plan, now=NOW).grants["resource_kind"].astype(str).tolist()
    assert kinds == ["all_zones_in"]


def test_permission_groups_unknown_offline_make_a_gap_not_a_pass(capsys: Any) -> None:
    """A token whose groups cannot be known is a gap row naming it, never a clean token."""
    plan = CORPUS / "plan-group-after-apply" / "plan.json"
    audit = Audit.from_terraform(plan, now=NOW)
    assert list(audit.tokens["name"]) == ["zone-reader"]
    row = audit.gaps[audit.gaps["subject"] == "cloudflare_api_token.unknown_groups"]
    assert "cannot be known offline" in row["reason"].iloc[0]


# -- HCL --------------------------------------------------------------------------------------


def test_hcl_written_by_to_terraform_reads_back_to_the_same_grants(tmp_path: Path) -> None:
    """The exporter's HCL, read by the HCL reader, grants exactly what the spec grants."""
    spec = cft.TokenSpec(
        name="round-trip",
        policies=[
            cft.Policy.allow(["DNS Write", "Zone Read"], zones=[ZONE]),
            cft.Policy.allow(["Workers Scripts Write"], accounts=[ACCT]),
            cft.Policy.deny(["DNS Write"], all_zones_of=[ACCT]),
        ],
        allow_ips=["34.120.1.0/24"],
        expires_on=NOW + timedelta(days=20),
    )
    (tmp_path / "main.tf").write_text(to_terraform(spec))
    from_hcl = Audit.from_terraform(tmp_path, now=NOW)
    direct = Audit.from_records(tokens=[{**spec.to_api(), "id": "e" * 32}], now=NOW)
    columns = ["policy", "effect", "group", "resource_key", "effective"]
    assert from_hcl.grants[columns].to_dict("records") == direct.grants[columns].to_dict("records")
    assert corpus_findings(from_hcl) == corpus_findings(direct)


def test_a_data_source_key_the_catalogue_lacks_is_an_error(tmp_path: Path) -> None:
    """zone["DNS Wrte"] raises InvalidInput naming the key (Terraform would fail too)."""
    (tmp_path / "main.tf").write_text(
        """
data "cloudflare_api_token_permission_groups" "all" {}
resource "cloudflare_api_token" "t" {
  name = "typo"
  policy {
    permission_groups = [data.cloudflare_api_token_permission_groups.all.zone["DNS Wrte"]]
    resources = { "com.cloudflare.api.account.zone.*" = "*" }
  }
}
"""
    )
    with pytest.raises(cft.InvalidInput, match="DNS Wrte"):
        Audit.from_terraform(tmp_path, now=NOW)


def test_a_missing_terraform_extra_names_it(tmp_path: Path, monkeypatch: Any) -> None:
    """Without python-hcl2 a .tf input raises MissingExtra naming the terraform extra."""
    import sys

    (tmp_path / "main.tf").write_text('resource "x" "y" {}\n')
    monkeypatch.setitem(sys.modules, "hcl2", None)
    with pytest.raises(cft.MissingExtra, match=r"cftokens\[terraform\]"):
        Audit.from_terraform(tmp_path / "main.tf", now=NOW)


def test_state_secrets_never_reach_any_output(tmp_path: Path) -> None:
    """The value attribute of a state is dropped before the audit sees the token. The secret
    is written into a copy of the state at run time: no committed file holds one."""
    fixture = (CORPUS / "state-old-token" / "terraform.tfstate").read_text()
    placeholder = "STATE-SECRET-PLACEHOLDER (the test writes a cfut_ shaped value here at run time)"
    assert placeholder in fixture
    secret = "cfut_" + "x" * 40 + "aaaaaaaa"
    state = tmp_path / "terraform.tfstate"
    state.write_text(fixture.replace(placeholder, secret))
    audit = Audit.from_terraform(state, now=NOW)
    assert secret not in audit.to_json() and secret not in audit.findings.to_string()


# -- robustness -------------------------------------------------------------------------------

_JUNK = [None, 0, -1, 1.5, True, "", "x", "*", [], {}, [1], {"a": 1}, ["x"], {"id": 3}]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*path, i))
    return out


def _replace(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = _replace(node[path[0]], path[1:], value)
    return copy


_DOCS = [
    json.loads((case / name).read_text())
    for case in CASES
    for name in ("plan.json", "terraform.tfstate")
    if (case / name).is_file()
]


def test_a_type_error_names_its_place_in_the_document(tmp_path: Path) -> None:
    """A list where an object belongs raises InvalidInput with the JSON path, not TypeError."""
    doc = _replace(
        _DOCS[0], ("planned_values", "root_module", "resources", 0, "values", "policies", 0), []
    )
    file = tmp_path / "plan.json"
    file.write_text(json.dumps(doc))
    with pytest.raises(cft.InvalidInput, match=r"policies\[0\]: expected an object, got a list"):
        Audit.from_terraform(file, now=NOW)


@pytest.mark.slow
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_terraform_json_raises_only_invalid_input(tmp_path: Path, data: Any) -> None:
    """Any value anywhere in a plan or state replaced by junk: an audit or InvalidInput."""
    doc = data.draw(st.sampled_from(_DOCS))
    path = data.draw(st.sampled_from(_paths(doc)))
    doc = _replace(doc, path, data.draw(st.sampled_from(_JUNK)))
    file = tmp_path / "doc.json"
    file.write_text(json.dumps(doc))
    with contextlib.suppress(cft.InvalidInput):
        Audit.from_terraform(file, now=NOW)


_TF = [
    (case / "main.tf").read_text()
    for case in CASES
    if (case / "main.tf").is_file() and not (case / "modules").exists()
]


@pytest.mark.slow
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_hcl_raises_only_invalid_input(tmp_path: Path, data: Any) -> None:
    """A .tf file with characters deleted, doubled or replaced: an audit or InvalidInput."""
    text = data.draw(st.sampled_from(_TF))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text) - 1))
        how = data.draw(st.sampled_from(["delete", "double", "replace"]))
        char = data.draw(st.sampled_from(list('{}[]()"=,.:$*\\\n x0#<>?!-')))
        if how == "delete":
            text = text[:at] + text[at + 1 :]
        elif how == "double":
            text = text[:at] + text[at] + text[at:]
        else:
            text = text[:at] + char + text[at + 1 :]
    folder = tmp_path / "cfg"
    folder.mkdir(exist_ok=True)
    (folder / "main.tf").write_text(text)
    with contextlib.suppress(cft.InvalidInput):
        Audit.from_terraform(folder, now=NOW)


def test_a_tf_file_is_read_with_its_directory_and_audits_its_whole_module(
    tmp_path: Path, capsys: Any
) -> None:
    """tokens.tf uses a variable declared in variables.tf; auditing any one file of the
    directory (as the pre-commit hook passes the changed ones) reads the variables and tfvars
    and judges every token of the module: a change to variables.tf or to a tfvars file alone
    widens tokens declared elsewhere, and must fail the gate."""
    (tmp_path / "variables.tf").write_text('variable "zone_id" {}\n')
    (tmp_path / "terraform.tfvars").write_text(f'zone_id = "{ZONE}"\n')
    token = """
resource "cloudflare_api_token" "%s" {
  name = "%s"
  policies = [{
    effect            = "allow"
    permission_groups = [{ id = "c8fed203ed3043cba015a93ad1616f1f" }]
    resources         = { "com.cloudflare.api.account.zone.${var.zone_id}" = "*" }
  }]
}
"""
    (tmp_path / "tokens.tf").write_text(token % ("a", "wanted"))
    (tmp_path / "other.tf").write_text(token % ("b", "other"))
    audit = Audit.from_terraform(tmp_path / "tokens.tf", now=NOW)
    assert sorted(audit.tokens["name"]) == ["other", "wanted"]
    assert set(audit.grants["resource_id"]) == {ZONE}
    both = Audit.from_terraform([tmp_path / "tokens.tf", tmp_path / "other.tf"], now=NOW)
    assert sorted(both.tokens["name"]) == ["other", "wanted"]  # each token once

    def rules(path: Path) -> set[str]:
        return set(Audit.from_terraform(path, now=NOW).findings["rule_id"])

    gate = ["audit", "--no-progress", "--fail-on", "medium", "--terraform"]
    assert main([*gate, str(tmp_path / "variables.tf")]) == 1  # both tokens judged (NW-01)
    capsys.readouterr()
    assert "CFT-SC-02" not in rules(tmp_path / "variables.tf")  # one zone each
    (tmp_path / "terraform.tfvars").write_text('zone_id = "*"\n')  # every zone
    assert "CFT-SC-02" in rules(tmp_path / "variables.tf")
    assert "CFT-SC-02" in rules(tmp_path / "terraform.tfvars")
    (tmp_path / "terraform.tfvars").write_text(f'zone_id = "{ZONE}"\n')
    (tmp_path / "prod.tfvars").write_text('zone_id = "*"\n')  # applied only as a -var-file
    assert "CFT-SC-02" not in rules(tmp_path)
    assert "CFT-SC-02" in rules(tmp_path / "prod.tfvars")


def test_several_inputs_make_one_audit_and_sarif_points_at_the_declaring_file(
    tmp_path: Path, capsys: Any
) -> None:
    """The CLI takes several --terraform paths (as pre-commit passes them); SARIF results
    name the .tf file that declares each token."""
    first = CORPUS / "zone-created-in-config" / "main.tf"
    second = CORPUS / "v4-user-map-minter" / "main.tf"
    out = tmp_path / "tf.sarif"
    code = main(
        ["audit", "--no-progress", "--output", str(out), "--terraform", str(first), str(second)]
    )
    assert code == 0
    capsys.readouterr()
    results = json.loads(out.read_text())["runs"][0]["results"]
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in results
        if "site-dns" in r["message"]["text"]
    }
    assert uris == {str(first)}
    assert {r["ruleId"] for r in results} >= {"CFT-RK-01", "CFT-PE-01"}


def test_restrictions_known_only_after_apply_are_read_as_absent_and_said_so(
    tmp_path: Path,
) -> None:
    """An expiry from timestamp() in a plan and an allowlist from a variable without a value
    are read as none (the worst), and the findings say why."""
    plan = CORPUS / "plan-expiry-after-apply" / "plan.json"
    lc01 = Audit.from_terraform(plan, now=NOW).findings.set_index("rule_id").loc["CFT-LC-01"]
    assert "expires_on is known only after apply, read as never expiring" in lc01["evidence"]
    (tmp_path / "main.tf").write_text(
        """
variable "ips" { type = list(string) }
resource "cloudflare_api_token" "t" {
  name = "ips-later"
  policies = [{
    effect            = "allow"
    permission_groups = [{ id = "c8fed203ed3043cba015a93ad1616f1f" }]
    resources         = { "com.cloudflare.api.account.zone.b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1" = "*" }
  }]
  condition  = { request_ip = { in = var.ips } }
  expires_on = "2026-12-20T00:00:00Z"
}
"""
    )
    audit = Audit.from_terraform(tmp_path, now=NOW)
    nw01 = audit.findings.set_index("rule_id").loc["CFT-NW-01"]
    assert "condition is known only after apply, read as no allowlist" in nw01["evidence"]


def test_tf_var_environment_variables_give_values_below_tfvars(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """TF_VAR_zone_id makes the zone known (Terraform reads it); a tfvars file wins over it."""
    case = CORPUS / "variable-without-value"
    monkeypatch.setenv("TF_VAR_zone_id", ZONE)
    audit = Audit.from_terraform(case, now=NOW)
    assert list(audit.grants["resource_id"]) == [ZONE]
    (tmp_path / "main.tf").write_text((case / "main.tf").read_text())
    (tmp_path / "terraform.tfvars").write_text('zone_id = "' + "b2" * 16 + '"\n')
    assert list(Audit.from_terraform(tmp_path, now=NOW).grants["resource_id"]) == ["b2" * 16]


def test_a_bare_name_in_an_interpolation_is_an_invalid_reference(tmp_path: Path) -> None:
    """`${ZONE_ID}` in HCL is not a value Terraform knows (a shell placeholder left in):
    InvalidInput says so, rather than an unknown zone."""
    (tmp_path / "main.tf").write_text(
        """
resource "cloudflare_api_token" "t" {
  name = "shell-placeholder"
  policies = [{
    effect            = "allow"
    permission_groups = [{ id = "4755a26eedb94da69e1066d98aa820be" }]
    resources         = { "com.cloudflare.api.account.zone.${ZONE_ID}" = "*" }
  }]
}
"""
    )
    with pytest.raises(cft.InvalidInput, match="'ZONE_ID' is not a valid reference"):
        Audit.from_terraform(tmp_path, now=NOW)


def test_an_unjudged_terraform_token_makes_the_gate_incomplete(capsys: Any) -> None:
    """A plan whose token's groups are known only after apply exits 3 (incomplete), never 0;
    --allow-gaps accepts it explicitly."""
    plan = str(CORPUS / "plan-group-after-apply" / "plan.json")
    code = main(["audit", "--no-progress", "--fail-on", "high", "--terraform", plan])
    out = capsys.readouterr()
    assert code == 3
    assert "cloudflare_api_token.unknown_groups" in out.out + out.err
    assert "--var-file" in out.err and "auditing token's access" not in out.err
    allowed = ["audit", "--no-progress", "--fail-on", "high", "--allow-gaps", "--terraform", plan]
    assert main(allowed) == 0
    capsys.readouterr()


def test_a_wrong_type_under_after_unknown_is_reported_as_itself(tmp_path: Path) -> None:
    """A policy that is a string in planned values is reported as such, even where
    after_unknown marks parts of it (not as a missing id inside an invented object)."""
    doc = json.loads((CORPUS / "plan-zone-after-apply" / "plan.json").read_text())
    doc["planned_values"]["root_module"]["resources"][0]["values"]["policies"][0] = "x"
    file = tmp_path / "plan.json"
    file.write_text(json.dumps(doc))
    with pytest.raises(cft.InvalidInput, match=r"policies\[0\]: expected an object, got a string"):
        Audit.from_terraform(file, now=NOW)


_DNS_TOKEN_TF = """
data "cloudflare_api_token_permission_groups" "all" {}
resource "cloudflare_api_token" "t" {
  name = "x"
  policy {
    permission_groups = [data.cloudflare_api_token_permission_groups.all.zone["DNS Write"]]
    resources = { "com.cloudflare.api.account.zone.*" = "*" }
  }
}
"""


def test_a_tf_json_file_in_a_directory_is_never_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A token written in Terraform's JSON syntax (main.tf.json) next to .tf files used to be
    skipped silently: "Audited 0 tokens" and a --fail-on high gate passed."""
    (tmp_path / "vars.tf").write_text('variable "a" {\n  default = 1\n}\n')
    body = {"resource": {"cloudflare_api_token": {"t": {"name": "x"}}}}
    (tmp_path / "main.tf.json").write_text(json.dumps(body))
    code = main(["audit", "--no-progress", "--fail-on", "high", "--terraform", str(tmp_path)])
    assert code == 2
    assert "main.tf.json" in capsys.readouterr().err
    # OpenTofu reads *.tofu files (main.tofu replaces main.tf): never skipped either
    (tmp_path / "main.tf.json").unlink()
    (tmp_path / "main.tofu").write_text(_DNS_TOKEN_TF)
    code = main(["audit", "--no-progress", "--fail-on", "high", "--terraform", str(tmp_path)])
    assert code == 2
    assert "main.tofu" in capsys.readouterr().err


def test_a_module_read_from_elsewhere_is_a_gap_that_hides_tokens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A registry or git module may declare tokens the audit cannot read offline: it is a gap
    that hides tokens (exit 3), not an empty audit that passes a gate."""
    (tmp_path / "main.tf").write_text(
        'module "tok" {\n  source = "git::https://example.com/tok.git"\n}\n'
    )
    code = main(["audit", "--no-progress", "--fail-on", "high", "--terraform", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 3
    assert "module.tok" in out and "git::https://example.com/tok.git" in out
    allowed = main(
        [
            "audit",
            "--no-progress",
            "--fail-on",
            "high",
            "--allow-gaps",
            "--terraform",
            str(tmp_path),
        ]
    )
    assert allowed == 0
    (tmp_path / "main.tf").write_text(_DNS_TOKEN_TF)
    assert main(["audit", "--no-progress", "--terraform", str(tmp_path)]) == 0


def _dns_token(zone: str = "*", group: str = "DNS Write") -> str:
    return _DNS_TOKEN_TF.replace("DNS Write", group).replace("zone.*", f"zone.{zone}")


def _gate(path: Path, *files: Path) -> int:
    targets = [str(f) for f in files] or [str(path)]
    return main(["audit", "--no-progress", "--fail-on", "high", "--terraform", *targets])


def test_override_files_are_merged_as_terraform_merges_them(tmp_path: Path) -> None:
    """Terraform applies *_override.tf files after the others, attribute by attribute. The
    reader let the file sorted last replace the whole resource: an override named
    a_override.tf widening the grant was ignored, one that only renames the token dropped its
    policies, and a gate passed on a token that reaches every zone."""
    narrow = _dns_token(ZONE, "DNS Read")
    (tmp_path / "main.tf").write_text(narrow)
    assert _gate(tmp_path) == 0
    widen = (
        'resource "cloudflare_api_token" "t" {\n  policy {\n'
        + _DNS_TOKEN_TF.split("policy {\n", 1)[1].split("  }\n}", 1)[0]
        + "  }\n}\n"
    )
    (tmp_path / "a_override.tf").write_text(widen)
    assert _gate(tmp_path) == 1
    # pre-commit passes only the changed override file: its token is still audited
    assert _gate(tmp_path, tmp_path / "a_override.tf") == 1
    dynamic = widen.replace(
        "  policy {\n", '  dynamic "policy" {\n    for_each = [1]\n    content {\n'
    )
    (tmp_path / "a_override.tf").write_text(dynamic.replace("  }\n}", "  }\n  }\n}"))
    assert _gate(tmp_path) == 1  # a dynamic "policy" override replaces the policy blocks
    (tmp_path / "a_override.tf").unlink()
    (tmp_path / "main.tf").write_text(_dns_token())
    (tmp_path / "main_override.tf").write_text(
        'resource "cloudflare_api_token" "t" {\n  name = "renamed"\n}\n'
    )
    assert _gate(tmp_path) == 1
    (tmp_path / "override.tf").write_text('resource "cloudflare_api_token" "nope" {\n}\n')
    assert _gate(tmp_path) == 2  # Terraform: missing base resource for override


def test_a_resource_declared_twice_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Terraform refuses a resource declared twice; the reader kept the last one read, so a
    wide token shadowed by a narrow copy in a later file passed the gate."""
    (tmp_path / "b.tf").write_text(_dns_token())
    (tmp_path / "c.tf").write_text(_dns_token(ZONE, "DNS Read").split("}\n", 1)[1])
    assert _gate(tmp_path) == 2
    err = capsys.readouterr().err
    assert "cloudflare_api_token.t" in err and "b.tf" in err and "c.tf" in err


def test_a_plan_that_does_not_show_every_token_it_changes_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A token that resource_changes creates but planned_values omits (an errored or edited
    plan) was never judged: "Audited 0 tokens" passed a --fail-on high gate."""
    wide = {
        "name": "x",
        "policy": [
            {
                "effect": "allow",
                "permission_groups": [DNS_WRITE],
                "resources": {"com.cloudflare.api.account.zone.*": "*"},
            }
        ],
    }
    plan = json.loads(plan_file(tmp_path, wide).read_text())
    plan["planned_values"]["root_module"]["resources"] = []
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    assert _gate(path) == 2
    assert "cloudflare_api_token.t" in capsys.readouterr().err
    plan["resource_changes"][0]["change"]["actions"] = ["delete"]  # gone after apply: fine
    path.write_text(json.dumps(plan))
    assert _gate(path) == 0
    plan = json.loads(plan_file(tmp_path, wide).read_text())
    plan["errored"] = True
    path.write_text(json.dumps(plan))
    assert _gate(path) == 2
    assert "errored" in capsys.readouterr().err


def test_a_for_each_key_that_is_a_reference_is_an_unknown_instance(tmp_path: Path) -> None:
    """``for_each`` over a map whose key is a reference (``p.oduction = {…}``, a typo the fuzz
    test found) crashed the reader with a TypeError; the key is unknown, so the token is read
    as one instance with an unknown key and judged (never dropped, never a crash)."""
    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "main.tf").write_text(
        'variable "environments" {\n'
        f'  default = {{ p.oduction = {{ zone = "{ZONE}", ips = [] }} }}\n'
        "}\n"
        'resource "cloudflare_api_token" "deploy" {\n'
        "  for_each = var.environments\n"
        '  name     = "deploy-${each.key}"\n'
        "  policies = [{\n"
        '    effect            = "allow"\n'
        f'    permission_groups = [{{ id = "{DNS_WRITE}" }}]\n'
        '    resources         = { "com.cloudflare.api.account.zone.${each.value.zone}" = "*" }\n'
        "  }]\n"
        "}\n"
    )
    audit = Audit.from_terraform(folder, now=NOW)
    assert list(audit.tokens["name"]) == ["deploy-${each.key}"]
    assert "CFT-RK-01" in set(audit.findings["rule_id"].astype(str))
