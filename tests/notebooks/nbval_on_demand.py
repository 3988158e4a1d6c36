"""nbval, and the course's items after its cells (``nbval_course``), loaded only by a pytest run
that may collect a notebook item.

nbval's plugin module imports jupyter_client, nbformat, ipykernel's kernel specs, coverage and
jsonschema (about 0.25 s of CPU) in every pytest process, the xdist controller and each worker
alike, including the inner loop's (``-m "not slow and not notebooks"``), which collects no
notebook item. So pyproject's ``addopts`` block nbval's entry point (``-p no:nbval``) and keep
passing nbval's options, and the repository's root ``conftest.py`` calls :func:`load` when its
options are added (before the command line is read in full):

- a run whose ``-m`` expression may select an item marked ``notebooks`` (every nbval item is,
  and only that: ``nbval_course`` marks them), or that names a notebook, registers nbval and
  ``nbval_course`` as the entry point and ``pytest_plugins`` did before: ``python -m pytest``
  and ``-n auto`` run every notebook as they did;
- any other run adds nbval's command-line options only (:data:`OPTIONS`, the same names,
  actions, types and defaults as nbval's own; ``tests/notebooks/test_nbval_on_demand.py`` checks
  them against nbval's), so the ``addopts`` and any ``--nbval-*`` option still parse; it
  collects no notebook (``.ipynb`` files are nbval's to collect).

A run where nbval's entry point was not blocked (``-o addopts=``) keeps it, and registers
``nbval_course`` beside it. Anything in doubt (an ``-m`` expression pytest cannot read, a pytest
without its expression module) loads nbval.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import pytest

#: The mark every notebook item carries, and only that mark.
MARK = "notebooks"

#: nbval's command-line options (nbval 0.11's ``pytest_addoption``): (group, names, settings).
OPTIONS: list[tuple[str, tuple[str, ...], dict[str, Any]]] = [
    ("nbval", ("--nbval",), {"action": "store_true"}),
    ("nbval", ("--nbval-lax",), {"action": "store_true"}),
    ("nbval", ("--nbval-sanitize-with",), {}),
    ("nbval", ("--nbval-current-env",), {"action": "store_true"}),
    ("nbval", ("--nbval-kernel-name",), {"action": "store", "default": None}),
    ("nbval", ("--nbval-cell-timeout",), {"action": "store", "default": 2000, "type": float}),
    (
        "nbval",
        ("--nbval-kernel-startup-timeout",),
        {"action": "store", "default": 60, "type": float},
    ),
    ("nbval", ("--sanitize-with",), {}),
    ("nbval", ("--current-env",), {"action": "store_true"}),
    ("terminal reporting", ("--nbdime",), {"action": "store_true"}),
]
GROUP_DESCRIPTIONS = {"nbval": "Jupyter Notebook validation"}
NOT_LOADED = (
    "(nbval's option: this run's -m expression selects no notebook, so nbval is not loaded)"
)


def may_collect_notebooks(markexpr: str, paths: Sequence[str] = ()) -> bool:
    """Whether a run with this ``-m`` expression may select an item marked only ``notebooks``
    (an empty expression selects everything), or names a notebook among its ``paths`` (pytest
    reports a path it cannot collect as not found). True when in doubt."""
    if not markexpr.strip() or any(".ipynb" in str(path) for path in paths):
        return True
    try:
        from _pytest.mark.expression import Expression

        return bool(Expression.compile(markexpr).evaluate(lambda name, **_kw: name == MARK))
    except Exception:  # a pytest without it, or an expression pytest will refuse itself
        return True


def load(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """Register nbval and ``nbval_course`` when the run may collect a notebook item, else add
    nbval's options only (see the module docstring). Called from ``pytest_addoption``."""
    if pluginmanager.get_plugin("nbval") is None:
        config = pluginmanager.get_plugin("pytestconfig")
        known = getattr(config, "known_args_namespace", None)
        markexpr = getattr(known, "markexpr", "") or ""
        if not may_collect_notebooks(markexpr, getattr(known, "file_or_dir", None) or ()):
            add_options(parser)
            return
        pluginmanager.unblock("nbval")
        pluginmanager.register(importlib.import_module("nbval.plugin"), "nbval")
    pluginmanager.import_plugin("nbval_course")


def add_options(parser: Any) -> None:
    """nbval's command-line options (:data:`OPTIONS`) on ``parser``, without nbval."""
    for group_name, names, settings in OPTIONS:
        group = parser.getgroup(group_name, GROUP_DESCRIPTIONS.get(group_name, ""))
        group.addoption(*names, help=NOT_LOADED, **settings)
