"""`cftokens triage`: the secret from a file or stdin only, confirmation, no secret printed."""

from __future__ import annotations

import io
import json
import re
import stat
import sys
from pathlib import Path

import pytest

from cftokens.cli import build_parser, main
from cftokens.sandbox import Sandbox


@pytest.fixture
def leaked(leak_company: Sandbox, cli_demo: list[Sandbox]) -> str:
    """The leaked secret; the command's own ``--sandbox`` is a copy of ``leak_company``
    (``cli_demo``), so the same secrets."""
    sb = leak_company
    match = re.search(r"cfut_\w+", sb.extras["repository"][sb.extras["leak"]["file"]])
    assert match is not None
    return match.group()


def test_triage_roll_and_reports_without_printing_a_secret(
    leaked: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--sandbox triage: sentences and tables printed, roll to a 0600 file, HTML and JSON
    reports written; neither the leaked nor the new secret appears anywhere printed."""
    secret = leaked
    (tmp_path / "leaked.txt").write_text(secret + "\n")
    new = tmp_path / "new.txt"
    code = main(["triage", "--sandbox", "--secret-file", str(tmp_path / "leaked.txt"),
                 "--since", "2026-10-27T14:12:00Z", "--roll", str(new), "--yes",
                 "--report", str(tmp_path / "r.html"), "--json", str(tmp_path / "r.json")])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0
    assert "198.18.77.66" in out and "rolled" in out and "185.199.108.20" in out
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    rolled = new.read_text().strip()
    texts = out + err + (tmp_path / "r.html").read_text() + (tmp_path / "r.json").read_text()
    assert secret not in texts and rolled not in texts
    assert json.loads((tmp_path / "r.json").read_text())["actions"][0]["action"] == "roll"


def test_secret_from_stdin_and_live_uncontained_exits_1(
    leaked: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """'-' reads the secret from stdin; a live secret left as it is exits 1."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(leaked + "\n"))
    assert main(["triage", "--sandbox", "--secret-file", "-"]) == 1
    assert "was not contained" in capsys.readouterr().err


def test_containment_needs_yes_and_a_new_file(
    leaked: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--disable without --yes, or --roll to an existing file: exit 2, nothing changed."""
    (tmp_path / "s.txt").write_text(leaked)
    assert main(["triage", "--sandbox", "--secret-file", str(tmp_path / "s.txt"), "--disable"]) == 2
    (tmp_path / "exists").write_text("x")
    assert main(["triage", "--sandbox", "--secret-file", str(tmp_path / "s.txt"), "--roll",
                 str(tmp_path / "exists"), "--yes"]) == 2  # fmt: skip
    assert (tmp_path / "exists").read_text() == "x"
    assert "--yes" in capsys.readouterr().err


def test_no_option_takes_the_secret_itself() -> None:
    """The secret is never an argument: triage has --secret-file only."""
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices["triage"]  # type: ignore[union-attr]
    options = {o for a in sub._actions for o in a.option_strings}
    assert "--secret-file" in options
    assert not {o for o in options if o in ("--secret", "--token", "--value")}
    assert not [a for a in sub._actions if not a.option_strings and a.dest != "help"]


def test_bad_secret_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing file or one with two values: exit 2 with the reason, no traceback."""
    assert main(["triage", "--sandbox", "--secret-file", str(tmp_path / "nope")]) == 2
    (tmp_path / "two.txt").write_text("a\nb\n")
    assert main(["triage", "--sandbox", "--secret-file", str(tmp_path / "two.txt")]) == 2
    err = capsys.readouterr().err
    assert "No such file" in err and "exactly one secret" in err


def test_an_endless_or_huge_secret_file_is_refused_without_reading_it_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--secret-file /dev/zero (endless) or a 10 MB file: exit 2 saying it is too large; only
    the first few KiB are read."""
    (tmp_path / "big.txt").write_bytes(b"x" * 10_000_000)
    for name in ("/dev/zero", str(tmp_path / "big.txt")):
        assert main(["triage", "--sandbox", "--secret-file", name]) == 2
        assert "more than 4,096 characters" in capsys.readouterr().err


def test_a_report_path_that_cannot_be_written_stops_before_any_containment(
    leaked: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--report or --json into a missing folder is refused before the roll (it was found only
    after rolling: the token changed and the report of it was lost)."""
    (tmp_path / "s.txt").write_text(leaked)
    for option in ("--report", "--json"):
        code = main(["triage", "--sandbox", "--secret-file", str(tmp_path / "s.txt"), "--roll",
                     str(tmp_path / "new.txt"), "--yes", option,
                     str(tmp_path / "missing" / "r.out")])  # fmt: skip
        assert code == 2
        assert not (tmp_path / "new.txt").exists()
        captured = capsys.readouterr()
        assert "rolled" not in captured.out and "missing" in captured.err
