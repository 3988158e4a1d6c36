"""A credential quoted as a grant key (a permission group's id or name, a resource key): the
audit reads a stable label in its place, so no output can show it.

Anyone who can list tokens reads their policies, so a secret written there is exposed; the
audit must not expose it again. It replaces each credential by a label of its own
(``[redacted:<10 hex>]``: the same credential always the same label, distinct credentials
distinct labels, so grouping and findings still work) where it reads the policies, on the
bulk path and the token-by-token path alike, before any frame, finding, fix, report, export
or query sees them. Every secret here is assembled at run time: no committed file holds a
token-shaped string."""

from __future__ import annotations

import functools
import io
import json
import random
import re
import string
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import cftokens as cft
from cftokens.audit import _inventory, core
from cftokens.cli import main
from cftokens.errors import credential_label, labelled

_RNG = random.Random(11)
_ALNUM = string.ascii_letters + string.digits
PREFIXED = "cf" + "ut_" + "".join(_RNG.choices(_ALNUM, k=40))
PREFIXED2 = "cf" + "at_" + "".join(_RNG.choices(_ALNUM, k=40))
GLOBAL_KEY = "".join(_RNG.choices("0123456789abcdef", k=36)) + "a"
LEGACY = "".join(_RNG.choices(_ALNUM, k=38)) + "a1"
LEGACY2 = "".join(_RNG.choices(_ALNUM, k=38)) + "Z9"
SECRETS = (PREFIXED, PREFIXED2, GLOBAL_KEY, LEGACY, LEGACY2)
LABEL = re.compile(r"\[redacted:[0-9a-f]{10}\]")

ACCOUNT = "a" * 32
ZONE = "b" * 32
USER = "c" * 32
DNS_WRITE = "4755a26eedb94da69e1066d98aa820be"
SETTINGS_READ = "c1fde68c7bcc44588cbb6ddbc16d6480"
R2_WRITE = "2efd5506f9c8494dacb1fa10a3e7d5b6"
R2_KEY = f"com.cloudflare.edge.r2.bucket.{ACCOUNT}_default_{GLOBAL_KEY}"


def token(i: int, groups: list[Any], resources: dict[str, Any]) -> dict[str, Any]:
    policy = {"effect": "allow", "permission_groups": groups, "resources": resources}
    return {
        "id": f"{i:032x}",
        "name": f"token {i}",
        "status": "active",
        "issued_on": "2026-11-01T00:00:00Z",
        "policies": [policy],
    }


def inventory() -> dict[str, Any]:
    zone = {f"com.cloudflare.api.account.zone.{ZONE}": "*"}
    nested = {f"com.cloudflare.api.account.zone.{LEGACY2}": "*"}
    tokens = [
        token(1, [{"id": DNS_WRITE, "name": PREFIXED}], zone),  # a name: CFT-LN-01 quotes it
        token(2, [{"id": GLOBAL_KEY}], {f"com.cloudflare.api.account.{ACCOUNT}": "*"}),
        token(3, [{"id": SETTINGS_READ}], {f"com.cloudflare.api.account.{LEGACY}": "*"}),
        token(4, [{"id": R2_WRITE}], {R2_KEY: "*"}),  # a key the bulk path reads as a bucket
        token(5, [{"id": R2_WRITE}], {R2_KEY: "*"}),  # the same credential again
        token(6, [PREFIXED2], {f"com.cloudflare.api.account.{ACCOUNT}": nested}),  # group as text
        token(7, [{"id": DNS_WRITE}], {PREFIXED: "*"}),
        token(8, [{"id": DNS_WRITE, "name": "DNS Write"}], zone),  # clean
    ]
    owned = token(9, [{"id": DNS_WRITE, "name": LEGACY}], zone)
    return {
        "tokens": tokens,
        "account_tokens": {ACCOUNT: [owned]},
        "accounts": [{"id": ACCOUNT, "name": "Acme"}],
        "zones": [{"id": ZONE, "name": "example.com", "account": {"id": ACCOUNT}}],
        "user": {"id": USER, "email": "ops@example.com"},
        "now": datetime(2026, 12, 1, tzinfo=UTC),
    }


