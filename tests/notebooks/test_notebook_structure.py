"""The course's shape: every notebook follows the same plan and is committed executed.

These read the committed files only (nbval, run by the same ``python -m pytest``, executes them
and compares the outputs).
"""

from __future__ import annotations

import configparser
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from notebook_scan import COURSE, NOTEBOOKS, ROOT, read_notebook

EXPECTED = [
    "01-first-token",
    "02-least-privilege-design",
    "03-conditions-and-lifetime",
    "04-auditing-tokens",
    "05-right-sizing-from-usage",
    "06-from-global-api-key-to-tokens",
    "07-workshop-exercises",
    "07-workshop-exercises-solutions",
    "08-leaked-token-response",
]
MAX_CODE_CELLS = 25


def _headings(nb: Any) -> list[str]:
    found = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found += [m.group(1).strip() for m in re.finditer(r"^##\s+(.+)$", cell.source, re.M)]
    return found


ids = [p.stem for p in COURSE]


def test_the_course_is_complete() -> None:
    """notebooks/ holds exactly the eight lessons and the exercises' solutions."""
    assert sorted(p.stem for p in COURSE) == sorted(EXPECTED)


@pytest.mark.parametrize("path", COURSE, ids=ids)
def test_opens_with_do_learn_need_and_ends_with_own_and_practice(path: Path) -> None:
    """A title, then "What you'll do/learn/need" first and "On your own", "In practice" last."""
    nb = read_notebook(path)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    headings = _headings(nb)
    assert headings[:3] == ["What you'll do", "What you'll learn", "What you'll need"]
    assert headings[-2:] == ["On your own", "In practice"]


@pytest.mark.parametrize("path", COURSE, ids=ids)
def test_has_one_parameters_cell_defaulting_to_the_sandbox(path: Path) -> None:
    """Exactly one code cell is tagged "parameters", and it sets USE_REAL_API = False."""
    cells = [c for c in read_notebook(path).cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    assert cells[0].cell_type == "code"
    assert re.search(r"^USE_REAL_API = False\b", cells[0].source, re.M)


@pytest.mark.parametrize("path", COURSE, ids=ids)
def test_at_most_25_code_cells_using_the_public_api(path: Path) -> None:
    """At most ~25 code cells, importing cftokens as cft and no private module."""
    code = [c for c in read_notebook(path).cells if c.cell_type == "code"]
    assert 0 < len(code) <= MAX_CODE_CELLS
    source = "\n".join(c.source for c in code)
    assert "import cftokens as cft" in source
    assert not re.search(r"cftokens\.\w+\._|from cftokens\.[\w.]*_\w+ import", source)


@pytest.mark.parametrize("path", COURSE, ids=ids)
def test_committed_with_outputs_in_order_and_without_errors(path: Path) -> None:
    """Every code cell ran once, top to bottom, and none raised (nbval compares outputs)."""
    code = [c for c in read_notebook(path).cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    for cell in code:
        assert all(o.output_type != "error" for o in cell.outputs), cell.source[:60]
    assert any(c.outputs for c in code)


def test_pytest_runs_the_notebooks_strictly() -> None:
    """The test command collects notebooks/ with nbval (not --nbval-lax) and the sanitize file."""
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "notebooks" in options["testpaths"]
    addopts = options["addopts"].split()
    assert "--nbval" in addopts and "--nbval-lax" not in addopts
    sanitize = addopts[addopts.index("--nbval-sanitize-with") + 1]
    parser = configparser.ConfigParser()
    parser.read(ROOT / sanitize)
    assert 0 < len(parser.sections()) <= 5
    for section in parser.sections():
        re.compile(parser[section]["regex"])
    assert (NOTEBOOKS / Path(sanitize).name).exists()


def test_notebook_01_says_how_to_install_before_a_release() -> None:
    """Notebook 01 sends learners to the repository or a wheel, with the notebook extra."""
    first = read_notebook(NOTEBOOKS / "01-first-token.ipynb").cells[0].source
    assert "`pip install cftokens`" not in first
    assert 'pip install -e ".[notebook]"' in first and ".whl[notebook]" in first
