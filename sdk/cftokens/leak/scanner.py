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
:mod:`cftokens.detect`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from attrs import evolve, field, frozen

from .. import __version__
from .._files import write_atomic
from .._shown import field_repr, html_repr
from .._text import path_text, unicode_text
from .._text import printable as plain
from ..detect import KINDS, RawHit, detect, fingerprint_of
from ..errors import InvalidInput
from ..model.secret import Secret
from .sarif import scan_sarif
from .verify import Verifier, verifier_of

if TYPE_CHECKING:
    import pandas as pd

    from ..sandbox import Sandbox

__all__ = ["DEFAULT_MAX_SIZE", "Hit", "ScanResult", "Skipped", "scan"]

DEFAULT_MAX_SIZE = 50 * 1024 * 1024
_BLOCK = 8 * 1024 * 1024
_SNIFF = 8192
STATUSES = ("live", "expired/disabled", "invalid", "unknown")
_ACCOUNT_ID = re.compile(
    rb"(?i)(?:cloudflare_|cf_)?account_?id\\?[\"']?\s*[:=]\s*\\?[\"']?([0-9a-f]{32})\b"
)
_EMAIL = re.compile(
    rb"(?i)(?:cloudflare_|cf_)?(?:e-?mail|x-auth-email)\\?[\"']?\s*[:=]\s*\\?[\"']?"
    rb"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})"
)


@frozen(kw_only=True)
class Hit:
    """One credential found: where, what, how sure, and (after ``verify``) whether it is live.

    ``secret`` is the value as a masked :class:`~cftokens.Secret`; it is not part of the repr,
    the table, the DataFrame, JSON or SARIF. ``secret_id`` (a short SHA-256 of the value) tells
    hits of the same secret apart without showing it.
    """

    path: str = field(repr=field_repr)
    line: int
    column: int
    kind: str
    confidence: str
    fingerprint: str
    secret_id: str
    source: str = "file"
    where: str = field(default="", repr=field_repr)
    context: str = field(default="", repr=field_repr)
    commit: str | None = None
    account_id: str | None = None
    email: str | None = field(default=None, repr=False)
    secret: Secret = field(repr=False, eq=False)
    status: str | None = None
    token_id: str | None = None
    owner: str | None = field(default=None, repr=field_repr)
    note: str = field(default="", repr=field_repr)

    @property
    def description(self) -> str:
        """The kind in words."""
        return KINDS[self.kind]

    def to_dict(self) -> dict[str, Any]:
        """The hit as JSON-ready values (no secret); a file name that is not UTF-8 shown with
        ``\\xff`` escapes."""
        return {
            "path": path_text(self.path),
            "line": self.line,
            "column": self.column,
            "kind": self.kind,
            "confidence": self.confidence,
            "fingerprint": self.fingerprint,
            "secret_id": self.secret_id,
            "source": self.source,
            "where": self.where,
            "context": self.context,
            "commit": self.commit,
            "account_id": self.account_id,
            "status": self.status,
            "token_id": self.token_id,
            "owner": self.owner,
            "note": self.note,
        }


@frozen(kw_only=True)
class Skipped:
    """A path the scan did not read, and why (binary, too large, unreadable, a link …)."""

    path: str
    reason: str


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


