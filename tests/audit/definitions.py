"""Load the corpus of token definitions in tests/data/definitions (one case per folder).

A case holds one input: ``*.tf`` files (a configuration, with tfvars and local modules),
``plan.json``, ``terraform.tfstate``, ``body.json`` (an API creation body) or
``permissions.yaml`` (a README's permission list, group names as people write them), and
``expected.yaml``: the findings an analyst expects, as ``[rule id, token name]`` pairs, the
addresses left as gaps, and for tfvars passed by hand ``var_files``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from audit_helpers import NOW

import cftokens as cft
from cftokens.audit import Audit

CORPUS = Path(__file__).resolve().parent.parent / "data" / "definitions"


def cases() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_dir())


def expected(case: Path) -> dict[str, Any]:
    file = case / "expected.yaml"
    return yaml.safe_load(file.read_text()) if file.is_file() else {}


def _from_permissions(file: Path) -> Audit:
    spec = yaml.safe_load(file.read_text())
    policies = [
        {
            "effect": "allow",
            "permission_groups": [{"id": cft.permission_groups.get(n).id} for n in p["groups"]],
            "resources": p["resources"],
        }
        for p in spec["policies"]
    ]
    body: dict[str, Any] = {"name": spec["name"], "policies": policies}
    if spec.get("allow_ips"):
        body["condition"] = {"request.ip": {"in": spec["allow_ips"]}}
    if spec.get("expires_on"):
        body["expires_on"] = spec["expires_on"]
    return _from_body(body, {})


def _from_body(body: dict[str, Any], meta: dict[str, Any]) -> Audit:
    token = {"id": hashlib.sha256(body["name"].encode()).hexdigest()[:32], **body}
    if meta.get("owner"):
        return Audit.from_records(account_tokens={meta["owner"]: [token]}, now=NOW)
    return Audit.from_records(tokens=[token], now=NOW)


def audit_case(case: Path) -> Audit:
    meta = expected(case)
    if (case / "permissions.yaml").is_file():
        return _from_permissions(case / "permissions.yaml")
    if (case / "body.json").is_file():
        return _from_body(json.loads((case / "body.json").read_text()), meta)
    for name in ("plan.json", "terraform.tfstate"):
        if (case / name).is_file():
            return Audit.from_terraform(case / name, now=NOW)
    var_files = [case / f for f in meta.get("var_files", [])]
    return Audit.from_terraform(case, now=NOW, var_files=var_files)


def findings(audit: Audit) -> list[list[str]]:
    return sorted([str(r.rule_id), str(r.token_name)] for r in audit.findings.itertuples())


def gaps(audit: Audit) -> list[str]:
    g = audit.gaps
    return sorted(str(s) for s in g[g["kind"] == "input"]["subject"])
