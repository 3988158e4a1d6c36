"""Leaked-token response: find Cloudflare credentials, verify them, triage a leak.

``cft.scan(paths, verify=...)`` finds credentials (:mod:`.scanner`, rules in
:mod:`cftokens.detect`);
:class:`Verifier` asks the API whether each is live (:mod:`.verify`);
``cft.triage(secret, admin=client)`` measures a leak and contains it (:mod:`.responder`), and
writes the incident report (:mod:`.incident`).
"""

from __future__ import annotations

from .._deprecated import moved_submodules_getattr
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


# cftokens.leak.detect, which this package loaded itself in the last release: the
# deprecated module (importing it warns)
__getattr__ = moved_submodules_getattr(__name__, "detect")


export(__name__)  # the exported classes report cftokens as their module
