"""The repository's pytest plugins: nbval's notebooks get their leak scan and the
``notebooks`` marker (tests/notebooks/nbval_leaks.py; ``pythonpath`` in pyproject.toml)."""

pytest_plugins = ["nbval_leaks"]
