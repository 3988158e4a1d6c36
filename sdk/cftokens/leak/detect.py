"""Deprecated: the credential detectors moved to :mod:`cftokens.detect` (a leaf module the
audit and the leak scanner both use). This alias goes in the next release."""

from __future__ import annotations

import warnings

from ..detect import KINDS, RawHit, detect, fingerprint_of

__all__ = ["KINDS", "RawHit", "detect", "fingerprint_of"]

#: The warning importing this module gives (the package's ``__getattr__`` gives it too).
MESSAGE = (
    "cftokens.leak.detect is deprecated and goes in the next release: import KINDS, RawHit, "
    "detect and fingerprint_of from cftokens.detect"
)

warnings.warn(MESSAGE, DeprecationWarning, stacklevel=2)
