"""Helpers for the notebook tests: the course's files, running one, scanning its outputs."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
COURSE = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))

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

# Run after the notebook's own cells, in the same kernel: every secret any sandbox issued.
SECRETS_CELL = (
    "import json as _cft_json\n"
    "from cftokens.sandbox import issued_secrets_everywhere as _cft_issued\n"
    "print(_cft_json.dumps(sorted({s.reveal() for s in _cft_issued()})))"
)

_BINARY = ("image/png", "image/jpeg", "image/gif")


def runner() -> Any:
    spec = importlib.util.spec_from_file_location(
        "run_notebooks", ROOT / "scripts" / "run_notebooks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_with_secrets(path: Path) -> tuple[Any, list[str], float]:
    """Run a notebook in a fresh kernel; return it (own cells only), every secret its
    sandboxes issued, and the seconds its own cells took."""
    nb, seconds = runner().execute(path, extra_cells=[SECRETS_CELL])
    extra = nb.cells.pop()
    text = "".join(o.get("text", "") for o in extra.outputs if o.output_type == "stream")
    return nb, json.loads(text.strip().splitlines()[-1]), seconds


def output_texts(nb: Any) -> Iterator[tuple[int, str]]:
    """(cell index, text) for every textual output of every code cell, and widget state."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
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
    widgets = nb.metadata.get("widgets")
    if widgets:
        yield -1, json.dumps(widgets)


def leaks(texts: Iterable[tuple[int, str]], secrets: Iterable[str]) -> list[str]:
    """Every place a secret, a secret-shaped string or an Authorization header appears."""
    values = [s for s in secrets if s]
    found = []
    for index, text in texts:
        where = f"cell {index}" if index >= 0 else "widget state"
        found.extend(f"{where}: an issued secret ({s[:5]}…)" for s in values if s in text)
        found.extend(
            f"{where}: secret-shaped {m.group(0)[:5]}…" for m in SECRET_PATTERN.finditer(text)
        )
        found.extend(f"{where}: header {m.group(0)[:24]!r}" for m in AUTH_PATTERN.finditer(text))
    return found
