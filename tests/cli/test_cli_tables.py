"""The command line's tables line up on any console: names in other scripts, wide and
combining characters, and streams that cannot encode them (an ASCII or Latin-1 console)."""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path

import pytest

import cftokens as cft
from cftokens.cli import cell, main

NAMES = [
    "plain ci token",
    "Zoë's déploiement",
    "東京の本番デプロイ",
    "e\u0301clair combining",
    "🙂 bot 🙂🙂",
    "evil\u202eexe",
    "x" * 120,
]


def columns(text: str) -> int:
    """Terminal columns, counted independently of the code under test."""
    total = 0
    for char in text:
        if unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        total += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return total


def stream(encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding)


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "utf-8"])
@pytest.mark.parametrize("width", [8, 20, 34])
def test_a_cell_is_exactly_its_width_in_what_the_stream_can_write(
    encoding: str, width: int
) -> None:
    """Every cell, padded or cut, takes ``width`` columns and encodes on the stream."""
    out = stream(encoding)
    for name in NAMES:
        for right in (False, True):
            text = cell(name, width, right=right, file=out)
            text.encode(encoding)  # writable as it is: nothing widened later
            assert columns(text) == width, (name, text)
    assert cell("東京の本番デプロイ", 12, file=stream("ascii")).startswith("\\u6771")
    assert cell("x" * 40, 10, file=stream("utf-8")) == "x" * 9 + "…"
    assert cell("x" * 40, 10, file=stream("ascii")) == "x" * 7 + "..."
    assert cell("東京東京東京", 7, file=stream("utf-8")) == "東京東…"


def console_rows(tmp_path: Path, encoding: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The audit command's table of worst tokens, printed on a console of ``encoding``."""
    tokens = [
        {"id": f"{i:032x}", "name": name, "status": "active", "policies": []}
        for i, name in enumerate(NAMES, start=1)
    ]
    export = tmp_path / "in.json"
    export.write_text(cft.Audit.from_records(tokens=tokens).to_json(), encoding="utf-8")
    raw = io.BytesIO()
    console = io.TextIOWrapper(raw, encoding=encoding)
    monkeypatch.setattr("sys.stdout", console)
    argv = ["audit", "--input", str(export), "--output", str(tmp_path / "r.json"), "--no-progress"]
    assert main([*argv, "--format", "json"]) == 0
    console.flush()
    lines = raw.getvalue().decode(encoding).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("token "))
    return lines[start : start + 1 + len(NAMES)]


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "utf-8"])
def test_the_audit_table_lines_up_on_every_console(
    tmp_path: Path, encoding: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each row's kind column starts where the header's does (it drifted by the width of each
    escape on an ASCII console, and by one per wide character everywhere)."""
    rows = console_rows(tmp_path, encoding, monkeypatch)
    assert len(rows) == 1 + len(NAMES)
    at = [columns(re.split(r" (?=(?:kind|user|account) )", row, maxsplit=1)[0]) for row in rows]
    assert at == [34] * len(rows), rows
    assert {columns(row) for row in rows} == {columns(rows[0])}, rows
