"""``cftokens sandbox``: run the permission-enforcing emulator over HTTP.

::

    cftokens sandbox serve [--host 127.0.0.1] [--port 8787] [--db FILE] [--seed demo|empty]
                           [--token-file FILE] [--attendees N --attendee-file FILE.csv]
                           [--faults SPEC] [--rate-limit 1200/5m|off] [--now ISO-TIME]
                           [--trusted-proxy CIDR …]

It prints the base URL and, once, the bootstrap token (or writes it to ``--token-file`` with
mode 0600 and prints only the path). ``--attendees N`` adds N workshop attendees, each with
their own copy of the demo company and bootstrap token, listed in ``--attendee-file`` (CSV,
mode 0600). ``--db FILE`` keeps the state in SQLite (WAL); reopening an existing file keeps
its tokens, and ``--roll-bootstrap`` issues a new bootstrap secret (only hashes are stored).
The server's clock is the wall clock unless ``--now`` fixes it; its secrets come from the OS
random generator (not from the seed).

The client address (for IP conditions, the journal and Audit Logs) is the TCP peer's;
``X-Forwarded-For`` counts only from a reverse proxy named with ``--trusted-proxy CIDR``
(repeatable). The database and its ``-wal``/``-shm`` files are created 0600 (they hold the
HMAC key and the journal); the token and attendee files are written 0600 through a temporary
file in their folder and an atomic rename, and a symbolic link at their path is refused.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import errno
import io
import ipaddress
import os
import socket
import sys
import tempfile
from typing import TYPE_CHECKING, TextIO

from .._text import csv_rows
from ..errors import InvalidInput, require_extra
from ..model._util import parse_datetime
from . import Subparsers, UsageError, emit

if TYPE_CHECKING:
    from ..sandbox import Sandbox

__all__ = ["register", "run"]


def register(subparsers: Subparsers) -> None:
    """Add the ``sandbox`` sub-command."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sandbox",
        help="run the local, permission-enforcing emulator of Cloudflare's token API",
        description="Run the sandbox: Cloudflare's token API, emulated locally.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    serve = actions.add_parser(
        "serve",
        help="serve the sandbox over HTTP (loopback by default)",
        description="Serve the sandbox over HTTP with uvicorn (one worker).",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8787, help="port (default 8787)")
    serve.add_argument("--db", metavar="FILE", help="keep the state in this SQLite file (WAL)")
    serve.add_argument(
        "--seed",
        choices=["demo", "empty"],
        default="demo",
        help="initial content: the demo company (default) or one user and a bootstrap token",
    )
    serve.add_argument(
        "--token-file",
        metavar="FILE",
        help="write the bootstrap token to FILE (mode 0600) instead of printing it",
    )
    serve.add_argument("--attendees", type=int, metavar="N", help="add N workshop attendees")
    serve.add_argument(
        "--attendee-file", metavar="FILE.csv", help="CSV of the attendees' tokens (mode 0600)"
    )
    serve.add_argument(
        "--faults",
        metavar="SPEC",
        help="inject faults, e.g. 'rate=0.3,kinds=500+502+503+429+drop,latency=50ms,seed=1'",
    )
    serve.add_argument(
        "--rate-limit",
        metavar="LIMIT",
        default="1200/5m",
        help="requests per period per user, e.g. 1200/5m (default) or off",
    )
    serve.add_argument(
        "--now", metavar="ISO-TIME", help="fix the sandbox clock (default: the wall clock)"
    )
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="CIDR",
        help="believe X-Forwarded-For from this reverse proxy (address or CIDR; repeatable); "
        "by default the client address is the TCP peer's",
    )
    serve.add_argument(
        "--roll-bootstrap",
        action="store_true",
        help="with an existing --db: issue a new bootstrap secret and show it",
    )
    serve.add_argument(
        "--random-seed", type=int, default=0, help="seed for ids of a new sandbox (default 0)"
    )
    parser.set_defaults(run=run)
    serve.set_defaults(run=run)


