"""The repository's pytest plugins: after nbval runs a notebook, its exercise's solution check
and its leak scan run in the same kernel, all marked ``notebooks``
(tests/notebooks/nbval_course.py; ``pythonpath`` in pyproject.toml). And ``cli_demo``, which
lets the CLI's ``--sandbox`` commands copy the session's demo company instead of seeding it.

Bytecode: a test session writes ``__pycache__`` (gitignored) even when the environment sets
``PYTHONDONTWRITEBYTECODE=1``. Without it every run, and every ``-n auto`` worker, re-compiles
the package and re-runs pytest's assertion rewriting on every test module (about 6 s of CPU
per process to collect the suite instead of about 2 s). This must run before the package and
the test modules are imported, hence at the top of the first conftest pytest loads.
"""

import sys

sys.dont_write_bytecode = False

from typing import Any  # noqa: E402  (after the bytecode switch, on purpose)

import pytest  # noqa: E402

from cftokens.sandbox import Sandbox  # noqa: E402

pytest_plugins = ["nbval_course", "pytester"]


@pytest.fixture
def cli_demo(
    demo_company: Sandbox, leak_company: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> list[Sandbox]:
    """``Sandbox.demo()`` (and ``demo(leak=True)``), as the CLI's ``--sandbox`` calls it,
    answered by a copy of the session's ``demo_company`` (``leak_company``) from
    tests/conftest.py: the same state, without seeding the company again. Returns the sandboxes
    handed out, in order. A call with other options seeds as usual."""
    made: list[Sandbox] = []
    seed = Sandbox.demo.__func__  # type: ignore[attr-defined]

    def demo(cls: type[Sandbox], *, leak: bool = False, **options: Any) -> Sandbox:
        if options:
            made.append(seed(cls, leak=leak, **options))
        else:
            made.append((leak_company if leak else demo_company).copy())
        return made[-1]

    monkeypatch.setattr(Sandbox, "demo", classmethod(demo))
    return made
