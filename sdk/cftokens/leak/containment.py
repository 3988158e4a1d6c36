"""Containing a leaked token: the options (roll, disable, delete), each with what it breaks,
and the steps taken, each only with ``confirm=True``. :class:`~cftokens.leak.responder.Triage`
is a :class:`Containment`."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import frozen

from .._shown import fields_shown
from ..errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd


__all__ = ["Action", "Containment", "Step"]


@frozen(kw_only=True, field_transformer=fields_shown)
class Step:
    """One containment option: what it does and what it breaks."""

    action: str
    does: str
    breaks: str


@frozen(kw_only=True, field_transformer=fields_shown)
class Action:
    """A containment step taken (for the report): when, what, the outcome."""

    time: datetime
    action: str
    outcome: str


class Containment:
    """The containment part of :class:`~cftokens.leak.responder.Triage` (the triage's state
    declared below is the triage's own)."""

    _admin: Any
    _client: Any
    owner_kind: str | None
    owner_id: str | None
    actions: list[Action]

    if TYPE_CHECKING:  # the triage's, read here

        @property
        def token_id(self) -> str | None: ...

        @property
        def _dependents(self) -> pd.DataFrame: ...

    @property
    def plan(self) -> list[Step]:
        """The containment options, each with what it breaks (the dependents)."""
        users = (
            ", ".join(
                f"{r.ip} ({r.user_agent})" for r in self._dependents.head(5).itertuples(index=False)
            )
            or "no caller seen before the window"
        )
        return [
            Step(
                action="roll",
                does="issue a new secret (same id and permissions); the leaked one stops "
                "working at once; the new one is written to a new 0600 file, never printed",
                breaks=f"every caller until it gets the new secret: {users}",
            ),
            Step(
                action="disable",
                does="PUT the token with status disabled, policies kept: nothing works with "
                "it until re-enabled (reversible)",
                breaks=f"every caller: {users}",
            ),
            Step(
                action="delete",
                does="delete the token: irreversible; create the replacement first",
                breaks=f"every caller, for good: {users}",
            ),
        ]

    def _tokens(self) -> Any:
        if self._client is None or self.token_id is None:
            raise InvalidInput("containment needs admin= and a token id from verify")
        if self.owner_kind == "account" and self.owner_id:
            return self._client.account(self.owner_id).tokens
        return self._client.tokens

    def _confirmed(self, confirm: bool, action: str) -> None:
        if confirm is not True:
            raise InvalidInput(
                f"{action} changes token {self.token_id} for every caller; read plan, then call "
                f"{action}(..., confirm=True)"
            )

    def roll(self, secret_file: str | os.PathLike[str], *, confirm: bool = False) -> Path:
        """Roll the token; write the new secret once to ``secret_file`` (created, mode 0600;
        an existing file is refused before anything changes). Returns the path."""
        self._confirmed(confirm, "roll")
        tokens = self._tokens()
        path = Path(secret_file)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise InvalidInput(f"{path} exists; give a new file for the new secret") from None
        except OSError as exc:
            raise InvalidInput(f"cannot create {path}: {exc.strerror}") from None
        try:
            new = tokens.roll(self.token_id)
        except BaseException:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        with os.fdopen(fd, "w") as handle:
            handle.write(new.reveal() + "\n")
        self._record("roll", f"rolled; the new secret was written to {path} (0600)")
        return path

    def disable(self, *, confirm: bool = False) -> None:
        """Disable the token, keeping its policies (PUT with status disabled)."""
        self._confirmed(confirm, "disable")
        self._tokens().update(self.token_id, status="disabled")
        self._record("disable", "disabled (policies kept)")

    def delete(self, *, confirm: bool = False) -> None:
        """Delete the token (irreversible)."""
        self._confirmed(confirm, "delete")
        self._tokens().delete(self.token_id)
        self._record("delete", "deleted")

    def _record(self, action: str, outcome: str) -> None:
        when = self._admin.clock.now() if hasattr(self._admin, "clock") else datetime.now(UTC)
        self.actions.append(Action(time=when, action=action, outcome=outcome))
