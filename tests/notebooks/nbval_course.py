"""pytest plugin: what runs in a notebook's kernel after nbval ran its cells, so each notebook of
the course runs once.

For every notebook nbval collects, items appended after its cells run in the same kernel:

- ``<notebook>::solution check`` (a notebook whose last code cell ends in an exercise's check,
  ``check_N(answer)``: the lessons and the attendees' workshop): runs the exercise's own solution
  (``check_N.__self__.solution_code``) and the check again; the check must print ``correct``. The
  check is stateless and no code cell follows it, so this is the state the learner answers in.
- ``<notebook>::leak scan`` (every notebook): asks the kernel for every secret any sandbox in it
  issued (``cftokens.sandbox.issued_secrets_everywhere``; from the first cell's setup on, the
  kernel keeps every sandbox alive, so a dropped one's secrets count too) and the state of its
  live widgets,
  then scans every cell's fresh output (as nbval received it), the kernel messages nbval drops
  (a display updated by a later cell, widget messages), that widget state, and the
  committed notebook (outputs and saved widget state) for those secrets, secret-shaped strings
  and Authorization headers (:func:`notebook_scan.leaks`).

They fail closed: when a cell of the notebook did not run in this session (deselected, or run
on another worker), when the kernel is gone, or (the scan) when the kernel did not keep its
sandboxes or they issued fewer than three secrets (nothing would have been scanned). Every nbval
item and every item here is marked ``notebooks``, so ``-m "not notebooks"`` deselects them together.

Loaded by the repository's root ``conftest.py``; elsewhere ``-p nbval_course`` (with this
folder on ``sys.path``).
"""

from __future__ import annotations

import ast
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import nbformat
import pytest
from nbval.plugin import IPyNbCell, IPyNbFile
from notebook_scan import MESSAGES, WIDGETS, cell_texts, leaks, output_texts

MIN_SECRETS = 3
TIMEOUT = 120  # seconds to wait for the kernel's answer
# What the kernel publishes that nbval reads and drops: a display a later cell updates, widget
# (comm) messages. The leak scan reads them too.
DROPPED = frozenset({"update_display_data", "comm_open", "comm_msg"})

# Run in the notebook's kernel before its first cell: the process-wide registry of sandboxes
# (weak, so a dropped sandbox's secrets are forgotten) holds them strongly, so a sandbox dropped
# right after a cell printed its Global API Key (not secret-shaped) is still scanned for.
RETAIN = """\
def _cft_retain_sandboxes():
    from cftokens.sandbox import core
    core._LIVE = set(core._LIVE)
    return True
"""
# Run in the notebook's kernel after its cells; its value comes back as a user expression.
LEAK_QUERY = """\
def _cft_leak_scan():
    import json
    from cftokens.sandbox import core, issued_secrets_everywhere
    try:
        import ipywidgets
    except ImportError:
        widgets = {}
    else:
        widgets = ipywidgets.Widget.get_manager_state(drop_defaults=True)
    secrets = sorted({s.reveal() for s in issued_secrets_everywhere()})
    retained = isinstance(core._LIVE, set)
    return json.dumps({"secrets": secrets, "widgets": widgets, "retained": retained}, default=str)
"""
CHECK_CELL = re.compile(r"check_(\d+)\((\w+)\)")
SOLUTION = """\
import contextlib as _cft_contextlib, io as _cft_io
_cft_printed = _cft_io.StringIO()
with _cft_contextlib.redirect_stdout(_cft_printed):
    exec({check}.__self__.solution_code)
    {check}({answer})
"""


class NotebookCheckError(Exception):
    """A check found something, or could not run."""


def ask(kernel: Any, code: str, expression: str) -> Any:
    """Run ``code`` silently in ``kernel``; return the (literal) value of ``expression`` after it."""
    msg_id = kernel.kc.execute(
        code,
        silent=True,
        store_history=False,
        user_expressions={"value": expression},
        allow_stdin=False,
    )
    deadline = time.monotonic() + TIMEOUT
    while True:
        msg = kernel.get_message("shell", timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            break
    content = msg["content"]
    if content.get("status") != "ok":
        raise NotebookCheckError(
            f"the kernel could not run it: {content.get('ename')}: {content.get('evalue')}"
        )
    value = content["user_expressions"]["value"]
    if value.get("status") != "ok":
        raise NotebookCheckError(f"the kernel could not answer: {value.get('evalue')}")
    return ast.literal_eval(value["data"]["text/plain"])


class AfterCells(pytest.Item):
    """An item that runs in a notebook's kernel once nbval ran all of its cells."""

    parent: IPyNbFile

    def __init__(self, *, cells: list[IPyNbCell], **kwargs: Any):
        super().__init__(**kwargs)
        self.cells = cells

    def kernel_ready(self) -> Any:
        """The notebook's kernel, once every cell of the notebook ran in it."""
        unrun = [c.cell_num for c in self.cells if not c.options["skip"] and c.test_outputs is None]
        if unrun:
            raise NotebookCheckError(
                f"cells {unrun} did not run in this session (deselected, or on another "
                "worker): run the whole notebook"
            )
        kernel = self.parent.kernel
        if kernel is None or not kernel.is_alive():
            raise NotebookCheckError("the notebook's kernel is gone")
        return kernel

    def ask(self, code: str, expression: str) -> Any:
        """Run ``code`` silently in the kernel; return the value of ``expression`` after it."""
        return ask(self.kernel_ready(), code, expression)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, NotebookCheckError):
            return f"{self.name} of {self.path.name}:\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"{self.path.name}::{self.name}"


