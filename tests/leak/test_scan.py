"""cft.scan over files, folders, notebooks, stdin and git history; bad input skipped with a note."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import tracemalloc
from pathlib import Path

import pytest

import cftokens as cft
from cftokens.leak import Hit, ScanResult, scan

BODY = "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7s"
TOKEN = f"cfut_{BODY}Xy12Ab"
LEGACY = "Zq8Lm2Np4Rs6Tu8Vw0Xy2Za4Bc6De8Fg0Hi2Jk4L"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def renderings(result: ScanResult) -> list[str]:
    """Every way a scan result is shown: repr, table, JSON, SARIF, HTML, the frame as CSV."""
    return [
        repr(result),
        result.table(),
        result.to_json(),
        result.to_sarif(),
        result._repr_html_(),
        result.frame.to_csv(),
    ]


def test_a_folder_gives_file_line_kind_and_fingerprint_never_the_secret(tmp_path: Path) -> None:
    """Each hit names its file and line; nothing the result renders holds the value."""
    write(tmp_path / "app" / "settings.py", f"# settings\nTOKEN = '{TOKEN}'\n")
    write(tmp_path / ".env", f"CLOUDFLARE_API_TOKEN={LEGACY}\nCLOUDFLARE_ACCOUNT_ID={'a' * 32}\n")
    result = scan(tmp_path)
    by_file = {Path(h.path).name: h for h in result.hits}
    assert set(by_file) == {"settings.py", ".env"}
    assert (by_file["settings.py"].line, by_file["settings.py"].column) == (2, 10)
    assert by_file["settings.py"].fingerprint == "cfut_…12Ab"
    assert by_file[".env"].account_id == "a" * 32
    rendered = [*renderings(result), repr(result.hits)]
    for text in rendered:
        assert TOKEN not in text and LEGACY not in text and BODY not in text
    assert result.secret("cfut_…12Ab").reveal() == TOKEN


def test_the_same_secret_twice_is_one_distinct_secret(tmp_path: Path) -> None:
    """Two files with one secret: two hits, one secret id."""
    write(tmp_path / "a.txt", TOKEN)
    write(tmp_path / "b.txt", f"x {TOKEN}")
    result = scan(tmp_path)
    assert len(result.hits) == 2 and len(result.distinct()) == 1


def test_binary_huge_and_special_files_are_skipped_with_a_note(tmp_path: Path) -> None:
    """A NUL byte, a file over max_size and a FIFO are listed as skipped, never read."""
    write(tmp_path / "image.png", b"\x89PNG\0\0" + TOKEN.encode())
    write(tmp_path / "big.log", "x" * 2000 + TOKEN)
    os.mkfifo(tmp_path / "pipe")
    result = scan(tmp_path, max_size=1000)
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert reasons["image.png"].startswith("binary")
    assert reasons["big.log"].startswith("larger than the size limit")
    assert "not a regular file" in reasons["pipe"]
    assert result.hits == ()


def test_unreadable_paths_are_skipped_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that cannot be opened (permissions) is a note, and the scan goes on."""
    write(tmp_path / "secret.env", TOKEN)
    write(tmp_path / "ok.env", TOKEN)
    real_open = open

    def guarded(path: object, *args: object, **kwargs: object) -> object:
        if str(path).endswith("secret.env"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", guarded)
    result = scan(tmp_path)
    assert [Path(h.path).name for h in result.hits] == ["ok.env"]
    assert [(Path(s.path).name, s.reason) for s in result.skipped] == [
        ("secret.env", "unreadable: Permission denied")
    ]


def test_symlinks_loops_and_links_out_of_the_tree_are_not_followed(tmp_path: Path) -> None:
    """A loop and a link leaving the tree are notes; a link inside the tree is read once."""
    outside = write(tmp_path / "outside" / "creds.env", TOKEN)
    root = tmp_path / "repo"
    write(root / "src" / "real.env", f"CLOUDFLARE_API_TOKEN={LEGACY}\n")
    os.symlink(root, root / "src" / "loop")
    os.symlink(outside, root / "escape.env")
    os.symlink(tmp_path / "outside", root / "escape-dir")
    os.symlink(root / "src" / "real.env", root / "alias.env")
    os.symlink(root / "nowhere", root / "dangling")
    result = scan(root)
    assert [Path(h.path).name for h in result.hits] == ["alias.env"]  # real.env: same file
    reasons = {Path(s.path).name: s.reason for s in result.skipped}
    assert "loop" in reasons["loop"]
    assert "out of the tree" in reasons["escape.env"]
    assert "out of the tree" in reasons["escape-dir"]
    assert "dangling" in reasons["dangling"]


def test_notebook_hits_name_the_cell_and_whether_source_or_output(tmp_path: Path) -> None:
    """In an .ipynb, a secret printed by cell 2 is reported as cell 2's output."""
    import nbformat

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Setup"),
            nbformat.v4.new_code_cell(
                "print(token)",
                outputs=[nbformat.v4.new_output("stream", name="stdout", text=TOKEN + "\n")],
            ),
            nbformat.v4.new_code_cell(f'os.environ["CLOUDFLARE_API_TOKEN"] = "{LEGACY}"'),
        ]
    )
    path = tmp_path / "leaky.ipynb"
    nbformat.write(nb, path)
    result = scan(path)
    assert [(h.kind, h.where) for h in result.hits] == [
        ("user_token", "cell 2 output"),
        ("legacy_token", "cell 3 source"),
    ]


