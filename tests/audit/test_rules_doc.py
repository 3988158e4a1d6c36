"""docs/rules.md is generated from RULES, and ``--check`` tells when it is stale."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cftokens.audit.rules import RULES, SUPPRESSION_RULE

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_rules_doc.py"
DOC = ROOT / "docs" / "rules.md"


def _check(out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_committed_page_is_current_and_lists_every_rule() -> None:
    result = _check(DOC)
    assert result.returncode == 0, result.stderr
    text = DOC.read_text(encoding="utf-8")
    for rule in [*RULES.values(), SUPPRESSION_RULE]:
        assert f"### {rule.id}\n" in text
        assert rule.title in text


def test_a_stale_page_fails_the_check_and_says_how_to_refresh(tmp_path: Path) -> None:
    stale = tmp_path / "rules.md"
    stale.write_text(DOC.read_text(encoding="utf-8").replace("Kitchen-sink", "Kitchen sink"))
    result = _check(stale)
    assert result.returncode == 1
    assert "out of date" in result.stderr
    assert "python scripts/build_rules_doc.py" in result.stderr
    missing = _check(tmp_path / "none.md")
    assert missing.returncode == 1
    assert "is missing" in missing.stderr


def test_the_readme_links_the_page() -> None:
    assert "(docs/rules.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
