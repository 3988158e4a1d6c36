"""The scan as SARIF 2.1.0 (GitHub code scanning): one rule per credential kind."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .._sarif import sarif_log
from .._text import unicode_text
from ..detect import KINDS

if TYPE_CHECKING:  # the scanner imports this module
    from .scanner import ScanResult

__all__ = ["scan_sarif"]

_RULE_IDS = {kind: f"CFT-LEAK-{i:02d}" for i, kind in enumerate(KINDS, start=1)}
_LEVEL = {"live": "error", "unknown": "error", "expired/disabled": "warning", "invalid": "note"}
_CONFIDENCE_LEVEL = {"high": "error", "medium": "error", "low": "warning"}
_SEVERITY = {"high": "9.0", "medium": "7.5", "low": "5.0"}


def _rules() -> list[dict[str, Any]]:
    rules = []
    for kind, words in KINDS.items():
        rules.append(
            {
                "id": _RULE_IDS[kind],
                "name": "".join(p.title() for p in kind.split("_")) + "InSource",
                "shortDescription": {"text": f"Cloudflare credential: {words}"},
                "fullDescription": {
                    "text": f"A Cloudflare credential ({words}) is written in this file. Anyone "
                    "who can read the file can act with its rights."
                },
                "help": {
                    "text": "Treat it as leaked: run `cftokens triage --secret-file F` to see "
                    "what it can do and what it did, then roll or disable it; read the value "
                    "from a secret store instead and remove it from the history.",
                },
                "defaultConfiguration": {"level": "error"},
                "properties": {
                    "tags": ["security", "secret", "cloudflare"],
                    "security-severity": "9.0",
                    # a prefix is unambiguous; a legacy value is found by its name alone
                    "precision": "medium" if kind.startswith("legacy_") else "high",
                },
            }
        )
    return rules


def _uri(path: str) -> str:
    """A path as a SARIF URI reference: ``/`` separators, the rest percent-encoded (a space,
    ``#``, ``?``, ``%`` or a non-ASCII letter would make it invalid or point elsewhere; a file
    name that is not UTF-8 as its own bytes, ``%FF``)."""
    from urllib.parse import quote

    try:
        raw = path.replace("\\", "/").encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no file name decodes to
        raw = unicode_text(path.replace("\\", "/")).encode("utf-8")
    return quote(raw, safe="/")


def scan_sarif(result: ScanResult) -> str:
    """SARIF text of ``result``: locations (file, line, column), fingerprints, status."""
    rules = _rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for hit in result.hits:
        rule = _RULE_IDS[hit.kind]
        level = _LEVEL[hit.status] if hit.status else _CONFIDENCE_LEVEL[hit.confidence]
        status = f"; verified: {hit.status}" if hit.status else ""
        where = f" ({hit.where})" if hit.where else ""
        results.append(
            {
                "ruleId": rule,
                "ruleIndex": index[rule],
                "level": level,
                "message": {
                    "text": f"{KINDS[hit.kind].capitalize()}{where}, fingerprint "
                    f"{hit.fingerprint}, confidence {hit.confidence}{status}."
                },
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": _uri(hit.path)},
                            "region": {"startLine": hit.line, "startColumn": hit.column},
                        }
                    }
                ],
                "partialFingerprints": {"cftokensSecret/v1": hit.secret_id},
                "properties": {
                    "kind": hit.kind,
                    "confidence": hit.confidence,
                    "fingerprint": hit.fingerprint,
                    "security-severity": _SEVERITY[hit.confidence],
                    "status": hit.status,
                    "token_id": hit.token_id,
                    "commit": hit.commit,
                },
            }
        )
    doc = sarif_log(rules, results, {"summary": result.to_dict()["summary"]})
    return unicode_text(json.dumps(doc, indent=2, ensure_ascii=False))
