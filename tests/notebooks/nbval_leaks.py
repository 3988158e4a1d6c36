"""pytest plugin: the course's leak scan, on the outputs nbval executed (each notebook runs once).

For every notebook nbval collects, one more item, ``<notebook>::leak scan``, runs after the
notebook's cells in the same kernel. It asks the kernel for every secret any sandbox in it
issued (``cftokens.sandbox.issued_secrets_everywhere``) and the state of its live widgets, then
scans every cell's fresh output (as nbval received it), that widget state, and the committed
notebook (outputs and saved widget state) for those secrets, secret-shaped strings and
Authorization headers (:func:`notebook_scan.leaks`).

It fails closed: when a cell of the notebook did not run in this session (deselected, or run on
another worker), when the kernel is gone, or when the notebook's sandboxes issued fewer than
three secrets (nothing would have been scanned). Every nbval item and every scan is marked
``notebooks``, so ``-m "not notebooks"`` deselects both together.

Loaded by the repository's root ``conftest.py``; elsewhere ``-p nbval_leaks`` (with this folder
on ``sys.path``).
"""

from __future__ import annotations

import ast
import json
import time
from collections.abc import Iterator
from typing import Any

import nbformat
import pytest
from nbval.plugin import IPyNbCell, IPyNbFile
from notebook_scan import cell_texts, leaks, output_texts

MIN_SECRETS = 3
TIMEOUT = 60  # seconds to wait for the kernel's answer

# Run in the notebook's kernel after its cells; its value comes back as a user expression.
QUERY = """\
def _cft_leak_scan():
    import json
    from cftokens.sandbox import issued_secrets_everywhere
    try:
        import ipywidgets
    except ImportError:
        widgets = {}
    else:
        widgets = ipywidgets.Widget.get_manager_state(drop_defaults=True)
    secrets = sorted({s.reveal() for s in issued_secrets_everywhere()})
    return json.dumps({"secrets": secrets, "widgets": widgets}, default=str)
"""


class LeakScanError(Exception):
    """The scan found something, or could not scan."""


class LeakScan(pytest.Item):
    """The leak scan of one notebook nbval ran (see the module docstring)."""

    parent: IPyNbFile

    def __init__(self, *, cells: list[IPyNbCell], **kwargs: Any):
        super().__init__(**kwargs)
        self.cells = cells

    def runtest(self) -> None:
        notebook = self.parent
        cells = [c for c in self.cells if not c.options["skip"]]
        unrun = [c.cell_num for c in cells if c.test_outputs is None]
        if unrun:
            raise LeakScanError(
                f"cells {unrun} did not run in this session (deselected, or on another "
                "worker): their outputs went unscanned; run the whole notebook"
            )
        kernel = notebook.kernel
        if kernel is None or not kernel.is_alive():
            raise LeakScanError("the notebook's kernel is gone: cannot ask which secrets it issued")
        answer = _ask(kernel)
        secrets = answer["secrets"]
        if len(secrets) < MIN_SECRETS:
            raise LeakScanError(
                f"the notebook's sandboxes issued {len(secrets)} secrets (fewer than "
                f"{MIN_SECRETS}): nothing meaningful was scanned"
            )
        found = [f"fresh {where}" for where in leaks(self._fresh_texts(answer), secrets)]
        committed = nbformat.read(self.path, as_version=4)
        found += [f"committed {where}" for where in leaks(output_texts(committed), secrets)]
        if found:
            raise LeakScanError("\n".join(found))

    def _fresh_texts(self, answer: dict[str, Any]) -> Iterator[tuple[int, str]]:
        """(cell index, text) of every output nbval received, then the live widgets' state."""
        index = {id(cell): i for i, cell in enumerate(self.parent.nb.cells)}
        for item in self.cells:
            yield from cell_texts(index[id(item.cell)], item.test_outputs or [])
        if answer["widgets"]:
            yield -1, json.dumps(answer["widgets"])

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, LeakScanError):
            return f"leak scan of {self.path.name}:\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"{self.path.name}::leak scan"


def _ask(kernel: Any) -> dict[str, Any]:
    """Run :data:`QUERY` silently in the kernel and return its answer."""
    msg_id = kernel.kc.execute(
        QUERY,
        silent=True,
        store_history=False,
        user_expressions={"scan": "_cft_leak_scan()"},
        allow_stdin=False,
    )
    deadline = time.monotonic() + TIMEOUT
    while True:
        msg = kernel.get_message("shell", timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            break
    content = msg["content"]
    if content.get("status") != "ok":
        raise LeakScanError(f"the kernel could not run the scan: {content.get('evalue')}")
    value = content["user_expressions"]["scan"]
    if value.get("status") != "ok":
        raise LeakScanError(f"the kernel could not list its secrets: {value.get('evalue')}")
    answer: dict[str, Any] = json.loads(ast.literal_eval(value["data"]["text/plain"]))
    return answer


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """Append the leak scan to every notebook nbval collects; mark all of it ``notebooks``."""
    report = yield
    if isinstance(collector, IPyNbFile) and report.passed:
        cells = [item for item in report.result if isinstance(item, IPyNbCell)]
        report.result.append(LeakScan.from_parent(collector, name="leak scan", cells=cells))
        for item in report.result:
            item.add_marker("notebooks")
    return report  # type: ignore[no-any-return]

