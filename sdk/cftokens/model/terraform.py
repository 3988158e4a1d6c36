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

Layering: the writer is part of the model (``TokenSpec.to_terraform`` calls :func:`write`, as
``to_api`` writes the JSON form), below the advisor and the audit; it reads the catalogue only
for the permission-group names in comments. Reading Terraform (plans, state, ``.tf`` files) is the
audit's: :meth:`cftokens.Audit.from_terraform`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._ids import check_id
from ..catalog.groups import permission_groups
from ..errors import InvalidInput
from ._util import format_datetime
from .resources import Resource

if TYPE_CHECKING:
    from .token import Token, TokenSpec

__all__ = ["hcl_string", "terraform_name", "to_terraform", "write"]

_IDENT = re.compile(r"[^A-Za-z0-9_-]+")


def hcl_string(value: str) -> str:
    """A double-quoted HCL string literal (escapes quotes, backslashes and templates)."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("${", "$${").replace("%{", "%%{")


def terraform_name(name: str) -> str:
    """A valid Terraform resource name from a token name (``"CI dns!"`` -> ``ci_dns``)."""
    ident = _IDENT.sub("_", name.strip().lower()).strip("_-")
    if not ident:
        ident = "token"
    if not (ident[0].isalpha() or ident[0] == "_"):
        ident = "token_" + ident
    return ident


def _object(value: Any, indent: int) -> str:
    """An HCL object expression for a JSON-like value (inside ``jsonencode``)."""
    pad = "  " * indent
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        lines = ["{"]
        for key, item in value.items():
            lines.append(f"{pad}  {hcl_string(str(key))} = {_object(item, indent + 1)}")
        lines.append(f"{pad}}}")
        return "\n".join(lines)
    if isinstance(value, str):
        return hcl_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_object(v, indent) for v in value) + "]"
    return json.dumps(value)


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def _comment(text: str) -> str:
    """Text safe inside a ``#`` comment: no line break (or other control character) can end
    the comment and put the rest of a token name into the configuration."""
    return _CONTROL.sub(" ", text)


def _aligned(pairs: list[tuple[str, str]], indent: str) -> list[str]:
    """``key = value`` lines with the ``=`` aligned, as ``terraform fmt`` writes them."""
    width = max((len(key) for key, _ in pairs), default=0)
    return [f"{indent}{key:<{width}} = {value}" for key, value in pairs]


def _group_comment(group_id: str, name: str | None) -> str:
    group = permission_groups.by_id(group_id)
    label = group.name if group is not None else (name or "unknown group")
    scope = f" ({group.scope.label})" if group is not None else ""
    return _comment(f"{label}{scope}")


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
    from .token import Token, TokenSpec  # token.py imports this module: no import cycle

    if isinstance(spec, Token):
        spec = spec.to_spec()
    if not isinstance(spec, TokenSpec):
        raise InvalidInput(f"to_terraform takes a TokenSpec or Token, got {type(spec).__name__}")
    return write(spec, resource_name=resource_name, account_id=account_id, comments=comments)


def write(
    spec: TokenSpec,
    *,
    resource_name: str | None = None,
    account_id: str | None = None,
    comments: bool = True,
) -> str:
    """The HCL of a :class:`~cftokens.TokenSpec` (:func:`to_terraform` without the type check:
    what ``TokenSpec.to_terraform`` calls)."""
    if account_id is not None:
        check_id(account_id, "account_id")
    kind = "cloudflare_account_token" if account_id is not None else "cloudflare_api_token"
    ident = terraform_name(resource_name or spec.name)
    lines: list[str] = []
    if comments:
        lines.append(f"# {_comment(spec.name)}: generated by cftokens; review before applying.")
    lines.append(f'resource "{kind}" "{ident}" {{')
    header = [("account_id", hcl_string(account_id))] if account_id is not None else []
    header.append(("name", hcl_string(spec.name)))
    if spec.status is not None:
        header.append(("status", hcl_string(spec.status.value)))
    lines.extend(_aligned(header, "  "))
    lines.append("")
    lines.append("  policies = [")
    for policy in spec.policies:
        lines.append("    {")
        lines.append(f"      effect = {hcl_string(policy.effect.value)}")
        lines.append("      permission_groups = [")
        for ref in policy.permission_groups:
            comment = f" # {_group_comment(ref.id, ref.name)}" if comments else ""
            lines.append(f"        {{ id = {hcl_string(ref.id)} }},{comment}")
        lines.append("      ]")
        resources = Resource.to_api(policy.resources)
        lines.append(f"      resources = jsonencode({_object(resources, 3)})")
        lines.append("    },")
    lines.append("  ]")
    condition = spec.condition.to_api().get("request.ip")
    if isinstance(condition, Mapping) and (condition.get("in") or condition.get("not_in")):
        lines.append("")
        lines.append("  condition = {")
        lines.append("    request_ip = {")
        ranges = [
            (key, "[" + ", ".join(hcl_string(str(v)) for v in values) + "]")
            for key in ("in", "not_in")
            if (values := condition.get(key))
        ]
        lines.extend(_aligned(ranges, "      "))
        lines.append("    }")
        lines.append("  }")
    dates = [
        (key, hcl_string(str(format_datetime(value))))
        for key, value in (("not_before", spec.not_before), ("expires_on", spec.expires_on))
        if value is not None
    ]
    if dates:
        lines.append("")
        lines.extend(_aligned(dates, "  "))
    lines.append("}")
    return "\n".join(lines) + "\n"
