"""The repository's pytest plugins: after nbval runs a notebook, its exercise's solution check
and its leak scan run in the same kernel, all marked ``notebooks``
(tests/notebooks/nbval_course.py; ``pythonpath`` in pyproject.toml)."""

pytest_plugins = ["nbval_course"]
