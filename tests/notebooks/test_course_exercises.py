"""The lessons' exercises, one screen per cell, widgets saved as first seen, and the course
without threads (JupyterLite). (Each lesson's solution passing its check is checked in nbval's
kernel, after the notebook's cells: tests/notebooks/nbval_course.py.)"""

from __future__ import annotations

import base64
import configparser
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from notebook_scan import COURSE, NOTEBOOKS, read_notebook, run_fresh, shared_kernel

LESSONS = {n: NOTEBOOKS / p for n, p in enumerate(sorted(p.name for p in COURSE)[:6], start=1)}
VARIABLES = {1: "spec1", 2: "spec2", 3: "spec3", 4: "names4", 5: "spec5", 6: "spec6"}
SCREEN_LINES = 40  # a laptop screen of notebook output
SCREEN_PIXELS = (900, 600)


@pytest.mark.parametrize("n", sorted(LESSONS), ids=[LESSONS[n].stem for n in sorted(LESSONS)])
def test_every_lesson_ends_with_one_checked_exercise(n: int) -> None:
    """One "Exercise" section just before "On your own": check_N, hint_N and solution_N bound
    from cft.course.lesson(N, ...), the answer starting empty, hints and solutions not run."""
    cells = read_notebook(LESSONS[n]).cells
    heads = [
        i for i, c in enumerate(cells) if c.cell_type == "markdown" and "## Exercise" in c.source
    ]
    assert len(heads) == 1
    i = heads[0]
    bind, check, after = cells[i + 1], cells[i + 2], cells[i + 3]
    assert bind.source.startswith(f"check_{n}, hint_{n}, solution_{n} = cft.course.lesson({n}, ")
    assert re.search(rf"^{VARIABLES[n]} = (None|set\(\))  # ", bind.source, re.M)
    assert f"# hint_{n}()" in bind.source and f"# solution_{n}()" in bind.source
    assert check.source == f"check_{n}({VARIABLES[n]})"
    text = "".join(o.get("text", "") for o in check.outputs)
    assert text.startswith("not yet:")
    assert after.cell_type == "markdown" and after.source.startswith("## On your own")


@pytest.mark.parametrize("path", COURSE, ids=[p.stem for p in COURSE])
def test_no_cell_prints_more_than_a_screen(path: Path) -> None:
    """Every output fits a screen: at most 40 lines of text, images at most 900 x 600 px."""
    for index, cell in enumerate(read_notebook(path).cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = output.get("text") or data.get("text/plain") or ""
            assert len(text.splitlines()) <= SCREEN_LINES, (index, cell.source[:60])
            if "image/png" in data:
                png = base64.b64decode(data["image/png"])
                width, height = struct.unpack(">II", png[16:24])
                assert width <= SCREEN_PIXELS[0] and height <= SCREEN_PIXELS[1], (
                    index,
                    width,
                    height,
                )


def _descendants(state: dict[str, Any], model_id: str) -> set[str]:
    found, stack = set(), [model_id]
    while stack:
        current = stack.pop()
        if current in found or current not in state:
            continue
        found.add(current)
        text = str(state[current].get("state", {}))
        stack += re.findall(r"IPY_MODEL_([0-9a-f]{32})", text)
    return found


def test_the_token_builder_is_saved_as_the_learner_first_sees_it() -> None:
    """Notebook 02's saved widget state shows its builder untouched (no search, zone, address or
    created token), and keeps no state of the form it drives in code."""
    nb = read_notebook(NOTEBOOKS / "02-least-privilege-design.ipynb")
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    shown = [
        o["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
        for c in nb.cells
        if c.cell_type == "code" and "cft.TokenBuilder(sb" in c.source
        for o in c.outputs
        if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert len(shown) == 1
    mine = _descendants(state, shown[0])
    assert len(mine) > 20
    values = " ".join(str(state[m]["state"].get("value", "")) for m in mine)
    for spoiler in ("cache purge", "34.120.177.0/28", "cfut_", "created"):
        assert spoiler not in values.lower()
    assert set(state) - mine == set() or len(set(state) - mine) < len(mine) / 4


# Every thread the notebook's code asks for is refused, as in Pyodide; the kernel's own
# machinery (zmq's garbage collector, ipykernel's threads) keeps working, or nothing would run.
# Installed once per kernel (the refusal keeps what it needs in its defaults: %reset clears the
# namespace, not the threading module).
NO_THREADS = """\
import threading as _threading
if not hasattr(_threading.Thread.start, "_cft_refuses"):
    def _refuse(self, _start=_threading.Thread.start):
        if type(self).__module__.startswith(("zmq", "ipykernel", "jupyter_client", "IPython")):
            return _start(self)
        raise RuntimeError("can't start new thread (as in Pyodide)")
    _refuse._cft_refuses = True
    _threading.Thread.start = _refuse
del _threading"""


@pytest.fixture(scope="module")
def kernel_without_threads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One kernel for the notebooks run where threads cannot start (see ``shared_kernel``)."""
    with shared_kernel(tmp_path_factory.mktemp("kernel")) as kernel:
        yield kernel


def _sanitised(text: str) -> str:
    parser = configparser.ConfigParser()
    parser.read(NOTEBOOKS / "nbval-sanitize.cfg")
    for section in parser.sections():
        text = re.sub(parser[section]["regex"], parser[section]["replace"], text)
    return text


def _texts(cell: Any) -> list[str]:
    texts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            texts.append(output["text"])
        elif "text/plain" in output.get("data", {}) and not any(
            "widget" in mime for mime in output["data"]
        ):
            texts.append(output["data"]["text/plain"])
    return [_sanitised("".join(texts))]


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.parametrize(
    "name",
    [
        "04-auditing-tokens",
        "05-right-sizing-from-usage",
        "06-from-global-api-key-to-tokens",
        "07-workshop-exercises",
        "07-workshop-exercises-solutions",
        "08-leaked-token-response",  # its audit starts a thread too
    ],
)
def test_the_course_runs_where_threads_cannot_start(
    tmp_path: Path, name: str, kernel_without_threads: Any
) -> None:
    """With threading.Thread.start raising (JupyterLite), notebooks 04-08 run without an error
    and print what their committed outputs hold (in one kernel: each notebook from what a
    fresh kernel has)."""
    committed = read_notebook(NOTEBOOKS / f"{name}.ipynb")
    path = tmp_path / f"{name}.ipynb"
    ran = run_fresh(
        read_notebook(NOTEBOOKS / f"{name}.ipynb"), path, kernel_without_threads, NO_THREADS
    )
    for mine, theirs in zip(ran.cells, committed.cells, strict=True):
        assert not [o for o in mine.get("outputs", []) if o.get("output_type") == "error"]
        if mine.cell_type == "code":
            assert _texts(mine) == _texts(theirs), mine.source[:80]
