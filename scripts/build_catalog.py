#!/usr/bin/env python3
"""Build cftokens' package data (sdk/cftokens/catalog/data/*.json) from ../shared/cloudflare.

The package never reads ../shared at run time; this script is how its data is made. Run it
after the reference data changes, then run the tests:

    python scripts/build_catalog.py [--shared ../shared/cloudflare] [--check]

``--check`` rebuilds in memory and fails if the committed files differ (used by a test).

It writes:
- permission_groups.json: id, name, description, scope, level (read/write/other) for each group
  (as columns: one list per field, read without a dict per record);
- operations.json (columns too): every operation (method, path, operationId, summary, tag)
  with its accepted permission-group names normalised through ``NAME_OVERRIDES``; unannotated
  operations are kept with ``groups: null`` (listed as unmapped, never guessed), plus the deploy
  tools' operations the schema lacks (``DEPLOY_OPERATIONS``), each unmapped one the deploy tools
  call with its ``unmapped_reason`` (``UNMAPPED_REASONS``);
- templates.json: the dashboard templates with group ids and default resources;
- risk_families.json: the audit catalogue's risk families as group ids, each family member
  checked against the catalogue and against the operations that name it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "sdk" / "cftokens" / "catalog" / "data"

# The spec's x-api-token-group names that are not API permission-group names (shared README).
NAME_OVERRIDES = {
    "Zone Zone Read": "Zone Read",
    "Zone Zone Edit": "Zone Write",
    "Zone DNS Edit": "DNS Write",
    "Account Filter Lists Edit": "Account Rule Lists Write",
    "Account Filter Lists Read": "Account Rule Lists Read",
}

# Operations the Pages and Workers deploy tools call (wrangler `pages deploy` and `deploy`, as
# run by cloudflare/pages-action and cloudflare/wrangler-action; Cloudflare's "Direct Upload"
# docs for Pages and Workers static assets) that the reference schema does not annotate or does
# not carry. None is guessed: each stays unmapped, with the reason an analyst needs. If the
# reference data gains one with x-api-token-group, the schema's groups win.
DEPLOY_OPERATIONS: list[tuple[str, str, str, str, str]] = [
    # (method, path, operationId, summary, tag)
    (
        "GET",
        "/accounts/{account_id}/pages/projects/{project_name}/upload-token",
        "pages-project-get-upload-token",
        "Get the short-lived JWT that uploads a Pages deployment's assets",
        "Pages Project",
    ),
    (
        "POST",
        "/pages/assets/check-missing",
        "pages-assets-check-missing",
        "Which asset hashes are not uploaded yet (Pages direct upload)",
        "Pages Assets",
    ),
    (
        "POST",
        "/pages/assets/upload",
        "pages-assets-upload",
        "Upload a bucket of assets (Pages direct upload)",
        "Pages Assets",
    ),
    (
        "POST",
        "/pages/assets/upsert-hashes",
        "pages-assets-upsert-hashes",
        "Mark uploaded asset hashes as current (Pages direct upload)",
        "Pages Assets",
    ),
    (
        "GET",
        "/accounts/{account_id}/workers/services/{service_name}",
        "worker-service-get",
        "Get a Worker service (wrangler deploy checks whether the Worker exists)",
        "Worker Script",
    ),
]
_UPLOAD_JWT = (
    "authenticated by the upload JWT that {source} returns, not by an API token: no permission "
    "group applies; the token needs {group} for {source}"
)
UNMAPPED_REASONS: dict[tuple[str, str], str] = {
    ("GET", "/accounts/{account_id}/pages/projects/{project_name}/upload-token"): (
        "not in the reference copy of Cloudflare's schema, so no permission group is confirmed; "
        "wrangler pages deploy calls it with the deploying token, for which Cloudflare's Pages "
        "docs ask Account / Cloudflare Pages / Edit (Pages Write) as a whole"
    ),
    ("POST", "/pages/assets/check-missing"): _UPLOAD_JWT.format(
        source="GET …/pages/projects/{project_name}/upload-token", group="Pages Write"
    ),
    ("POST", "/pages/assets/upload"): _UPLOAD_JWT.format(
        source="GET …/pages/projects/{project_name}/upload-token", group="Pages Write"
    ),
    ("POST", "/pages/assets/upsert-hashes"): _UPLOAD_JWT.format(
        source="GET …/pages/projects/{project_name}/upload-token", group="Pages Write"
    ),
    ("POST", "/accounts/{account_id}/workers/assets/upload"): _UPLOAD_JWT.format(
        source="POST …/workers/scripts/{script_name}/assets-upload-session",
        group="Workers Scripts Write",
    ),
    ("GET", "/accounts/{account_id}/workers/services/{service_name}"): (
        "not in the reference copy of Cloudflare's schema, so no permission group is confirmed; "
        "wrangler deploy calls it before uploading (the deploy itself needs Workers Scripts Write)"
    ),
    ("GET", "/accounts"): (
        "the schema names no group: any valid token may list the accounts it can reach; wrangler "
        "calls it when CLOUDFLARE_ACCOUNT_ID is not set"
    ),
    ("GET", "/accounts/{account_id}/workers/deployments/by-script/{script_id}"): (
        "deprecated (Worker Deployments); the schema names no group; current wrangler uses "
        "…/workers/scripts/{script_name}/deployments (Workers Scripts Write/Read)"
    ),
}

# Groups whose name does not end in Read/Write but which change state (the audit's W(T)).
WRITE_LEVEL = {
    "Access: Apps and Policies Revoke",
    "Access: Apps Revoke",
    "Access: Organizations Revoke",
    "Access: Organizations, Identity Providers, and Groups Revoke",
    "Account API Gateway",
    "Cache Purge",
    "Connectivity Directory Admin",
    "Domain API Gateway",
    "Domain Page Shield",
    "Magic Firewall Packet Captures - Write PCAPs API",
    "Magic Network Monitoring Admin",
    "Page Shield",
    "Realtime Admin",
    "SCIM Provisioning",
    "Zaraz Admin",
    "Zaraz Edit",
}
READ_LEVEL = {
    "Magic Firewall Packet Captures - Read PCAPs API",
    "Cloudflare One Connector Monitoring: cloudflared",
    "Zero Trust Report",
}

# Risk families from ../shared/audit-rules.md. Names are API names; FAMILY_ALIASES maps the
# catalogue's wording where the API names the group differently.
FAMILIES: dict[str, list[str]] = {
    "PE": [
        "API Tokens Write",
        "Account API Tokens Write",
        "Account Settings Write",
        "SCIM Provisioning",
        "Access: Apps and Policies Write",
        "Access: Organizations, Identity Providers, and Groups Write",
        "Access: Service Tokens Write",
        "Zero Trust Write",
    ],
    "HIJACK": [
        "DNS Write",
        "Zone Write",
        "Zone Settings Write",
        "SSL and Certificates Write",
        "Workers Routes Write",
        "Workers Scripts Write",
        "Page Rules Write",
        "Transform Rules Write",
        "Load Balancers Write",
        "Cloudflare Tunnel Write",
        "Email Routing Rules Write",
        "Pages Write",
    ],
    "EXFIL": [
        "Workers R2 Storage Read",
        "Workers R2 Storage Write",
        # the same objects, granted bucket by bucket (com.cloudflare.edge.r2.bucket.… keys)
        "Workers R2 Storage Bucket Item Read",
        "Workers R2 Storage Bucket Item Write",
        "Workers KV Storage Read",
        "Workers KV Storage Write",
        "D1 Read",
        "D1 Write",
        "Logs Read",
        "Logs Write",
        "Workers Tail Read",
        "Zero Trust: PII Read",
    ],
    "EVASION": [
        "Zone WAF Write",
        "Account WAF Write",
        "Firewall Services Write",
        "Account Rulesets Write",
        "DDoS Protection Write",
        "Bot Management Write",
        "Page Shield Write",
        "Notifications Write",
        "Logs Write",
    ],
}
FAMILY_ALIASES = {
    # The catalogue says "Page Shield Write"; the API's groups are "Page Shield" (account) and
    # "Domain Page Shield" (zone), both write-level.
    "Page Shield Write": ["Page Shield", "Domain Page Shield"],
}

# CRED: groups of operations whose response holds a secret.
CRED_OPERATIONS = [
    ("POST", "/user/tokens"),
    ("PUT", "/user/tokens/{token_id}/value"),
    ("POST", "/accounts/{account_id}/tokens"),
    ("PUT", "/accounts/{account_id}/tokens/{token_id}/value"),
    ("POST", "/accounts/{account_id}/access/service_tokens"),
    ("POST", "/accounts/{account_id}/access/service_tokens/{service_token_id}/refresh"),
    ("POST", "/accounts/{account_id}/access/service_tokens/{service_token_id}/rotate"),
    ("POST", "/zones/{zone_id}/access/service_tokens"),
    ("GET", "/accounts/{account_id}/cfd_tunnel/{tunnel_id}/token"),
    ("GET", "/accounts/{account_id}/warp_connector/{tunnel_id}/token"),
]


def level_of(name: str) -> str:
    """read, write or other, from the name and the curated lists."""
    if name in WRITE_LEVEL or name.endswith((" Write", " Edit")):
        return "write"
    if name in READ_LEVEL or name.endswith(" Read"):
        return "read"
    return "other"


# Templates whose name in the docs' table differs from the how-to's and the dashboard's: the
# how-to ("Edit zone DNS") is what people read and type (templates.json's notes say so).
TEMPLATE_NAMES = {"Edit Zone DNS": "Edit zone DNS"}


def build(shared: Path) -> dict[str, Any]:
    groups_src = json.loads((shared / "permission_groups.json").read_text())["permission_groups"]
    ops_src = json.loads((shared / "endpoint_permissions.json").read_text())["operations"]
    templates_src = json.loads((shared / "templates.json").read_text())["templates"]

    groups = []
    seen: set[str] = set()
    for g in groups_src:
        if not re.fullmatch(r"[0-9a-f]{32}", g["id"]) or g["id"] in seen:
            raise SystemExit(f"bad or duplicate permission group id: {g['id']}")
        seen.add(g["id"])
        if len(g["scopes"]) != 1:
            raise SystemExit(f"group {g['name']} has {len(g['scopes'])} scopes; expected one")
        groups.append(
            {
                "id": g["id"],
                "name": g["name"],
                "description": g.get("description", ""),
                "scope": g["scopes"][0],
                "level": level_of(g["name"]),
            }
        )
    groups.sort(key=lambda g: (g["name"].lower(), g["scope"]))
    by_name: dict[str, list[dict[str, Any]]] = {}
    for g in groups:
        by_name.setdefault(g["name"], []).append(g)

    operations = []
    unresolved: dict[str, int] = {}
    for o in sorted(ops_src, key=lambda o: (o["path"], o["method"])):
        names = o.get("x-api-token-group")
        normalised = None
        if names is not None:
            normalised = []
            for name in names:
                name = NAME_OVERRIDES.get(name, name)
                if name not in by_name:
                    unresolved[name] = unresolved.get(name, 0) + 1
                if name not in normalised:
                    normalised.append(name)
        operations.append(
            {
                "method": o["method"].upper(),
                "path": o["path"],
                "operation_id": o.get("operationId") or "",
                "summary": o.get("summary") or "",
                "tag": (o.get("tags") or [""])[0],
                "deprecated": bool(o.get("deprecated")),
                "groups": normalised,
            }
        )

    present = {(o["method"], o["path"]) for o in operations}
    for method, path, operation_id, summary, tag in DEPLOY_OPERATIONS:
        if (method, path) not in present:
            operations.append(
                {
                    "method": method,
                    "path": path,
                    "operation_id": operation_id,
                    "summary": summary,
                    "tag": tag,
                    "deprecated": False,
                    "groups": None,
                }
            )
    operations.sort(key=lambda o: (o["path"], o["method"]))
    for o in operations:  # every record has the field (the data is stored as columns)
        reason = UNMAPPED_REASONS.get((o["method"], o["path"]), "")
        o["unmapped_reason"] = reason if o["groups"] is None else ""
    missing = set(UNMAPPED_REASONS) - {(o["method"], o["path"]) for o in operations}
    if missing:
        raise SystemExit(f"UNMAPPED_REASONS names operations that do not exist: {missing}")
    op_index = {(o["method"], o["path"]): o for o in operations}
    families: dict[str, list[str]] = {}
    family_notes: list[str] = []
    for family, names in FAMILIES.items():
        ids: list[str] = []
        for name in names:
            resolved = FAMILY_ALIASES.get(name, [name])
            for real in resolved:
                if real not in by_name:
                    raise SystemExit(f"risk family {family}: {real!r} is not a permission group")
                used = sum(1 for o in operations if o["groups"] and real in o["groups"])
                if used == 0:
                    family_notes.append(f"{family}: {real} is named by no operation")
                ids += [g["id"] for g in by_name[real]]
        families[family] = sorted(set(ids))
    cred_ids: list[str] = []
    for method, path in CRED_OPERATIONS:
        op = op_index.get((method, path))
        if op is None:
            raise SystemExit(f"CRED operation {method} {path} is not in the operations data")
        for name in op["groups"] or []:
            cred_ids += [g["id"] for g in by_name.get(name, [])]
    families["CRED"] = sorted(set(cred_ids))

    templates = []
    for t in templates_src:
        inferred = "permission_groups_inferred" in t
        entries = t.get("permission_groups") or t.get("permission_groups_inferred") or []
        tgroups = []
        for entry in entries:
            match = [g for g in by_name.get(entry["name"], []) if g["id"] == entry["id"]]
            if not match:
                raise SystemExit(f"template {t['name']}: {entry['name']} {entry['id']} unknown")
            tgroups.append(entry["id"])
        templates.append(
            {
                "name": TEMPLATE_NAMES.get(t["name"], t["name"]),
                "inferred": inferred,
                "groups": tgroups,
                "resource_types": t.get("resource_types", []),
                "resources": t.get("resources_as_policy_map"),
                "documented": t.get("resources_documented", []),
                "note": t.get("resources_note", ""),
                "source": t.get("source", ""),
            }
        )

    meta = {
        "generated_by": "scripts/build_catalog.py",
        "sources": "../shared/cloudflare (see its README)",
        "counts": {
            "permission_groups": len(groups),
            "operations": len(operations),
            "operations_with_groups": sum(1 for o in operations if o["groups"] is not None),
            "templates": len(templates),
        },
        "name_overrides": NAME_OVERRIDES,
        "unresolved_names": unresolved,
    }
    return {
        "permission_groups.json": {"meta": meta, "groups": columns(groups)},
        "operations.json": {"meta": meta, "operations": columns(operations)},
        "templates.json": {"meta": meta, "templates": templates},
        "risk_families.json": {
            "meta": {
                "generated_by": "scripts/build_catalog.py",
                "source": "shared/audit-rules.md risk families; CRED from CRED_OPERATIONS",
                "aliases": FAMILY_ALIASES,
                "notes": family_notes,
            },
            "families": families,
        },
    }


def columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Records as columns (one list per field): the package reads a column layout several
    times faster than a list of objects (no dict per record), which keeps ``import cftokens``
    and the first catalogue lookup fast."""
    keys = list(rows[0]) if rows else []
    for row in rows:
        if list(row) != keys:
            raise SystemExit(f"record fields differ: {list(row)} vs {keys}")
    return {k: [row[k] for row in rows] for k in keys}


def render(payload: Any) -> str:
    return json.dumps(payload, indent=0, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "cloudflare")
    parser.add_argument("--check", action="store_true", help="fail if committed data differs")
    args = parser.parse_args(argv)
    if not (args.shared / "permission_groups.json").exists():
        print(f"no reference data at {args.shared}; pass --shared PATH", file=sys.stderr)
        return 2
    outputs = build(args.shared)
    stale = []
    for name, payload in outputs.items():
        path = DATA / name
        text = render(payload)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            DATA.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.replace(path)
    if stale:
        print("stale package data: " + ", ".join(stale) + "; run scripts/build_catalog.py")
        return 1
    meta = outputs["operations.json"]["meta"]
    print(json.dumps(meta["counts"]), "unresolved:", meta["unresolved_names"] or "none")
    for note in outputs["risk_families.json"]["meta"]["notes"]:
        print("note:", note)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
