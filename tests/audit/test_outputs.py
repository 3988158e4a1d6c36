"""Frames, engine agreement, suppressions, Terraform, reports and the CLI gate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import (
    ACCT,
    NOW,
    USER_RES,
    ZONE,
    allow,
    deny,
    good,
    hits,
    run,
    token,
    zone,
    zones_of,
)

import cftokens as cft
from cftokens.audit import Audit
from cftokens.audit.synth import synthetic_inventory
from cftokens.cli import main


def test_columnar_effective_grants_agree_with_the_engine() -> None:
    """E(T) from the columnar path equals cftokens.effective_grants for generated tokens."""
    inv = synthetic_inventory(400, n_accounts=5, n_zones=40, seed=3)
    audit = Audit.from_records(**inv)
    g = audit.grants
    ours = {
        (str(t), int(p), str(gid), str(k))
        for t, p, gid, k, e in zip(
            g["token_id"],
            g["policy"],
            g["group_id"],
            g["resource_key"],
            g["effective"],
            strict=True,
        )
        if e
    }
    engine = set()
    payloads = list(inv["tokens"]) + [t for items in inv["account_tokens"].values() for t in items]
    for payload in payloads:
        for grant in cft.effective_grants(cft.Token.from_api(payload)):
            engine.add((payload["id"], grant.policy_index, grant.group_id, grant.resource.wire_key))
    assert ours == engine


def test_frames_have_real_dtypes() -> None:
    """Datetimes are tz-aware, severities ordered categoricals, counts nullable ints."""
    audit = run(good(), token("t", allow(["DNS Write"], zones_of(ACCT)), ip_in=[], expires=None))
    t, f = audit.tokens, audit.findings
    assert str(t["expires_on"].dtype) == "datetime64[ns, UTC]"
    assert str(t["age_days"].dtype) == "Int64" and str(t["live"].dtype) == "boolean"
    assert f["severity"].cat.ordered and (f["severity"] >= "high").any()
    assert str(audit.grants["effective"].dtype) == "boolean"
    assert (
        t.loc[t["name"] == "t", "risk_score"].iloc[0]
        > t.loc[t["name"] == "good", "risk_score"].iloc[0]
    )


def test_who_can_respects_denies() -> None:
    """A deny on one zone removes that zone from who_can but not the account's other zones."""
    t = token("t", allow(["DNS Write"], zones_of(ACCT)), deny(["DNS Write"], zone(ZONE)))
    audit = run(t)
    assert audit.who_can("DNS Write", zone="example.com").empty
    assert list(audit.who_can("DNS Write", zone="shop.example.com")["name"]) == ["t"]


def test_suppressions_apply_and_lapse(tmp_path: Path) -> None:
    """A suppression marks matching findings; a lapsed one stops applying and is reported."""
    t = token("ci-dns", allow(["DNS Write"], zone(ZONE)), ip_in=[])
    file = tmp_path / "s.yaml"
    file.write_text(
        "- rule: CFT-NW-01\n  match: {token_name: 'ci-*'}\n  reason: no fixed egress\n"
        "  owner: platform\n  expires: 2027-01-31\n"
        "- rule: CFT-LC-*\n  reason: old\n  owner: sec\n  expires: 2026-11-01\n"
    )
    audit = run(t, suppressions=file)
    nw = hits(audit, "CFT-NW-01")
    assert bool(nw["suppressed"].iloc[0]) and "platform" in nw["suppression"].iloc[0]
    assert not hits(audit, "CFT-SUP-01").empty
    assert not hits(audit, "CFT-SUP-01")["suppressed"].any()


