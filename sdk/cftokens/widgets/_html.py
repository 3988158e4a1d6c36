"""The HTML widget of cftokens' forms: every value it is given is shown through
:func:`cftokens._shown.html_rendered`, so text from input (a token, zone or account name, a
server's message) can neither hide nor reorder what the reader sees, and a credential-shaped
text is redacted."""

from __future__ import annotations

from typing import Any

import ipywidgets as w  # type: ignore[import-untyped]
from traitlets import validate

from .._shown import html_rendered

__all__ = ["ShownHTML"]


class ShownHTML(w.HTML):  # type: ignore[misc]
    """:class:`ipywidgets.HTML` whose ``value`` passes through
    :func:`~cftokens._shown.html_rendered` whenever it is set."""

    @validate("value")
    def _shown(self, proposal: dict[str, Any]) -> str:
        return html_rendered(str(proposal["value"]))
