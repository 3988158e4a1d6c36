"""The client's types: realistic user code passes ``mypy --strict``; misuse does not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
USER_CODE = ROOT / "tests" / "typing" / "user_code.py"


def mypy(*paths: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.mark.slow
def test_user_code_type_checks_strictly(cache: Path) -> None:
    """tests/typing/user_code.py (every public client call, assert_type pins) passes mypy."""
    result = mypy(USER_CODE, cache=cache)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_misuse_is_caught(cache: Path, tmp_path: Path) -> None:
    """Passing an int id, or treating a Token as a dict, fails mypy --strict."""
    bad = tmp_path / "misuse.py"
    bad.write_text(
        "import cftokens as cft\n\n\n"
        "def f(client: cft.Client) -> str:\n"
        "    token = client.tokens.get(123)\n"
        "    return token['name']\n"
    )
    result = mypy(bad, cache=cache)
    assert result.returncode == 1
    assert 'Argument 1 to "get" of "Tokens" has incompatible type "int"' in result.stdout
    assert '"Token" is not indexable' in result.stdout
