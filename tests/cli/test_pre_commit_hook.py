"""The pre-commit hook cftokens-terraform: its command in-process; and both hooks (this one and
cftokens-scan) run with `pre-commit try-repo` (offline, slow)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from pre_commit_helpers import COMMITTED_SECRET, ROOT, git, hook_argv, try_repo, try_repo_env

from cftokens.cli import main

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


def test_the_hook_is_declared_for_tf_and_tfvars_files() -> None:
    """.pre-commit-hooks.yaml offers cftokens-terraform on .tf and .tfvars files, gating at
    high."""
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    hook = hooks["cftokens-terraform"]
    assert hook["files"] == r"\.(tf|tfvars)$" and hook["language"] == "system"
    assert "--fail-on high" in hook["entry"] and hook["args"] == ["--terraform"]


def test_the_hooks_command_fails_a_bad_token_and_passes_a_fixed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The hook's command on the changed .tf file (as pre-commit passes it) fails a DNS Write
    token on a zone known only after apply (RK-01 high), and passes once it is fixed."""
    pytest.importorskip("hcl2")
    (tmp_path / "dns").mkdir()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dns" / "main.tf").write_text(BAD)
    assert main(hook_argv("cftokens-terraform", ["dns/main.tf"])) == 1
    out, err = capsys.readouterr()
    assert "site-dns" in out and "CFT-RK-01" in out
    assert "failing: open findings at high" in err
    (tmp_path / "dns" / "main.tf").write_text(GOOD)
    assert main(hook_argv("cftokens-terraform", ["dns/main.tf"])) == 0, capsys.readouterr()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="git is needed by pre-commit")
@pytest.mark.skipif(
    not (ROOT / ".git").exists(), reason="try-repo needs the project's git checkout"
)
def test_pre_commit_try_repo_fails_bad_commits_and_passes_fixed_ones(tmp_path: Path) -> None:
    """`pre-commit try-repo <this repo>` (both hooks) fails a commit adding a DNS Write token on
    a zone known only after apply (cftokens-terraform: RK-01 high) and a file holding a cfut_
    token (cftokens-scan: its fingerprint printed, never the value); both pass once fixed."""
    pytest.importorskip("pre_commit")
    repo = tmp_path / "infra"
    (repo / "dns").mkdir(parents=True)
    git(repo, "init", "-q")
    (repo / "dns" / "main.tf").write_text(BAD)
    (repo / "README.md").write_text("not terraform\n")
    (repo / "deploy.sh").write_text(f"export CLOUDFLARE_API_TOKEN={COMMITTED_SECRET}\n")
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    git(repo, "add", "-A")
    # the hooks run `cftokens` from PATH: point it at this interpreter and this source tree
    env = try_repo_env(tmp_path)
    failed = try_repo(repo, env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    out = failed.stdout
    assert len([line for line in out.splitlines() if line.endswith("Failed")]) == 2, out
    assert "site-dns" in out and "CFT-RK-01" in out and "failing: open findings at high" in out
    assert "cfut_…12Ab" in out and "deploy.sh:1" in out
    assert COMMITTED_SECRET not in out + failed.stderr
    (repo / "dns" / "main.tf").write_text(GOOD)
    (repo / "deploy.sh").write_text('export CLOUDFLARE_API_TOKEN="$(vault read -field=t cf)"\n')
    git(repo, "add", "-A")
    passed = try_repo(repo, env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert len([line for line in passed.stdout.splitlines() if line.endswith("Passed")]) == 2
