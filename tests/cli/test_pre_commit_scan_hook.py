"""The pre-commit hook cftokens-scan: its command in-process (`pre-commit try-repo` runs it with
the other hook in test_pre_commit_hook.py, slow)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pre_commit_helpers import COMMITTED_SECRET, hook_argv

from cftokens.cli import main


def test_the_hooks_command_refuses_a_token_and_passes_once_it_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hook's command on a text file holding a cfut_ token fails, printing its fingerprint
    (never the value), and passes once the value is a reference."""
    monkeypatch.chdir(tmp_path)
    secret = COMMITTED_SECRET
    Path("deploy.sh").write_text(f"export CLOUDFLARE_API_TOKEN={secret}\n")
    assert main(hook_argv("cftokens-scan", ["deploy.sh"])) == 1
    out, err = capsys.readouterr()
    assert "cfut_…12Ab" in out and "deploy.sh:1" in out
    assert secret not in out + err
    Path("deploy.sh").write_text('export CLOUDFLARE_API_TOKEN="$(vault read -field=t cf)"\n')
    assert main(hook_argv("cftokens-scan", ["deploy.sh"])) == 0, capsys.readouterr()
