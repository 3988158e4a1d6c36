"""Terraform as people write it: plans, state, HCL files and directories, unknown values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audit_helpers import NOW, ZONE, iso

from cftokens.audit import Audit

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


def findings(audit: Audit) -> set[tuple[str, str]]:
    return {(r.rule_id, r.token_name) for r in audit.findings.itertuples()}


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
