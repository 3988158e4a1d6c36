"""``cftokens sandbox serve``: the command in-process serving on a free loopback port (one real
server process, slow, checks the command line's own process), the bootstrap token printed once
or written 0600, the attendee CSV 0600, bad flags refused."""

from __future__ import annotations

import csv
import os
import signal
import socket
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import free_port, loopback_get, serve_process

import cftokens.sandbox.server
from cftokens.cli import main
from cftokens.cli.sandbox import _reachable_host


@contextmanager
def serve(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> Iterator[tuple[str, list[str]]]:
    """Run ``cftokens sandbox serve ARGS`` on a free port in this process (a thread) until its
    server accepts connections; yield (url, the lines printed); stop it afterwards (as Ctrl-C
    would) and check the command then exits 0."""
    servers: list[Any] = []
    make_server = cftokens.sandbox.server.make_server

    def recorded(*a: Any, **kw: Any) -> Any:
        servers.append(make_server(*a, **kw))
        return servers[-1]

    monkeypatch.setattr(cftokens.sandbox.server, "make_server", recorded)
    port = free_port()
    codes: list[int] = []
    thread = threading.Thread(
        target=lambda: codes.append(main(["sandbox", "serve", "--port", str(port), *args]))
    )
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not (servers and servers[0].started):
            assert thread.is_alive() and time.monotonic() < deadline, capsys.readouterr()
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}/client/v4", capsys.readouterr().out.splitlines(True)
    finally:
        if servers:
            servers[0].handle_exit(signal.SIGINT, None)  # what Ctrl-C calls
        thread.join(timeout=30)
    assert codes == [0]


@pytest.mark.slow
def test_a_real_serve_process_prints_its_url_and_token_and_stops_on_terminate() -> None:
    """``python -m cftokens sandbox serve`` as a process: it prints the URL and the bootstrap
    token once, serves that token, and stops when terminated."""
    with serve_process("--seed", "empty") as (process, url, lines):
        printed = [line for line in lines if "bootstrap token" in line]
        assert len(printed) == 1 and any(url in line for line in lines)
        token = printed[0].rsplit(" ", 1)[1].strip()
        r = loopback_get(url + "/user/tokens/verify", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["result"]["status"] == "active"
    assert process.returncode is not None


def test_serve_prints_url_and_token_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --token-file the bootstrap token is printed once and works against the URL."""
    with serve(monkeypatch, capsys, "--seed", "empty") as (url, lines):
        printed = [line for line in lines if "bootstrap token" in line]
        assert len(printed) == 1
        token = printed[0].rsplit(" ", 1)[1].strip()
        assert token.startswith("cfut_")
        assert any(url in line for line in lines)
        r = loopback_get(url + "/user/tokens/verify", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["result"]["status"] == "active"


def test_serve_writes_private_files_and_keeps_secrets_off_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--token-file and --attendee-file are written with mode 0600; stdout names the files but
    holds no secret; each attendee's token works."""
    token_file = tmp_path / "token"
    roster = tmp_path / "attendees.csv"
    args = ["--seed", "demo", "--token-file", str(token_file)]
    args += ["--attendees", "1", "--attendee-file", str(roster)]
    with serve(monkeypatch, capsys, *args) as (url, lines):
        output = "".join(lines)
        assert str(token_file) in output and str(roster) in output
        assert "cfut_" not in output
        for path in (token_file, roster):
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        token = token_file.read_text().strip()
        assert (
            loopback_get(
                url + "/user/tokens/verify", headers={"Authorization": f"Bearer {token}"}
            ).status_code
            == 200
        )
        rows = list(csv.DictReader(roster.open()))
        assert [r["attendee"] for r in rows] == ["1"]  # numbering: the reopened-db test
        for row in rows:
            assert row["base_url"] == url
            r = loopback_get(url + "/accounts", headers={"Authorization": f"Bearer {row['token']}"})
            assert r.status_code == 200 and r.json()["result_info"]["total_count"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--attendees", "3"], "--attendee-file"),
        (["--attendee-file", "x.csv"], "--attendees"),
        (["--port", "0"], "--port"),
        (["--faults", "rate=7"], "rate"),
        (["--rate-limit", "fast"], "rate limit"),
    ],
)
def test_bad_flags_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Inconsistent or invalid flags exit with code 2 and a message naming the flag (on a free
    port: the default 8787 may be taken on the machine running the tests)."""
    port = [] if "--port" in args else ["--port", str(free_port())]
    assert main(["sandbox", "serve", *port, *args]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--token-file", "--attendee-file"])
def test_an_unwritable_output_file_is_refused_before_anything_is_created(
    flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A --token-file or --attendee-file in a missing folder exits 2 before the --db file is
    created, so no database is left behind with a bootstrap secret nobody saw."""
    db = tmp_path / "sandbox.db"
    target = str(tmp_path / "missing" / "out")
    args = ["--db", str(db), flag, target]
    if flag == "--attendee-file":
        args += ["--attendees", "1"]
    assert main(["sandbox", "serve", "--port", str(free_port()), *args]) == 2
    assert flag in capsys.readouterr().err
    assert not db.exists()


def test_a_port_in_use_is_refused_before_anything_is_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A port another process listens on exits 2 naming --port, and prints no token."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["sandbox", "serve", "--seed", "empty", "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert "--port" in err and "cfut_" not in out + err


def test_sandbox_without_action_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """``cftokens sandbox`` alone says which action to choose."""
    assert main(["sandbox"]) == 2
    assert "serve" in capsys.readouterr().err


def test_more_attendees_on_a_reopened_db_keep_the_earlier_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Adding attendees to a reopened --db appends them to the attendee file: the tokens
    handed out before stay listed, numbering continues, and every token still works."""
    db, roster = tmp_path / "workshop.db", tmp_path / "attendees.csv"
    base = ["--seed", "empty", "--db", str(db), "--token-file", str(tmp_path / "token")]
    with serve(monkeypatch, capsys, *base, "--attendees", "2", "--attendee-file", str(roster)):
        pass
    with serve(monkeypatch, capsys, *base, "--attendees", "1", "--attendee-file", str(roster)) as (
        url,
        lines,
    ):
        rows = list(csv.DictReader(roster.open()))
        assert [r["attendee"] for r in rows] == ["1", "2", "3"]
        assert stat.S_IMODE(os.stat(roster).st_mode) == 0o600
        assert any("after its 2 earlier rows" in line for line in lines)
        for row in rows:
            auth = {"Authorization": f"Bearer {row['token']}"}
            assert loopback_get(url + "/user/tokens/verify", headers=auth).status_code == 200


def test_a_wildcard_host_gives_attendees_a_reachable_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --host 0.0.0.0 the attendee file and the banner name this machine's address,
    never 0.0.0.0, which attendees cannot connect to."""

    assert _reachable_host("127.0.0.1") == "127.0.0.1"
    assert _reachable_host("0.0.0.0") not in ("0.0.0.0", "")
    roster = tmp_path / "attendees.csv"
    args = ["--seed", "empty", "--host", "0.0.0.0", "--token-file", str(tmp_path / "token")]
    with serve(monkeypatch, capsys, *args, "--attendees", "1", "--attendee-file", str(roster)) as (
        _url,
        lines,
    ):
        rows = list(csv.DictReader(roster.open()))
        assert "0.0.0.0" not in rows[0]["base_url"]
        assert not any("serving http://0.0.0.0" in line for line in lines)
