"""Export a :class:`~cftokens.TokenSpec` as Terraform for the Cloudflare provider v5.

User-owned tokens become ``cloudflare_api_token``, account-owned tokens
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

Layering: the writer is part of the model (``TokenSpec.to_terraform`` calls it, as ``to_api``
writes the JSON form; it lives in :mod:`cftokens.model._terraform`), below the advisor and the
audit; it reads the catalogue only for the permission-group names in comments. Reading
Terraform (plans, state, ``.tf`` files) is the audit's: :meth:`cftokens.Audit.from_terraform`.
"""

from __future__ import annotations

from ..errors import InvalidInput
from ._terraform import hcl_string, terraform_name, write
from .token import Token, TokenSpec

__all__ = ["hcl_string", "terraform_name", "to_terraform", "write"]


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
