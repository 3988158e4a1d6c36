"""nbval is loaded only by a run that may collect a notebook item (nbval_on_demand.py): the
others accept nbval's options without importing it, and a run of the notebooks loads it as the
entry point did."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import nbval_on_demand
import pytest

ROOT = Path(__file__).resolve().parents[2]


class _Recorder:
    """A parser (and its groups) recording every option added: (group, names, settings)."""

    def __init__(self) -> None:
        self.options: list[tuple[str, tuple[str, ...], dict[str, Any]]] = []

    def getgroup(self, name: str, description: str = "", after: str | None = None) -> _Group:
        return _Group(self, name)


class _Group:
    def __init__(self, parser: _Recorder, name: str) -> None:
        self.parser, self.name = parser, name

    def addoption(self, *names: str, **settings: Any) -> None:
        settings.pop("help", None)
        self.parser.options.append((self.name, names, settings))

    _addoption = addoption


def test_the_options_are_nbvals_own() -> None:
    """Without nbval a run accepts exactly nbval's options: the same names, groups, actions,
    types and defaults (the test fails when an nbval release changes them)."""
    import nbval.plugin

    theirs, ours = _Recorder(), _Recorder()
    nbval.plugin.pytest_addoption(theirs)
    nbval_on_demand.add_options(ours)
    assert ours.options == theirs.options


@pytest.mark.parametrize(
    ("markexpr", "may"),
    [
        ("", True),
        ("not slow and not notebooks", False),
        ("not notebooks", False),
        ("slow", False),
        ("notebooks", True),
        ("not slow", True),
        ("slow or notebooks", True),
        ("not (slow or notebooks)", False),
        ("notebooks and not slow", True),
        ("((", True),  # pytest refuses it later; in doubt, load
    ],
)
def test_a_run_loads_nbval_when_its_marks_may_select_a_notebook(markexpr: str, may: bool) -> None:
    assert nbval_on_demand.may_collect_notebooks(markexpr) is may
    assert nbval_on_demand.may_collect_notebooks(markexpr, ["tests", "notebooks"]) is may


def test_a_run_naming_a_notebook_loads_nbval() -> None:
    """(Else pytest would report the notebook as not found instead of deselecting its items.)"""
    for path in ("notebooks/01-first-token.ipynb", "notebooks/01-first-token.ipynb::Cell 0"):
        assert nbval_on_demand.may_collect_notebooks("not notebooks", ["tests", path])


class _Plugins:
    """A plugin manager recording what ``load`` does; nbval's entry point blocked."""

    def __init__(self, markexpr: str, nbval: object = None) -> None:
        known = types.SimpleNamespace(markexpr=markexpr)
        self.config = types.SimpleNamespace(known_args_namespace=known)
        self.nbval = nbval
        self.calls: list[tuple[str, ...]] = []

    def get_plugin(self, name: str) -> object:
        return self.config if name == "pytestconfig" else self.nbval if name == "nbval" else None

    def unblock(self, name: str) -> bool:
        self.calls.append(("unblock", name))
        return True

    def register(self, plugin: types.ModuleType, name: str) -> str:
        self.calls.append(("register", plugin.__name__, name))
        return name

    def import_plugin(self, name: str) -> None:
        self.calls.append(("import_plugin", name))


@pytest.fixture
def fake_nbval(monkeypatch: pytest.MonkeyPatch) -> None:
    """``nbval.plugin`` as an empty module (importing the real one takes a quarter second)."""
    monkeypatch.setitem(sys.modules, "nbval.plugin", types.ModuleType("nbval.plugin"))


def test_the_inner_loop_adds_the_options_and_loads_nothing(fake_nbval: None) -> None:
    parser, plugins = _Recorder(), _Plugins("not slow and not notebooks")
    nbval_on_demand.load(parser, plugins)  # type: ignore[arg-type]
    assert plugins.calls == []
    assert [names for _group, names, _settings in parser.options][:2] == [
        ("--nbval",),
        ("--nbval-lax",),
    ]


def test_a_run_of_the_notebooks_loads_nbval_and_the_course_items(fake_nbval: None) -> None:
    parser, plugins = _Recorder(), _Plugins("")
    nbval_on_demand.load(parser, plugins)  # type: ignore[arg-type]
    assert plugins.calls == [
        ("unblock", "nbval"),
        ("register", "nbval.plugin", "nbval"),
        ("import_plugin", "nbval_course"),
    ]
    assert parser.options == []  # nbval adds its own


def test_nbval_loaded_by_its_entry_point_is_kept(fake_nbval: None) -> None:
    """(``-o addopts=``: nbval's entry point not blocked.) Only the course's items are added,
    whatever the marks."""
    for markexpr in ("", "not notebooks"):
        parser, plugins = _Recorder(), _Plugins(markexpr, nbval=object())
        nbval_on_demand.load(parser, plugins)  # type: ignore[arg-type]
        assert plugins.calls == [("import_plugin", "nbval_course")]
        assert parser.options == []


PROBE = """\
import sys, pytest
code = pytest.main(sys.argv[1:])
print("NBVAL", "nbval.plugin" in sys.modules, "jupyter_client" in sys.modules)
sys.exit(code)
"""


def _collect(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "sdk"), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-c", PROBE, "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow  # two pytest processes
def test_the_inner_loop_never_imports_nbval_and_the_full_run_collects_the_notebooks() -> None:
    """The README's commands in the repository: the inner loop's process never imports nbval
    or jupyter_client (and accepts addopts' nbval options), the full run's collects every cell
    of a notebook as nbval's items with the course's items after them."""
    notebook = "notebooks/01-first-token.ipynb"
    inner = _collect("-m", "not slow and not notebooks", "notebooks", "tests/notebooks")
    assert inner.returncode == 0, inner.stdout + inner.stderr
    assert "NBVAL False False" in inner.stdout
    items = inner.stdout.splitlines()
    assert not [line for line in items if line.startswith("notebooks/")]
    assert [line for line in items if line.startswith("tests/notebooks/")]
    full = _collect(notebook)
    assert full.returncode == 0, full.stdout + full.stderr
    assert "NBVAL True True" in full.stdout
    items = [line for line in full.stdout.splitlines() if line.startswith(notebook)]
    assert f"{notebook}::Cell 0" in items and items[-1] == f"{notebook}::leak scan"