def _token_by_token() -> cft.Audit:
    """The inventory audited by the token-by-token reader (the bulk one switched off)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(core, "build_inventory", functools.partial(core.build_inventory, bulk=False))
        return cft.Audit.from_records(**inventory())


@pytest.fixture(scope="module")
def bulk_audit() -> cft.Audit:
    """The inventory's audit (the bulk reader), shared by the module's tests: read-only."""
    return cft.Audit.from_records(**inventory())


# every output on the token reader too in the full run (the inner loop compares the two
# readers' frames and export: test_both_readers_give_the_same_audit)
@pytest.fixture(
    scope="module", params=["bulk", pytest.param("token by token", marks=pytest.mark.slow)]
)
def audit(request: pytest.FixtureRequest) -> cft.Audit:
    if request.param == "bulk":
        shared: cft.Audit = request.getfixturevalue("bulk_audit")
        return shared
    return _token_by_token()


def _outputs(audit: cft.Audit, folder: Path) -> list[str]:
    ids = [f"{i:032x}" for i in range(1, 10)]
    texts = [
        audit.to_html(),
        audit.to_json(),
        audit.to_sarif(),
        repr(audit),
        str(audit.summary()),
        audit.tokens.to_string(),
        audit.findings.to_string(),
        audit.grants.to_string(),
        audit.gaps.to_string(),
        audit.access.to_string(),
        audit.access.expand(token=ids[0]).to_string(),
        audit.access_matrix().to_string(),
        audit.who_can("DNS Write", zone="example.com").to_string(),
        audit.who_can("Account Settings Read", account=ACCOUNT).to_string(),
        audit.diff(audit).to_string(),
        audit.worst_tokens(9).to_string(),
    ]
    for tid in ids:
        explanation = audit.explain(tid)
        texts += [str(explanation), repr(explanation), explanation._repr_html_()]
        fix = audit.fix(tid)
        texts += [str(fix), repr(fix), json.dumps(fix.to_dict(), default=str)]
    fixed: set[tuple[str | None, str]] = set()
    for finding in audit.iter_findings(include_suppressed=True):
        texts += [repr(finding), str(finding)]
        # one fix per token and rule
        if (finding.token_id, finding.rule_id) not in fixed:
            fixed.add((finding.token_id, finding.rule_id))
            texts.append(json.dumps(audit.finding_fix(finding.finding_id).to_dict(), default=str))
    audit.to_csv(folder)
    texts += [p.read_text() for p in sorted(folder.iterdir())]
    return texts


def test_no_output_shows_a_credential_given_as_a_grant_key(
    audit: cft.Audit, tmp_path: Path
) -> None:
    for text in _outputs(audit, tmp_path / "csv"):
        for secret in SECRETS:
            assert secret not in text


def test_each_credential_is_read_as_its_own_stable_label(audit: cft.Audit) -> None:
    g = audit.grants
    keys = dict(zip(g["token_id"], g["resource_key"], strict=True))
    four, five = keys[f"{4:032x}"], keys[f"{5:032x}"]
    assert four == five == R2_KEY.replace(GLOBAL_KEY, credential_label(GLOBAL_KEY))
    assert keys[f"{3:032x}"] == f"com.cloudflare.api.account.{credential_label(LEGACY)}"
    labels = {credential_label(s) for s in SECRETS}
    assert len(labels) == len(SECRETS)  # distinct credentials, distinct labels
    assert set(LABEL.findall(g.to_string())) <= labels
    # the renamed group is still reported (CFT-LN-01), quoting the label
    ln01 = audit.findings[audit.findings["rule_id"] == "CFT-LN-01"]
    assert set(ln01["token_id"]) >= {f"{1:032x}", f"{9:032x}"}
    assert any(credential_label(PREFIXED) in e for e in ln01["evidence"])
    # the clean token is read as before
    eight = g[g["token_id"] == f"{8:032x}"]
    assert list(eight["resource_key"]) == [f"com.cloudflare.api.account.zone.{ZONE}"]


def test_both_readers_give_the_same_audit(bulk_audit: cft.Audit) -> None:
    bulk, one_by_one = bulk_audit, _token_by_token()
    for frame in ("grants", "findings", "tokens"):
        assert getattr(bulk, frame).equals(getattr(one_by_one, frame)), frame
    assert (
        bulk.to_json().split('"generated_at"')[0] == one_by_one.to_json().split('"generated_at"')[0]
    )


def test_the_export_read_again_is_the_same_labelled_audit(audit: cft.Audit) -> None:
    again = cft.Audit.from_json(audit.to_json())
    assert again.grants.equals(audit.grants)
    assert list(again.findings["finding_id"]) == list(audit.findings["finding_id"])
    exported = again.to_json()
    for secret in SECRETS:
        assert secret not in exported


def test_the_input_is_not_changed() -> None:
    given = inventory()
    before = json.dumps(given, sort_keys=True, default=str)
    cft.Audit.from_records(**given)
    assert json.dumps(given, sort_keys=True, default=str) == before


def test_the_command_line_shows_no_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _the_command_line_shows_no_credential("json", tmp_path, monkeypatch)


# the command's path is json's; test_no_output_shows_… reads every format's writer, to_html too
@pytest.mark.slow
def test_the_command_line_shows_no_credential_in_html(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _the_command_line_shows_no_credential("html", tmp_path, monkeypatch)


def _the_command_line_shows_no_credential(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an export holding the raw keys, as a script (or an older cftokens) may have written it
    raw = json.loads(cft.Audit.from_records(tokens=[token(8, [{"id": DNS_WRITE}], {})]).to_json())
    given = inventory()
    raw["inventory"]["tokens"] = [
        {"kind": "user", "owner_id": USER, "owner_name": "ops@example.com", "token": t}
        for t in given["tokens"]
    ]
    raw["inventory"]["zones"] = given["zones"]
    raw["inventory"]["accounts"] = given["accounts"]
    source = tmp_path / "raw.json"
    source.write_text(json.dumps(raw))
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", err)
    target = tmp_path / f"out-{fmt}"
    code = main(["audit", "--input", str(source), "--format", fmt,
                 "--output", str(target), "--no-progress"])  # fmt: skip
    assert code in (0, 1), err.getvalue()
    written = (
        "".join(p.read_text() for p in target.iterdir()) if target.is_dir() else target.read_text()
    )
    for secret in SECRETS:
        assert secret not in out.getvalue() + err.getvalue() + written
    assert LABEL.search(written)


def test_a_terraform_definition_is_read_with_labels(tmp_path: Path) -> None:
    values = {
        "name": "deploy",
        "policies": [
            {
                "effect": "allow",
                "permission_groups": [{"id": DNS_WRITE, "name": PREFIXED}],
                "resources": {f"com.cloudflare.api.account.zone.{LEGACY}": "*", R2_KEY: "*"},
            }
        ],
    }
    resource = {"address": "cloudflare_api_token.t", "type": "cloudflare_api_token", "name": "t"}
    plan = {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": [{**resource, "values": values}]}},
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    lint = cft.Audit.from_terraform(path)
    texts = [lint.to_json(), lint.to_html(), lint.to_sarif(), lint.findings.to_string()]
    texts += [lint.grants.to_string(), str(lint.fix(lint.tokens["token_id"][0]))]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
    assert credential_label(LEGACY) in lint.grants.to_string()


def test_labels() -> None:
    assert labelled("plain text") == "plain text"
    label = credential_label(PREFIXED)
    assert LABEL.fullmatch(label)
    assert labelled(f"key {PREFIXED} and {PREFIXED}") == f"key {label} and {label}"
    assert (
        labelled(f"{LEGACY}/{LEGACY2}") == f"{credential_label(LEGACY)}/{credential_label(LEGACY2)}"
    )
    # split by a character drawn as nothing: the same credential, the same label
    assert labelled(PREFIXED[:9] + "\u200b" + PREFIXED[9:]) == label
    assert labelled(label) == label  # a label is not a credential: read again, kept
    # a look-alike that only a long name is, is left alone (as names are)
    assert labelled("terraform-production-dns-edit-token-0001") == (
        "terraform-production-dns-edit-token-0001"
    )
    assert _inventory is not None


class _Text(str):
    """A str subclass, as a caller's own text type may be."""


