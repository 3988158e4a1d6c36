"""The leak scan: no notebook output holds a secret the sandbox issued or an Authorization header.

nbval runs each notebook once; the ``leak scan`` item nbval_course.py appends to it then asks the
same kernel for every secret any sandbox in it issued
(``cftokens.sandbox.issued_secrets_everywhere``) and scans the fresh outputs, the live widgets'
state and the committed notebook (and the lessons' ``solution check`` runs each exercise's own
solution there). These tests prove both catch what they should, fail closed, and are collected
for every notebook of the course.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from notebook_scan import (
    COURSE,
    NOTEBOOKS,
    ROOT,
    SECRET_PATTERN,
    all_notebooks,
    leaks,
    output_texts,
)

import cftokens as cft
from cftokens.sandbox import issued_secrets_everywhere


def _pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "sdk"), str(ROOT / "tests" / "notebooks"), env.get("PYTHONPATH", "")]
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow  # a pytest process collecting every notebook
def test_every_notebook_gets_a_leak_scan_deselected_with_it() -> None:
    """The README's command collects a leak scan after each notebook's cells (after a solution
    check where the notebook ends in an exercise), and every one of those items is marked ``notebooks`` (``-m notebooks`` deselects none of them), so
    ``-m "not notebooks"`` drops the scans with the cells, never one alone."""
    result = _pytest("--collect-only", "-q", "-m", "notebooks", "notebooks", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "deselected" not in result.stdout
    items = [line for line in result.stdout.splitlines() if line.startswith("notebooks/")]
    for name in [p.name for p in COURSE]:
        mine = [i for i in items if i.startswith(f"notebooks/{name}::")]
        assert len(mine) > 1 and mine[-1] == f"notebooks/{name}::leak scan", name
        # the lessons and the attendees' workshop end in an exercise's check_N(answer)
        exercise = name[:2] in {"01", "02", "03", "04", "05", "06"} or name.startswith(
            "07-workshop-exercises.ipynb"
        )
        assert (f"notebooks/{name}::solution check" in mine) is exercise, name


def _notebook(path: Path, *sources: str) -> None:
    import nbformat  # not at collection (see notebook_scan.read_notebook)

    cells = [
        nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\n" + source, execution_count=n)
        for n, source in enumerate(sources, start=1)
    ]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)


EXERCISE = """\
class Exercise:
    solution_code = "answer = {solution}"
    def check(self, answer):
        print("correct" if answer == 42 else f"not yet: {{answer}} is not 42")
