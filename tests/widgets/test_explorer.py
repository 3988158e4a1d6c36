"""AuditExplorer, driven headlessly: filters narrow the findings; a token shows its story."""

from __future__ import annotations

import pytest
from widget_helpers import all_widget_state

import cftokens as cft
from cftokens.widgets import AuditExplorer

SEVERITIES = ["critical", "high", "medium", "low", "info"]


@pytest.fixture
def audited(
    demo_company: cft.Sandbox, demo_audit_without_usage: cft.Audit
) -> tuple[cft.Sandbox, cft.Audit]:
    """The demo company and the session's audit of it (tests/conftest.py: read-only, so the
    session fails if the explorer changed it)."""
    return demo_company, demo_audit_without_usage


def test_all_findings_show_by_default(audited: tuple[cft.Sandbox, cft.Audit]) -> None:
    """Without filters every unsuppressed finding is listed, most severe first."""
    _sb, audit = audited
    explorer = AuditExplorer(audit)
    findings = audit.findings
    expected = int((~findings["suppressed"].fillna(False).astype(bool)).sum())
    assert len(explorer.filtered) == expected
    order = [SEVERITIES.index(str(s)) for s in explorer.filtered["severity"]]
    assert order == sorted(order)
    assert f"<b>{expected}</b>" in explorer.count.value
    assert "<table" in explorer.table.value


def test_filters_narrow_by_severity_rule_owner_and_zone(
    audited: tuple[cft.Sandbox, cft.Audit],
) -> None:
    """Each filter keeps only matching findings, and the table and token picker follow."""
    sb, audit = audited
    explorer = AuditExplorer(audit)
    explorer.severity.value = "high"
    assert set(explorer.filtered["severity"].astype(str)) <= {"critical", "high"}
    rule = str(explorer.filtered["rule_id"].iloc[0])
    explorer.rule.value = rule
    assert set(explorer.filtered["rule_id"].astype(str)) == {rule}
    assert rule in explorer.table.value
    explorer.rule.value = "(all)"
    explorer.severity.value = "info"
    owner = str(audit.findings["owner_name"].dropna().iloc[0])
    explorer.owner.value = owner
    assert set(explorer.filtered["owner_name"]) == {owner}
    explorer.owner.value = "(all)"
    zone = sb.directory().zone("acme.example")
    explorer.zone.value = zone.id
    tokens = set(explorer.filtered["token_id"])
    reaching = set(audit.access.expand(zone=zone.id)["token_id"])
    assert tokens and tokens <= reaching | set(
        explorer.filtered.loc[explorer.filtered["zone_id"] == zone.id, "token_id"]
    )
    picker_ids = {value for _label, value in explorer.token.options if value is not None}
    assert picker_ids == tokens
    explorer.search.value = "zzz-no-such-token"
    assert len(explorer.filtered) == 0
    assert "No finding matches" in explorer.table.value


def test_selecting_a_token_shows_explain_and_remediation(
    audited: tuple[cft.Sandbox, cft.Audit],
) -> None:
    """Choosing a token renders audit.explain(token) and one remediation per finding."""
    _sb, audit = audited
    explorer = AuditExplorer(audit)
    token_id = next(v for _l, v in explorer.token.options if v is not None)
    explorer.token.value = token_id
    assert explorer.selected == token_id
    name = str(audit.findings.loc[audit.findings["token_id"] == token_id, "token_name"].iloc[0])
    assert name in explorer.detail.value
    assert "Remediation" in explorer.detail.value
    mine = explorer.filtered[explorer.filtered["token_id"] == token_id]
    assert explorer.detail.value.count("<li><b>[") == len(mine)
    explorer.rule.value = next(
        r for _l, r in explorer.rule.options[1:] if r not in set(mine["rule_id"].astype(str))
    )
    assert token_id not in set(explorer.filtered["token_id"])
    assert explorer.selected is None  # a token filtered away is deselected
    assert explorer.detail.value == ""


def test_no_secret_reaches_the_explorer(audited: tuple[cft.Sandbox, cft.Audit]) -> None:
    """No secret the sandbox issued appears in any widget state of the explorer."""
    sb, audit = audited
    explorer = AuditExplorer(audit)
    explorer.token.value = next(v for _l, v in explorer.token.options if v is not None)
    state = all_widget_state()
    for secret in sb.issued_secrets():
        assert secret.reveal() not in state


def test_explorer_refuses_non_audits() -> None:
    """Anything but an Audit is refused with what to pass."""
    with pytest.raises(cft.InvalidInput, match=r"cftokens\.run_audit\(client\)"):
        AuditExplorer(object())


def test_zone_picker_lists_names_first_and_marks_unknown_ids(
    audited: tuple[cft.Sandbox, cft.Audit],
) -> None:
    """The zone picker lists the directory's zones by name, then ids the directory does not
    know (the demo's token on a deleted zone), each labelled "not in the directory"."""
    _sb, audit = audited
    options = AuditExplorer(audit).zone.options[1:]
    names = [z.name for z in audit.directory.zones]
    assert [label for label, _ in options[: len(names)]] == sorted(names)
    unknown = options[len(names) :]
    assert unknown, "the demo has a finding on a zone outside the directory"
    assert all(label == f"{ident} (not in the directory)" for label, ident in unknown)


def test_hostile_names_are_shown_not_obeyed() -> None:
    """Names with a right-to-left override, an escape sequence or a lone surrogate (read as
    U+FFFD): the table, the token picker and the detail show escapes, never the raw
    characters, and every widget value encodes as UTF-8 (what the notebook saves)."""
    from cftokens.audit.synth import synthetic_inventory

    inv = synthetic_inventory(10)
    names = ["rlo\u202eexe.txt", "esc\x1b[8mhidden", "evil\ud800"]
    for token, name in zip(inv["tokens"], names, strict=False):
        token["name"] = name
    explorer = AuditExplorer(cft.Audit.from_records(**inv))
    labels = [label for label, _ in explorer.token.options]
    assert any("rlo\\u202eexe.txt" in label for label in labels)
    assert any("evil\ufffd" in label for label in labels)
    for tid in (v for _, v in explorer.token.options if v is not None):
        explorer.token.value = tid
        for text in (explorer.table.value, explorer.detail.value, *labels):
            assert "\u202e" not in text and "\x1b" not in text
            assert text.encode("utf-8")
