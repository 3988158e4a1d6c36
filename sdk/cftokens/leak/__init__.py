"""Leaked-token response: find Cloudflare credentials, verify them, triage a leak.

``cft.scan(paths, verify=...)`` finds credentials (:mod:`.scanner`, rules in
:mod:`cftokens.detect`);
:class:`Verifier` asks the API whether each is live (:mod:`.verify`);
``cft.triage(secret, admin=client)`` measures a leak and contains it (:mod:`.responder`), and
writes the incident report (:mod:`.incident`).
"""

from __future__ import annotations

from types import ModuleType

from .._deprecated import moved_submodule
from .._exports import export
from ..detect import KINDS, fingerprint_of
from .responder import Triage, triage
from .scanner import DEFAULT_MAX_SIZE, Hit, ScanResult, Skipped, scan
from .verify import Verification, Verifier

__all__ = [
    "DEFAULT_MAX_SIZE",
    "KINDS",
    "Hit",
    "ScanResult",
    "Skipped",
    "Triage",
    "Verification",
    "Verifier",
    "fingerprint_of",
    "scan",
    "triage",
]


def __getattr__(name: str) -> ModuleType:
    """``cftokens.leak.detect``, which this package loaded itself in the last release: the
    deprecated module (importing it warns). AttributeError for other names."""
    if name != "detect":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return moved_submodule(__name__, name)


export(__name__)  # the exported classes report cftokens as their module
