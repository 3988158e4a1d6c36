"""``Audit``: every token, what it can really do, and what is wrong with it, as DataFrames.

Build one from a live account with :func:`cftokens.audit`, or offline with
:meth:`Audit.from_records`, :meth:`Audit.from_json` or :meth:`Audit.from_terraform`.

This module is the facade: the frames are built in :mod:`cftokens.audit.frames`, the queries
answered in :mod:`cftokens.audit.queries` and :mod:`cftokens.audit.explain`; the typed
options and summary are in :mod:`cftokens.audit.options`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

import numpy as np

from .._text import plain_copy, unicode_tree, utf8_encodable
from ..errors import InvalidInput
from ..model.directory import Account, Directory, Zone
from ..model.secret import Secret
from ..model.terraform import PENDING_KEY
from ..model.terraform import read as read_terraform
from . import queries
from ._compat import gc_paused
from ._context import Ctx, DirectoryIndex
from ._inventory import TokenRecord, build_inventory, payload_columns
from .explain import Explanation, explain, product_of
from .frames import (
    findings_frame,
    gap_rows,
    gaps_frame,
    grants_frame,
    open_findings,
    risk_score,
    tokens_frame,
)
from .options import AuditSummary, JsonOptions, TerraformOptions
from .profiles import Profile
from .queries import Finding
from .records import (
    declared_records,
    repaired_input,
    token_records,
    unicode_input,
    without_credentials,
)
from .remediation import Remediation
from .report import read_json, to_folder, to_json, to_sarif
from .report_html import summary_html, to_html
from .rules import Hits, run_rules
from .secrets import scan
from .severity import SEVERITY_ORDER, Severity
from .suppressions import Suppression, load_suppressions, suppression_list
from .usage import UsageIndex, normalise_usage

if TYPE_CHECKING:
    import pandas as pd

    from ..advisor import RightSize
    from .access import AccessFrame, AccessIndex
    from .steps import Step
    from .suppressions import SuppressionSource
    from .usage import UsageSource

__all__ = [
    "EXIT_FINDINGS",
    "EXIT_INCOMPLETE",
    "EXIT_PASS",
    "Audit",
    "AuditSummary",
    "Explanation",
    "Finding",
    "JsonOptions",
    "TerraformOptions",
    "product_of",
    "risk_score",
]

# The CI gate's exit codes (``cftokens audit``; 2 is the CLI's own: bad flags or input).
EXIT_PASS, EXIT_FINDINGS, EXIT_INCOMPLETE = 0, 1, 3

SCHEMA = "cftokens.audit/1"


def _pending_maps(values: Sequence[Any]) -> list[Mapping[str, Any]]:
    """The records' Terraform placeholders (``PENDING_KEY`` maps, from each payload's
    ``PENDING_KEY`` value: :func:`~cftokens.audit._inventory.payload_columns`), in order. A
    record without one (None: all but Terraform's) is passed over before the ``Mapping``
    check, which costs an ABC look-up per value."""
    return [p for p in values if p is not None and isinstance(p, Mapping)]


def _counts(
    column: pd.Series, rows: np.ndarray[Any, np.dtype[np.bool_]] | None = None
) -> dict[str, int]:
    """The rows (of ``rows``, a mask, when given) of each value of a column: read on a
    categorical's codes; any other column by its values (NA left out either way)."""
    import pandas as pd

    if isinstance(column.dtype, pd.CategoricalDtype):
        values = column.array  # a Categorical: its codes and categories, without a Series
        codes = values.codes if rows is None else values.codes[rows]
        categories = [str(c) for c in values.categories]
        counts = np.bincount(codes[codes >= 0], minlength=len(categories)).tolist()
        return dict(zip(categories, counts, strict=True))
    values = column if rows is None else column[rows]
    return {str(k): int(v) for k, v in values.value_counts(dropna=True).items()}


class Audit:
    """An audit: DataFrames of tokens, grants, effective access, findings and gaps.

    ``tokens``: one row per token (id, name, kind user/account, owner, status, dates, age,
    IP ranges, counts, write groups, risk families, max_severity, ``risk_score``: the blast
    radius documented in :func:`cftokens.audit.core.risk_score`). ``grants``: one row per
    (token, policy, effect, permission group, resource atom). ``access``: effective access
    after denies, one row per grant with wildcards kept symbolic; ``access.expand(zone=…)``
    gives concrete rows (built on first use). ``findings``:
    one row per rule hit with evidence and remediation. ``gaps``: what could not be collected
    or evaluated. ``usage``: the normalised usage table (or None).

    Queries: :meth:`who_can`, :meth:`explain`, :meth:`access_matrix`, :meth:`diff`,
    :meth:`fix`. Reports: :meth:`to_html`, :meth:`to_json`, :meth:`to_csv`, :meth:`to_sarif`,
    :meth:`to_parquet`. Re-run with other settings without collecting again: :meth:`rerun`.
    """

    def __init__(
        self,
        records: Sequence[TokenRecord],
        *,
        accounts: Sequence[Account] = (),
        zones: Sequence[Zone] = (),
        user: Mapping[str, Any] | None = None,
        usage: UsageSource | None = None,
        now: datetime | None = None,
        profile: str | Profile = "baseline",
        suppressions: SuppressionSource | None = None,
        gaps: Sequence[Mapping[str, Any]] = (),
        source: str = "records",
    ):
        with gc_paused():  # the directory, usage and the whole run: see gc_paused
            self._setup(
                records, accounts, zones, user, usage, now, profile, suppressions, gaps, source
            )

    def _setup(
        self,
        records: Sequence[TokenRecord],
        accounts: Sequence[Account],
        zones: Sequence[Zone],
        user: Mapping[str, Any] | None,
        usage: UsageSource | None,
        now: datetime | None,
        profile: str | Profile,
        suppressions: SuppressionSource | None,
        gaps: Sequence[Mapping[str, Any]],
        source: str,
    ) -> None:
        if now is None:
            now = datetime.now(UTC)
        elif now.tzinfo is None:
            raise InvalidInput("now must be timezone-aware, e.g. datetime(..., tzinfo=UTC)")
        self.now = now.astimezone(UTC)
        self.profile = Profile.named(profile)
        self.source = source
        self.user = dict(user) if user else None
        records = list(records)
        names, pending_values = payload_columns(records, ("name", PENDING_KEY))
        records, accounts = without_credentials(records, accounts, names)
        self.directory = Directory(accounts=accounts, zones=zones)
        self._dir = DirectoryIndex(self.directory, user=self.user.get("id") if self.user else None)
        for pending in _pending_maps(pending_values):  # a redacted name leaves them as they were
            self._dir.pending.update({str(k): str(v) for k, v in pending.items()})
        self._records = list(records)
        self._collection_gaps = [dict(g) for g in gaps]
        if isinstance(suppressions, str | Path):
            suppressions = load_suppressions(suppressions, now=self.now)
        self.suppressions: list[Suppression] = suppression_list(suppressions, self.now)
        self._usage_source = usage
        self.usage: pd.DataFrame | None = (
            normalise_usage(usage, self._dir) if usage is not None else None
        )
        self._run()

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def from_records(
        cls,
        *,
        tokens: Iterable[Mapping[str, Any]] = (),
        account_tokens: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        accounts: Iterable[Mapping[str, Any] | Account] = (),
        zones: Iterable[Mapping[str, Any] | Zone] = (),
        user: Mapping[str, Any] | None = None,
        usage: UsageSource | None = None,
        now: datetime | None = None,
        profile: str | Profile = "baseline",
        suppressions: SuppressionSource | None = None,
        gaps: Sequence[Mapping[str, Any]] = (),
    ) -> Audit:
        """An offline audit from API dicts.

        ``tokens``: user-owned token objects (as ``GET /user/tokens`` returns them), owned by
        ``user`` (``{"id": user_tag, "email": …}``). ``account_tokens``: account-owned token
        objects by owning account id (``GET /accounts/{id}/tokens``). ``accounts``/``zones``:
        API objects (or models) for names and zone → account lookups. ``usage``: the sandbox
        journal, Audit Logs v2 records or a usage table (see :mod:`cftokens.audit.usage`).
        ``now``: the audit's clock (default: the current time). Text that is not Unicode (a
        lone surrogate, from JSON's ``"\\ud800"`` escape) reads as U+FFFD.
        """
        return cls._assemble(
            tokens=tokens,
            account_tokens=account_tokens,
            accounts=accounts,
            zones=zones,
            user=user,
            usage=usage,
            now=now,
            profile=profile,
            suppressions=suppressions,
            gaps=gaps,
            decoded=False,
        )

    @classmethod
    def _assemble(
        cls,
        *,
        tokens: Iterable[Mapping[str, Any]],
        account_tokens: Mapping[str, Iterable[Mapping[str, Any]]] | None,
        accounts: Iterable[Mapping[str, Any] | Account],
        zones: Iterable[Mapping[str, Any] | Zone],
        user: Mapping[str, Any] | None,
        usage: UsageSource | None,
        now: datetime | None,
        profile: str | Profile,
        suppressions: SuppressionSource | None,
        gaps: Sequence[Mapping[str, Any]],
        decoded: bool,
    ) -> Audit:
        """:meth:`from_records`; ``decoded=True`` for records the client decoded (its bodies'
        raw bytes were already checked for surrogates), which skips the check on objects.

        Otherwise the audit reads its own compact copy of the caller's objects
        (:func:`~cftokens._text.plain_copy`: marshal's copy, proven the same data and all of
        it Unicode by one C pass): every pass over the tokens is then faster than over the
        caller's dicts, scattered in memory between other allocations (~25% of an audit of
        100,000 synthetic tokens), and the audit shares no dict with the caller, who may
        change theirs afterwards. A lone surrogate is replaced in the copy
        (:func:`~cftokens.audit.records.repaired_input`); input not proven so (subclasses,
        numpy values, bytes…) is audited as given, after the Unicode check of
        :func:`unicode_input`.
        The client's pages (``decoded``) are already fresh objects laid out in order."""
        with gc_paused():  # a full collection here walked the whole inventory: see gc_paused
            if isinstance(tokens, Mapping):
                raise InvalidInput("tokens must be a list of token objects, not one object")
            accounts, zones, tokens = list(accounts), list(zones), list(tokens)
            owned = [(k, list(v)) for k, v in (account_tokens or {}).items()]
            gaps = list(gaps)
            # the directory's dicts walked for surrogates only when the C-speed check finds one
            # (or the client did not already check their bytes): clean input is the rule. They
            # are not copied: the models hold their own values, and a copy did not pay (MSP's
            # 30,000 zones: 0.03 s for it, none saved in Zone.from_api)
            clean: bool | None = decoded or utf8_encodable(
                [a for a in accounts if not isinstance(a, Account)]
                + [z for z in zones if not isinstance(z, Zone)]
            )
            plain: Callable[[Any], Any] = (lambda value: value) if clean else unicode_tree
            account_models = [
                a if isinstance(a, Account) else Account.from_api(plain(a)) for a in accounts
            ]
            zone_models = [z if isinstance(z, Zone) else Zone.from_api(plain(z)) for z in zones]
            clean = True
            if not decoded:
                copied, clean = plain_copy((tokens, owned, user, gaps), repaired_input)
                if copied is not None:
                    tokens, owned, user, gaps = copied
            records = token_records(tokens, owned, user, account_models)
            if not decoded:
                records, user, gaps = unicode_input(records, user, gaps, clean)
            return cls(
                records,
                accounts=account_models,
                zones=zone_models,
                user=user,
                usage=usage,
                now=now,
                profile=profile,
                suppressions=suppressions,
                gaps=gaps,
            )

    @classmethod
    def from_json(
        cls, source: str | Path | Mapping[str, Any], **overrides: Unpack[JsonOptions]
    ) -> Audit:
        """Re-run an audit exported with :meth:`to_json` (a path, JSON text or the dict).

        The inventory, directory, usage and collection gaps come from the export; ``now`` and
        ``profile`` too unless given in ``overrides`` (``now``, ``profile``, ``suppressions``,
        ``usage``: :class:`JsonOptions`).
        """
        with gc_paused():
            return read_json(cls, source, dict(overrides))

    @classmethod
    def from_terraform(
        cls, path: str | Path | Sequence[str | Path], **kwargs: Unpack[TerraformOptions]
    ) -> Audit:
        """Lint tokens declared in Terraform: ``cloudflare_api_token`` and
        ``cloudflare_account_token`` in a ``.tf`` file or a directory of them (HCL; needs
        ``pip install 'cftokens[terraform]'``), in ``terraform show -json`` output (plan or
        state) or a ``terraform.tfstate`` file. ``var_files=[...]`` adds ``.tfvars`` files to
        a configuration's own ``terraform.tfvars``/``*.auto.tfvars``. Values known only after
        apply are judged at their worst (see :mod:`cftokens.model.terraform`). Other keyword
        arguments go to :meth:`from_records` (e.g. ``profile="ci"``, ``accounts=``,
        ``zones=``, ``now=``)."""
        with gc_paused():
            options: dict[str, Any] = dict(kwargs)
            paths = [Path(p) for p in ([path] if isinstance(path, str | Path) else path)]
            declared, read_gaps = read_terraform(
                paths, now=options.get("now"), var_files=options.pop("var_files", None)
            )
            records, _, found = unicode_input(declared_records(declared), None, read_gaps)
            accounts = [
                a if isinstance(a, Account) else Account.from_api(a)
                for a in options.pop("accounts", ())
            ]
            zones = [
                z if isinstance(z, Zone) else Zone.from_api(z) for z in options.pop("zones", ())
            ]
            gaps = [*options.pop("gaps", ()), *found]
            source = "terraform:" + ", ".join(str(p) for p in paths)
            return cls(records, accounts=accounts, zones=zones, gaps=gaps, source=source, **options)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without its lock (a lock cannot be pickled; the copy gets its own)."""
        state = self.__dict__.copy()
        state.pop("_lazy", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lazy = threading.RLock()

    def rerun(
        self,
        *,
        profile: str | Profile | None = None,
        suppressions: SuppressionSource | None = None,
        usage: UsageSource | None = None,
        now: datetime | None = None,
    ) -> Audit:
        """The same inventory audited again with another profile, suppressions, usage or clock."""
        return Audit(
            self._records,
            accounts=self.directory.accounts,
            zones=self.directory.zones,
            user=self.user,
            usage=usage if usage is not None else self._usage_source,
            now=now or self.now,
            profile=profile or self.profile,
            suppressions=suppressions if suppressions is not None else self.suppressions,
            gaps=self._collection_gaps,
            source=self.source,
        )

    # -- the run ------------------------------------------------------------------------------
    def _run(self) -> None:
        """Parse and build the rules' context (the caller, ``__init__``, has paused the garbage
        collector). The rules run, and the findings, tokens and grants frames are built, when
        first read (:attr:`findings`, :attr:`tokens`, :attr:`grants`, :attr:`gaps`): a
        notebook or test that reads one frame pays for that one."""
        self._inv = build_inventory(self._records, self._dir.zone_account)
        for position, record in self._inv.labelled.items():  # a credential in a grant key
            self._records[position] = record  # the export and a rerun hold only its label
        usage_index = (
            UsageIndex(self.usage, self.now, self.profile.thresholds.usage_window_days, self._dir)
            if self.usage is not None
            else None
        )
        self._ctx = Ctx(self._inv, self._dir, self.profile, self.now, usage_index)
        # what the frames built on first read apply: the suppressions as given, not as the
        # public list holds them later (the clock and profile are the context's)
        self._suppressions_run = tuple(self.suppressions)
        self._hits: list[Hits] = []
        # the rules and the findings run once per audit, even when threads read the first
        # frame at once (cached_property has no lock from Python 3.12 on, and a second build
        # would find the hits let go); a plain lock: neither build reads the other's lock
        self._lazy = threading.RLock()
        self._rule_gaps_run: list[tuple[str, str]] | None = None
        self._built_run: tuple[pd.DataFrame, list[Step | None], tuple[Any, Any]] | None = None

    @property
    def _rule_gaps(self) -> list[tuple[str, str]]:
        """The rules' (rule id, reason) gaps; running the rules (once) keeps their hits for
        :attr:`findings`."""
        with self._lazy:
            if self._rule_gaps_run is None:
                with gc_paused():
                    self._hits, self._rule_gaps_run = run_rules(self._ctx)
            return self._rule_gaps_run

    @property
    def _built(self) -> tuple[pd.DataFrame, list[Step | None], tuple[Any, Any]]:
        """The findings frame, each finding's fix (:func:`findings_frame`) and the open
        findings the tokens frame counts (:func:`open_findings`: read as the frame is built,
        so a later change of the frame by its reader leaves the tokens frame as it was), from
        the rules' hits (then let go); built once."""
        with self._lazy:
            if self._built_run is None:
                _ = self._rule_gaps  # the rules, run once
                with gc_paused():
                    findings, fixes, positions = findings_frame(self, self._hits)
                    opened = open_findings(self, findings, positions)
                self._hits = []
                self._built_run = (findings, fixes, opened)
            return self._built_run

    # -- frames ---------------------------------------------------------------------------------
    @cached_property
    def findings(self) -> pd.DataFrame:
        """One row per rule hit, worst first: the rule, severity, family and title, the token,
        the policy, group and resource, evidence, detail and remediation, and whether a
        suppression covers it (built on first read)."""
        return self._built[0]

    @cached_property
    def _fixes(self) -> list[Step | None]:
        """Each finding's fix step (None: no automatic fix), in :attr:`findings`' order."""
        return self._built[1]

    @cached_property
    def tokens(self) -> pd.DataFrame:
        """One row per token, with its open findings and risk score (built on first read)."""
        findings, _, opened = self._built
        with gc_paused():
            # the findings as built, unless the audit's findings were replaced since
            return tokens_frame(self, opened=opened if self.findings is findings else None)

    @cached_property
    def grants(self) -> pd.DataFrame:
        """One row per (token, policy, effect, permission group, resource atom).

        ``effective`` marks rows in E(T) (allows a deny does not remove entirely; deny rows are
        False); ``narrowed`` marks allows a deny removes part of; ``scope_ok`` is False where
        the group's scope does not fit the resource (such rows grant nothing).
        """
        with gc_paused():
            return grants_frame(self)

    @property
    def gaps(self) -> pd.DataFrame:
        """What could not be collected or evaluated: ``kind`` (collection, evaluation, input),
        ``subject`` (an account, rule or token id), ``what``, ``reason`` and ``hides_tokens``
        (True when tokens may be missing from the audit because of it: a token listing that
        failed, a token that could not be read; such a gap makes the audit incomplete)."""
        return gaps_frame(self)

    @property
    def incomplete(self) -> bool:
        """True when tokens may be missing from this audit (a row of :attr:`gaps` with
        ``hides_tokens``): a gate must not pass it (see :meth:`gate`)."""
        return any(g["hides_tokens"] for g in gap_rows(self))

    def not_seen(self) -> list[str]:
        """What this audit did not see, one sentence each (empty when it is complete)."""
        g = self.gaps
        g = g[g["hides_tokens"]]
        return [f"{w}: {r}" for w, r in zip(g["what"], g["reason"], strict=True)]

    @cached_property
    def access(self) -> AccessFrame:
        """Effective access, one row per grant, wildcards kept symbolic (built on first use).

        A grant on "all zones" is one row with ``scope`` "all zones" and ``n_resources`` the
        directory's zone count, so the frame grows with tokens × grants, not tokens × zones.
        ``audit.access.expand(zone=…)`` / ``expand(account=…)`` / ``expand(token=…)`` gives
        concrete (token, group, zone/account/user) rows after denies, as
        :func:`cftokens.evaluate` decides. Columns: see :class:`cftokens.audit.access.AccessFrame`.
        """
        return self._access_index.symbolic()

    @cached_property
    def _access_index(self) -> AccessIndex:
        # lazy on purpose: the access view imports pandas, which an audit loads only when a
        # frame or a query needs it
        from .access import AccessIndex

        return AccessIndex(self)

    def who_can(
        self,
        permission: str,
        *,
        zone: str | None = None,
        account: str | None = None,
        live_only: bool = False,
    ) -> pd.DataFrame:
        """Which tokens can use ``permission`` on a zone or account (names or ids)?

        After denies (the policy engine decides tokens that have deny policies). One row per
        token: token_id, name, kind, owner_name, status, live, policy, via (the grant),
        ip_allow, expires_on. ``live_only`` drops tokens that cannot be used now.
        """
        return queries.who_can(self, permission, zone=zone, account=account, live_only=live_only)

    def explain(self, token_id: str) -> Explanation:
        """What a token can do, in sentences grouped by product, with denies and findings."""
        return explain(self, self._token(token_id))

    def _token(self, token_id: str) -> int:
        return queries.token_position(self, token_id)

    def access_matrix(
        self,
        level: str | None = None,
        *,
        by: str = "name",
        columns: str = "zone",
        limit: int | None = 40,
    ) -> pd.DataFrame:
        """Tokens × zones (or × accounts): how many permission groups each token holds there.

        ``level``: ``"write"``, ``"read"`` or ``"other"`` to count only those groups (None:
        all). Rows are tokens (labelled ``name`` or ``token_id`` via ``by``) with access to a
        column drawn; 0 = none. Labels never repeat: a name that does (or that copies another
        label) is followed by its id (:func:`~cftokens.audit.access.distinct_labels`), so each
        row and column is one token, zone or account. ``columns="zone"``: one column per zone,
        by name; ``columns="account"``: one per account, counting the groups a token holds on
        the account or on at least one of its zones. ``limit``: at most that many columns, those
        the most grants reach (None: all, which can be very wide); ``matrix.attrs["note"]``
        says how many were left out. Wildcards and denies count as the policy engine decides.
        """
        return self._access_index.matrix(level, by, columns, limit)

    def diff(self, before: Audit) -> pd.DataFrame:
        """What changed since an earlier audit (``before``): one row per changed token.

        ``change``: new, removed, widened (gained access), narrowed (lost access), changed
        (both), modified (same access, other fields changed); with ``gained`` and ``lost``
        grants and ``new_findings``/``resolved_findings`` rule ids.
        """
        return queries.diff(self, before)

    @cached_property
    def _findings_by_token(self) -> dict[str, np.ndarray[Any, np.dtype[np.int64]]]:
        return queries.findings_by_token(self)

    @cached_property
    def _rightsized(self) -> dict[int, RightSize | None]:
        """Each token's right-sizing to its usage (by position), worked out by the first fix
        that needs it: a :class:`~cftokens.RightSize` is immutable, and the report, the CLI
        and a notebook ask for a token's fix more than once."""
        return {}

    def _finding_positions(self, token_id: str) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Row positions in :attr:`findings` of one token's findings (in the frame's order)."""
        return self._findings_by_token.get(token_id, np.zeros(0, dtype=np.int64))

    def fix(self, token_id: str, rule: str | None = None) -> Remediation:
        """One fix for a token's open findings (or only those of ``rule``).

        ``str(fix)`` is a short numbered list of typed steps (``fix.steps``), each once;
        ``fix.put_body`` is what ``client.tokens.update(token_id, …)`` accepts. With usage data
        the token keeps exactly the grants it used in the usage window (the evidence of
        :func:`~cftokens.rightsize`), so what it did keeps working; a delete wins over edits,
        and a fix that would leave no policy is a delete (with the token's last use) instead.
        """
        return queries.token_fix(self, token_id, rule)

    def finding(self, finding_id: str) -> Finding:
        """One finding as a :class:`Finding` object."""
        return queries.finding_at(self, queries.finding_position(self, finding_id))

    def iter_findings(self, *, include_suppressed: bool = False) -> Iterator[Finding]:
        """Every open finding (and the suppressed ones with ``include_suppressed``) as a
        :class:`Finding`, worst first, built one at a time as you iterate (stop early on a big
        audit; ``list(audit.iter_findings())`` for all of them)."""
        return queries.iter_findings(self, include_suppressed=include_suppressed)

    def finding_fix(self, finding_id: str) -> Remediation:
        """The request that fixes one finding (by ``finding_id``)."""
        return queries.finding_fix(self, finding_id)

    # -- summaries ------------------------------------------------------------------------------
    def summary(self) -> AuditSummary:
        """Counts for reports: tokens, live tokens, findings by severity, suppressed, gaps."""
        # counted on the columns' codes (no filtered copy of the findings frame, the gaps
        # frame built once): a summary is read by every report and the CLI
        f, t = self.findings, self.tokens
        suppressed = f["suppressed"].to_numpy(dtype=bool)
        open_by_severity = _counts(f["severity"], ~suppressed)
        by_kind = _counts(t["kind"])
        gaps = gap_rows(self)
        return {
            "tokens": len(t),
            "live_tokens": int(t["live"].to_numpy(dtype=bool, na_value=False).sum()),
            "user_tokens": by_kind.get("user", 0),
            "account_tokens": by_kind.get("account", 0),
            "findings": {s: open_by_severity.get(s, 0) for s in reversed(SEVERITY_ORDER)},
            "suppressed": int(suppressed.sum()),
            "gaps": len(gaps),
            "incomplete": any(g["hides_tokens"] for g in gaps),  # as :attr:`incomplete`
        }

    def max_severity(self) -> Severity | None:
        """The worst open (unsuppressed) severity, or None without findings."""
        f = self.findings
        open_f = f[~f["suppressed"].astype(bool)]
        if not len(open_f):
            return None
        return Severity.of_rank(int(open_f["severity"].cat.codes.max()))

    def gate(self, fail_on: str | Severity | None = None, *, allow_gaps: bool = False) -> int:
        """The CI gate's exit code, as ``cftokens audit`` returns it: 3 when the audit is
        :attr:`incomplete` (unless ``allow_gaps``), else 1 when an open finding is at or above
        ``fail_on``, else 0. An audit that could not see every token never passes."""
        if self.incomplete and not allow_gaps:
            return EXIT_INCOMPLETE
        if fail_on is not None:
            worst = self.max_severity()
            if worst is not None and worst.rank >= Severity.parse(fail_on).rank:
                return EXIT_FINDINGS
        return EXIT_PASS

    def failed(self, fail_on: str | Severity, *, allow_gaps: bool = False) -> bool:
        """True when the CI gate fails: an open finding at or above ``fail_on``, or an
        incomplete audit (unless ``allow_gaps``); see :meth:`gate`."""
        return self.gate(fail_on, allow_gaps=allow_gaps) != EXIT_PASS

    def worst_tokens(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` tokens to look at first: worst open severity, then blast radius (ties in
        the tokens' order; an unknown risk score last)."""
        t = self.tokens
        # one stable sort of the two keys' numbers (what sort_values of both columns does,
        # without a frame with a rank column, its sort and its copy): severity descending
        # (-1, none, last), then risk descending (NA last)
        rank = t["max_severity"].cat.codes.to_numpy(dtype=np.int64)
        risk = t["risk_score"].to_numpy(dtype=np.float64, na_value=np.nan)
        order = np.lexsort((np.where(np.isnan(risk), np.inf, -risk), -rank))
        return t.take(order[:n]).reset_index(drop=True)

    def __repr__(self) -> str:
        s = self.summary()
        counts = ", ".join(f"{v} {k}" for k, v in s["findings"].items() if v)
        return (
            f"<Audit of {s['tokens']} tokens ({s['live_tokens']} live): "
            f"{counts or 'no findings'}; {s['suppressed']} suppressed; {s['gaps']} gap(s)>"
        )

    def _repr_html_(self) -> str:
        return summary_html(self)

    # -- reports --------------------------------------------------------------------------------
    def to_json(self, path: str | Path | None = None, *, indent: int | None = 2) -> str:
        """The versioned JSON report (``schema: cftokens.audit/1``); written atomically to
        ``path`` when given. :meth:`from_json` re-runs it. Raises
        :class:`~cftokens.errors.InvalidInput` (naming the token and field, nothing written)
        when a token object given to :meth:`from_records` holds what JSON cannot write: a
        cycle, nesting past the recursion limit, a set, bytes or a non-text key."""
        return to_json(self, path, indent=indent)

    def to_html(self, path: str | Path | None = None) -> str:
        """One self-contained HTML report (charts embedded, no network assets)."""
        return to_html(self, path)

    def to_csv(self, folder: str | Path) -> Path:
        """tokens.csv, grants.csv, access.csv, findings.csv, gaps.csv (and usage.csv).

        Safe to open in a spreadsheet: a text cell starting with ``= + - @``, a tab or a
        carriage return (a token name such as ``=HYPERLINK(…)``) is written with a leading
        ``'`` (OWASP's CSV-injection rule); numbers stay numbers."""
        return to_folder(self, folder, "csv")

    def to_parquet(self, folder: str | Path) -> Path:
        """The same tables as :meth:`to_csv`, as Parquet files (needs pyarrow)."""
        return to_folder(self, folder, "parquet")

    def to_sarif(self, path: str | Path | None = None) -> str:
        """SARIF 2.1.0 for code scanning: one result per open finding, rules with help text."""
        return to_sarif(self, path)

    def scan_secrets(
        self,
        *sources: str | Path | Mapping[str, str],
        verify: Callable[[Secret], str | None] | None = None,
    ) -> Audit:
        """CFT-ID-03 over files, folders or ``{name: text}`` mappings (env files, notebooks,
        configs): secrets in the legacy 40-character format.

        Returns a new audit with the hits as findings; values never appear (only a
        fingerprint, the file and the line). ``verify`` maps a found :class:`~cftokens.Secret`
        to its token id (e.g. through ``tokens.verify()``) to tie the finding to the token.
        """
        return scan(self, sources, verify)
