"""The repository's pytest plugins: after nbval runs a notebook, its exercise's solution check
and its leak scan run in the same kernel, all marked ``notebooks``
(tests/notebooks/nbval_course.py; ``pythonpath`` in pyproject.toml). And ``cli_demo``, which
lets the CLI's ``--sandbox`` commands copy the session's demo company instead of seeding it.

Bytecode: a test session caches bytecode even when the environment asks for none
(``PYTHONDONTWRITEBYTECODE=1`` or ``-B``), in the repository's ``.pycache/`` (gitignored) and
nowhere else: not beside the modules of a shared virtualenv or of a directory on PYTHONPATH,
which is what the environment's setting protects (``sys.pycache_prefix``; a prefix the
environment set is kept). Without it every run, and every ``-n auto`` worker, re-compiles the
package and re-runs pytest's assertion rewriting on every test module (about 6 s of CPU per
process to collect the suite instead of about 2 s); the first run in a checkout also compiles
the third-party modules the tests import into ``.pycache/`` once (about 5 s of CPU). This must
run before the package and the test modules are imported, hence at the top of the first
conftest pytest loads.
"""

from __future__ import annotations  # a compiler directive: imports nothing

import sys
from pathlib import Path

if sys.dont_write_bytecode:
    if sys.pycache_prefix is None:
        sys.pycache_prefix = str(Path(__file__).resolve().parent / ".pycache")
    sys.dont_write_bytecode = False

from typing import Any  # after the bytecode switch, on purpose

import pytest

# The package only: cft.Sandbox loads on first use (the xdist controller loads this file too and
# never needs the sandbox).
import cftokens as cft

pytest_plugins = ["nbval_course", "pytester"]


@pytest.fixture
def cli_demo(
    demo_company: cft.Sandbox, leak_company: cft.Sandbox, monkeypatch: pytest.MonkeyPatch
) -> list[cft.Sandbox]:
    """``Sandbox.demo()`` (and ``demo(leak=True)``), as the CLI's ``--sandbox`` calls it,
    answered by a copy of the session's ``demo_company`` (``leak_company``) from
    tests/conftest.py: the same state, without seeding the company again. Returns the sandboxes
    handed out, in order. A call with other options seeds as usual."""
    made: list[cft.Sandbox] = []
    seed = cft.Sandbox.demo.__func__  # type: ignore[attr-defined]

    def demo(cls: type[cft.Sandbox], *, leak: bool = False, **options: Any) -> cft.Sandbox:
        if options:
            made.append(seed(cls, leak=leak, **options))
        else:
            made.append((leak_company if leak else demo_company).copy())
        return made[-1]

    monkeypatch.setattr(cft.Sandbox, "demo", classmethod(demo))
    return made
