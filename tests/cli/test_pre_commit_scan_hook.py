"""The pre-commit hook cftokens-scan, run with `pre-commit try-repo` (offline)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pre_commit_helpers import ROOT, git, try_repo, try_repo_env

BODY = "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7s"


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
