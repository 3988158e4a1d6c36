"""The repository's pytest plugins: after nbval runs a notebook, its exercise's solution check
and its leak scan run in the same kernel, all marked ``notebooks``
(tests/notebooks/nbval_course.py; ``pythonpath`` in pyproject.toml).

Bytecode: a test session writes ``__pycache__`` (gitignored) even when the environment sets
``PYTHONDONTWRITEBYTECODE=1``. Without it every run, and every ``-n auto`` worker, re-compiles
the package and re-runs pytest's assertion rewriting on every test module (about 6 s of CPU
per process to collect the suite instead of about 2 s). This must run before the package and
the test modules are imported, hence at the top of the first conftest pytest loads.
"""

import sys

sys.dont_write_bytecode = False

pytest_plugins = ["nbval_course"]
