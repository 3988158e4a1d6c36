"""The test session's bytecode (the root conftest.py): cached for the repository's own
modules even under ``PYTHONDONTWRITEBYTECODE``, and written nowhere else."""

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

import cftokens


def test_bytecode_is_written_only_inside_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pytestconfig: pytest.Config
) -> None:
    """A module outside the repository (a shared virtualenv, a directory on PYTHONPATH)
    imported during the session gets no ``__pycache__`` beside it when the environment asked
    for no bytecode (``PYTHONDONTWRITEBYTECODE``, ``-B``); the package's own bytecode is still
    cached, inside the repository."""
    (tmp_path / "cftokens_outside_probe.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "cftokens_outside_probe", raising=False)
    assert importlib.import_module("cftokens_outside_probe").VALUE == 1
    python_default = not sys.flags.dont_write_bytecode and sys.pycache_prefix is None
    assert (tmp_path / "__pycache__").exists() == python_default
    cached = Path(importlib.util.cache_from_source(cftokens.__file__))
    assert cached.is_file()
    assert cached.resolve().is_relative_to(pytestconfig.rootpath.resolve())
