"""What a scan found: each credential (:class:`Hit`), each file left out (:class:`Skipped`),
and :class:`ScanResult`, which shows them (a frame, a table, JSON, SARIF), verifies them and
gates CI."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from attrs import evolve, field, frozen

from .. import __version__
from .._files import write_atomic
from .._shown import field_repr, html_repr
from .._text import path_text, unicode_text
from .._text import printable as plain
from ..detect import KINDS
from ..errors import InvalidInput
from ..model.secret import Secret
from .sarif import scan_sarif
from .verify import Verifier

if TYPE_CHECKING:
    import pandas as pd


__all__ = ["STATUSES", "Hit", "ScanResult", "Skipped"]

STATUSES = ("live", "expired/disabled", "invalid", "unknown")


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
