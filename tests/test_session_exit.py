"""The end of a test process (the root conftest.py): its objects are frozen out of the
interpreter's last garbage collections, once pytest has collected the session's garbage."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_session_freezes_the_heap_at_exit(
    pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The root conftest's last unconfigure hook asks for ``gc.freeze`` at exit (nothing
    else), so the interpreter's final collections skip the session's heap."""
    registered: list[Callable[[], object]] = []
    monkeypatch.setattr("atexit.register", registered.append)
    conftest = pytestconfig.pluginmanager.get_plugin(str(ROOT / "conftest.py"))
    assert conftest is not None
    conftest.pytest_unconfigure(pytestconfig)
    assert registered == [gc.freeze]


PROBE = """\
import atexit, gc, sys, pytest
atexit.register(lambda: print("FROZEN", gc.get_freeze_count() > 0))  # runs after the hook's
sys.exit(pytest.main(sys.argv[1:]))
"""


@pytest.mark.slow  # a pytest process
def test_a_test_process_exits_frozen() -> None:
    """A pytest run in the repository ends with its objects frozen, after its own atexit
    callbacks registered before the session (which run after the conftest's)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "sdk")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "-q", "-p", "no:cacheprovider", "tests/test_text.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FROZEN True" in done.stdout
