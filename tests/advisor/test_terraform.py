"""Terraform export: provider v5 HCL that parses and says exactly what the spec says."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from typing import Any

import hcl2
import pytest
from advisor_helpers import EXAMPLE_COM, PROD, USER

import cftokens as cft
from cftokens.model.terraform import hcl_string, terraform_name, to_terraform


def unquote(value: Any) -> Any:
    """python-hcl2 keeps string quotes; strip them (recursively)."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return json.loads(value.replace("$${", "${").replace("%%{", "%{"))
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if not k.startswith("__")}
    return value


def jsonencode_argument(expression: str) -> Any:
    """The object inside ``${jsonencode({...})}`` as JSON."""
    match = re.fullmatch(r"\$\{jsonencode\((.*)\)\}", expression, re.S)
    assert match, expression
    return json.loads(re.sub(r'"\s*=\s*', '": ', match.group(1)).replace('" "', '", "'))


def parse(text: str) -> tuple[str, str, dict[str, Any]]:
    """(resource type, resource name, body) of the single resource in ``text``."""
    document = hcl2.loads(text)
    (block,) = document["resource"]
    ((kind, named),) = block.items()
    ((name, body),) = named.items()
    return unquote(kind), unquote(name), body


def spec_from_terraform(text: str) -> dict[str, Any]:
    """Rebuild the API body a Terraform resource would send."""
    _kind, _name, body = parse(text)
    result: dict[str, Any] = {"name": unquote(body["name"])}
    policies = []
    for policy in body["policies"]:
        policies.append(
            {
                "effect": unquote(policy["effect"]),
                "permission_groups": [
                    {"id": unquote(g["id"])} for g in policy["permission_groups"]
                ],
                "resources": jsonencode_argument(policy["resources"]),
            }
        )
    result["policies"] = policies
    if "condition" in body:
        ips = unquote(body["condition"])["request_ip"]
        result["condition"] = {"request.ip": ips}
    for key in ("not_before", "expires_on", "status"):
        if key in body:
            result[key] = unquote(body[key])
    return result


def test_user_token_round_trips_through_hcl() -> None:
    """A spec with allow and deny, nested resources, IPs and a window exports to a
    cloudflare_api_token whose parsed content equals the spec's API body."""
    spec = cft.TokenSpec(
        name="ci-dns",
        policies=[
            cft.Policy.allow(["DNS Write"], all_zones_of=PROD),
            cft.Policy.deny(["DNS Write"], zones=[EXAMPLE_COM]),
            cft.Policy.allow(["Workers Scripts Read"], accounts=[PROD]),
            cft.Policy.allow(["User Details Read"], user=USER),
        ],
        allow_ips=["203.0.113.0/24", "2001:db8::/32"],
        deny_ips=["203.0.113.7"],
        not_before=datetime(2026, 1, 1, tzinfo=UTC),
        expires_on=datetime(2026, 4, 1, tzinfo=UTC),
    )
    text = spec.to_terraform()
    kind, name, _ = parse(text)
    assert (kind, name) == ("cloudflare_api_token", "ci-dns")
    assert "jsonencode(" in text
    rebuilt = spec_from_terraform(text)
    expected = spec.to_api()
    for policy in expected["policies"]:
        policy["permission_groups"] = [{"id": g["id"]} for g in policy["permission_groups"]]
    assert rebuilt == expected
    assert cft.TokenSpec.from_api(rebuilt).to_api() == expected


def test_account_token_names_its_account() -> None:
    """With account_id the resource is a cloudflare_account_token carrying account_id."""
    spec = cft.TokenSpec(
        name="acct", policies=[cft.Policy.allow(["DNS Read"], zones=[EXAMPLE_COM])]
    )
    kind, _name, body = parse(to_terraform(spec, account_id=PROD, resource_name="deploy"))
    assert kind == "cloudflare_account_token"
    assert unquote(body["account_id"]) == PROD
    assert "condition" not in body and "expires_on" not in body
    with pytest.raises(cft.InvalidInput):
        to_terraform(spec, account_id="not-an-id")


def test_hostile_names_are_escaped() -> None:
    """Quotes, backslashes and template sequences in a token name stay literal text."""
    name = 'we"ird \\ ${var.x} %{if} name'
    spec = cft.TokenSpec(name=name, policies=[cft.Policy.allow(["DNS Read"], zones=[EXAMPLE_COM])])
    text = to_terraform(spec, comments=False)
    _kind, ident, body = parse(text)
    assert unquote(body["name"]) == name
    assert re.fullmatch(r"[a-z_][a-z0-9_-]*", ident)
    assert hcl_string("${x}") == '"$${x}"'
    assert terraform_name("123 Deploy!") == "token_123_deploy"


def test_comments_name_the_groups_and_can_be_left_out() -> None:
    """Each permission-group id is followed by its name and scope unless comments=False."""
    spec = cft.TokenSpec(name="c", policies=[cft.Policy.allow(["DNS Read"], zones=[EXAMPLE_COM])])
    assert "# DNS Read (zone)" in to_terraform(spec)
    assert "#" not in to_terraform(spec, comments=False)


def test_tokens_export_through_their_spec() -> None:
    """A Token (as listed by the API) exports like its spec, status included."""
    token = cft.Token.from_api(
        {
            "id": "ed17574386854bf78a67040be0a770b0",
            "name": "listed",
            "status": "disabled",
            "policies": [
                {
                    "effect": "allow",
                    "permission_groups": [{"id": "4755a26eedb94da69e1066d98aa820be"}],
                    "resources": {f"com.cloudflare.api.account.zone.{EXAMPLE_COM}": "*"},
                }
            ],
        }
    )
    _kind, _name, body = parse(to_terraform(token))
    assert unquote(body["status"]) == "disabled"
    with pytest.raises(cft.InvalidInput):
        to_terraform({"name": "x"})  # type: ignore[arg-type]


def test_a_line_break_in_the_name_cannot_inject_configuration() -> None:
    """A token name with line breaks (a listed token's name is anyone's text) stays inside the
    header comment and the name string: the file still holds exactly one resource."""
    name = 'x\nresource "cloudflare_api_token" "evil" {}\n# y'
    spec = cft.TokenSpec(name=name, policies=[cft.Policy.allow(["DNS Read"], zones=[EXAMPLE_COM])])
    text = to_terraform(spec)
    assert [line for line in text.splitlines() if line.startswith("resource")] == [
        'resource "cloudflare_api_token" "x_resource_cloudflare_api_token_evil_y" {'
    ]
    _kind, _ident, body = parse(text)
    assert unquote(body["name"]) == name


def _variants() -> list[str]:
    base = cft.TokenSpec(name="c", policies=[cft.Policy.allow(["DNS Read"], zones=[EXAMPLE_COM])])
    return [
        to_terraform(base),
        to_terraform(base.replace(allow_ips=["203.0.113.0/24"])),
        to_terraform(base.replace(deny_ips=["203.0.113.7"]), account_id=PROD),
        to_terraform(
            base.replace(
                allow_ips=["203.0.113.0/24"],
                deny_ips=["203.0.113.7"],
                expires_on=datetime(2026, 4, 1, tzinfo=UTC),
                status=cft.TokenStatus.DISABLED,
            )
        ),
    ]


def test_attributes_are_aligned_as_terraform_fmt_writes_them() -> None:
    """Each run of attributes is aligned to its own longest key: a lone name is 'name = ',
    a lone 'in' list is 'in = '."""
    plain, allow_only, _account, _full = _variants()
    assert '  name = "c"' in plain.splitlines()
    assert '      in = ["203.0.113.0/24"]' in allow_only.splitlines()


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_fmt_leaves_the_export_unchanged() -> None:
    """`terraform fmt` (the CI gate many repositories run) changes nothing in the export."""
    for text in _variants():
        done = subprocess.run(
            ["terraform", "fmt", "-"],
            input=text,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            env={**os.environ, "CHECKPOINT_DISABLE": "1"},
        )
        assert done.stdout == text