def _write_private(path: str, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only (0600), replacing it atomically:
    a temporary file made with ``mkstemp`` (0600, ``O_EXCL``) in the same folder, then
    ``os.replace``, which replaces a symbolic link planted at ``path`` instead of following
    it. Nothing is left behind on failure."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".cftokens-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(text.encode())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _read_private(path: str) -> str | None:
    """The text of ``path`` (None when it does not exist), opened with ``O_NOFOLLOW``: a
    symbolic link is refused, never read through."""

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UsageError(
                f"{path} is a symbolic link; refusing to read or write through it: remove "
                "the link or choose another file name"
            ) from None
        raise UsageError(f"cannot read {path} ({exc.strerror})") from None
    with os.fdopen(fd, encoding="utf-8", newline="") as handle:
        return handle.read()


def _check_serve_args(args: argparse.Namespace) -> None:
    """Refuse bad flags (UsageError) before anything is printed, created or written."""
    # Before anything is printed, created or written: without the server extra there is no
    # server, so no URL to print and no token worth writing.
    require_extra("server", "cftokens sandbox serve", "uvicorn")
    if args.attendees is not None and args.attendees < 1:
        raise UsageError("--attendees needs a positive number")
    if args.attendees and not args.attendee_file:
        raise UsageError("--attendees needs --attendee-file FILE.csv for the attendees' tokens")
    if args.attendee_file and not args.attendees:
        raise UsageError("--attendee-file goes with --attendees N")
    if not 1 <= args.port <= 65535:
        raise UsageError(f"--port must be between 1 and 65535, got {args.port}")
    # Refuse what would fail later before anything is created: a fresh --db whose bootstrap
    # secret could not be written nowhere would be left with a token nobody holds.
    for flag, path in (("--token-file", args.token_file), ("--attendee-file", args.attendee_file)):
        if path:
            _check_writable(flag, path)
    if args.db and os.path.islink(args.db):
        raise UsageError(f"--db {args.db} is a symbolic link; give the database file's real path")
    # the command line loads the sandbox (starlette) only for this command: `cftokens --help`
    # and the other commands stay fast
    from ..sandbox.asgi import parse_proxies

    try:
        parse_proxies(args.trusted_proxy)
    except InvalidInput as exc:
        raise UsageError(f"--trusted-proxy: {exc}") from None
    _check_port(args.host, args.port)


def _warn_host(host: str) -> None:
    """Warn when the sandbox listens beyond loopback."""
    if not _is_loopback(host):
        emit(
            f"  warning: listening on {host}, not loopback: anyone who can reach this "
            "address can use the sandbox",
            file=sys.stderr,
        )
        if host in ("0.0.0.0", "::"):
            emit(
                f"  note: attendees reach it at this machine's address instead of {host}",
                file=sys.stderr,
            )


def _show_bootstrap(sb: Sandbox, args: argparse.Namespace, *, reopened: bool, out: TextIO) -> None:
    """Issue (or roll) the bootstrap token and show it once, or write it to --token-file."""
    secret = None
    if reopened and args.roll_bootstrap:
        secret = sb.roll_bootstrap()
    elif not reopened:
        secret = sb.bootstrap_token
    if secret is not None:
        if args.token_file:
            _write_private(args.token_file, secret.reveal() + "\n")
            emit(f"  bootstrap token written to {args.token_file} (mode 0600)", file=out)
        else:
            emit(f"  bootstrap token (shown once, keep it): {secret.reveal()}", file=out)
    elif reopened:
        emit(
            "  bootstrap token: as shown when the database was created "
            "(--roll-bootstrap issues a new one)",
            file=out,
        )


def run(args: argparse.Namespace) -> int:
    """Run ``cftokens sandbox ACTION``."""

    if getattr(args, "action", None) != "serve":
        raise UsageError("choose an action: cftokens sandbox serve [--port 8787] …")
    _check_serve_args(args)

    # loaded when the command runs (see _check_serve_args)
    from ..sandbox import Clock, Faults, RateLimit, Sandbox
    from ..sandbox.server import make_server

    faults = Faults.parse(args.faults) if args.faults else None
    rate_limit = RateLimit.parse(args.rate_limit)
    if args.now:
        start = parse_datetime(args.now, "--now")
        assert start is not None
        clock = Clock(start)
    else:
        clock = Clock.real()
    reopened = bool(args.db) and os.path.exists(args.db) and os.path.getsize(args.db) > 0
    sb = Sandbox(
        content=args.seed,
        db=args.db,
        seed=args.random_seed,
        faults=faults,
        rate_limit=rate_limit,
        clock=clock,
        secure_secrets=True,
        keep_secrets=False,
        base_url=f"http://{_url_host(args.host)}:{args.port}/client/v4",
    )
    out = sys.stdout
    emit(f"cftokens sandbox: {args.seed} content, clock {clock.now():%Y-%m-%dT%H:%M:%SZ}", file=out)
    if reopened:
        emit(f"  reopened {args.db} (existing tokens and history kept)", file=out)
    _warn_host(args.host)
    _show_bootstrap(sb, args, reopened=reopened, out=out)
    public_url = f"http://{_url_host(_reachable_host(args.host))}:{args.port}/client/v4"
    if args.attendees:
        attendees = sb.add_attendees(args.attendees)
        rows = [
            [str(a.number), a.email, a.user_id, public_url, a.token.reveal()] for a in attendees
        ]
        kept = _append_attendees(args.attendee_file, rows)
        numbers = f"{attendees[0].number}-{attendees[-1].number}"
        emit(
            f"  {len(attendees)} attendees ({numbers}), tokens in {args.attendee_file} "
            f"(mode 0600{f', after its {kept} earlier rows' if kept else ''})",
            file=out,
        )
    if faults is not None:
        emit(f"  faults: {args.faults}", file=out)
    if args.trusted_proxy:
        proxies = ", ".join(args.trusted_proxy)
        emit(f"  client addresses: X-Forwarded-For believed from {proxies} only", file=out)
    emit(f"  serving {public_url}  (Ctrl-C to stop)", file=out, flush=True)
    server = make_server(sb, host=args.host, port=args.port, trusted_proxies=args.trusted_proxy)
    try:
        server.run()
    finally:
        sb.close()
    return 0


def _check_writable(flag: str, path: str) -> None:
    """Raise UsageError unless ``path`` can be created or replaced."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.islink(path):
        raise UsageError(
            f"{flag} {path} is a symbolic link; refusing to write through it: remove the link "
            "or choose another file name"
        )
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path} is a folder; give a file name")
    if not os.path.isdir(folder):
        raise UsageError(f"{flag} {path}: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise UsageError(f"{flag} {path}: not writable; choose a path you may write to")


def _check_port(host: str, port: int) -> None:
    """Raise UsageError when ``host:port`` cannot be listened on (in use, not permitted…)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise UsageError(
            f"--host {host}: {exc.strerror}; give an address such as 127.0.0.1"
        ) from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise UsageError(
                f"--port {port}: cannot listen on {host}:{port} ({exc.strerror}); choose another "
                "--port or stop the program using it"
            ) from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


ATTENDEE_HEADER = ["attendee", "email", "user_id", "base_url", "token"]


def _append_attendees(path: str, rows: list[list[str]]) -> int:
    """Write the attendee CSV (0600): earlier rows of the same file are kept, so adding
    attendees to a reopened ``--db`` never loses the tokens handed out before. Returns how many
    earlier rows were kept."""

    earlier: list[list[str]] = []
    text = _read_private(path)
    if text:
        existing = list(csv.reader(io.StringIO(text)))
        if not existing or existing[0] != ATTENDEE_HEADER:
            raise UsageError(
                f"--attendee-file {path} exists and is not an attendee list; choose a new file name"
            )
        earlier = existing[1:]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(csv_rows([ATTENDEE_HEADER, *earlier, *rows]))
    _write_private(path, buffer.getvalue())
    return len(earlier)


def _reachable_host(host: str) -> str:
    """The address attendees use: ``host`` itself, or for a wildcard (0.0.0.0, ::) this
    machine's outward address (no packet is sent), else its host name."""
    if host not in ("0.0.0.0", "::", ""):
        return host
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # documentation address: only picks a route
        address = str(probe.getsockname()[0])
    except OSError:
        address = ""
    finally:
        probe.close()
    return address if address and address != "0.0.0.0" else socket.gethostname()


def _url_host(host: str) -> str:
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]"
    except ValueError:
        pass
    return host