def test_stdin_is_read_in_blocks_and_lines_are_counted_across_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """'-' reads stdin; a hit after a block boundary has its true line number."""
    monkeypatch.setattr("cftokens.leak.scanner._BLOCK", 64)
    text = "".join(f"line {i}\n" for i in range(1, 40)) + f"CLOUDFLARE_API_TOKEN={LEGACY}\n"
    result = scan("-", stdin=io.BytesIO(text.encode()))
    assert [(h.path, h.line, h.source) for h in result.hits] == [("<stdin>", 40, "stdin")]


def test_a_missing_path_is_an_error_that_says_so(tmp_path: Path) -> None:
    """A path that does not exist raises InvalidInput naming it; nothing is scanned."""
    with pytest.raises(cft.InvalidInput, match="does not exist"):
        scan(tmp_path / "nope")


def test_the_frame_has_real_dtypes_and_no_secret(tmp_path: Path) -> None:
    """DataFrame: categories for kind/confidence/status, ints for line; no secret column."""
    write(tmp_path / "a.env", TOKEN)
    frame = scan(tmp_path).frame
    assert str(frame["kind"].dtype) == "category" and str(frame["line"].dtype) == "int64"
    assert "secret" not in frame.columns
    assert TOKEN not in frame.to_string()


def test_sarif_is_2_1_0_with_locations_and_one_rule_per_kind(tmp_path: Path) -> None:
    """SARIF: version 2.1.0, results point at file/line/column, rules cover every kind."""
    write(tmp_path / "a.env", f"\n\nTOKEN={TOKEN}\n")
    doc = json.loads(scan(tmp_path).to_sarif())
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert len(rules) == 5
    precision = {r["name"]: r["properties"]["precision"] for r in rules.values()}
    assert precision["UserTokenInSource"] == "high"
    assert precision["LegacyTokenInSource"] == "medium"
    (result,) = run["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 3, "startColumn": 7}
    assert result["partialFingerprints"]["cftokensSecret/v1"] == scan(tmp_path).hits[0].secret_id


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> None:
    subprocess.run(
        ["git", "-C", str(repo), *args],
        input=stdin,
        check=True,
        capture_output=True,
        env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
             "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"},
    )  # fmt: skip


