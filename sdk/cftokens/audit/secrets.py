"""CFT-ID-03 over files: secrets in the legacy (unprefixed, 40-character) format.

Looks for values assigned to Cloudflare token variables (``CLOUDFLARE_API_TOKEN=…``,
``"api_token": "…"``, ``CF_API_TOKEN: …``, ``os.environ["CLOUDFLARE_API_TOKEN"] = "…"``, also
JSON-escaped inside a notebook, ``os.getenv("CF_API_TOKEN", "…")``) in env files, configs, code
and notebooks, with the scanner's detector (:mod:`cftokens.detect`). The audit's profile
decides whether CFT-ID-03 runs, and its suppressions apply. A value is legacy when it is
exactly 40 characters of ``[A-Za-z0-9_-]`` without the ``cfut_``/``cfat_`` prefix (and not a
placeholder). Findings show the file, the line and a short SHA-256 fingerprint, never the
value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..detect import detect
from ..errors import InvalidInput
from ..model.secret import Secret
from .frames import tokens_frame
from .rules import RULES
from .severity import SEVERITY_ORDER
from .steps import RollSecret

if TYPE_CHECKING:
    from .core import Audit

__all__ = ["find_legacy_secrets", "scan"]


def _texts(sources: Iterable[str | Path | Mapping[str, str]]) -> Iterator[tuple[str, str]]:
    for raw in sources:
        if isinstance(raw, Mapping):
            yield from ((str(k), str(v)) for k, v in raw.items())
            continue
        path = Path(raw)
        if not path.exists():
            raise InvalidInput(f"{path} does not exist")
        files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        for file in files:
            try:
                yield str(file), file.read_text(encoding="utf-8", errors="ignore")
            except OSError:
                continue


def find_legacy_secrets(
    sources: Iterable[str | Path | Mapping[str, str]],
) -> list[tuple[str, int, Secret]]:
    """(file, line number, the value as a masked :class:`~cftokens.Secret`) of every
    legacy-format token value in files, folders or ``{name: text}`` mappings.

    The detection is the scanner's (:mod:`cftokens.detect`, kind ``legacy_token``): a
    40-character value after a name that says it is a Cloudflare token, placeholders excluded.
    """
    hits = []
    for name, text in _texts(sources):
        data = text.encode("utf-8", "surrogateescape")
        for hit in detect(data):
            if hit.kind == "legacy_token":
                hits.append((name, data.count(b"\n", 0, hit.start) + 1, Secret(hit.value)))
    return hits


def scan(
    audit: Audit,
    sources: Iterable[str | Path | Mapping[str, str]],
    verify: Callable[[Secret], str | None] | None = None,
) -> Audit:
    """A copy of ``audit`` whose findings include CFT-ID-03 hits from ``sources``.

    ``verify`` (optional) maps a found secret to its token id, e.g.
    ``lambda s: client_for(s).tokens.verify().id``; the finding is then tied to that token.
    """
    new = audit.rerun()
    if not new.profile.enabled("CFT-ID-03"):
        return new
    hits = find_legacy_secrets(sources)
    pd: Any = __import__("pandas")
    rows = []
    index = new._ctx.token_index
    for file, line, secret in hits:
        fingerprint = secret.fingerprint()
        token_id = None
        if verify is not None:
            try:
                token_id = verify(secret)
            except Exception:  # an unknown or revoked secret: keep the finding untied
                token_id = None
        t = index.get(token_id) if token_id else None
        inv = new._inv
        rows.append(
            {
                "token_id": inv.ids[t] if t is not None else None,
                "token_name": inv.names[t] if t is not None else None,
                "kind": inv.kinds[t] if t is not None else None,
                "owner_id": inv.owner_ids[t] if t is not None else None,
                "owner_name": inv.owner_names[t] if t is not None else None,
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
        added = pd.Series([False] * len(new.findings) + [True] * len(rows), index=frame.index)
        for sup in new.suppressions:
            if sup.lapsed(new.now):
                continue
            mask = sup.mask(frame) & added & ~frame["suppressed"].astype(bool)
            if mask.any():
                frame.loc[mask, "suppressed"] = True
                frame.loc[mask, "suppression"] = f"{sup.label()}: {sup.reason}"
        fixes = [*new._fixes, *[RollSecret() if r["token_id"] else None for r in rows]]
        # keep the findings worst first, as the audit orders them
        rank = frame["severity"].astype(str).map(SEVERITY_ORDER.index).to_numpy()
        order = sorted(range(len(frame)), key=lambda i: -rank[i])
        new.findings = frame.iloc[order].reset_index(drop=True)
        new._fixes = [fixes[i] for i in order]
        new.tokens = tokens_frame(new)
    return new
