"""`cftokens audit --sandbox`: the README's main job, end to end."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from cftokens.cli import main
from cftokens.sandbox import Sandbox


def test_readme_main_job_writes_the_demo_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo audit prints a summary, writes one self-contained HTML report, evaluates the
    usage rules from the journal, and shows no secret the sandbox issued."""
    made: list[Sandbox] = []
    original = Sandbox.demo.__func__  # type: ignore[attr-defined]

    def demo(cls: type[Sandbox], **kwargs: Any) -> Sandbox:
        made.append(original(cls, **kwargs))
        return made[-1]

    monkeypatch.setattr(Sandbox, "demo", classmethod(demo))
    report = tmp_path / "audit-report.html"
    assert main(["audit", "--sandbox", "--output", str(report)]) == 0
    captured = capsys.readouterr()
    issued = {s.reveal() for sb in made for s in sb.issued_secrets()}
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
