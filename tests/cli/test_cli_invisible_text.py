"""The command line shows names as the HTML report does: more than four combining marks on
one letter ("Zalgo", drawn by a terminal over the lines above and below), line and paragraph
separators and other invisible characters are printed as escapes, in tables, findings,
errors, warnings, file names and the progress bar."""

from __future__ import annotations

import ast
import json
import re
import unicodedata
from pathlib import Path

import pytest

import cftokens as cft
from cftokens.audit.collect import _Progress
from cftokens.cli import cell, emit, field, main
from cftokens.sandbox import Sandbox

ZALGO = "zalgo" + "\u0301\u0316\u0354\u0489" * 15  # 60 marks on one letter
SEPARATED = "ci\u2028deploy\u2029prod"
HIDDEN = "ci" + "\u200b\u2060\ufeff\u00ad" + "deploy"
SMUGGLED = "ci" + "".join(chr(0xE0000 + ord(c)) for c in "rm -rf")  # tag characters
# in two parts, so no committed file holds a token-shaped string
TOKEN = "cfut_" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7sXy12Ab"

INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b\u200e\u200f\u2028\u2029\u2060-\u2064\ufeff\U000e0000-\U000e007f]")  # fmt: skip


def most_marks_on_a_letter(text: str) -> int:
    most = run = 0
    for char in text:
        run = run + 1 if unicodedata.combining(char) or unicodedata.category(char) == "Me" else 0
        most = max(most, run)
    return most


def assert_terminal_safe(text: str) -> None:
    assert most_marks_on_a_letter(text) <= 4, "a flood of combining marks reached the terminal"
    assert not INVISIBLE.search(text), "an invisible character reached the terminal"


def test_field_and_emit_show_marks_and_invisible_characters_as_escapes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    shown = field(ZALGO)
    assert shown.startswith("zalgo\u0301\u0316\u0354\u0489\\u0301")  # four kept, the rest escaped
    assert most_marks_on_a_letter(shown) == 4
    assert field(SEPARATED) == "ci\\u2028deploy\\u2029prod"
    assert field(HIDDEN) == "ci\\u200b\\u2060\\ufeff\\u00addeploy"
    # astral characters as JSON writes them: JSON printed through emit keeps its value
    assert field(SMUGGLED).startswith("ci\\udb40\\udc72\\udb40\\udc6d")
    document = json.dumps({"name": SMUGGLED + SEPARATED + ZALGO}, ensure_ascii=False)
    emit(document)
    out = capsys.readouterr().out
    assert_terminal_safe(out)
    assert json.loads(out)["name"] == SMUGGLED + SEPARATED + ZALGO
    # what real scripts need is kept: Vietnamese (2 marks), emoji with joiners and selectors
    for kept in ("Việt Nam ệ", "👩\u200d💻 ops", "☁\ufe0f edge", "नमस्ते", "می\u200cخواهم"):
        assert field(kept) == kept
    assert cell(ZALGO, 12).startswith("zalgo\u0301\u0316\u0354\u0489\\u0")


def test_the_audit_table_and_findings_show_hostile_names_escaped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cftokens audit`: each hostile name is one row of escapes; no mark flood, no
    separator, no invisible character reaches the terminal."""
    sb = Sandbox()
    for name in (ZALGO, SEPARATED, HIDDEN, SMUGGLED):
        policy = cft.Policy.allow(["API Tokens Write"], user=sb.user_id)
        sb.create_token(cft.TokenSpec(name=name, policies=[policy]))
    monkeypatch.setattr(Sandbox, "demo", classmethod(lambda cls, **kw: sb))
    assert main(["audit", "--sandbox", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert_terminal_safe(out + err)
    assert "ci\\u2028deploy\\u2029prod" in out
    assert "zalgo\u0301\u0316\u0354\u0489\\u0301" in out
    assert "ci\\udb40\\udc72" in out and "ci\\u200b" in out


def test_scan_shows_a_hostile_file_name_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ("evil" + "\u0301" * 40 + "\u2028.env")).write_text(f"T={TOKEN}\n")
    assert main(["scan", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert_terminal_safe(out + err)
    assert "evil\u0301\u0301\u0301\u0301\\u0301" in out and "\\u2028.env" in out


def test_errors_warnings_and_the_progress_bar_show_them_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "--input", str(tmp_path / f"{ZALGO}{SEPARATED}.json")]) == 2
    err = capsys.readouterr().err
    assert_terminal_safe(err)
    assert "\\u2028deploy" in err
    bar = _Progress(True, 2)
    bar.step(f"tokens of {ZALGO}{SMUGGLED}")
    postfix = bar.bar.postfix
    bar.close()
    assert_terminal_safe(postfix + capsys.readouterr().err)


def test_the_cli_prints_only_through_emit() -> None:
    """Every line the commands print goes through emit (so through the rule above): no
    print() or stream write of their own."""
    cli = Path(cft.__file__).parent / "cli"
    found = []
    for path in sorted(cli.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef) and function.name == "emit":
                function.body = []  # the one place that prints
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                target = ast.unparse(node.func)
                if target == "print" or target.endswith(("stdout.write", "stderr.write")):
                    found.append(f"{path.name}:{node.lineno}: {target}")
    assert found == []
