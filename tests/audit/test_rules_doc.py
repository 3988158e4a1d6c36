"""docs/rules.md is generated from RULES, and ``--check`` tells when it is stale (the script's
``main`` in-process; ``.ci/run`` runs the script itself)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from cftokens.audit.rules import RULES, SUPPRESSION_RULE

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_rules_doc.py"
DOC = ROOT / "docs" / "rules.md"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    """scripts/build_rules_doc.py, imported."""
    spec = importlib.util.spec_from_file_location("build_rules_doc", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_page_is_current_and_lists_every_rule(
    script: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert script.main(["--check", "--out", str(DOC)]) == 0, capsys.readouterr().err
    text = DOC.read_text(encoding="utf-8")
    for rule in [*RULES.values(), SUPPRESSION_RULE]:
        assert f"### {rule.id}\n" in text
        assert rule.title in text


def test_a_stale_page_fails_the_check_and_says_how_to_refresh(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "rules.md"
    stale.write_text(DOC.read_text(encoding="utf-8").replace("Kitchen-sink", "Kitchen sink"))
    assert script.main(["--check", "--out", str(stale)]) == 1
    err = capsys.readouterr().err
    assert "out of date" in err
    assert "python scripts/build_rules_doc.py" in err
    assert script.main(["--check", "--out", str(tmp_path / "none.md")]) == 1
    assert "is missing" in capsys.readouterr().err


def test_the_readme_links_the_page() -> None:
    assert "(docs/rules.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
