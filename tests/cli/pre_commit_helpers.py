"""Running this repository's pre-commit hooks: their command in-process (``hook_argv``), or
through `pre-commit try-repo`, offline (slow: pre-commit and git processes)."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# a cfut_ token shape (not a live secret) the scan hook must refuse; its fingerprint: cfut_…12Ab.
# Assembled here, not written whole: no committed file may hold a token-shaped string (the
# repository's own scan, tests/test_repository_secrets.py, would refuse this one).
COMMITTED_SECRET = "cfut" + "_" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7sXy12Ab"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def try_repo_env(tmp_path: Path) -> dict[str, str]:
    """An environment in which the `language: system` hooks run this source tree: a
    `cftokens` shim on PATH for this interpreter, and a private pre-commit cache."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "cftokens"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m cftokens "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    return {
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


def try_repo(repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`pre-commit try-repo <this repository> --all-files` in ``repo``: every hook."""
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "--all-files"]
    return subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=300)


def hook_argv(hook: str, files: list[str]) -> list[str]:
    """The arguments the hook ``hook`` of .pre-commit-hooks.yaml gives ``cftokens`` for
    ``files`` (its entry after the command, its args, then the files, as pre-commit does)."""
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    command, *entry = shlex.split(hooks[hook]["entry"])
    assert command == "cftokens"
    return [*entry, *hooks[hook].get("args", []), *files]
