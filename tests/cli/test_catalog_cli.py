"""`cftokens catalog`: groups, operations and templates from the command line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cftokens.cli import main

ZONE = "023e105f4ecef8ad9ca31a8372d0c353"


def test_search_prints_matching_groups(capsys: pytest.CaptureFixture[str]) -> None:
    """--search prints the matching groups with scope, level and id."""
    assert main(["catalog", "--search", "dns write"]) == 0
    out = capsys.readouterr().out
    assert "DNS Write" in out and "4755a26eedb94da69e1066d98aa820be" in out
    assert "permission group(s)" in out


def test_scope_filter_prints_only_that_scope(capsys: pytest.CaptureFixture[str]) -> None:
    """--scope user prints the six user groups only."""
    assert main(["catalog", "--scope", "user"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if " user " in line]
    assert len(lines) == 6


def test_operations_match_prints_accepted_groups(capsys: pytest.CaptureFixture[str]) -> None:
    """operations --match prints the operation, its zone and the groups that allow it."""
    assert main(["catalog", "operations", "--match", f"GET /zones/{ZONE}/dns_records"]) == 0
    out = capsys.readouterr().out
    assert "GET /zones/{zone_id}/dns_records" in out
    assert f"zone: {ZONE}" in out
    assert "DNS Read" in out and "DNS Write" in out


def test_unmapped_operations_say_so(capsys: pytest.CaptureFixture[str]) -> None:
    """An operation without permission annotations is reported as undocumented."""
    assert main(["catalog", "--match", "GET /user/tokens/verify"]) == 0
    assert "none known (Cloudflare's schema names no permission group" in capsys.readouterr().out


def test_templates_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    """catalog templates lists the eight templates, marking the inferred one."""
    assert main(["catalog", "templates"]) == 0
    out = capsys.readouterr().out
    assert "Edit zone DNS" in out and "Read All Resources (inferred)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["catalog", "--search", "zzqq"], "no permission group matches"),
        (["catalog", "operations"], "needs --match"),
        (["catalog", "--match", "GET"], "takes 'METHOD PATH'"),
        (["catalog", "--match", "GET /nope"], "no API operation matches"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unknown names and malformed arguments print a clear message and exit with code 2."""
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_a_choice_argparse_refuses_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown --scope is refused by the parser: exit 2 naming the bad choice."""
    with pytest.raises(SystemExit) as done:
        main(["catalog", "--scope", "galaxy"])
    assert done.value.code == 2 and "invalid choice" in capsys.readouterr().err


@pytest.mark.slow
def test_console_script_runs() -> None:
    """The installed `cftokens` entry point runs and exits 2 on an unknown choice."""
    ok = subprocess.run(
        [sys.executable, "-m", "cftokens.cli", "catalog", "--search", "Cache Purge"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ok.returncode == 0 and "Cache Purge" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "cftokens.cli", "catalog", "--scope", "galaxy"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_a_reader_that_went_away_ends_the_command_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In-process twin of the piped test below: stdout is a pipe whose reader is gone (its
    first line raises BrokenPipeError). The command returns 141 without a traceback, and
    stdout now writes to /dev/null, so the interpreter's final flush is silent too."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    with open(write_end, "w", encoding="utf-8", buffering=1) as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        assert main(["catalog", "templates"]) == 141
        stdout.write("more than a pipe holds\n" * 10_000)
        stdout.flush()  # /dev/null now: no BrokenPipeError
        monkeypatch.undo()
    err = capsys.readouterr().err
    assert "Traceback" not in err and "BrokenPipe" not in err, err


@pytest.mark.slow
def test_templates_piped_into_head_end_without_a_traceback() -> None:
    """`cftokens catalog templates | head -2`: the closed pipe ends the command quietly."""
    # Printed 200 times over, so the output surely outgrows the pipe's buffer.
    command = (
        f"{sys.executable} -c 'import sys; from cftokens.cli import main; "
        'codes = (main(["catalog", "templates"]) for _ in range(200)); '
        "sys.exit(next((c for c in codes if c), 0))' | head -2"
    )
    run = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=120
    )
    assert run.stdout.splitlines() == ["Edit zone DNS", "    DNS Write" + " " * 42 + "zone"]
    assert "Traceback" not in run.stderr and "BrokenPipeError" not in run.stderr, run.stderr
    assert run.returncode == 141  # 128 + SIGPIPE, as a shell reports it
