"""Helpers for the notebook tests: the course's files, running one, scanning its outputs."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
COURSE = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def all_notebooks(root: Path = ROOT) -> list[Path]:
    """Every notebook in the checkout at ``root``, wherever it lies (hidden folders, caches and
    virtual environments left out)."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [
            d
            for d in dirs
            if not d.startswith((".", "__pycache__"))
            and not (Path(folder, d, "pyvenv.cfg")).exists()
        ]
        found += [Path(folder, f) for f in files if f.endswith(".ipynb")]
    return sorted(found)


# What the repository's before-stop hook greps for, and what an Authorization header looks like
# when printed (a header line, a dict entry, an httpx/requests repr).
SECRET_PATTERN = re.compile(r"cf(ut|at|k)_[A-Za-z0-9]{40}")
AUTH_PATTERN = re.compile(
    r"""(?ix)
    \bauthorization ['"]? \s* [:=,] \s* ['"]? \s* (bearer|basic) \b
    | \bbearer \s+ [A-Za-z0-9_\-.~+/]{20,}
    | \bx-auth-key ['"]? \s* [:=,] \s* ['"]? [0-9a-f]{20,}
    """
)

_BINARY = ("image/png", "image/jpeg", "image/gif")

WIDGETS, MESSAGES = -1, -2  # the "cell index" of the widget state, of other kernel messages
PLACES = {WIDGETS: "widget state", MESSAGES: "kernel message"}


def runner() -> Any:
    spec = importlib.util.spec_from_file_location(
        "run_notebooks", ROOT / "scripts" / "run_notebooks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# First in each notebook run in a shared kernel: what a fresh kernel has (an empty namespace,
# the notebook's working directory, the kernel's starting environment, no figure open, pandas'
# default options, warnings shown again once per place).
FRESH = """\
%reset -f
import os as _os, sys as _sys, warnings as _warnings
if not hasattr(_sys, "_cft_environ"):  # the kernel's first notebook
    _sys._cft_environ = dict(_os.environ)
_os.chdir({cwd!r})
_os.environ.clear()
_os.environ.update(_sys._cft_environ)
if "matplotlib.pyplot" in _sys.modules:
    _sys.modules["matplotlib.pyplot"].close("all")
if "pandas" in _sys.modules:
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")  # deprecated options warn when reset
        _sys.modules["pandas"].reset_option("all")
_warnings.onceregistry.clear()
_warnings._filters_mutated()  # every module's record of warnings already shown is stale
del _os, _sys, _warnings"""


@contextlib.contextmanager
def shared_kernel(cwd: Path) -> Iterator[Any]:
    """A kernel for several notebooks in turn (:func:`run_fresh`): a fresh kernel with pandas,
    matplotlib and the package imported and the demo company seeded costs about as much CPU as
    a notebook of the course."""
    from jupyter_client.manager import KernelManager

    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(cwd))
    try:
        yield manager
    finally:
        manager.shutdown_kernel(now=True)


def read_notebook(path: Path) -> Any:
    """A notebook as nbformat reads it (version 4). nbformat is imported here, not when a test
    module is collected: with its JSON schema it costs about 0.2 s of CPU, and every pytest
    process (each xdist worker) collects every test module."""
    import nbformat

    return nbformat.read(path, as_version=4)


def run_fresh(nb: Any, path: Path, kernel: Any, setup: str = "") -> Any:
    """Run notebook ``nb`` (written to ``path``) in ``kernel`` from what a fresh kernel has
    (``FRESH``, in ``path``'s folder), after ``setup``; return it run, without that first cell."""
    import nbformat

    first = FRESH.format(cwd=str(path.parent)) + ("\n" + setup if setup else "")
    nb.cells.insert(0, nbformat.v4.new_code_cell(first))
    nbformat.write(nb, path)
    ran, _ = runner().execute(path, kernel=kernel)
    ran.cells.pop(0)
    return ran


def cell_texts(index: int, outputs: Iterable[Any]) -> Iterator[tuple[int, str]]:
    """(cell index, text) for every textual part of one code cell's outputs (no images)."""
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            yield index, str(output.get("text", ""))
        elif kind == "error":
            yield index, str(output.get("evalue", ""))
            yield index, "\n".join(output.get("traceback", []))
        else:
            for mime, value in output.get("data", {}).items():
                if mime in _BINARY:
                    continue
                yield index, value if isinstance(value, str) else json.dumps(value)


def output_texts(nb: Any) -> Iterator[tuple[int, str]]:
    """(cell index, text) for every textual output of every code cell, and widget state."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            yield from cell_texts(index, cell.get("outputs", []))
    widgets = nb.metadata.get("widgets")
    if widgets:
        yield WIDGETS, json.dumps(widgets)


def leaks(texts: Iterable[tuple[int, str]], secrets: Iterable[str]) -> list[str]:
    """Every place a secret, a secret-shaped string or an Authorization header appears."""
    values = [s for s in secrets if s]
    found = []
    for index, text in texts:
        where = f"cell {index}" if index >= 0 else PLACES[index]
        found.extend(f"{where}: an issued secret ({s[:5]}…)" for s in values if s in text)
        found.extend(
            f"{where}: secret-shaped {m.group(0)[:5]}…" for m in SECRET_PATTERN.finditer(text)
        )
        found.extend(f"{where}: header {m.group(0)[:24]!r}" for m in AUTH_PATTERN.finditer(text))
    return found
