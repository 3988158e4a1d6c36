"""The repository's pytest plugins: after nbval runs a notebook, its exercise's solution check
and its leak scan run in the same kernel, all marked ``notebooks``
(tests/notebooks/nbval_course.py; ``pythonpath`` in pyproject.toml); nbval and those are loaded
only by a run that may collect a notebook (tests/notebooks/nbval_on_demand.py: the inner loop's
processes do not import nbval's Jupyter modules). And ``cli_demo``, which lets the CLI's
``--sandbox`` commands copy the session's demo company instead of seeding it.

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

import atexit  # after the bytecode switch, on purpose
import gc
from typing import Any

import nbval_on_demand
import pytest

# The package only: cft.Sandbox loads on first use (the xdist controller loads this file too and
# never needs the sandbox).
import cftokens as cft

pytest_plugins = ["pytester"]


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """nbval and ``nbval_course``, or only nbval's options when the run collects no notebook."""
    nbval_on_demand.load(parser, pluginmanager)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """At exit, before the interpreter's last garbage collections, every object is frozen out
    of them (``gc.freeze``): they walked the whole heap of the session (every module, the
    shared sandboxes and audits) for cycles nobody needs collected any more. In a 2-worker run
    of tests/sandbox and tests/client that took 1.9 s of CPU across the three processes (0.7 s
    frozen), and the controller waited 3.3 s (1.0 s) for its workers to exit, at the run's
    end. The session's garbage was collected already: pytest collects it at the session's end,
    before and after this hook, and fails on any exception raised meanwhile (an unclosed
    socket). Reference counting still frees everything else at exit; output is flushed as
    usual. (tests/test_session_exit.py.)"""
    atexit.register(gc.freeze)


# What a test costs, roughly, by its markers (CPU seconds on the 2-core machine, the full run's
# averages): ``-n auto`` hands the files out heaviest first, so the run does not end on one
# worker alone with a long file while the other idles (xdist's own order, by each file's
# number of tests, left files of one or two long tests to the end).
COST = {"slow": 1.3, "notebooks": 0.2}
COST_OTHERWISE = 0.035


def _cost(item: pytest.Item) -> float:
    for marker, seconds in COST.items():
        if item.get_closest_marker(marker) is not None:
            return seconds
    return COST_OTHERWISE


BY_COST = "cftokens_files_by_cost"  # the controller tells its workers through workerinput


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist handing out whole files (``--dist loadfile``, the default of addopts, or
    ``loadscope``), the controller keeps the order its workers collect, heaviest file first."""
    if getattr(config.option, "dist", "no") in ("loadfile", "loadscope"):
        config.option.loadscopereorder = False
        config.pluginmanager.register(_OrderWorkers(), "cftokens-order-workers")


class _OrderWorkers:
    """Asks each xdist worker to collect the files heaviest first."""

    @staticmethod
    def pytest_configure_node(node: Any) -> None:
        node.workerinput[BY_COST] = True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """An xdist worker of such a run orders the files by their cost (``COST``), heaviest first,
    each file's tests in their own order; every worker collects the same order. Other runs keep
    pytest's order."""
    if not getattr(config, "workerinput", {}).get(BY_COST):
        return
    files: dict[str, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    weight = {name: sum(map(_cost, tests)) for name, tests in files.items()}
    items[:] = [
        item for name in sorted(files, key=lambda name: -weight[name]) for item in files[name]
    ]


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
