"""What the command line prints and writes is safe for the person reading it: no terminal
escape from a token name, error or warning reaches the terminal, and no CSV cell it writes is
a spreadsheet formula."""

from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

import cftokens as cft
from cftokens.audit.collect import _Progress
from cftokens.cli import main
from cftokens.cli.sandbox import ATTENDEE_HEADER, _append_attendees
from cftokens.sandbox import Sandbox

CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
ERASE = "\x1b[1A\x1b[2K"


def _sandbox_with(names: list[str]) -> Sandbox:
    sb = Sandbox()
    for name in names:
        sb.create_token(
            cft.TokenSpec(name=name, policies=[cft.Policy.allow(["API Tokens Write"], user=sb.user_id)])
        )  # fmt: skip
    return sb


def test_audit_table_shows_escapes_instead_of_running_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A name holding ANSI erase/hide sequences or a newline stays one visible row of the
    table; nothing the terminal would interpret is printed."""
    names = [ERASE + "worst", "\x1b[8mhidden", "ci\nforged  user  critical  1  1.0"]
    sb = _sandbox_with(names)
    monkeypatch.setattr(Sandbox, "demo", classmethod(lambda cls, **kw: sb))
    assert main(["audit", "--sandbox", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert not CONTROL.search(out) and not CONTROL.search(err)
    assert "\\x1b[1A\\x1b[2Kworst" in out and "\\x1b[8mhidden" in out
    rows = [line for line in out.splitlines() if "forged" in line]
    assert len(rows) == 1 and rows[0].startswith("ci\\nforged")


def test_cli_errors_and_warnings_are_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An error message and a warning carrying input text are printed as one escaped line."""
    bad = tmp_path / "missing\x1b[2J.json"
    assert main(["audit", "--input", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "\\x1b[2J" in err and not CONTROL.search(err)

    def noisy(args: Any) -> int:
        warnings.warn("name \x1b[2Kgone\nforged", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr("cftokens.cli.audit.run", noisy)
    assert main(["audit", "--sandbox"]) == 0
    err = capsys.readouterr().err
    assert "\\x1b[2Kgone\\nforged" in err and not CONTROL.search(err)


def test_attendee_file_holds_no_formula_cell(tmp_path: Path) -> None:
    """The attendee CSV is written with OWASP's neutralisation: earlier rows planted with
    formulas come back quoted, the generated rows unchanged."""
    roster = tmp_path / "attendees.csv"
    with roster.open("w", newline="") as handle:
        csv.writer(handle).writerows([ATTENDEE_HEADER, ["1", '=HYPERLINK("x")', "u", "b", "t"]])
    _append_attendees(str(roster), [["2", "a2@example.com", "-1+cmd", "http://h", "cfut_x"]])
    with roster.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1][1] == '\'=HYPERLINK("x")'
    assert rows[2] == ["2", "a2@example.com", "'-1+cmd", "http://h", "cfut_x"]


def test_progress_description_escapes_server_names(capsys: pytest.CaptureFixture[str]) -> None:
    """The progress bar's label names accounts the server chose: shown escaped."""

    bar = _Progress(True, 2)
    bar.step("tokens of \x1b[2JAcme\r")
    postfix = bar.bar.postfix
    bar.close()
    assert postfix == "tokens of \\x1b[2JAcme\\x0d"
    assert "\x1b[2J" not in capsys.readouterr().err
