"""`cftokens scan`: table, JSON, SARIF, the gates and their exit codes; no secret printed."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
import yaml

from cftokens.cli import main
from cftokens.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
BODY = "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7s"
TOKEN = f"cfut_{BODY}Xy12Ab"


def test_table_and_exit_1_when_anything_is_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default gate (any) exits 1 on a hit; the table shows the fingerprint only."""
    (tmp_path / "deploy.sh").write_text(f"export CLOUDFLARE_API_TOKEN={TOKEN}\n")
    assert main(["scan", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert "cfut_…12Ab" in out and "deploy.sh:1" in out and "credentials found" in err
    assert TOKEN not in out + err and BODY not in out + err


def test_clean_tree_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing found: exit 0 and a one-line summary."""
    (tmp_path / "README.md").write_text("no secrets here\n")
    assert main(["scan", str(tmp_path)]) == 0
    assert "0 hit(s)" in capsys.readouterr().out


def test_json_and_sarif_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--output x.sarif writes SARIF 2.1.0, --format json prints JSON; neither holds the value."""
    (tmp_path / "a.env").write_text(f"T={TOKEN}\n")
    sarif = tmp_path / "out" / "scan.sarif"
    sarif.parent.mkdir()
    assert main(["scan", str(tmp_path / "a.env"), "--output", str(sarif)]) == 1
    assert json.loads(sarif.read_text())["version"] == "2.1.0"
    capsys.readouterr()
    assert main(["scan", str(tmp_path / "a.env"), "--format", "json", "--fail-on", "none"]) == 0
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert doc["schema"] == "cftokens.scan/1" and doc["hits"][0]["fingerprint"] == "cfut_…12Ab"
    assert TOKEN not in out and TOKEN not in sarif.read_text()


def test_fail_on_live_needs_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--fail-on live without --verify is bad input (exit 2), not a silent pass."""
    assert main(["scan", str(tmp_path), "--fail-on", "live"]) == 2
    assert "--verify" in capsys.readouterr().err


def test_fail_on_live_passes_dead_secrets_and_fails_live_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], demo_company: Sandbox
) -> None:
    """With the demo sandbox: a never-issued token passes --fail-on live, a live one fails."""
    dead = tmp_path / "dead.env"
    dead.write_text(f"T={TOKEN}\n")
    assert main(["scan", str(dead), "--verify", "--sandbox", "--fail-on", "live"]) == 0
    live = tmp_path / "live.env"
    live.write_text(f"T={demo_company.bootstrap_token.reveal()}\n")
    assert main(["scan", str(live), "--verify", "--sandbox", "--fail-on", "live"]) == 1
    out = capsys.readouterr().out
    assert "live" in out and "invalid" in out


def test_stdin_dash(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """'-' scans standard input."""
    stdin = io.TextIOWrapper(io.BytesIO(f"+CLOUDFLARE_API_TOKEN={TOKEN}\n".encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["scan", "-"]) == 1
    assert "<stdin>:1" in capsys.readouterr().out


def test_control_characters_in_file_names_are_not_sent_to_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file name carrying an ANSI escape is printed with the escape made visible."""
    (tmp_path / "evil\x1b[2J.env").write_text(f"T={TOKEN}\n")
    main(["scan", str(tmp_path)])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[2J" in out


def test_pre_commit_hook_entry() -> None:
    """.pre-commit-hooks.yaml offers cftokens-scan, failing on any credential."""
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    hook = hooks["cftokens-scan"]
    assert hook["entry"].split()[:2] == ["cftokens", "scan"]
    assert "--fail-on any" in hook["entry"] and hook["language"] == "system"
    assert "cftokens-terraform" in hooks


def test_git_flag_scans_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--git reads the history: a secret committed then deleted is still reported."""
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": "/usr/bin:/bin"}  # fmt: skip

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True,
                       env=env)  # fmt: skip

    git("init", "-q")
    (tmp_path / "deploy.env").write_text(f"CLOUDFLARE_API_TOKEN={TOKEN}\n")
    git("add", "deploy.env")
    git("commit", "-qm", "add deploy env")
    git("rm", "-q", "deploy.env")
    git("commit", "-qm", "oops, remove it")
    assert main(["scan", str(tmp_path)]) == 0  # the working tree is clean
    assert main(["scan", "--git", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "deploy.env:1 (commit " in out and TOKEN not in out
