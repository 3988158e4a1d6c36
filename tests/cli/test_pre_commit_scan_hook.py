"""The pre-commit hook cftokens-scan: its command in-process, and run with `pre-commit
try-repo` (offline, slow)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pre_commit_helpers import ROOT, git, hook_argv, try_repo, try_repo_env

from cftokens.cli import main

BODY = "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7s"


def test_the_hooks_command_refuses_a_token_and_passes_once_it_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hook's command on a text file holding a cfut_ token fails, printing its fingerprint
    (never the value), and passes once the value is a reference."""
    monkeypatch.chdir(tmp_path)
    secret = f"cfut_{BODY}Xy12Ab"
    Path("deploy.sh").write_text(f"export CLOUDFLARE_API_TOKEN={secret}\n")
    assert main(hook_argv("cftokens-scan", ["deploy.sh"])) == 1
    out, err = capsys.readouterr()
    assert "cfut_…12Ab" in out and "deploy.sh:1" in out
    assert secret not in out + err
    Path("deploy.sh").write_text('export CLOUDFLARE_API_TOKEN="$(vault read -field=t cf)"\n')
    assert main(hook_argv("cftokens-scan", ["deploy.sh"])) == 0, capsys.readouterr()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="git is needed by pre-commit")
@pytest.mark.skipif(
    not (ROOT / ".git").exists(), reason="try-repo needs the project's git checkout"
)
def test_the_hook_refuses_a_committed_token_and_passes_once_it_is_gone(tmp_path: Path) -> None:
    """`pre-commit try-repo <this repo> cftokens-scan` fails on a file holding a cfut_ token
    (printing its fingerprint, never the value) and passes once the value is a reference."""
    pytest.importorskip("pre_commit")
    repo = tmp_path / "site"
    repo.mkdir()
    git(repo, "init", "-q")
    secret = f"cfut_{BODY}Xy12Ab"
    (repo / "deploy.sh").write_text(f"export CLOUDFLARE_API_TOKEN={secret}\n")
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    git(repo, "add", "-A")
    env = try_repo_env(tmp_path)
    failed = try_repo("cftokens-scan", repo, env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "cfut_…12Ab" in failed.stdout and "deploy.sh:1" in failed.stdout
    assert secret not in failed.stdout + failed.stderr
    (repo / "deploy.sh").write_text('export CLOUDFLARE_API_TOKEN="$(vault read -field=t cf)"\n')
    git(repo, "add", "-A")
    passed = try_repo("cftokens-scan", repo, env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