def test_iter_findings_is_an_iterator_of_the_findings_worst_first(tmp_path: Path) -> None:
    """``iter_findings`` yields :class:`Finding` objects one at a time (it used to build a
    list), the open ones by default, the suppressed ones too on request, in the frame's order."""
    t = token("ci-dns", allow(["DNS Write"], zone(ZONE)), ip_in=[])
    file = tmp_path / "s.yaml"
    file.write_text(
        "- rule: CFT-NW-01\n  match: {token_name: 'ci-*'}\n  reason: no fixed egress\n"
        "  owner: platform\n  expires: 2027-01-31\n"
    )
    audit = run(t, suppressions=file)
    found = audit.iter_findings()
    assert isinstance(found, Iterator)
    first = next(found)
    f = audit.findings
    assert first == audit.finding(str(f[~f["suppressed"].astype(bool)]["finding_id"].iloc[0]))
    everything = list(audit.iter_findings(include_suppressed=True))
    assert [x.finding_id for x in everything] == list(f["finding_id"])
    assert [x.finding_id for x in audit.iter_findings()] == [
        x.finding_id for x in everything if not x.suppressed
    ]
    assert any(x.suppressed for x in everything)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- rule: CFT-XX-99\n  reason: r\n  owner: o\n  expires: 2026-12-01\n", "unknown rule"),
        ("- rule: CFT-NW-01\n  owner: o\n  expires: 2026-12-01\n", "'reason' is required"),
        ("- rule: CFT-NW-01\n  reason: r\n  owner: o\n  expires: 2028-01-01\n", "180 days"),
        (
            "- rule: CFT-NW-01\n  reason: r\n  owner: o\n  expires: 2026-12-01\n  match: {colour: x}\n",
            "unknown match key",
        ),
    ],
)
def test_bad_suppressions_say_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    """Invalid suppression entries raise InvalidInput naming the entry and the fix."""
    file = tmp_path / "s.yaml"
    file.write_text(text)
    with pytest.raises(cft.InvalidInput, match=message):
        run(good(), suppressions=file)


def _plan(tmp_path: Path) -> Path:
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        "address": "cloudflare_api_token.dns",
                        "mode": "managed",
                        "type": "cloudflare_api_token",
                        "name": "dns",
                        "values": {
                            "name": "ci-dns",
                            "policies": [
                                {
                                    "effect": "allow",
                                    "permission_groups": [
                                        {"id": "4755a26eedb94da69e1066d98aa820be"}
                                    ],
                                    "resources": {
                                        f"com.cloudflare.api.account.{ACCT}": json.dumps(
                                            {"com.cloudflare.api.account.zone.*": "*"}
                                        )
                                    },
                                }
                            ],
                            "condition": {"request_ip": {"in": ["34.120.1.0/24"]}},
                            "expires_on": "2026-12-20T00:00:00Z",
                        },
                    }
                ],
                "child_modules": [
                    {
                        "address": "module.ci",
                        "resources": [
                            {
                                "address": "module.ci.cloudflare_account_token.mint",
                                "mode": "managed",
                                "type": "cloudflare_account_token",
                                "name": "mint",
                                "values": {
                                    "account_id": ACCT,
                                    "name": "minter",
                                    "policies": [
                                        {
                                            "effect": "allow",
                                            "permission_groups": [
                                                {"id": "5bc3f8b21c554832afc660159ab75fa4"}
                                            ],
                                            "resources": {
                                                f"com.cloudflare.api.account.{ACCT}": "*"
                                            },
                                        }
                                    ],
                                    "value": "cfat_" + "s" * 43,
                                },
                            }
                        ],
                    }
                ],
            }
        },
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    return path


def test_terraform_plan_is_linted(tmp_path: Path) -> None:
    """Tokens in a v5 plan (nested JSON resources, child modules) are audited, secret dropped."""
    audit = Audit.from_terraform(_plan(tmp_path), profile="ci", now=NOW)
    assert set(audit.tokens["name"]) == {"ci-dns", "minter"}
    assert not hits(audit, "CFT-PE-02", "minter").empty
    assert set(audit.grants["resource_kind"].astype(str)) >= {"all_zones_in", "account"}
    assert "s" * 43 not in audit.to_json()
    sarif = json.loads(audit.to_sarif())
    assert sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"][
        "uri"
    ].endswith("plan.json")


