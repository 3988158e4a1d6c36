"""CFT-ID-03 over files: secrets in the legacy (unprefixed, 40-character) format.

Looks for values assigned to Cloudflare token variables (``CLOUDFLARE_API_TOKEN=…``,
``"api_token": "…"``, ``CF_API_TOKEN: …``) in env files, configs and notebooks. A value is
legacy when it is exactly 40 characters of ``[A-Za-z0-9_-]`` without the ``cfut_``/``cfat_``
prefix. Findings show the file, the line and a short SHA-256 fingerprint, never the value.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput

if TYPE_CHECKING:
    from .core import Audit

__all__ = ["find_legacy_secrets", "scan"]

_ASSIGN = re.compile(
    r"""(?ix)
    (?:cloudflare|cf)[a-z_]*?(?:api)?_?token["']?\s*[:=]\s*["']?
    (?P<value>[A-Za-z0-9_-]{20,})"""
)
_LEGACY = re.compile(r"[A-Za-z0-9_-]{40}")


def find_legacy_secrets(paths: Iterable[str | Path]) -> list[tuple[str, int, str]]:
    """(file, line number, fingerprint) of every legacy-format token value found."""
    hits = []
    for raw in paths:
        path = Path(raw)
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        if not path.exists():
            raise InvalidInput(f"{path} does not exist")
        for file in files:
            try:
                text = file.read_text(encoding="utf-8", errors="ignore")
            except OSError:
                continue
            for number, line in enumerate(text.splitlines(), start=1):
                for match in _ASSIGN.finditer(line):
                    value = match.group("value")
                    if value.startswith(("cfut_", "cfat_", "cfk_")) or not _LEGACY.fullmatch(value):
                        continue
                    fingerprint = hashlib.sha256(value.encode()).hexdigest()[:12]
                    hits.append((str(file), number, fingerprint))
    return hits


def scan(audit: Audit, paths: Iterable[str | Path]) -> Audit:
    """A copy of ``audit`` whose findings include CFT-ID-03 hits from ``paths``."""
    from .rules import RULES

    hits = find_legacy_secrets(paths)
    new = audit.rerun()
    pd: Any = __import__("pandas")
    rows = []
    for file, line, fingerprint in hits:
        rows.append(
            {
                "finding_id": hashlib.blake2b(
                    f"ID03|{file}|{line}|{fingerprint}".encode(), digest_size=8
                ).hexdigest(),
                "rule_id": "CFT-ID-03",
                "severity": "low",
                "family": "ID",
                "title": RULES["CFT-ID-03"].title,
                "evidence": (
                    f"{file}:{line}: a legacy-format token secret (fingerprint {fingerprint})"
                ),
                "detail": "The secret has no cfut_/cfat_ prefix, so secret scanners miss it.",
                "remediation": "Roll the token (a rolled secret is prefixed), update this file "
                "to read it from a secret store, and remove the value from history.",
                "suppressed": False,
            }
        )
    if rows:
        extra = pd.DataFrame(rows)
        frame = pd.concat([new.findings, extra], ignore_index=True)
        for column, dtype in new.findings.dtypes.items():
            frame[column] = frame[column].astype(dtype)
        new.findings = frame
        new._fixes = [*new._fixes, *([None] * len(rows))]
    return new