class SolutionCheck(AfterCells):
    """The exercise's own solution passes its check (see the module docstring)."""

    def __init__(self, *, check: str, answer: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.check, self.answer = check, answer

    def runtest(self) -> None:
        printed = self.ask(
            SOLUTION.format(check=self.check, answer=self.answer), "_cft_printed.getvalue()"
        )
        if printed.strip().rsplit("\n", 1)[-1] != "correct":  # the check prints last
            raise NotebookCheckError(f"the solution of {self.check} does not pass it:\n{printed}")


class LeakScan(AfterCells):
    """The leak scan of one notebook nbval ran (see the module docstring)."""

    def runtest(self) -> None:
        answer = json.loads(self.ask(LEAK_QUERY, "_cft_leak_scan()"))
        if not answer["retained"]:
            raise NotebookCheckError(
                "the kernel did not keep every sandbox since its first cell (secrets of a "
                "dropped sandbox would go unscanned): run the whole notebook with this plugin"
            )
        secrets = answer["secrets"]
        if len(secrets) < MIN_SECRETS:
            raise NotebookCheckError(
                f"the notebook's sandboxes issued {len(secrets)} secrets (fewer than "
                f"{MIN_SECRETS}): nothing meaningful was scanned"
            )
        found = [f"fresh {where}" for where in leaks(self._fresh_texts(answer), secrets)]
        committed = nbformat.read(self.path, as_version=4)
        found += [f"committed {where}" for where in leaks(output_texts(committed), secrets)]
        if found:
            raise NotebookCheckError("\n".join(found))

    def _fresh_texts(self, answer: dict[str, Any]) -> Iterator[tuple[int, str]]:
        """(cell index, text) of every output nbval received, the kernel messages it dropped
        (``DROPPED``), then the live widgets' state."""
        index = {id(cell): i for i, cell in enumerate(self.parent.nb.cells)}
        for item in self.cells:
            yield from cell_texts(index[id(item.cell)], item.test_outputs or [])
        for msg in getattr(self.parent, "_cft_dropped", []):
            yield MESSAGES, json.dumps(msg["content"], default=str)
        if answer["widgets"]:
            yield WIDGETS, json.dumps(answer["widgets"])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """Once a notebook's kernel started (its first cell's setup), keep every sandbox it makes
    (``RETAIN``) until its leak scan; a kernel that cannot fails that cell."""
    result = yield
    notebook = item.parent
    if isinstance(item, IPyNbCell) and isinstance(notebook, IPyNbFile):
        kernel = notebook.kernel
        fresh = not getattr(notebook, "_cft_retaining", False)
        if fresh and kernel is not None and kernel.is_alive():
            ask(kernel, RETAIN, "_cft_retain_sandboxes()")
            notebook._cft_retaining = True  # type: ignore[attr-defined]
    return result  # type: ignore[no-any-return]


def _keep_dropped_messages(notebook: IPyNbFile) -> None:
    """Have ``notebook`` keep, in ``_cft_dropped``, every kernel message nbval reads but drops
    (``DROPPED``), for its leak scan."""
    dropped: list[dict[str, Any]] = []
    read = notebook.get_kernel_message

    def get_kernel_message(*args: Any, **kwargs: Any) -> Any:
        msg = read(*args, **kwargs)
        if msg.get("msg_type") in DROPPED:
            dropped.append(msg)
        return msg

    notebook.get_kernel_message = get_kernel_message  # type: ignore[method-assign]
    notebook._cft_dropped = dropped  # type: ignore[attr-defined]


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """Append the items above to every notebook nbval collects; mark all of it ``notebooks``."""
    report = yield
    if isinstance(collector, IPyNbFile) and report.passed:
        _keep_dropped_messages(collector)
        cells = [item for item in report.result if isinstance(item, IPyNbCell)]
        source = cells[-1].cell.source.strip().splitlines() if cells else []
        last = CHECK_CELL.fullmatch(source[-1]) if source else None
        if last is not None:
            report.result.append(
                SolutionCheck.from_parent(
                    collector,
                    name="solution check",
                    cells=cells,
                    check=f"check_{last.group(1)}",
                    answer=last.group(2),
                )
            )
        report.result.append(LeakScan.from_parent(collector, name="leak scan", cells=cells))
        for item in report.result:
            item.add_marker("notebooks")
    return report  # type: ignore[no-any-return]
