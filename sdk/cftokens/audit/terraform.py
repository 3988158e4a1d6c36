"""Deprecated: the Terraform reader moved to :mod:`cftokens.model.terraform` (beside the writer,
below the audit and the advisor). This alias goes in the next release; import ``to_token``,
``PENDING_KEY`` and ``UNKNOWN_KEY`` from :mod:`cftokens.model.terraform`, which reads inputs
with ``read`` (:meth:`cftokens.Audit.from_terraform` audits them) and returns
``declared_tokens`` instead of the audit's token records."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..model.terraform import PENDING_KEY, UNKNOWN_KEY, declared_tokens, to_token
from ._inventory import TokenRecord
from .core import Audit
from .records import declared_records

__all__ = ["PENDING_KEY", "UNKNOWN_KEY", "read_terraform", "to_token", "token_records"]

#: The warning importing this module gives (the package's ``__getattr__`` gives it too).
MESSAGE = (
    "cftokens.audit.terraform is deprecated and goes in the next release: import to_token, "
    "PENDING_KEY and UNKNOWN_KEY from cftokens.model.terraform (read_terraform is "
    "Audit.from_terraform, token_records is cftokens.model.terraform.declared_tokens)"
)

warnings.warn(MESSAGE, DeprecationWarning, stacklevel=2)


def token_records(
    resources: Iterator[tuple[str, str, Any]] | list[tuple[str, str, Any]],
    origin: str = "",
) -> tuple[list[TokenRecord], list[dict[str, Any]]]:
    """The audit's token records of :func:`cftokens.model.terraform.declared_tokens`."""
    declared, gaps = declared_tokens(resources, origin)
    return declared_records(declared), gaps


def read_terraform(
    cls: type[Audit], path: str | Path | Sequence[str | Path], kwargs: dict[str, Any]
) -> Audit:
    """``cls.from_terraform(path, **kwargs)``."""
    return cls.from_terraform(path, **kwargs)