def _history(repo: Path, commits: int, secret_at: int, filler: int = 200) -> None:
    """A repository of ``commits`` commits made with git fast-import (one file each)."""
    _git(repo, "init", "-q")
    parts = []
    for i in range(1, commits + 1):
        body = f"# change {i}\n" + ("x = 1\n" * (filler // 6))
        if i == secret_at:
            body += f"CLOUDFLARE_API_TOKEN={LEGACY}\n"
        data = body.encode()
        message = f"change {i}\n"
        parts.append(
            f"commit refs/heads/main\nmark :{i}\ncommitter t <t@example.com> {1700000000 + i} "
            f"+0000\ndata {len(message)}\n{message}" + ("" if i == 1 else f"from :{i - 1}\n")
        )
        parts.append(f"M 644 inline f{i % 50}.txt\ndata {len(data)}\n")
        parts.append(data.decode() + "\n")
    _git(repo, "fast-import", "--quiet", stdin="".join(parts).encode())


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_history_names_the_commit_and_the_line_it_added(tmp_path: Path) -> None:
    """A secret added in commit 7 then removed is found in history, with its line."""
    _history(tmp_path, 12, secret_at=7)
    result = scan(tmp_path, git=True)
    (hit,) = result.hits
    assert (hit.source, hit.path, hit.kind) == ("git", "f7.txt", "legacy_token")
    assert hit.line == 35 and hit.commit and hit.where.startswith(f"commit {hit.commit[:12]}")
    assert result.files == 12  # commits read
    assert scan(tmp_path).hits == ()  # the working tree (empty: fast-import) has nothing


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_history_of_10000_commits_is_streamed_not_loaded(tmp_path: Path) -> None:
    """10,000 commits (about 2 MB of patches) scan with a bounded peak of Python memory."""
    _history(tmp_path, 10_000, secret_at=9_500, filler=200)
    tracemalloc.start()
    try:
        result = scan(tmp_path, git=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.files == 10_000
    assert [h.path for h in result.hits] == ["f0.txt"]
    assert peak < 1_000_000, f"peak {peak:,} bytes: the history was held in memory"


def test_not_a_git_repository_is_a_clear_error(tmp_path: Path) -> None:
    """git=True on a plain folder says it is not a repository."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    with pytest.raises(cft.InvalidInput, match="not a git repository"):
        scan(tmp_path, git=True)


def test_hit_repr_has_no_secret() -> None:
    """A Hit's repr leaves the secret out."""
    hit = scan("-", stdin=io.BytesIO(TOKEN.encode())).hits[0]
    assert isinstance(hit, Hit) and TOKEN not in repr(hit) and BODY not in repr(hit)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_attributes_cannot_hide_a_committed_secret(tmp_path: Path) -> None:
    """A repository's .gitattributes (-diff, binary) would make git log print "Binary files
    differ" instead of the lines: the history is read as text, so the secret is still found;
    a file holding a NUL byte is skipped with a note, as in a folder scan; a path with a
    space (git ends its diff header with a tab) or a quote (git C-quotes it) is shown as it
    is."""
    _git(tmp_path, "init", "-q")
    (tmp_path / ".gitattributes").write_text("*.env -diff\n*.cfg binary\n")
    (tmp_path / "app.env").write_text(f"CLOUDFLARE_API_TOKEN={LEGACY}\n")
    (tmp_path / "b.cfg").write_text(f"CLOUDFLARE_API_TOKEN={LEGACY}\n")
    (tmp_path / "with space.txt").write_text(f"CLOUDFLARE_API_TOKEN={LEGACY}\n")
    (tmp_path / 'quo"té.txt').write_text(f"CLOUDFLARE_API_TOKEN={LEGACY}\n")
    (tmp_path / "nul.txt").write_bytes(f"CLOUDFLARE_API_TOKEN={LEGACY}\n\0\n".encode())
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "add")
    _git(tmp_path, "rm", "-q", "app.env", "b.cfg", "with space.txt", 'quo"té.txt', "nul.txt")
    _git(tmp_path, "commit", "-qm", "remove")
    result = scan(tmp_path, git=True)
    assert sorted(h.path for h in result.hits) == [
        "app.env",
        "b.cfg",
        'quo"té.txt',
        "with space.txt",
    ]
    (skipped,) = result.skipped
    assert skipped.path.startswith("nul.txt @ ") and "binary" in skipped.reason


def test_sarif_uris_are_percent_encoded_uri_references(tmp_path: Path) -> None:
    """A path with a space, '#', '%' or a non-ASCII letter is a valid URI reference in SARIF
    (a raw '#' would make the rest a fragment: code scanning would point at another file)."""
    from urllib.parse import unquote

    name = "my secrets#1 100% é.env"
    (tmp_path / name).write_text(f"CLOUDFLARE_API_TOKEN={LEGACY}\n")
    run = json.loads(scan(tmp_path / name).to_sarif())["runs"][0]
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert re.fullmatch(r"[A-Za-z0-9/._~%-]+", uri), uri
    assert unquote(uri) == (tmp_path / name).as_posix()


def test_a_file_name_that_is_not_utf8_is_reported_with_escapes(tmp_path: Path) -> None:
    """Linux file names are bytes: ``bad\\xff.py`` reaches Python as a lone surrogate. Reports
    name it as ``bad\\xff.py`` (recognisable; SARIF's URI as ``bad%FF.py``) and every
    rendering encodes as UTF-8."""
    name = os.fsdecode(b"bad\xff\xfename.py")
    try:
        (tmp_path / name).write_text(f"TOKEN = '{TOKEN}'\n", encoding="utf-8")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses a file name that is not UTF-8")
    result = scan(tmp_path)
    (hit,) = result.hits
    assert hit.path.endswith(name)  # the path as the OS gives it: it opens the file
    assert hit.to_dict()["path"].endswith("bad\\xff\\xfename.py")
    rendered = renderings(result)
    for text in rendered:
        assert text.encode("utf-8") and TOKEN not in text
    for text in rendered[1:]:
        if text is not rendered[3]:
            assert "bad\\xff\\xfename.py" in text.replace("\\\\", "\\"), text
    assert "bad%FF%FEname.py" in rendered[3]  # SARIF's URI: the name's own bytes
