"""`cftokens audit --sandbox`: the README's main job, end to end."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cftokens.cli import main
from cftokens.sandbox import Sandbox

README = Path(__file__).parents[2] / "README.md"


def readme_main_job() -> list[str]:
    """The arguments of the README's main-job command (the `cftokens audit …` it runs)."""
    for line in README.read_text().splitlines():
        if line.startswith("python3 -m venv") and "&& cftokens audit " in line:
            return line.split("&& cftokens ", 1)[1].split()
    raise AssertionError("the README shows no main-job command")


@pytest.mark.filterwarnings("error::DeprecationWarning")  # none from any code the job runs
def test_readme_main_job_writes_the_demo_report(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    demo_company: Sandbox,
    cli_demo: list[Sandbox],
) -> None:
    """The demo audit prints a summary, writes one self-contained HTML report, evaluates the
    usage rules from the journal, and shows no secret the sandbox issued. The audit is
    incomplete (so without --allow-gaps it exits 3, as the README says: the CLI's exit 3 for an
    incomplete audit is tested in test_audit_exit_codes.py), and the gap message says the gap is
    planted for notebook 04. The README's "47 tokens" and "Audited 42 tokens" are what the
    sandbox and the CLI say."""
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "audit-report.html"
    args = readme_main_job()
    assert args[:2] == ["audit", "--sandbox"] and "--allow-gaps" in args
    assert main(args) == 0  # the planted gap, accepted explicitly
    captured = capsys.readouterr()
    assert "passing an incomplete audit; not seen (1)" in captured.out + captured.err
    issued = {s.reveal() for sb in cli_demo for s in sb.issued_secrets()}
    assert issued, "the CLI's sandbox should have issued its bootstrap secret"
    html = report.read_text()
    assert "Audited" in captured.out and "wrote html report" in captured.out
    assert "no usage data" not in captured.out  # --sandbox brings the journal as usage
    assert "CFT-SC-06" in html and "CFT-ID-01" in html
    assert not re.search(r"""src=["']https?:""", html)
    for text in (captured.out, captured.err, html):
        assert not any(secret in text for secret in issued)
        assert not re.search(r"cf(ut|at|k)_[A-Za-z0-9]{40}", text)
        assert "Bearer " not in text
    assert "%|" not in captured.err  # no progress bar when nobody watches a terminal
    out = captured.out
    assert "INCOMPLETE: tokens may be missing from this audit" in out
    gap = out[out.index("gap(s) in what could be collected") :]
    assert "This gap is planted" in gap and "notebook 04" in gap
    readme = README.read_text()
    sb = demo_company
    assert f"tokens={len(sb.extras['tokens'])}" in repr(sb)
    assert f"{len(sb.extras['tokens'])} tokens, 60 days of history" in readme
    audited = re.search(r"Audited (\d+) tokens", out)
    assert audited is not None and f'"Audited {audited.group(1)} tokens"' in readme
    assert f"the demo company holds {len(sb.extras['tokens'])}" in readme
