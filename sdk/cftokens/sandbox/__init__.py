"""The sandbox: a local, permission-enforcing emulator of Cloudflare's token API.

(Full documentation written below once the behaviour settles.)
"""

from .clock import Clock
from .core import Sandbox, issued_secrets_everywhere
from .faults import Faults, RateLimit
from .store import Role

__all__ = ["Clock", "Faults", "RateLimit", "Role", "Sandbox", "issued_secrets_everywhere"]
