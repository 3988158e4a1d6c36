"""The least-privilege advisor: from "what does this service need to do" to the smallest token.

- :func:`least_privilege` turns intents (``"POST /zones/{zone_id}/dns_records"``, operationIds,
  client methods) into an :class:`Advice`: the :class:`~cftokens.TokenSpec`, a justification
  per grant, and the intents it could not map.
- :func:`least_privilege_from_usage` does the same from observed requests (the sandbox
  journal, Audit Logs v2 rows).
- :func:`rightsize` shrinks an existing token to what it needs: grants to remove and keep, the
  new spec and the PUT body.
- :func:`to_terraform` exports a spec as Terraform (provider v5; the writer is
  :mod:`cftokens.model.terraform`).

The grants are an exact minimum-cost hitting set (:mod:`cftokens.advisor.solver`) under the
costs of :mod:`cftokens.advisor.costs`, decided with the policy engine's semantics.
"""

from .._deprecated import moved_submodules_getattr
from .._exports import export
from ..model.terraform import to_terraform
from .core import DEFAULT_TTL, Advice, Grant, least_privilege
from .intents import Intent, IntentKind, Overrides, Unmapped, resolve_intents
from .rightsizing import PUT_WARNING, RightSize, rightsize
from .solver import Solution, brute_force, solve
from .usage import Usage, least_privilege_from_usage, usage_requests

__all__ = [
    "DEFAULT_TTL",
    "PUT_WARNING",
    "Advice",
    "Grant",
    "Intent",
    "IntentKind",
    "Overrides",
    "RightSize",
    "Solution",
    "Unmapped",
    "Usage",
    "brute_force",
    "least_privilege",
    "least_privilege_from_usage",
    "resolve_intents",
    "rightsize",
    "solve",
    "to_terraform",
    "usage_requests",
]


# cftokens.advisor.terraform, which this package loaded itself in the last release: the
# deprecated module (importing it warns)
__getattr__ = moved_submodules_getattr(__name__, "terraform")


export(__name__)  # the exported classes report cftokens as their module
