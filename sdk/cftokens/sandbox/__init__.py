"""The sandbox: a local, permission-enforcing emulator of Cloudflare's token API.

Every notebook, test and workshop runs against it. It behaves like Cloudflare wherever
Cloudflare's behaviour is known; ``docs/sandbox.md`` (in the repository) says plainly where it
had to choose: what it emulates and what not (other catalogued operations are authorised, then
answer 501), every status code and message it picked where Cloudflare documents none, how
owners bound their tokens, secrets, determinism and time, storage. Authorisation is decided by
:func:`cftokens.policy.evaluate_request` and nothing else: the sandbox asks the engine about the
token, and about its owner's rights, and memoises the answers per token version.

::

    import cftokens as cft
    sb = cft.Sandbox.demo()                 # the demo company (cftokens.sandbox.demo)
    client = sb.client()                    # the real cftokens.Client, bootstrap token
    sb.client(token=secret, ip="198.51.100.4")   # another token, from another address
    sb.journal                              # every request, as a DataFrame
    sb.clock.advance(timedelta(days=40))    # the clock only moves when told

    # shell: cftokens sandbox serve --port 8787 [--db FILE] [--seed demo|empty] …

Modules: :mod:`.core` (:class:`Sandbox`, its admin API), :mod:`.engine` (the request
pipeline), :mod:`.routes` with :mod:`.handlers`, :mod:`.dns` and :mod:`.audit_logs` (the
emulated operations), :mod:`.faults` (faults and rate limits, the SPEC syntax), :mod:`.demo`
(the demo company and its planted problems), :mod:`.leak` (its leak scenario),
:mod:`.server` (serving over HTTP).
"""

from .._exports import export
from .clock import Clock
from .core import Attendee, Sandbox, SandboxOptions, issued_secrets_everywhere
from .credentials import is_sandbox_secret
from .faults import Faults, RateLimit
from .store import Role

__all__ = [
    "Attendee",
    "Clock",
    "Faults",
    "RateLimit",
    "Role",
    "Sandbox",
    "SandboxOptions",
    "is_sandbox_secret",
    "issued_secrets_everywhere",
]

export(__name__)  # the exported classes report cftokens as their module
