"""The pre-commit hook cftokens-terraform, run with `pre-commit try-repo` (offline)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BAD = """
resource "cloudflare_api_token" "dns" {
  name = "site-dns"
  policies = [{
    effect            = "allow"
    permission_groups = [{ id = "4755a26eedb94da69e1066d98aa820be" }]
    resources         = { "com.cloudflare.api.account.zone.${cloudflare_zone.site.id}" = "*" }
  }]
}
"""
GOOD = """
variable "zone_id" {
  default = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"
}
resource "cloudflare_api_token" "dns" {
  name = "site-dns"
  policies = [{
    effect            = "allow"
    permission_groups = [{ id = "4755a26eedb94da69e1066d98aa820be" }]
    resources         = { "com.cloudflare.api.account.zone.${var.zone_id}" = "*" }
  }]
  condition  = { request_ip = { in = ["34.120.1.0/24"] } }
  expires_on = "2026-12-20T00:00:00Z"
}
"""


def test_the_hook_is_declared_for_tf_files() -> None:
    """.pre-commit-hooks.yaml offers cftokens-terraform on .tf files, gating at high."""
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    hook = hooks["cftokens-terraform"]
    assert hook["files"] == r"\.tf$" and hook["language"] == "system"
    assert "--fail-on high" in hook["entry"] and hook["args"] == ["--terraform"]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is needed by pre-commit")
@pytest.mark.skipif(
    not (ROOT / ".git").exists(), reason="try-repo needs the project's git checkout"
)
def test_pre_commit_try_repo_fails_a_bad_token_and_passes_a_fixed_one(tmp_path: Path) -> None:
    """`pre-commit try-repo <this repo> cftokens-terraform` fails a commit adding a DNS Write
    token on a zone known only after apply (RK-01 high), and passes once it is fixed."""
    pytest.importorskip("pre_commit")
    repo = tmp_path / "infra"
    (repo / "dns").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / "dns" / "main.tf").write_text(BAD)
    (repo / "README.md").write_text("not terraform\n")
    _git(repo, "add", "-A")
    # the hook runs `cftokens` from PATH: point it at this interpreter and this source tree
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "cftokens"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m cftokens "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT / "sdk"),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "NO_COLOR": "1",
    }
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "cftokens-terraform"]
    failed = subprocess.run(
        [*command, "--all-files"], cwd=repo, env=env, capture_output=True, text=True, timeout=300
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "site-dns" in failed.stdout and "CFT-RK-01" in failed.stdout
    assert "failing: open findings at high" in failed.stdout
    (repo / "dns" / "main.tf").write_text(GOOD)
    _git(repo, "add", "-A")
    passed = subprocess.run(
        [*command, "--all-files"], cwd=repo, env=env, capture_output=True, text=True, timeout=300
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