check_1, answer = Exercise().check, None"""


@pytest.mark.notebooks
def test_the_scan_catches_a_leak_and_fails_closed(tmp_path: Path) -> None:
    """Run by nbval: a clean notebook passes its scan; one printing an issued secret and an
    Authorization header, and holding a secret in a live widget, fails naming all three without
    printing the secret; one with a cell deselected fails (its output went unscanned). An
    exercise whose solution passes its check passes; one whose solution does not, fails. A sandbox
    garbage-collected after a cell printed its Global API Key (not secret-shaped) is still caught,
    and so is a secret a later cell puts into an earlier display (``update_display_data``)."""
    sandboxes = "import cftokens as cft\nsb, other = cft.Sandbox(), cft.Sandbox(seed=1)"
    _notebook(
        tmp_path / "clean.ipynb",
        sandboxes,
        "print(sb.bootstrap_token)",
        EXERCISE.format(solution=42),
        "check_1(answer)",
    )
    # each leak in a cell of its own, so the scan's report names each one by its place
    _notebook(
        tmp_path / "leaky.ipynb",
        sandboxes,
        "print('token', sb.bootstrap_token.reveal())",
        "print({'Authorization': 'Bearer ' + other.bootstrap_token.reveal()[:10] + 'x' * 20})",
        "import ipywidgets\nfield = ipywidgets.Text(value=other.global_api_key.reveal())",
        # a sandbox dropped right after the cell that printed its key is still scanned for
        "print(cft.Sandbox(seed=7).global_api_key.reveal())",
        "import gc\ngc.collect()",
        # a display updated later (update_display_data, which nbval does not keep) too
        "handle = display('waiting', display_id=True)",
        "handle.update(other.bootstrap_token.reveal())",
        EXERCISE.format(solution=41),
        "check_1(answer)",
    )
    _notebook(tmp_path / "cut.ipynb", sandboxes, "print('a cell the scan must see')")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    result = _pytest(
        "-p", "nbval_course", "--nbval", "--nbval-current-env", "-p", "no:xdist", "-rA",
        "--deselect", "cut.ipynb::Cell 1", cwd=tmp_path,
    )  # fmt: skip
    out = result.stdout
    assert "PASSED clean.ipynb::leak scan" in out, out
    assert "PASSED clean.ipynb::solution check" in out
    assert "FAILED leaky.ipynb::solution check" in out and "not yet: 41 is not 42" in out
    assert "FAILED leaky.ipynb::leak scan" in out and "FAILED cut.ipynb::leak scan" in out, out
    # the leaky scan's report: one line per leak found (where, what, the secret's first 5 signs)
    section = out.split("leak scan of leaky.ipynb:\n", 1)[1].splitlines()
    report = list(itertools.takewhile(lambda line: line.startswith("fresh "), section))
    found = [line.rsplit(" (", 1)[0] for line in report if line.endswith("…)")]
    assert "fresh cell 1: an issued secret" in found, out  # printed
    assert any(line.startswith("fresh cell 2: header") for line in report), report
    assert "fresh cell 4: an issued secret" in found  # by a sandbox dropped since
    assert "fresh widget state: an issued secret" in found
    # the updated display (the widget's own messages hold its Global API Key, not a token)
    assert "fresh kernel message: an issued secret (cfut_…)" in report
    assert "cells [1] did not run in this session" in out
    sb = cft.Sandbox()
    assert sb.bootstrap_token.reveal() not in out + result.stderr
    assert sb.bootstrap_token.reveal()[:12] not in out + result.stderr


def test_every_notebook_is_where_nbval_runs_and_scans_it(tmp_path: Path) -> None:
    """A notebook anywhere else in the repository (docs/, examples/, a subfolder pytest's
    testpaths do not reach) would be neither run nor leak-scanned: there is none."""
    assert [p for p in all_notebooks() if p.parent != NOTEBOOKS] == []
    assert set(COURSE) <= set(all_notebooks())
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "demo.ipynb").write_text("{}")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "skipped.ipynb").write_text("{}")
    assert all_notebooks(tmp_path) == [tmp_path / "docs" / "demo.ipynb"]


ALL = all_notebooks()


@pytest.mark.parametrize("path", ALL, ids=[str(p.relative_to(ROOT)) for p in ALL])
def test_committed_file_has_no_secret_shaped_string(path: Path) -> None:
    """The committed notebook (sources, outputs, metadata) has nothing the repo hook greps for;
    every notebook in the repository, not only the course's."""
    text = path.read_text()
    assert [m.group(0)[:5] for m in SECRET_PATTERN.finditer(text)] == []


def test_scan_finds_a_planted_secret_and_header() -> None:
    """The scanner reports an issued secret, a secret-shaped string and a printed header."""
    import nbformat  # not at collection (see notebook_scan.read_notebook)

    sb = cft.Sandbox()
    secret = sb.bootstrap_token.reveal()
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "x",
                outputs=[
                    nbformat.v4.new_output("stream", name="stdout", text=f"token={secret}\n"),
                    nbformat.v4.new_output(
                        "execute_result",
                        data={"text/plain": "{'Authorization': 'Bearer abc'}"},
                        execution_count=1,
                    ),
                ],
            ),
            nbformat.v4.new_code_cell(
                "y",
                outputs=[
                    nbformat.v4.new_output(
                        "display_data", data={"text/html": "<td>Bearer " + "k" * 30 + "</td>"}
                    )
                ],
            ),
        ]
    )
    found = leaks(output_texts(nb), [secret])
    assert any("an issued secret" in f for f in found)
    assert any("secret-shaped" in f for f in found)
    assert sum("header" in f for f in found) == 2
    assert leaks([(0, "Secret('cfut_…') and sb.bootstrap_token")], [secret]) == []


def test_issued_secrets_everywhere_covers_every_live_sandbox(
    demo: cft.Sandbox, collect_garbage: Callable[[], object]
) -> None:
    """The process-wide list holds the secrets of every sandbox alive, and forgets dropped ones."""
    first, second = cft.Sandbox(seed=424242), demo  # seed: secrets of its own
    with second.client() as client:
        rolled = client.tokens.roll(str(second.bootstrap_token_id))
    values = {s.reveal() for s in issued_secrets_everywhere()}
    assert first.bootstrap_token.reveal() in values
    assert second.global_api_key.reveal() in values
    assert rolled.reveal() in values
    gone = first.bootstrap_token.reveal()
    del first
    collect_garbage()
    assert gone not in {s.reveal() for s in issued_secrets_everywhere()}
