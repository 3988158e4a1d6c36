"""Execute the course notebooks in place, so their committed outputs are current.

    python scripts/run_notebooks.py                  # every notebooks/NN-*.ipynb
    python scripts/run_notebooks.py notebooks/01-first-token.ipynb
    python scripts/run_notebooks.py --check          # run, compare nothing, write nothing

Each notebook runs top to bottom in a fresh kernel of this Python environment, with its
directory as the working directory (as nbval runs it). Outputs are written back with the
volatile metadata (execution timestamps, the exact Python version) removed, so a re-run of
an unchanged notebook changes nothing in git. nbval (``python -m pytest``) then compares every
cell's output with the committed one.
"""

from __future__ import annotations

import argparse
import configparser
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SANITIZE = NOTEBOOKS / "nbval-sanitize.cfg"
TIMEOUT = 300  # seconds per cell


def course() -> list[Path]:
    """The course notebooks, in order (``NN-topic.ipynb``)."""
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def sanitizers() -> list[tuple[re.Pattern[str], str]]:
    """The (regex, replacement) pairs of notebooks/nbval-sanitize.cfg."""
    parser = configparser.ConfigParser()
    parser.read(SANITIZE)
    return [(re.compile(parser[s]["regex"]), parser[s]["replace"]) for s in parser.sections()]


def normalise(nb: Any) -> Any:
    """Drop metadata that changes from run to run or machine to machine, and write the
    outputs through nbval's sanitizers, so a re-run of an unchanged notebook is identical."""
    patterns = sanitizers()

    def clean(text: Any) -> Any:
        if isinstance(text, str):
            for regex, replacement in patterns:
                text = regex.sub(replacement, text)
        return text

    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        if cell.cell_type != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        for output in cell.outputs:
            if "text" in output:
                output["text"] = clean(output["text"])
            for mime in ("text/plain", "text/html"):
                if mime in output.get("data", {}):
                    output["data"][mime] = clean(output["data"][mime])
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    return nb


def execute(
    path: Path, *, extra_cells: list[str] | None = None, kernel: Any = None
) -> tuple[Any, float]:
    """Run one notebook in a fresh kernel; return it (with outputs) and the seconds it took.

    ``extra_cells`` are appended (and run) after the notebook's own cells, e.g. to ask the
    kernel for what the notebook left behind; they are not part of the returned timing.
    ``kernel``: a started ``jupyter_client`` kernel manager to run it in instead (left running,
    with whatever the notebook left in it; its working directory is the kernel's).
    """
    import nbformat
    from nbclient import NotebookClient

    class Client(NotebookClient):  # type: ignore[misc]
        def handle_comm_msg(self, outs: Any, msg: dict[str, Any], cell_index: int) -> None:
            """A closed widget is gone, as JupyterLab saves the state: keep none of it."""
            if msg["msg_type"] == "comm_close":
                self.widget_state.pop(msg["content"]["comm_id"], None)
                self.widget_buffers.pop(msg["content"]["comm_id"], None)
                return
            super().handle_comm_msg(outs, msg, cell_index)

    nb = nbformat.read(path, as_version=4)
    own = len(nb.cells)
    for source in extra_cells or []:
        nb.cells.append(nbformat.v4.new_code_cell(source))
    client = Client(
        nb,
        km=kernel,
        timeout=TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    try:
        with client.setup_kernel():
            start = time.perf_counter()
            for index, cell in enumerate(nb.cells[:own]):
                client.execute_cell(cell, index)
            seconds = time.perf_counter() - start
            for index, cell in enumerate(nb.cells[own:], start=own):
                client.execute_cell(cell, index)
            client.set_widgets_metadata()
    finally:
        if kernel is not None and client.kc is not None:  # a kernel it does not own
            client.kc.stop_channels()
    return nb, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: the whole course")
    parser.add_argument("--check", action="store_true", help="run only; write nothing")
    args = parser.parse_args(argv)
    import nbformat

    paths = [p.resolve() for p in args.notebooks] or course()
    total = 0.0
    for path in paths:
        nb, seconds = execute(path)
        total += seconds
        if not args.check:
            nbformat.write(normalise(nb), path)
        print(f"{path.name:45} {seconds:6.1f} s", flush=True)
    print(f"{'total':45} {total:6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