def test_a_credential_anywhere_in_a_token_object_reaches_no_output(tmp_path: Path) -> None:
    # not only grant keys: a policy's id, its effect, a condition, a date, a resource's
    # value, an unknown field (top-level or nested), a group's other fields, a str subclass
    zone = f"com.cloudflare.api.account.zone.{ZONE}"

    def policy(**kw: Any) -> dict[str, Any]:
        return {
            "effect": "allow",
            "permission_groups": [{"id": DNS_WRITE}],
            "resources": {zone: "*"},
            **kw,
        }

    base = token(1, [], {})
    tokens = [
        {**base, "id": f"{1:032x}", "policies": [policy(id=PREFIXED)]},
        {**base, "id": f"{2:032x}", "policies": [policy(effect=LEGACY)]},
        {
            **base,
            "id": f"{3:032x}",
            "policies": [policy()],
            "condition": {"request_ip": {"in": [PREFIXED2]}},
        },
        {**base, "id": f"{4:032x}", "policies": [policy()], "expires_on": GLOBAL_KEY},
        {**base, "id": f"{5:032x}", "policies": [policy(resources={zone: LEGACY2})]},
        {**base, "id": f"{6:032x}", "policies": [policy()], "note": {"x": [PREFIXED]}},
        {**base, "id": f"{7:032x}", "policies": [policy(note=LEGACY)]},
        {
            **base,
            "id": f"{8:032x}",
            "policies": [policy(permission_groups=[{"id": DNS_WRITE, "meta": {"k": GLOBAL_KEY}}])],
        },
        {
            **base,
            "id": f"{9:032x}",
            "policies": [
                policy(resources={_Text(f"com.cloudflare.api.account.zone.{LEGACY}"): "*"})
            ],
        },
        {
            **base,
            "id": f"{10:032x}",
            "policies": [policy(permission_groups=[{"id": _Text(GLOBAL_KEY)}])],
        },
        {**base, "id": f"{11:032x}", "policies": [policy()], PREFIXED2: "key"},
        {**base, "id": LEGACY2, "policies": [policy()]},  # reported as unreadable
    ]
    audit = cft.Audit.from_records(
        tokens=tokens, zones=inventory()["zones"], accounts=inventory()["accounts"]
    )
    texts = [audit.to_json(), audit.to_html(), audit.to_sarif(), audit.grants.to_string()]
    texts += [audit.findings.to_string(), audit.tokens.to_string(), audit.gaps.to_string()]
    texts.append(cft.Audit.from_json(audit.to_json()).to_json())
    for finding in audit.iter_findings(include_suppressed=True):
        texts.append(json.dumps(audit.finding_fix(finding.finding_id).to_dict(), default=str))
    for i in range(1, 12):
        try:  # a token the audit could not read says so
            texts.append(str(audit.explain(f"{i:032x}")))
        except cft.InvalidInput as exc:
            texts.append(str(exc))
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
    # each shown as its own label: the policy's id still tells policies apart
    policy_ids = set(audit.grants["policy_id"])
    assert credential_label(PREFIXED) in policy_ids
    assert credential_label(LEGACY) in audit.grants.to_string()


def test_labelled_tree() -> None:
    from cftokens.errors import labelled_tree

    clean = {"a": ["b", {"c": 1}], "d": None}
    assert labelled_tree(clean) is clean  # the same object when nothing holds a credential
    given = {_Text(LEGACY): [1, {"k": _Text(PREFIXED)}], "x": (GLOBAL_KEY,)}
    assert labelled_tree(given) == {
        credential_label(LEGACY): [1, {"k": credential_label(PREFIXED)}],
        "x": [credential_label(GLOBAL_KEY)],
    }
    deep: Any = [PREFIXED]
    for _ in range(400):  # too deep to be checked: never shown, no RecursionError
        deep = [deep]
    assert PREFIXED not in json.dumps(labelled_tree(deep))
    cycle: list[Any] = [PREFIXED]
    cycle.append(cycle)  # left a cycle: every JSON writer refuses it (the export by name)
    with pytest.raises(ValueError, match="Circular"):
        json.dumps(labelled_tree(cycle))
