"""The SARIF 2.1.0 envelope of one cftokens run, shared by the audit's report and the leak
scanner's (a leaf helper: each fills in its own rules and results)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from . import __version__

__all__ = ["sarif_log"]


def sarif_log(
    rules: list[dict[str, Any]], results: list[dict[str, Any]], properties: dict[str, Any]
) -> dict[str, Any]:
    """A SARIF 2.1.0 log of one cftokens run (the envelope shared by the audit and the scan)."""
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "cftokens",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "endTimeUtc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                ],
                "results": results,
                "properties": properties,
            }
        ],
    }
