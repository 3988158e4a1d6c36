"""A credential pasted into a token's or an account's name: never shown, always reported.

Anyone who can list tokens reads their names, so a secret written in one is exposed; the
audit shows such a name with the credential as ``[redacted]`` in every output (frames,
reports, exports, fixes, the command line) and raises CFT-ID-04 on the token. Every secret
here is assembled at run time: no committed file holds a token-shaped string."""

from __future__ import annotations

import io
import json
import random
import string
from pathlib import Path

import pytest

import cftokens as cft
from cftokens.cli import main

_RNG = random.Random(7)
PREFIXED = "cf" + "ut_" + "".join(_RNG.choices(string.ascii_letters + string.digits, k=40))
GLOBAL_KEY = "".join(_RNG.choices("0123456789abcdef", k=37))
LEGACY = "".join(_RNG.choices(string.ascii_letters + string.digits, k=40))
ACCOUNT = "a" * 32
SECRETS = (PREFIXED, GLOBAL_KEY, LEGACY)


def token(i: int, name: str, account: bool = False) -> dict[str, object]:
    return {
        "id": f"{i:032x}",
        "name": name,
        "status": "active",
        "issued_on": "2026-11-01T00:00:00Z",
        "policies": [
            {
                "effect": "allow",
                "permission_groups": [{"id": "4755a26eedb94da69e1066d98aa820be"}],  # DNS Write
                "resources": {f"com.cloudflare.api.account.zone.{'b' * 32}": "*"},
            }
        ],
    }


def inventory() -> dict[str, object]:
    return {
        "tokens": [
            token(1, f"backup of {PREFIXED}"),
            token(2, f"key {GLOBAL_KEY}"),
            token(3, "plain ci token"),
        ],
        "account_tokens": {ACCOUNT: [token(4, LEGACY), token(5, "Authorization: Bearer x.y.z")]},
        "accounts": [{"id": ACCOUNT, "name": f"Acme {PREFIXED}"}],
        "zones": [{"id": "b" * 32, "name": "example.com", "account": {"id": ACCOUNT}}],
        "user": {"id": "c" * 32, "email": "ops@example.com"},
    }


@pytest.fixture(scope="module")
def audit() -> cft.Audit:
    return cft.Audit.from_records(**inventory())  # type: ignore[arg-type]


def test_each_credential_named_token_gets_cft_id_04(audit: cft.Audit) -> None:
    f = audit.findings[audit.findings["rule_id"] == "CFT-ID-04"]
    assert sorted(f["token_id"]) == [f"{i:032x}" for i in (1, 2, 4, 5)]
    assert set(f["severity"]) == {"high"}
    assert all("renames it to the name shown here" in text for text in f["remediation"])
    # and it does: the PUT body of any fix carries the redacted name
    assert audit.fix(f"{1:032x}").body["name"] == "backup of [redacted]"
    assert "plain ci token" in set(audit.tokens["name"])
    assert set(audit.tokens["name"]) >= {"backup of [redacted]", "key [redacted]", "[redacted]"}


def test_no_output_shows_the_credential(audit: cft.Audit, tmp_path: Path) -> None:
    texts = [
        audit.to_html(),
        audit.to_json(),
        audit.to_sarif(),
        repr(audit),
        audit.tokens.to_string(),
        audit.findings.to_string(),
        audit.grants.to_string(),
        audit.access.to_string(),
        audit.access_matrix().to_string(),
        json.dumps([audit.fix(f"{i:032x}").body for i in (1, 2, 4)], default=str),
        "\n".join(str(audit.fix(f"{i:032x}")) for i in (1, 2, 4)),
    ]
    audit.to_csv(tmp_path / "csv")
    texts += [p.read_text() for p in (tmp_path / "csv").iterdir()]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
    # the exported audit re-read is the same redacted audit
    again = cft.Audit.from_json(audit.to_json())
    assert sorted(again.findings[again.findings["rule_id"] == "CFT-ID-04"]["token_id"]) == sorted(
        audit.findings[audit.findings["rule_id"] == "CFT-ID-04"]["token_id"]
    )


