"""Notebook widgets (ipywidgets 8): design tokens by clicking, explore an audit.

- :class:`TokenBuilder` (``cftokens.TokenBuilder``): template or scratch, permission-group
  search, zone/account pickers from the directory, allow/deny policies, IP allowlist, validity
  window, a live review and risk warnings, **Create** with the secret shown once in a masked
  field (:class:`SecretField`), *Copy* and *Save to .env* (mode 0600).
- :class:`AuditExplorer` (``cftokens.AuditExplorer``): filter an audit's findings by severity,
  rule, owner and zone; select a token to read its explanation and remediation.

No secret ever becomes widget state a saved notebook would keep.
"""

from .._exports import export
from ..errors import require_extra

require_extra("notebook", "cftokens.widgets (the notebook widgets)", "ipywidgets", "anywidget")

from .builder import PolicyEditor, TokenBuilder, group_label  # noqa: E402
from .explorer import AuditExplorer  # noqa: E402
from .secret import SecretField, save_env  # noqa: E402

__all__ = [
    "AuditExplorer",
    "PolicyEditor",
    "SecretField",
    "TokenBuilder",
    "group_label",
    "save_env",
]

export(__name__)  # the exported classes report cftokens as their module
