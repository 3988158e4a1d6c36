"""Deprecated: the reader of Terraform configurations moved to :mod:`cftokens.model.terraform`
(beside the writer, below the audit and the advisor). This alias goes in the next release;
import ``read_configuration`` and ``UNREAD_MODULE`` from :mod:`cftokens.model.terraform`."""

from __future__ import annotations

import warnings

from ..model.terraform import UNREAD_MODULE, read_configuration

__all__ = ["UNREAD_MODULE", "read_configuration"]

#: The warning importing this module gives (the package's ``__getattr__`` gives it too).
MESSAGE = (
    "cftokens.audit.hcl is deprecated and goes in the next release: import read_configuration "
    "and UNREAD_MODULE from cftokens.model.terraform"
)

warnings.warn(MESSAGE, DeprecationWarning, stacklevel=2)
