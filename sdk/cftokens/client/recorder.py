"""``Recorder``: the requests your own code sends, as observed usage.

The audit's usage rules (CFT-SC-03, SC-05, SC-06…) and the advisor's
:func:`~cftokens.least_privilege_from_usage` read observed usage: the sandbox journal,
Cloudflare Audit Logs v2, or this recorder. Attach one to a client, run the service's code (or
its test suite), and the recorder holds one row per HTTP answer in the usage table's columns::

    recorder = cft.Recorder()
    client = cft.Client.from_env(recorder=recorder)
    run_my_job(client)
    cft.least_privilege_from_usage(recorder, directory=client.directory())
    cft.run_audit(admin_client, usage=recorder)    # usage rules for the recorded token

Rows carry ``token_id`` once it is known: pass ``token_id=`` or call ``client.tokens.verify()``
(the recorder learns the id from the answer and fills it into earlier rows). ``ip=`` is the
address the job sends from (its egress IP, when you know it: the audit proposes allowlists from
it) and ``actor=`` who runs it; a client authenticating with the Global API Key records its
email as the actor of each of its rows. Times come from
``clock`` (default: the wall clock; pass ``sandbox.clock.now`` against a sandbox). Paths are
redacted like every log line; no header, body or secret is recorded.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .._usage import USAGE_COLUMNS, UsageRow
from ..catalog import operations
from ..errors import InvalidInput, describe, redact_uri, shown

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Recorder"]


class Recorder:
    """Records every request a client sends and its HTTP status (see the module docstring).

    ``max_rows`` bounds memory (the oldest rows are dropped first, and ``dropped`` counts
    them). One recorder may serve several clients of the same token. Rows follow the usage
    table's schema (:data:`cftokens.audit.usage.USAGE_COLUMNS`); ``ip`` and ``actor`` fill
    those columns.
    """

    def __init__(
        self,
        *,
        token_id: str | None = None,
        clock: Callable[[], datetime] | None = None,
        max_rows: int = 100_000,
        ip: str | None = None,
        actor: str | None = None,
    ):
        if not isinstance(max_rows, int) or isinstance(max_rows, bool) or max_rows < 1:
            raise InvalidInput(f"max_rows must be a positive integer, got {max_rows!r}")
        if clock is not None and not callable(clock):
            raise InvalidInput("clock must be a function returning an aware datetime")
        if ip is not None:
            try:
                ip = str(ipaddress.ip_address(ip))
            except ValueError:
                raise InvalidInput(
                    f"ip must be one IP address (the job's egress address), got {shown(ip)}"
                ) from None
        if actor is not None and not isinstance(actor, str):
            raise InvalidInput(f"actor must be text (who runs the job), got {describe(actor)}")
        self.token_id = token_id
        self.ip = ip
        self.actor = actor
        self.max_rows = max_rows
        self.dropped = 0
        self._clock = clock or (lambda: datetime.now(UTC))
        self._rows: list[UsageRow] = []
        self._lock = threading.Lock()

    # -- fed by the client ------------------------------------------------------------------
    def record(
        self,
        method: str,
        path: str,
        status: int,
        *,
        auth: str,
        user_agent: str,
        actor: str | None = None,
    ) -> None:
        """Add one row (called by the client for every HTTP answer, retries included);
        ``actor`` (the client's email with the Global API Key) wins over the recorder's."""
        clean = redact_uri(path.split("?", 1)[0])
        found = operations.find(method, clean)
        at = self._clock()
        if at.tzinfo is None:
            raise InvalidInput("the recorder's clock returned a naive datetime; return UTC times")
        row: UsageRow = {
            "time": at.astimezone(UTC),
            "token_id": self.token_id,
            "method": method.upper(),
            "path": clean,
            "operation_id": found.operation.operation_id if found else None,
            "status": status,
            "ip": self.ip,
            "user_agent": user_agent,
            "auth": auth,
            "zone_id": found.zone_id if found else None,
            "account_id": found.account_id if found else None,
            "actor": actor or self.actor,
        }
        with self._lock:
            self._rows.append(row)
            excess = len(self._rows) - self.max_rows
            if excess > 0:
                del self._rows[:excess]
                self.dropped += excess

    def learn_token(self, token_id: str) -> None:
        """Take the token id a verify answer revealed; earlier rows without one get it too."""
        with self._lock:
            if self.token_id is None:
                self.token_id = token_id
                for row in self._rows:
                    if row["token_id"] is None:
                        row["token_id"] = token_id

    # -- reading ----------------------------------------------------------------------------
    def __iter__(self) -> Iterator[UsageRow]:
        with self._lock:
            rows = [row.copy() for row in self._rows]
        return iter(rows)

    def __len__(self) -> int:
        return len(self._rows)

    def clear(self) -> None:
        """Forget every row (the token id is kept)."""
        with self._lock:
            self._rows.clear()
            self.dropped = 0

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (tz-aware times, categorical method and auth, Int64 status)."""
        import pandas as pd

        rows = list(self)
        frame = pd.DataFrame(rows, columns=list(USAGE_COLUMNS))
        frame["time"] = pd.to_datetime(frame["time"], utc=True)
        frame["status"] = frame["status"].astype("Int64")
        for column in ("method", "auth"):
            frame[column] = frame[column].astype("category")
        for column in USAGE_COLUMNS:
            if column not in ("time", "status", "method", "auth"):
                frame[column] = frame[column].astype("string")
        return frame

    def __repr__(self) -> str:
        token = f", token_id={self.token_id!r}" if self.token_id else ""
        return f"Recorder({len(self)} requests{token})"
