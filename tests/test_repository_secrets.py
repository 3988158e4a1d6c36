"""No committed file holds a token-shaped string (``cfut_``/``cfat_``/``cfk_`` + 40
characters), even a sandbox one or a test's made-up one: notebooks, fixtures, logs, sources.
Tests that need one assemble it at run time."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from notebook_scan import SECRET_PATTERN  # the pattern the notebooks' leak scan uses

ROOT = Path(__file__).resolve().parents[1]


def committed_files(root: Path) -> list[Path]:
    """The files git tracks under ``root``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True
    ).stdout
    return [root / name for name in listed.decode("utf-8", "surrogateescape").split("\0") if name]


def token_shaped(root: Path) -> list[str]:
    """``path:line`` of every token-shaped string in the files git tracks (prefix only)."""
    found: list[str] = []
    for path in committed_files(root):
        if not path.is_file():
            continue  # deleted in the work tree, not yet committed
        text = path.read_bytes().decode("utf-8", "replace")
        for match in SECRET_PATTERN.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path.relative_to(root)}:{line}: {match.group(0)[:5]}…")
    return found


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout (an sdist)")
def test_no_committed_file_holds_a_token_shaped_string() -> None:
    assert token_shaped(ROOT) == []


def test_the_check_finds_one_in_a_committed_file(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "fixture.py").write_text('X = 1\nSECRET = "cf' + "ut_" + "aZ9" * 14 + '"\n')
    (tmp_path / "untracked.log").write_text("cfat_" + "b1" * 20 + "\n")
    git("add", "fixture.py")
    assert token_shaped(tmp_path) == ["fixture.py:2: cfut_…"]