def test_the_command_line_shows_no_credential(
    audit: cft.Audit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = tmp_path / "in.json"
    export.write_text(audit.to_json())
    raw = cft.Audit.from_records(**inventory()).to_json()  # type: ignore[arg-type]
    (tmp_path / "raw.json").write_text(raw)
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    code = main(["audit", "--input", str(tmp_path / "raw.json"), "--format", "json",
                 "--output", str(tmp_path / "o.json"), "--no-progress"])  # fmt: skip
    assert code == 0
    for secret in SECRETS:
        assert secret not in out.getvalue() and secret not in (tmp_path / "o.json").read_text()
    assert "CFT-ID-04" in out.getvalue()


def test_the_input_is_not_changed_and_clean_names_are_kept() -> None:
    given = inventory()
    before = json.dumps(given, sort_keys=True)
    cft.Audit.from_records(**given)  # type: ignore[arg-type]
    assert json.dumps(given, sort_keys=True) == before
    names = [f"token {i} for zone-{i}.example.com (ci)" for i in range(300)]
    names += ["x" * 36, "Bearer-of-good-news", "cf_ut not a secret", "v1.0-beta"]
    # names a careless author writes that only look like a legacy secret or a global key
    names += [
        "terraform-production-dns-edit-token-0001",
        "TerraformProductionDnsEditTokenForCiJobX",
    ]
    names += ["deadbeefdeadbeefdeadbeefdeadbeefdeadb", "1234567890123456789012345678901234567"]
    clean = cft.Audit.from_records(tokens=[token(i + 10, n) for i, n in enumerate(names)])
    assert list(clean.tokens["name"]) == names
    assert not (clean.findings["rule_id"] == "CFT-ID-04").any()


def test_a_name_is_redacted_in_terraform_input(tmp_path: Path) -> None:
    """The Terraform lint reads names through the same audit: the same redaction."""
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        "address": "cloudflare_api_token.t",
                        "type": "cloudflare_api_token",
                        "name": "t",
                        "values": {
                            "name": f"deploy {PREFIXED}",
                            "policies": [
                                {
                                    "effect": "allow",
                                    "permission_groups": [
                                        {"id": "4755a26eedb94da69e1066d98aa820be"}
                                    ],
                                    "resources": {"com.cloudflare.api.account.zone.*": "*"},
                                }
                            ],
                        },
                    }
                ]
            }
        },
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    lint = cft.Audit.from_terraform(path)
    assert "CFT-ID-04" in set(lint.findings["rule_id"])
    assert PREFIXED not in lint.to_json() and PREFIXED not in lint.to_html()


def test_a_fix_body_holds_only_fields_the_api_takes(audit: cft.Audit) -> None:
    """The audit's mark of a redacted name is its own bookkeeping: a PUT body sent to
    Cloudflare must not carry it."""
    for i in (1, 2, 4, 5):
        fix = audit.fix(f"{i:032x}")
        assert fix.body is not None
        assert "cftokens_name_redacted" not in fix.body
        assert "cftokens_name_redacted" not in json.dumps(fix.to_dict(), default=str)


def test_a_header_word_in_a_name_is_not_a_credential_without_a_value() -> None:
    """'Bearer token for Grafana' names a token; 'Bearer <a random value>' holds one."""
    names = [
        "Bearer token for Grafana",
        "Terraform Cloud bearer token (prod)",
        "Authorization: read-only",
        "x-auth-key: rotate monthly",
        "bearer auth - ci",
    ]
    clean = cft.Audit.from_records(tokens=[token(i + 10, n) for i, n in enumerate(names)])
    assert list(clean.tokens["name"]) == names
    assert not (clean.findings["rule_id"] == "CFT-ID-04").any()
    value = "".join(_RNG.choices(string.ascii_letters + string.digits, k=24))
    leaked = [f"Bearer {value}", f"Authorization: {value}", f"X-Auth-Key: {value}", "Bearer a.b.c"]
    dirty = cft.Audit.from_records(tokens=[token(i + 20, n) for i, n in enumerate(leaked)])
    assert (dirty.findings["rule_id"] == "CFT-ID-04").sum() == len(leaked)
    assert value not in dirty.to_json()


def test_a_collection_gap_names_the_account_without_its_credential() -> None:
    """An account whose tokens could not be listed is named in the gap, its warning and every
    output: with the credential in its name as [redacted]."""
    import warnings

    sb = cft.Sandbox(rate_limit=None)
    acct = sb.add_account(f"Acme {PREFIXED}", owner=sb.user_id)

    def policy(groups: list[str], resources: dict[str, object]) -> dict[str, object]:
        ids = [{"id": cft.permission_groups.get(g).id} for g in groups]
        return {"effect": "allow", "permission_groups": ids, "resources": resources}

    body = {
        "name": "auditor",
        "policies": [
            policy(["API Tokens Read"], {f"com.cloudflare.api.user.{sb.user_id}": "*"}),
            policy(["Account Settings Read"], {f"com.cloudflare.api.account.{acct.id}": "*"}),
        ],
    }
    auditor = sb.create_token(body, check=False).secret.reveal()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        audit = cft.run_audit(sb.client(token=auditor), progress=False)
    assert any("Acme [redacted]" in what for what in audit.gaps["what"])
    texts = [str(w.message) for w in caught]
    texts += [audit.gaps.to_string(), audit.to_json(), audit.to_html(), str(audit.not_seen())]
    for text in texts:
        assert PREFIXED not in text


class _NameOverDict(dict):  # type: ignore[type-arg]
    """A dict whose get answers another name than its storage holds (anyone's input)."""

    def get(self, key: object, default: object = None) -> object:
        return f"backup {PREFIXED}" if key == "name" else super().get(key, default)

    def __getitem__(self, key: object) -> object:
        return self.get(key)


def test_a_dict_subclass_name_is_read_as_the_audit_reads_it() -> None:
    """The name checked is the name the audit shows, not a dict's storage under it."""
    audit = cft.Audit.from_records(tokens=[_NameOverDict(token(1, "clean name"))])
    assert PREFIXED not in audit.to_json() + audit.tokens.to_string()
    assert list(audit.findings[audit.findings["rule_id"] == "CFT-ID-04"]["token_id"]) == [
        f"{1:032x}"
    ]
