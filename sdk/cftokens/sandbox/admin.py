"""What seeding needs of a sandbox: its state and admin API, as a protocol.

The demo company (:mod:`.demo`) and its leak scenario (:mod:`.leak`) are written against
:class:`SandboxAdmin`, which :class:`~cftokens.sandbox.Sandbox` provides, so they sit below the
``Sandbox`` class that seeds them (``Sandbox.demo()``, ``add_attendees``, ``stage_leak``) and
never import it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from ..model.directory import Account, User, Zone
from ..model.secret import Secret
from ..model.token import CreatedToken
from .clock import Clock
from .engine import Engine
from .store import Role, Store

__all__ = ["SandboxAdmin"]


class SandboxAdmin(Protocol):
    """The parts of :class:`~cftokens.sandbox.Sandbox` that seeding uses (see its methods)."""

    seed: str
    clock: Clock
    store: Store
    engine: Engine
    extras: dict[str, Any]

    def add_user(
        self,
        email: str,
        *,
        first_name: str | None,
        last_name: str | None,
        created: datetime | None,
    ) -> User: ...

    def add_account(self, name: str, *, created: datetime | None) -> Account: ...

    def add_member(self, user_id: str, account_id: str, role: Role) -> None: ...

    def add_zone(self, name: str, *, account: str, plan: str, created: datetime | None) -> Zone: ...

    def add_dns_record(
        self,
        zone: str,
        *,
        type: str,
        name: str,
        content: str,
        proxied: bool,
        priority: int | None,
        created: datetime | None,
    ) -> str: ...

    def create_token(
        self,
        spec: Mapping[str, Any],
        *,
        user: str | None,
        account: str | None,
        status: str,
        issued: datetime | None,
        modified: datetime | None,
        legacy_secret: bool,
        check: bool,
    ) -> CreatedToken: ...

    def set_bootstrap(self, created: CreatedToken) -> None: ...

    def issue_api_key(self, user_id: str) -> Secret: ...

    def add_journal(self, entries: Iterable[Mapping[str, Any]]) -> int: ...

    def issued_secrets(self) -> list[Secret]: ...
