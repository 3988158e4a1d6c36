"""``cft.scan``: find Cloudflare credentials in files, folders, git history and stdin.

What is read:

- **files and folders**, walked without following a symbolic link out of the tree: a link to
  a place inside the tree is followed once, a link that leaves the tree, loops or dangles is
  skipped with a note, and so are binary files (a NUL byte in the first 8 KiB), files over
  ``max_size`` bytes, special files (FIFOs, sockets, devices) and unreadable paths. ``.git``
  folders are not walked (their objects are compressed): pass ``git=True`` for the history.
- **notebooks** (``.ipynb``): their JSON is scanned as text (secrets in outputs are JSON
  strings), and each hit says which cell and whether it sat in the source or an output.
- **git history** (``git=True``, the path being a repository): every line any commit on any
  ref added, streamed from ``git log -p`` one line at a time, so a long history is never held
  in memory, read as text whatever the repository's ``.gitattributes`` say (``-diff`` or
  ``binary`` cannot hide a line; what holds a NUL byte is skipped with a note). Each hit names
  the commit. Uncommitted changes are not history: scan the folder
  too for those.
- **stdin** (the path ``-``), read in blocks.

Each :class:`Hit` carries the file, line, column, kind, confidence and a fingerprint (the
prefix and the last four characters: never the secret), and the value itself only as a masked
:class:`~cftokens.Secret` (for :func:`~cftokens.leak.verify` and triage). Detection rules are in
:mod:`cftokens.detect`; the hits, the skipped files and :class:`ScanResult` are
:mod:`.results`'.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ..detect import RawHit, detect, fingerprint_of
from ..errors import InvalidInput
from ..model.secret import Secret
from .results import Hit, ScanResult, Skipped
from .verify import Verifier, verifier_of

if TYPE_CHECKING:
    from ..sandbox import Sandbox

__all__ = ["DEFAULT_MAX_SIZE", "Hit", "ScanResult", "Skipped", "scan"]

DEFAULT_MAX_SIZE = 50 * 1024 * 1024
_BLOCK = 8 * 1024 * 1024
_SNIFF = 8192
_ACCOUNT_ID = re.compile(
    rb"(?i)(?:cloudflare_|cf_)?account_?id\\?[\"']?\s*[:=]\s*\\?[\"']?([0-9a-f]{32})\b"
)
_EMAIL = re.compile(
    rb"(?i)(?:cloudflare_|cf_)?(?:e-?mail|x-auth-email)\\?[\"']?\s*[:=]\s*\\?[\"']?"
    rb"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})"
)


def _secret_id(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def _entry_name(entry: os.DirEntry[str]) -> str:
    return entry.name


class _Lines:
    """Byte offset -> (line, column) for one block, for offsets given in increasing order."""

    def __init__(self, data: bytes, first_line: int = 1):
        self.data = data
        self.pos = 0
        self.line = first_line

    def at(self, offset: int) -> tuple[int, int]:
        self.line += self.data.count(b"\n", self.pos, offset)
        self.pos = offset
        start = self.data.rfind(b"\n", 0, offset) + 1
        return self.line, offset - start + 1


_CELL = re.compile(rb'^\s*"cell_type":', re.M)
_SECTION = re.compile(rb'^\s*"(outputs|source|metadata|attachments)":', re.M)


def _notebook_places(data: bytes) -> list[tuple[int, str]]:
    """(byte offset, "cell N source/output") marks of an nbformat file, in order."""
    marks: list[tuple[int, str]] = []
    cell = 0
    cells = [m.start() for m in _CELL.finditer(data)]
    sections = [(m.start(), m.group(1).decode()) for m in _SECTION.finditer(data)]
    events = sorted([(p, "cell", "") for p in cells] + [(p, "section", s) for p, s in sections])
    for pos, what, section in events:
        if what == "cell":
            cell += 1
            marks.append((pos, f"cell {cell}"))
        elif cell:
            name = {"outputs": "output", "source": "source"}.get(section, section)
            marks.append((pos, f"cell {cell} {name}"))
    return marks


def _place(marks: list[tuple[int, str]], offset: int) -> str:
    found = ""
    for pos, label in marks:
        if pos > offset:
            break
        found = label
    return found


_NEAR = 4096  # how far from a secret its account id or e-mail may be


def _nearby(
    pattern: re.Pattern[bytes], needles: tuple[bytes, ...], data: bytes, offset: int
) -> str | None:
    """What ``pattern`` captures closest to ``offset`` (within 4 KiB each side), on the lines
    that hold one of ``needles`` (lower case): the expression runs on those lines only."""
    start = max(0, offset - _NEAR)
    window = data[start : offset + _NEAR]
    low = window.lower()
    found = []
    for needle in needles:
        pos = low.find(needle)
        while pos >= 0:
            line = low.rfind(b"\n", 0, pos) + 1
            end = low.find(b"\n", pos)
            end = len(low) if end < 0 else end
            for m in pattern.finditer(window, line, end):
                found.append((abs(start + m.start() - offset), m.group(1).decode("ascii")))
            pos = low.find(needle, end)
    return min(found)[1] if found else None


class _Scanner:
    def __init__(self, max_size: int):
        self.max_size = max_size
        self.hits: list[Hit] = []
        self.skipped: list[Skipped] = []
        self.files = 0
        self.bytes = 0

    def skip(self, path: str, reason: str) -> None:
        self.skipped.append(Skipped(path=path, reason=reason))

    def block(
        self,
        data: bytes,
        path: str,
        *,
        source: str = "file",
        first_line: int = 1,
        commit: str | None = None,
        where: str = "",
        line_map: Callable[[int], int] | None = None,
        notebook: bool = False,
    ) -> None:
        self.bytes += len(data)
        raw = detect(data)
        if not raw:
            return
        lines = _Lines(data, first_line)
        marks = _notebook_places(data) if notebook else []
        for hit in raw:
            line, column = lines.at(hit.start)
            self.hits.append(
                self._hit(
                    hit,
                    path=path,
                    line=line_map(line) if line_map else line,
                    column=column,
                    source=source,
                    commit=commit,
                    where=_place(marks, hit.start) if notebook else where,
                    account=_nearby(_ACCOUNT_ID, (b"account",), data, hit.start)
                    if hit.kind in ("account_token", "legacy_token")
                    else None,
                    email=_nearby(_EMAIL, (b"mail",), data, hit.start)
                    if hit.kind in ("global_api_key", "legacy_api_key")
                    else None,
                )
            )

    @staticmethod
    def _hit(
        raw: RawHit,
        *,
        path: str,
        line: int,
        column: int,
        source: str,
        commit: str | None,
        where: str,
        account: str | None,
        email: str | None,
    ) -> Hit:
        return Hit(
            path=path,
            line=line,
            column=column,
            kind=raw.kind,
            confidence=raw.confidence,
            fingerprint=fingerprint_of(raw.value),
            secret_id=_secret_id(raw.value),
            source=source,
            where=where,
            context=raw.context,
            commit=commit,
            account_id=account,
            email=email,
            secret=Secret(raw.value),
        )

    # -- files ------------------------------------------------------------------------------
    def file(self, path: str | Path, display: str) -> None:
        try:
            with open(path, "rb") as handle:
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode):
                    self.skip(display, "not a regular file")
                    return
                if info.st_size > self.max_size:
                    self.skip(
                        display,
                        f"larger than the size limit ({info.st_size:,} > {self.max_size:,} "
                        "bytes; raise it with max_size= or --max-size)",
                    )
                    return
                data = handle.read(self.max_size + 1)
        except OSError as exc:
            self.skip(display, f"unreadable: {exc.strerror or exc}")
            return
        if len(data) > self.max_size:
            self.skip(display, f"grew past the size limit ({self.max_size:,} bytes) while read")
            return
        if b"\0" in data[:_SNIFF]:
            self.skip(display, "binary (a NUL byte in its first 8 KiB)")
            return
        self.files += 1
        self.block(data, display, notebook=os.fspath(path).endswith(".ipynb"))

    def stream(self, handle: IO[bytes], display: str) -> None:
        """A stream (stdin) in blocks cut at line ends."""
        self.files += 1
        line = 1
        rest = b""
        while True:
            chunk = handle.read(_BLOCK)
            data = rest + chunk
            if not chunk:
                if data:
                    self.block(data, display, source="stdin", first_line=line)
                return
            cut = data.rfind(b"\n") + 1
            if cut == 0 and len(data) < self.max_size:
                rest = data
                continue
            if cut == 0:
                cut = len(data)  # a line longer than the size limit: scan it as it is
            block, rest = data[:cut], data[cut:]
            self.block(block, display, source="stdin", first_line=line)
            line += block.count(b"\n")

    def tree(self, root: Path, display_root: str) -> None:
        """Walk a folder: regular files and folders are told apart by their inode (no path
        resolution per file); links are resolved, and followed only inside the tree, once."""
        try:
            root_real = root.resolve(strict=True)
            info = os.stat(root)
        except (OSError, RuntimeError) as exc:
            self.skip(display_root, f"unreadable: {exc}")
            return
        seen_dirs: set[tuple[int, int]] = {(info.st_dev, info.st_ino)}
        seen_files: set[tuple[int, int]] = set()
        stack: list[tuple[str, str, int]] = [(os.fspath(root), display_root, info.st_dev)]
        while stack:
            folder, shown, device = stack.pop()
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=_entry_name)
            except OSError as exc:
                self.skip(shown, f"unreadable folder: {exc.strerror or exc}")
                continue
            subfolders: list[tuple[str, str, int]] = []
            for entry in entries:
                name = os.path.join(shown, entry.name) if shown != "." else entry.name
                try:
                    if entry.is_symlink():
                        self._link(Path(entry.path), name, root_real, seen_dirs, seen_files,
                                   subfolders)  # fmt: skip
                    elif entry.is_dir(follow_symlinks=False):
                        if entry.name == ".git":
                            continue
                        sub = entry.stat(follow_symlinks=False)
                        seen_dirs.add((sub.st_dev, sub.st_ino))
                        subfolders.append((entry.path, name, sub.st_dev))
                    elif entry.is_file(follow_symlinks=False):
                        key = (device, entry.inode())
                        if key not in seen_files:
                            seen_files.add(key)
                            self.file(entry.path, name)
                    else:
                        self.skip(name, "not a regular file (a FIFO, socket or device)")
                except OSError as exc:
                    self.skip(name, f"unreadable: {exc.strerror or exc}")
            stack.extend(reversed(subfolders))

    def _link(
        self,
        path: Path,
        name: str,
        root_real: Path,
        seen_dirs: set[tuple[int, int]],
        seen_files: set[tuple[int, int]],
        subfolders: list[tuple[str, str, int]],
    ) -> None:
        try:
            target = path.resolve(strict=True)
            info = os.stat(target)
        except RuntimeError:
            self.skip(name, "a symbolic link loop: not followed")
            return
        except OSError:
            self.skip(name, "a dangling symbolic link (or a loop): not followed")
            return
        if not target.is_relative_to(root_real):
            self.skip(name, f"a symbolic link out of the tree (to {target}): not followed")
            return
        key = (info.st_dev, info.st_ino)
        if stat.S_ISDIR(info.st_mode):
            if key in seen_dirs:
                self.skip(name, "a symbolic link loop (to a folder already walked): not followed")
                return
            seen_dirs.add(key)
            subfolders.append((os.fspath(path), name, info.st_dev))
        elif stat.S_ISREG(info.st_mode):
            if key not in seen_files:
                seen_files.add(key)
                self.file(path, name)
        else:
            self.skip(name, "a symbolic link to a special file: not followed")

    # -- git history ------------------------------------------------------------------------
    def git(self, repo: Path, display: str) -> None:
        git = shutil.which("git")
        if git is None:
            raise InvalidInput("git=True needs the git command; install git or scan the folder")
        check = subprocess.run(
            [git, "-C", str(repo), "rev-parse", "--git-dir"],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode != 0:
            raise InvalidInput(f"{display} is not a git repository (git=True / --git)")
        command = [
            git,
            "-C",
            str(repo),
            "-c",
            "core.quotePath=false",
            "log",
            "-p",
            "--all",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--text",  # a repository's .gitattributes (-diff, binary) must not hide lines
            "--no-renames",
            "--unified=0",
            "--format=%x00commit %H %aI",
        ]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdout is not None
        try:
            self._git_stream(process.stdout, display)
        finally:
            process.stdout.close()
            stderr = process.stderr.read() if process.stderr else b""
            code = process.wait()
            if process.stderr:
                process.stderr.close()
        if code != 0:
            message = stderr.decode("utf-8", "replace").strip().splitlines()
            raise InvalidInput(
                f"git log failed in {display}: {message[-1] if message else f'exit {code}'}"
            )

    def _git_stream(self, stream: IO[bytes], display: str) -> None:
        commit = ""
        when = ""
        path: str | None = None
        added: list[bytes] = []
        numbers: list[int] = []
        size = 0
        next_line = 0
        too_big = False
        commits = 0

        def flush() -> None:
            nonlocal added, numbers, size, too_big
            if path is not None and added and not too_big:
                data = b"".join(added)
                lines = numbers
                if b"\0" in data[:_SNIFF]:
                    self.skip(f"{path} @ {commit[:12]}", "binary (a NUL byte in its first 8 KiB)")
                    added, numbers, size = [], [], 0
                    return

                self.block(
                    data,
                    path,
                    source="git",
                    commit=commit,
                    where=f"commit {commit[:12]} ({when})",
                    line_map=lambda i: lines[i - 1] if 0 < i <= len(lines) else i,
                )
            elif too_big:
                self.skip(
                    f"{path} @ {commit[:12]}",
                    f"the lines this commit added exceed the size limit ({self.max_size:,} bytes)",
                )
            added, numbers, size, too_big = [], [], 0, False

        for raw in stream:
            if raw.startswith(b"\0commit "):
                flush()
                path = None
                parts = raw[1:].decode("ascii", "replace").split()
                commit, when = parts[1], parts[2] if len(parts) > 2 else ""
                commits += 1
            elif raw.startswith(b"diff --git "):
                flush()
                path = None
            elif raw.startswith(b"+++ "):
                path = _diff_path(raw[4:])
            elif raw.startswith(b"@@ "):
                m = re.match(rb"@@ -\d+(?:,\d+)? \+(\d+)", raw)
                next_line = int(m.group(1)) if m else 0
            elif raw.startswith(b"+") and path is not None:
                if too_big:
                    continue
                size += len(raw) - 1
                if size > self.max_size:
                    too_big = True
                    added, numbers = [], []
                    continue
                added.append(raw[1:] if raw.endswith(b"\n") else raw[1:] + b"\n")
                numbers.append(next_line)
                next_line += 1
        flush()
        self.files += commits


def _diff_path(raw: bytes) -> str | None:
    """The file name of a ``+++`` line: git ends it with a tab when it holds a space, and
    C-quotes it when it holds a quote, a backslash or a control character."""
    name = raw.rstrip(b"\n")
    if name.endswith(b"\t"):
        name = name[:-1]
    if name == b"/dev/null":
        return None
    if name.startswith(b'"') and name.endswith(b'"'):
        import codecs

        name = codecs.escape_decode(name[1:-1])[0]
    text = name.decode("utf-8", "replace")
    return text[2:] if text.startswith("b/") else text


def scan(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    git: bool = False,
    verify: bool | Verifier | Sandbox = False,
    account: str | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
    stdin: IO[bytes] | None = None,
) -> ScanResult:
    """Find Cloudflare credentials in ``paths`` (files, folders, ``"-"`` for stdin).

    ``git=True`` scans the history of each path that is a git repository (instead of its
    files). ``verify`` asks the API whether each distinct secret is live: ``True`` (the real
    API, or ``CLOUDFLARE_BASE_URL``), a :class:`~cftokens.Sandbox` or a
    :class:`~cftokens.leak.Verifier`; ``account`` is the account id for account-owned tokens
    when no ``CLOUDFLARE_ACCOUNT_ID``-like line sits in the same file. A path that does not
    exist raises :class:`~cftokens.InvalidInput`; unreadable, binary, huge and linked-out
    paths are skipped and listed in :attr:`ScanResult.skipped`.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    items = [os.fspath(p) for p in paths]
    if not items:
        raise InvalidInput("nothing to scan: give at least one file, folder or '-' for stdin")
    if not isinstance(max_size, int) or max_size < 1:
        raise InvalidInput(f"max_size must be a positive number of bytes, got {max_size!r}")
    for item in items:
        if item != "-" and not os.path.lexists(item):
            raise InvalidInput(f"{item} does not exist; check the path")
    scanner = _Scanner(max_size)
    for item in items:
        if item == "-":
            scanner.stream(stdin or sys.stdin.buffer, "<stdin>")
            continue
        path = Path(item)
        if git:
            scanner.git(path, item)
        elif path.is_symlink() and path.is_dir():
            scanner.tree(path.resolve(), item)
        elif path.is_dir():
            scanner.tree(path, item)
        else:
            scanner.file(path, item)
    result = ScanResult(
        hits=tuple(scanner.hits),
        skipped=tuple(scanner.skipped),
        files=scanner.files,
        bytes=scanner.bytes,
    )
    if verify is not False and verify is not None:
        result = result.verify(verifier_of(verify), account=account)
    return result
