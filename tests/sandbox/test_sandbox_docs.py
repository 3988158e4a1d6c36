"""docs/sandbox.md is the sandbox's reference: the package docstring and the README point at it,
it is well-formed, it lists every error code of the sandbox's own choosing, and no docstring of
the sandbox points outside the repository."""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

import cftokens.sandbox
from cftokens.sandbox import errors

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = Path(cftokens.sandbox.__file__).resolve().parent
DOC = ROOT / "docs" / "sandbox.md"


@functools.cache
def _docstrings(mentioning: str) -> tuple[tuple[str, str], ...]:
    """Every docstring of the sandbox's modules, with where it is, in the modules whose text
    matches the regular expression ``mentioning`` (a docstring that matches it is in such a
    module: the others are not parsed; once per session and pattern)."""
    return tuple(_each_docstring(re.compile(mentioning)))


def _each_docstring(mentioning: re.Pattern[str]) -> Iterator[tuple[str, str]]:
    for path in sorted(SANDBOX.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if not mentioning.search(text):
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node)
                if doc:
                    where = f"{path.relative_to(SANDBOX)}:{getattr(node, 'name', '<module>')}"
                    yield where, doc


OUTSIDE = r"DESIGN\.md|audit-rules\.md|\.\./|shared/"
DOCS = r"docs/[\w./-]+\.md"


def test_no_sandbox_docstring_names_a_file_outside_the_repository() -> None:
    outside = re.compile(OUTSIDE)
    assert [where for where, doc in _docstrings(OUTSIDE) if outside.search(doc)] == []


def test_the_docs_sandbox_docstrings_name_exist() -> None:
    named = {m for _, doc in _docstrings(DOCS) for m in re.findall(DOCS, doc)}
    assert "docs/sandbox.md" in named
    assert "docs/sandbox.md" in (cftokens.sandbox.__doc__ or "")
    assert [name for name in sorted(named) if not (ROOT / name).is_file()] == []


def test_the_readme_links_the_sandbox_reference() -> None:
    assert "](docs/sandbox.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def _rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if line.startswith("|"):
            cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
            rows.append([c.strip() for c in cells])
    return rows


def test_the_choices_table_is_well_formed() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = _rows(text)
    assert rows[0] == ["situation", "the sandbox answers"]
    assert rows[1] == ["---", "---"]
    assert len(rows) > 30
    assert [r for r in rows if len(r) != 2 or not all(r)] == []
    assert text.count("```") % 2 == 0


def test_the_reference_lists_every_code_of_the_sandboxs_choosing() -> None:
    text = DOC.read_text(encoding="utf-8")
    codes = {name: getattr(errors, name) for name in errors.__all__ if name.startswith("CODE_")}
    assert len(codes) >= 6
    assert [name for name, code in codes.items() if f"code {code}" not in text] == []
