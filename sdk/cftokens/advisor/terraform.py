"""Deprecated: the Terraform writer moved to :mod:`cftokens.model.terraform` (it is part of the
model, below the advisor and the audit). This alias goes in the next release; import
``to_terraform``, ``hcl_string`` and ``terraform_name`` from :mod:`cftokens.model.terraform`
(``to_terraform`` is also ``cftokens.advisor.to_terraform``)."""

from __future__ import annotations

import warnings

from ..model.terraform import hcl_string, terraform_name, to_terraform

__all__ = ["hcl_string", "terraform_name", "to_terraform"]

#: The warning importing this module gives (the package's ``__getattr__`` gives it too).
MESSAGE = (
    "cftokens.advisor.terraform is deprecated and goes in the next release: import "
    "to_terraform, hcl_string and terraform_name from cftokens.model.terraform"
)

warnings.warn(MESSAGE, DeprecationWarning, stacklevel=2)
