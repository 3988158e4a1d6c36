"""Tokens as Terraform: a :class:`~cftokens.TokenSpec` written for the Cloudflare provider v5
(:func:`to_terraform`), and the tokens Terraform configurations, plans and states declare read
back (:func:`read`).

**Writing.** User-owned tokens become ``cloudflare_api_token``, account-owned tokens
``cloudflare_account_token`` (with ``account_id``). The v5 schema (resource schema version
501) has ``policies`` as a list of objects whose ``resources`` is a JSON string, written with
``jsonencode`` so nested forms ("all zones of account A") keep their shape::

    resource "cloudflare_api_token" "ci_dns" {
      name = "ci-dns"
      policies = [
        {
          effect            = "allow"
          permission_groups = [{ id = "4755a26eedb94da69e1066d98aa820be" }] # DNS Write
          resources = jsonencode({
            "com.cloudflare.api.account.zone.023e105f4ecef8ad9ca31a8372d0c353" = "*"
          })
        },
      ]
      condition = { request_ip = { in = ["203.0.113.0/24"] } }
      expires_on = "2026-03-01T00:00:00Z"
    }

The token's secret is the resource's ``value`` attribute (sensitive) and never appears here.

**Reading.** :func:`read` takes ``.tf`` files and directories (HCL; needs
``pip install 'cftokens[terraform]'``), the JSON of ``terraform show -json`` on a plan or a
state, or a ``terraform.tfstate`` file, and returns each ``cloudflare_api_token`` and
``cloudflare_account_token`` as a :class:`DeclaredToken` (its API dict and owner) with gap rows
for what cannot be judged offline. Values known only after apply are read at their worst,
never as "no grant" (the rules are in :mod:`cftokens.model._terraform_read`; how ``.tf`` files
are evaluated in :mod:`cftokens.model._hcl`). :meth:`cftokens.Audit.from_terraform` audits
what it reads.

Layering: both directions are part of the model (``TokenSpec.to_terraform`` calls the writer,
:mod:`cftokens.model._terraform`, as ``to_api`` writes the JSON form), below the advisor and the
audit that use them; they read the catalogue only for permission groups (the names in the
writer's comments, the data sources and group names the reader resolves).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput
from ._terraform import hcl_string, terraform_name, write
from .token import Token, TokenSpec

if TYPE_CHECKING:
    from ._hcl import UNREAD_MODULE, read_configuration
    from ._terraform_read import (
        PENDING_KEY,
        UNKNOWN_KEY,
        DeclaredToken,
        declared_tokens,
        read,
        to_token,
    )

__all__ = [
    "PENDING_KEY",
    "UNKNOWN_KEY",
    "UNREAD_MODULE",
    "DeclaredToken",
    "declared_tokens",
    "hcl_string",
    "read",
    "read_configuration",
    "terraform_name",
    "to_terraform",
    "to_token",
    "write",
]

#: The reader's names, loaded on first use: only reading needs the HCL parser and evaluator
#: (about 2,000 lines), so the advisor, which writes Terraform, imports without them.
_READER = frozenset(__all__) - {"hcl_string", "terraform_name", "to_terraform", "write"}


def __getattr__(name: str) -> Any:
    if name in _READER:
        from . import _terraform_read  # the reader, loaded on first use (see _READER)

        value = getattr(_terraform_read, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _READER)


def to_terraform(
    spec: TokenSpec | Token,
    *,
    resource_name: str | None = None,
    account_id: str | None = None,
    comments: bool = True,
) -> str:
    """HCL for the Cloudflare Terraform provider v5.

    ``account_id`` makes it a ``cloudflare_account_token`` (an account-owned token) of that
    account; otherwise a ``cloudflare_api_token``. ``resource_name`` defaults to the token
    name made into an identifier. ``comments`` adds the permission-group names beside their
    ids. A :class:`~cftokens.Token` is exported through its spec.
    """
    if isinstance(spec, Token):
        spec = spec.to_spec()
    if not isinstance(spec, TokenSpec):
        raise InvalidInput(f"to_terraform takes a TokenSpec or Token, got {type(spec).__name__}")
    return write(spec, resource_name=resource_name, account_id=account_id, comments=comments)