def test_sarif_structure() -> None:
    """SARIF 2.1.0: rules with help text, results pointing at rules, levels, fingerprints."""
    audit = run(token("t", allow(["API Tokens Write"], USER_RES), ip_in=[]))
    doc = json.loads(audit.to_sarif())
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    run_ = doc["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert "CFT-PE-01" in ids and all(
        r["help"]["text"] and r["shortDescription"]["text"] for r in rules
    )
    for result in run_["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"] and result["partialFingerprints"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]


def test_csv_and_parquet_folders(tmp_path: Path) -> None:
    """to_csv and to_parquet write every table; parquet keeps the dtypes."""
    import pandas as pd

    audit = run(good(), token("t", allow(["DNS Write"], zones_of(ACCT)), ip_in=[]))
    folder = audit.to_csv(tmp_path / "csv")
    assert {p.name for p in folder.iterdir()} >= {
        "tokens.csv",
        "findings.csv",
        "grants.csv",
        "access.csv",
        "gaps.csv",
    }
    pq = audit.to_parquet(tmp_path / "pq")
    back = pd.read_parquet(pq / "findings.parquet")
    assert back["severity"].cat.ordered


def test_diff_reports_widened_tokens() -> None:
    """diff names tokens that gained access and new ones."""
    before = run(token("t", allow(["DNS Write"], zone(ZONE)), token_id="1" * 32))
    after = run(
        token("t", allow(["DNS Write"], zones_of(ACCT)), token_id="1" * 32),
        token("n", allow(["DNS Read"], zone(ZONE)), token_id="2" * 32),
    )
    d = after.diff(before).set_index("token_id")
    assert d.loc["1" * 32, "change"] == "widened" and d.loc["2" * 32, "change"] == "new"


def test_cli_gate_and_bad_input(tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    """The CLI writes the report, exits 1 at --fail-on and 2 on bad input."""
    out = tmp_path / "plan.sarif"
    code = main(
        [
            "audit",
            "--terraform",
            str(_plan(tmp_path)),
            "--output",
            str(out),
            "--fail-on",
            "high",
            "--no-progress",
        ]
    )
    assert code == 1 and json.loads(out.read_text())["version"] == "2.1.0"
    assert "Audited 2 tokens" in capsys.readouterr().out
    monkeypatch.delenv("CLOUDFLARE_API_TOKEN", raising=False)
    assert main(["audit", "--no-progress"]) == 2
    assert "CLOUDFLARE_API_TOKEN" in capsys.readouterr().err
    assert main(["audit", "--terraform", str(tmp_path / "missing.json")]) == 2


def _records_by_rows(frame: Any) -> list[dict[str, Any]]:
    """The JSON report's rows as first written: row by row through ``itertuples``."""
    from cftokens.audit.report import jsonable

    columns = list(frame.columns)
    return [
        {c: jsonable(v) for c, v in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def test_report_rows_read_by_columns_equal_the_rows_read_one_by_one(demo_audit: Audit) -> None:
    """The JSON report's findings, tokens, gaps and usage rows (read column by column) equal
    the rows ``itertuples`` gives, value for value and type for type: on the demo audit, on
    tokens with missing dates and counts, and on frames with repeated, no or no rows."""
    import pandas as pd

    from cftokens.audit.report import _records_of

    sparse = run(good("plain"), token("bare", allow(["DNS Write"], zone(ZONE)), issued=None,
                                       last_used=None, expires=None, ip_in=[]))  # fmt: skip
    frames = [demo_audit.findings, demo_audit.tokens, demo_audit.gaps, demo_audit.usage]
    frames += [sparse.findings, sparse.tokens, sparse.gaps, sparse.tokens.iloc[:0]]
    twice = pd.DataFrame([[1, "a", None], [2, None, 3.5]], columns=["x", "y", "x"])
    frames += [twice, pd.DataFrame(index=range(3)), pd.DataFrame()]
    for frame in frames:
        assert frame is not None
        got, expected = _records_of(frame), _records_by_rows(frame)
        assert got == expected
        assert [list(map(type, r.values())) for r in got] == [
            list(map(type, r.values())) for r in expected
        ]
    assert len(_records_of(demo_audit.usage)) > 100