class ScanResult:
    """What :func:`scan` found: :attr:`hits`, :attr:`skipped`, and ways to show them.

    ``frame`` (a DataFrame), :meth:`table`, :meth:`to_json`, :meth:`to_sarif`;
    :meth:`failed` for CI gates; :meth:`secrets` gives each distinct secret (masked) for
    triage.
    """

    def __init__(
        self,
        *,
        hits: Sequence[Hit],
        skipped: Sequence[Skipped] = (),
        files: int = 0,
        bytes: int = 0,
        verified: bool = False,
    ):
        self.hits = tuple(hits)
        self.skipped = tuple(skipped)
        self.files = files
        self.bytes = bytes
        self.verified = verified

    def __len__(self) -> int:
        return len(self.hits)

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __repr__(self) -> str:
        counts = Counter(h.status for h in self.hits if h.status)
        status = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        return (
            f"<ScanResult: {len(self.hits)} hit(s) of {len(self.distinct())} distinct "
            f"secret(s) in {self.files} file(s)"
            + (f"; {status}" if status else "")
            + (f"; {len(self.skipped)} skipped" if self.skipped else "")
            + ">"
        )

    def distinct(self) -> dict[str, Hit]:
        """secret_id -> the first hit of each distinct secret."""
        first: dict[str, Hit] = {}
        for hit in self.hits:
            first.setdefault(hit.secret_id, hit)
        return first

    def secrets(self) -> dict[str, Secret]:
        """secret_id -> the (masked) secret, once per distinct secret, e.g. for triage."""
        return {sid: hit.secret for sid, hit in self.distinct().items()}

    def secret(self, fingerprint_or_id: str) -> Secret:
        """The secret of the hit with this fingerprint (``cfut_…AbCd``) or secret id."""
        for hit in self.hits:
            if fingerprint_or_id in (hit.fingerprint, hit.secret_id):
                return hit.secret
        raise InvalidInput(f"no hit has the fingerprint or secret id {fingerprint_or_id!r}")

    def verify(self, verifier: Verifier, *, account: str | None = None) -> ScanResult:
        """A copy whose hits carry ``status`` (live, expired/disabled, invalid, unknown):
        one verify call per distinct secret, never more."""
        results = {}
        for sid, hit in self.distinct().items():
            same = [h for h in self.hits if h.secret_id == sid]
            accounts = sorted({h.account_id for h in same if h.account_id})
            emails = sorted({h.email for h in same if h.email})
            results[sid] = verifier.check(
                hit.secret,
                account_id=account or (accounts[0] if accounts else None),
                email=emails[0] if emails else None,
            )
        hits = [
            evolve(
                h,
                status=results[h.secret_id].status,
                token_id=results[h.secret_id].token_id,
                owner=results[h.secret_id].owner,
                note=results[h.secret_id].note,
            )
            for h in self.hits
        ]
        return ScanResult(
            hits=hits, skipped=self.skipped, files=self.files, bytes=self.bytes, verified=True
        )

    def failed(self, fail_on: str) -> bool:
        """True when the gate ``fail_on`` trips: ``any`` (a hit), ``live`` (a live hit, or one
        whose verification could not finish: fail closed), ``none`` (never).

        ``live`` on an unverified result raises: verify first (``--verify``)."""
        if fail_on == "none":
            return False
        if fail_on == "any":
            return bool(self.hits)
        if fail_on == "live":
            if not self.verified:
                raise InvalidInput("fail_on='live' needs verified hits: scan with --verify")
            return any(h.status in ("live", "unknown") for h in self.hits)
        raise InvalidInput(f"fail_on must be 'any', 'live' or 'none', not {fail_on!r}")

    # -- outputs ----------------------------------------------------------------------------
    COLUMNS = (
        "path",
        "line",
        "column",
        "kind",
        "confidence",
        "fingerprint",
        "secret_id",
        "source",
        "where",
        "context",
        "commit",
        "account_id",
        "status",
        "token_id",
        "owner",
        "note",
    )

    @property
    def frame(self) -> pd.DataFrame:
        """One row per hit (no secret): real dtypes, categories for kind/confidence/status."""
        import pandas as pd

        rows = [h.to_dict() for h in self.hits]
        frame = pd.DataFrame(rows, columns=list(self.COLUMNS))
        frame["line"] = frame["line"].astype("int64")
        frame["column"] = frame["column"].astype("int64")
        frame["kind"] = pd.Categorical(frame["kind"], categories=list(KINDS))
        frame["confidence"] = pd.Categorical(
            frame["confidence"], categories=["high", "medium", "low"], ordered=True
        )
        frame["status"] = pd.Categorical(frame["status"], categories=list(STATUSES))
        for column in ("path", "fingerprint", "secret_id", "source", "where", "context", "note"):
            frame[column] = frame[column].astype("string")
        for column in ("commit", "account_id", "token_id", "owner"):
            frame[column] = frame[column].astype("string")
        return frame

    def to_frame(self) -> pd.DataFrame:
        """Same as :attr:`frame`."""
        return self.frame

    @html_repr
    def _repr_html_(self) -> str:
        import html

        shown = [c for c in self.COLUMNS if c not in ("column", "secret_id", "commit")]
        head = "".join(f"<th>{html.escape(c)}</th>" for c in shown)
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v) if v is not None else '')}</td>"
                for k, v in h.to_dict().items()
                if k in shown
            )
            + "</tr>"
            for h in self.hits
        )
        return (
            f"<p>{html.escape(repr(self))}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        )

    def table(self, *, width: int = 100) -> str:
        """A plain-text table for a terminal (control characters in paths are neutralised)."""

        headers = ["location", "kind", "confidence", "fingerprint"]
        if self.verified:
            headers += ["status", "token"]
        rows = []
        for h in self.hits:
            location = f"{path_text(h.path)}:{h.line}"
            if h.where:
                location += f" ({h.where})"
            row = [plain(location), h.kind, h.confidence, h.fingerprint]
            if self.verified:
                row += [h.status or "", h.token_id or ""]
            rows.append(row)
        lines = []
        if rows:
            widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
            lines.append("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
            for row in rows:
                lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
        distinct = len(self.distinct())
        summary = (
            f"{len(self.hits)} hit(s), {distinct} distinct secret(s), {self.files} file(s) "
            f"or commit(s), {self.bytes:,} bytes scanned"
        )
        if self.verified:
            counts = Counter(
                self.distinct()[sid].status for sid in self.distinct() if self.distinct()[sid]
            )
            summary += "; secrets: " + ", ".join(
                f"{counts.get(s, 0)} {s}" for s in STATUSES if counts.get(s)
            )
        lines.append(summary)
        if self.skipped:
            reasons = Counter(s.reason.split(" (")[0].split(":")[0] for s in self.skipped)
            lines.append(
                f"skipped {len(self.skipped)}: "
                + ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
            )
            for item in self.skipped[:10]:
                lines.append(f"  {plain(path_text(item.path))}: {plain(item.reason)}")
            if len(self.skipped) > 10:
                lines.append(f"  … and {len(self.skipped) - 10} more (JSON output lists all)")
        for sid, hit in self.distinct().items():
            if hit.note:
                lines.append(f"{hit.fingerprint} ({sid}): {plain(hit.note)}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Versioned, JSON-ready: hits, skipped paths and totals (no secret)."""

        return {
            "schema": "cftokens.scan/1",
            "tool": {"name": "cftokens", "version": __version__},
            "verified": self.verified,
            "summary": {
                "hits": len(self.hits),
                "distinct_secrets": len(self.distinct()),
                "files": self.files,
                "bytes": self.bytes,
                "skipped": len(self.skipped),
                "by_status": dict(Counter(h.status for h in self.distinct().values() if h.status)),
            },
            "hits": [h.to_dict() for h in self.hits],
            "skipped": [{"path": path_text(s.path), "reason": s.reason} for s in self.skipped],
        }

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int = 2) -> str:
        """JSON text (written atomically to ``path`` when given)."""
        text = unicode_text(json.dumps(self.to_dict(), indent=indent, ensure_ascii=False))
        if path is not None:
            write_atomic(os.fspath(path), text + "\n")
        return text

    def to_sarif(self, path: str | os.PathLike[str] | None = None) -> str:
        """SARIF 2.1.0 for code scanning: one result per hit, one rule per kind."""
        text = scan_sarif(self)
        if path is not None:
            write_atomic(os.fspath(path), text + "\n")
        return text
