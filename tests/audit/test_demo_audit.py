"""The audit on the sandbox's demo company: planted problems, clean tokens, exports, secrets."""

from __future__ import annotations

import asyncio
import json
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import cftokens as cft
from cftokens.audit import Audit
from cftokens.audit.collect import AuditGapWarning, run_audit_async
from cftokens.sandbox import demo


@pytest.fixture(scope="module")
def sandbox(demo_company: cft.Sandbox) -> Any:
    return demo_company.copy()


@pytest.fixture(scope="module")
def live(sandbox: Any, demo_audit: Audit) -> Audit:
    """The session's audit of the demo company with usage (tests/conftest.py: collected over
    the API with the bootstrap token, as the README's job does) and the secrets in the
    company's files (``scan_secrets`` returns a new audit: the shared one stays as it was).
    An audit collected through an AsyncClient is the same (test_audit_no_threads.py)."""

    def verify(secret: Any) -> str | None:
        found: str = sandbox.client(token=secret).tokens.verify().id
        return found

    return demo_audit.scan_secrets(sandbox.extras["files"], verify=verify)


@pytest.fixture(scope="module")
def live_html(live: Audit, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The live audit's HTML report, written to a file (rendering it takes a second)."""
    return live.to_html(tmp_path_factory.mktemp("report") / "r.html")


def test_every_planted_problem_is_found_by_its_rule(live: Audit) -> None:
    """Each visible demo token trips every rule its definition lists."""
    f = live.findings
    visible = set(live.tokens["name"])
    checked = 0
    for definition in demo.TOKENS:
        if definition.name not in visible:
            continue
        got = set(f.loc[(f["token_name"] == definition.name).fillna(False), "rule_id"].astype(str))
        missing = {"CFT-" + r for r in definition.rules} - got
        assert not missing, f"{definition.name}: {sorted(missing)} not found (got {sorted(got)})"
        checked += len(definition.rules)
    assert checked >= 60


def test_global_api_key_use_is_found(live: Audit) -> None:
    """The Global API Key usage in the journal becomes an ID-01 finding."""
    assert (live.findings["rule_id"] == "CFT-ID-01").sum() >= 1


def test_well_designed_tokens_raise_nothing_above_low(live: Audit) -> None:
    """Tokens planted without problems have no finding above low."""
    f = live.findings
    clean = [d.name for d in demo.TOKENS if not d.rules and d.name in set(live.tokens["name"])]
    assert len(clean) >= 3
    mine = f[f["token_name"].isin(clean).fillna(False)]
    assert mine.empty or str(mine["severity"].max()) in ("info", "low"), mine[
        ["token_name", "rule_id", "severity"]
    ]


def test_missing_permission_is_a_gap_not_a_crash(sandbox: Any) -> None:
    """The account the bootstrap token cannot list becomes a gap row and a warning."""
    with pytest.warns(AuditGapWarning):
        audit = cft.run_audit(sandbox.async_client(), now=sandbox.clock.now(), progress=False)
    gaps = audit.gaps
    collection = gaps[gaps["kind"] == "collection"]
    assert collection["what"].str.contains("Pixel Agency").any()
    assert "Account API Tokens Read" in " ".join(collection["reason"])


def test_offline_json_equals_live_findings(live: Audit, tmp_path: Path) -> None:
    """An audit re-run from its exported JSON has exactly the live audit's findings."""
    path = tmp_path / "audit.json"
    live.to_json(path)
    offline = Audit.from_json(path)
    key = ["finding_id", "rule_id", "severity", "token_id", "evidence", "remediation"]
    ours = live.findings[live.findings["rule_id"] != "CFT-ID-03"][key].reset_index(drop=True)
    theirs = offline.findings[key].reset_index(drop=True)
    assert ours.astype(str).equals(theirs.astype(str))
    assert json.loads(path.read_text())["schema"] == "cftokens.audit/1"


def test_no_secret_anywhere(live: Audit, live_html: str, sandbox: Any) -> None:
    """No secret the sandbox issued appears in frames, reports, SARIF or CLI output."""
    secrets = [s.reveal() for s in sandbox.issued_secrets()]
    assert secrets
    texts = [
        live_html,
        live.to_json(),
        live.to_sarif(),
        repr(live),
        live._repr_html_(),
        str(live.explain(live.tokens["token_id"].iloc[0])),
    ]
    for name in ("tokens", "grants", "access", "findings", "gaps", "usage"):
        texts.append(getattr(live, name).to_csv())
    blob = "\n".join(texts)
    leaked = [s[:6] for s in secrets if s in blob]
    assert not leaked, f"secrets leaked: {leaked}"


def test_live_html_report_is_self_contained(live_html: str) -> None:
    """The HTML report draws its charts inline (SVG) and loads nothing from the network."""
    text = live_html
    assert text.count('<svg class="chart"') == 3 and "data:image" not in text
    assert "http://" not in text.replace("http://www.w3.org", "")
    assert "src='http" not in text and 'src="http' not in text
    assert "dana-full-access-2023" in text and "CFT-PE-01" in text


def test_who_can_and_explain_on_demo(live: Audit) -> None:
    """who_can lists DNS writers of acme.example by name; explain speaks in sentences."""
    writers = live.who_can("DNS Write", zone="acme.example")
    assert {"cert-manager", "dana-full-access-2023"} <= set(writers["name"])
    assert writers["live"].dtype == "boolean"
    text = str(live.explain(writers["token_id"].iloc[0]))
    assert "DNS" in text and "Can change" in text


def test_explain_states_the_validity_window_in_utc(live: Audit) -> None:
    """explain states an expiring token's window with the UTC zone name intact."""
    row = live.tokens[live.tokens["name"] == "ci-dns-acme-status"].iloc[0]
    text = str(live.explain(row["token_id"]))
    assert "Until 2027-01-01 09:00 UTC" in text


# a sandbox whose clock stands years before the wall clock (the demo's audits above run at its
# own time too; one token is enough to see which clock an audit reads)
LONG_AGO = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


def test_audit_of_a_sandbox_uses_its_clock() -> None:
    """cft.run_audit(sandbox) audits through its bootstrap token at the sandbox's time, not the
    wall clock, so ages and last-use figures match the sandbox's story."""
    with cft.Sandbox(now=LONG_AGO, rate_limit=None) as sb, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = cft.run_audit(sb, progress=False)
        assert result.now == sb.clock.now() == LONG_AGO
        assert list(result.tokens["token_id"]) == [sb.bootstrap_token_id]
    with pytest.raises(cft.InvalidInput, match="Client, AsyncClient or Sandbox"):
        cft.run_audit(object(), progress=False)


def test_audit_async_takes_a_sandbox_too() -> None:
    """The await-able audit accepts a Sandbox like audit() does, at the sandbox's time."""
    with cft.Sandbox(now=LONG_AGO, rate_limit=None) as sb, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = asyncio.run(run_audit_async(sb, progress=False))
        assert result.now == sb.clock.now() == LONG_AGO
        assert list(result.tokens["token_id"]) == [sb.bootstrap_token_id]
