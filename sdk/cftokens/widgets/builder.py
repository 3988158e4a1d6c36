"""``TokenBuilder``: design an API token by clicking, review it live, create it safely.

::

    import cftokens as cft
    builder = cft.TokenBuilder(cft.Sandbox.demo())   # or a Client, or a Directory (no Create)
    builder                                          # shows the form in a notebook
    builder.spec                                     # the current TokenSpec

Start from a dashboard template or from scratch; search permission groups as you type; pick
zones and accounts from the directory (by name); add allow and deny policies; set the client
IP allowlist and the validity window. The summary (``TokenSpec.summary``) and the risk warnings
(the audit's rules run on the spec) update with every change. **Create** sends the spec with
the client; the secret appears once in a masked field (:class:`SecretField`) with *Show* and
*Copy*, and *Save to .env* writes it from the kernel with mode 0600. The secret is never part
of any widget's saved state, nor of the cell output.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import ipywidgets as w  # type: ignore[import-untyped]

from .._shown import shown_text, text_repr
from ..advisor.advice import audit_spec
from ..catalog import permission_groups, templates
from ..catalog.groups import PermissionGroup
from ..errors import CloudflareError, InvalidInput, UnknownPermissionGroup
from ..model.directory import Directory
from ..model.policy import Policy
from ..model.resources import Scope
from ..model.secret import Secret
from ..model.token import CreatedToken, Token, TokenSpec
from ._html import ShownHTML
from .secret import SecretField, save_env

if TYPE_CHECKING:
    from ..client import Client
    from ..sandbox import Sandbox

__all__ = ["PolicyEditor", "TokenBuilder", "group_label"]

SCRATCH = "(from scratch)"
DEFAULT_LIFETIME = timedelta(days=90)
MAX_RESULTS = 40


def group_label(group: PermissionGroup) -> str:
    """``DNS Write (zone)``: unique across the catalogue (names repeat across scopes)."""
    return f"{group.name} ({group.scope.label})"


def _labels() -> dict[str, PermissionGroup]:
    return {group_label(g): g for g in permission_groups if g.scope is not Scope.R2_BUCKET}


class PolicyEditor:
    """The widgets of one policy: effect, permission groups (search, add), resources."""

    def __init__(self, builder: TokenBuilder, index: int):
        self.builder = builder
        directory = builder.directory
        self.effect = w.ToggleButtons(
            options=["allow", "deny"], value="allow", description="Effect"
        )
        self.search = w.Text(
            placeholder="type to search: dns, workers, logs…",
            description="Search",
            continuous_update=True,
        )
        self.results = w.SelectMultiple(options=[], rows=6, description="Matches")
        self.hint = ShownHTML("")
        self.add = w.Button(description="Add selected", icon="plus")
        self.groups = w.TagsInput(
            value=[], allowed_tags=list(builder._labels), allow_duplicates=False
        )
        zones = [(shown_text(z.name), z.id) for z in directory.zones]
        accounts = [(shown_text(a.name), a.id) for a in directory.accounts]
        self.zones = w.SelectMultiple(
            options=zones, rows=min(6, max(2, len(zones))), description="Zones"
        )
        self.zones_of = w.SelectMultiple(
            options=accounts, rows=min(4, max(2, len(accounts))), description="All zones of"
        )
        self.accounts = w.SelectMultiple(
            options=accounts, rows=min(4, max(2, len(accounts))), description="Accounts"
        )
        self.all_zones = w.Checkbox(description="All zones of all accounts (wildcard)")
        self.all_accounts = w.Checkbox(description="All accounts (wildcard)")
        self.user = w.Checkbox(
            description="Your user",
            disabled=builder.user_tag is None,
            tooltip="needs the user tag (a client or sandbox gives it)",
        )
        self.remove = w.Button(description="Remove policy", icon="trash")
        self.title = ShownHTML()
        self.box = w.VBox(
            [
                self.title,
                self.effect,
                w.HBox([self.search, self.add]),
                self.results,
                self.hint,
                w.HTML("<b>Permission groups</b>"),
                self.groups,
                w.HTML("<b>Resources</b>"),
                w.HBox([self.zones, self.zones_of]),
                self.accounts,
                w.HBox([self.all_zones, self.all_accounts, self.user]),
                self.remove,
            ],
            layout=w.Layout(border="1px solid #ddd", padding="4px", margin="4px 0"),
        )
        self.set_index(index)
        self.search.observe(self._on_search, names="value")
        self.add.on_click(lambda _b: self.add_selected())
        self.remove.on_click(lambda _b: builder.remove_policy(self))
        for widget in (
            self.effect,
            self.groups,
            self.zones,
            self.zones_of,
            self.accounts,
            self.all_zones,
            self.all_accounts,
            self.user,
        ):
            widget.observe(lambda _change: builder._refresh(), names="value")

    def set_index(self, index: int) -> None:
        """Renumber (after a policy above is removed)."""
        self.index = index
        self.title.value = f"<b>Policy {index}</b>"

    # -- groups -----------------------------------------------------------------------------
    def _on_search(self, change: dict[str, Any]) -> None:
        text = str(change["new"]).strip()
        if not text:
            self.results.options = []
            self.hint.value = ""
            return
        try:
            found = permission_groups.search(text)
        except UnknownPermissionGroup as exc:
            self.results.options = []
            close = ", ".join(exc.suggestions) or "none"
            self.hint.value = (
                f"<i>no group matches {html.escape(text)!s}; close: {html.escape(close)}</i>"
            )
            return
        found = [g for g in found if g.scope is not Scope.R2_BUCKET]
        self.results.options = [(group_label(g), g.id) for g in found[:MAX_RESULTS]]
        more = len(found) - MAX_RESULTS
        self.hint.value = f"<i>{more} more: type more to narrow</i>" if more > 0 else ""

    def add_selected(self) -> None:
        """Move the selected search results into the policy's groups."""
        chosen = list(self.groups.value)
        for group_id in self.results.value:
            group = permission_groups.by_id(group_id)
            if group is not None and group_label(group) not in chosen:
                chosen.append(group_label(group))
        self.groups.value = chosen

    def selected_groups(self) -> list[PermissionGroup]:
        """The catalogue entries of the chosen groups."""
        labels = self.builder._labels
        return [labels[label] for label in self.groups.value if label in labels]

    # -- the policy -----------------------------------------------------------------------------
    @property
    def empty(self) -> bool:
        """True when nothing is chosen yet."""
        return not self.groups.value and not self._has_resources()

    def _has_resources(self) -> bool:
        return bool(
            self.zones.value
            or self.zones_of.value
            or self.accounts.value
            or self.all_zones.value
            or self.all_accounts.value
            or self.user.value
        )

    def policy(self) -> Policy:
        """The :class:`~cftokens.Policy` these widgets describe (raises with what is missing)."""
        groups = self.selected_groups()
        where = f"policy {self.index}"
        if not groups:
            raise InvalidInput(f"{where} has no permission group: search and add one")
        if not self._has_resources():
            scopes = sorted({g.scope.label for g in groups})
            picks = [f"the {s}s it applies to" for s in scopes if s != "user"]
            if "user" in scopes:
                picks.append("tick 'Your user'")
            raise InvalidInput(f"{where} names no resource: pick {' or '.join(picks)}")
        build = Policy.allow if self.effect.value == "allow" else Policy.deny
        try:
            return build(
                groups,
                zones=list(self.zones.value),
                all_zones_of=list(self.zones_of.value),
                accounts=list(self.accounts.value),
                all_zones=bool(self.all_zones.value),
                all_accounts=bool(self.all_accounts.value),
                user=self.builder.user_tag if self.user.value else None,
            )
        except InvalidInput as exc:
            raise InvalidInput(f"{where}: {exc}") from None


class TokenBuilder:
    """An ipywidgets form that builds a :class:`~cftokens.TokenSpec` (``builder.spec``).

    ``source``: a :class:`~cftokens.Client` or :class:`~cftokens.Sandbox` (pickers filled from
    its directory; **Create** enabled) or a :class:`~cftokens.Directory` (design only).
    ``template``: a dashboard template name to start from; ``now``: the clock for the default
    expiry (a sandbox's clock by default).

    The widgets are attributes (``name``, ``template``, ``owner``, ``owner_account``,
    ``policies[i]``…, ``allow_ips``, ``deny_ips``, ``not_before``, ``expires_on``,
    ``no_expiry``, ``summary``, ``warnings_html``, ``create_button``, ``status``, ``secret``,
    ``env_path``, ``env_var``, ``save_button``), so notebooks and tests can drive them.
    """

    def __init__(
        self,
        source: Client | Sandbox | Directory,
        *,
        name: str = "new-token",
        template: str | None = None,
        now: datetime | None = None,
    ):
        self.directory, self.client, self.user_tag, clock = _resolve_source(source)
        self.now = now or clock or datetime.now(UTC)
        self._labels = _labels()
        self._holding = 0
        self._spec: TokenSpec | None = None
        self._errors: list[str] = []
        self._warnings: list[str] = []
        self.created: Token | None = None
        self._created_spec: TokenSpec | None = None  # what Create last sent
        self._secret: Secret | None = None

        self.template = w.Dropdown(
            options=[SCRATCH, *templates], value=SCRATCH, description="Start"
        )
        self.name = w.Text(value=name, description="Name")
        self.owner = w.ToggleButtons(options=["user", "account"], value="user", description="Owner")
        self.owner_account = w.Dropdown(
            options=[(shown_text(a.name), a.id) for a in self.directory.accounts],
            description="Account",
            layout=w.Layout(display="none"),
        )
        self.policies: list[PolicyEditor] = []
        self.policy_box = w.VBox([])
        self.add_policy_button = w.Button(description="Add policy", icon="plus")
        self.allow_ips = w.Textarea(
            placeholder="one CIDR per line, e.g. 203.0.113.0/24", description="Allow IPs"
        )
        self.deny_ips = w.Textarea(placeholder="one CIDR per line", description="Deny IPs")
        self.not_before = w.DatetimePicker(description="Not before")
        self.expires_on = w.DatetimePicker(
            value=self.now + DEFAULT_LIFETIME, description="Expires on"
        )
        self.no_expiry = w.Checkbox(description="No expiry (not recommended)")
        self.summary = ShownHTML()
        self.warnings_html = ShownHTML()
        self.create_button = w.Button(
            description="Create token", button_style="primary", icon="key", disabled=True
        )
        self.status = ShownHTML()
        self.secret = SecretField()
        self.env_path = w.Text(value=".env", description=".env file")
        self.env_var = w.Text(value="CLOUDFLARE_API_TOKEN", description="Variable")
        self.save_button = w.Button(description="Save to .env", icon="save")
        self.secret_box = w.VBox(
            [
                w.HTML("<b>Secret</b> (shown once; never stored in this notebook)"),
                self.secret,
                w.HBox([self.env_path, self.env_var, self.save_button]),
            ],
            layout=w.Layout(display="none"),
        )
        self.widget = w.VBox(
            [
                w.HBox([self.template, self.name]),
                w.HBox([self.owner, self.owner_account]),
                self.policy_box,
                self.add_policy_button,
                w.HBox([self.allow_ips, self.deny_ips]),
                w.HBox([self.not_before, self.expires_on, self.no_expiry]),
                w.HTML("<b>Review</b>"),
                self.summary,
                self.warnings_html,
                self.create_button,
                self.status,
                self.secret_box,
            ]
        )

        self.template.observe(lambda c: self._load_template(c["new"]), names="value")
        self.owner.observe(self._on_owner, names="value")
        self.add_policy_button.on_click(lambda _b: self.add_policy())
        self.create_button.on_click(lambda _b: self._create_clicked())
        self.save_button.on_click(lambda _b: self._save_clicked())
        for widget in (
            self.name,
            self.owner_account,
            self.allow_ips,
            self.deny_ips,
            self.not_before,
            self.expires_on,
            self.no_expiry,
        ):
            widget.observe(lambda _c: self._refresh(), names="value")
        with self._hold():
            self.add_policy()
            if template is not None:
                self.apply_template(template)
        self._refresh()

    # -- display ------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):  # a one-line plain-text fallback, not the widget tree
            bundle["text/plain"] = repr(self)
        return bundle

    def close(self) -> None:
        """Close every widget of the form: the kernel frees them, and a saved notebook keeps
        no state of a form that was only driven in code."""
        stack: list[Any] = [self.widget, *(e.box for e in self.policies)]
        seen: set[int] = set()
        while stack:
            widget = stack.pop()
            if id(widget) in seen or not isinstance(widget, w.Widget):
                continue
            seen.add(id(widget))
            for key in widget.keys:  # children, layout, style: every widget it refers to
                value = getattr(widget, key, None)
                stack.extend(value if isinstance(value, list | tuple) else [value])
            widget.close()

    @text_repr
    def __repr__(self) -> str:
        state = "ready" if self._spec is not None else "incomplete"
        return f"<TokenBuilder {self.name.value!r} ({state}, {len(self.policies)} policies)>"

    # -- policies -------------------------------------------------------------------------------
    def add_policy(self) -> PolicyEditor:
        """Add an empty policy editor and return it."""
        editor = PolicyEditor(self, len(self.policies) + 1)
        self.policies.append(editor)
        self.policy_box.children = [e.box for e in self.policies]
        self._refresh()
        return editor

    def remove_policy(self, editor: PolicyEditor) -> None:
        """Remove a policy editor (the last one is emptied instead)."""
        if len(self.policies) == 1:
            with self._hold():
                editor.groups.value = []
                for field in (editor.zones, editor.zones_of, editor.accounts):
                    field.value = ()
                for box in (editor.all_zones, editor.all_accounts, editor.user):
                    box.value = False
            self._refresh()
            return
        self.policies.remove(editor)
        for index, other in enumerate(self.policies, start=1):
            other.set_index(index)
        self.policy_box.children = [e.box for e in self.policies]
        self._refresh()

    def apply_template(self, name: str) -> None:
        """Start from a dashboard template (any letter case): its groups replace the
        policies, one policy per scope; the resources stay yours to pick."""
        canonical = templates[name].name  # raises UnknownTemplate with the names
        if self.template.value == canonical:
            self._load_template(canonical)
        else:
            self.template.value = canonical

    def _load_template(self, name: str) -> None:
        if name == SCRATCH:
            return
        template = templates[name]
        with self._hold():
            while len(self.policies) > 1:
                self.remove_policy(self.policies[-1])
            first = self.policies[0]
            self.remove_policy(first)
            for index, scope in enumerate(template.scopes):
                editor = first if index == 0 else self.add_policy()
                editor.groups.value = [group_label(g) for g in template.groups if g.scope is scope]
            if self.name.value in ("", "new-token"):
                self.name.value = name.lower().replace(" ", "-")
        self.status.value = (
            f"Template <b>{html.escape(name)}</b> loaded: pick the resources each policy "
            "applies to" + (" (its groups are inferred)" if template.inferred else "") + "."
        )
        self._refresh()

    def _on_owner(self, change: dict[str, Any]) -> None:
        account = change["new"] == "account"
        self.owner_account.layout.display = None if account else "none"
        for editor in self.policies:
            editor.user.disabled = account or self.user_tag is None
            if account:
                editor.user.value = False
        self._refresh()

    # -- the spec -------------------------------------------------------------------------------
    @contextmanager
    def _hold(self) -> Iterator[None]:
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1

    @property
    def spec(self) -> TokenSpec:
        """The current :class:`~cftokens.TokenSpec`; raises InvalidInput saying what is
        missing when the form is incomplete."""
        self._refresh()
        if self._spec is None:
            raise InvalidInput("the token is not complete: " + "; ".join(self._errors))
        return self._spec

    @property
    def errors(self) -> list[str]:
        """Why there is no spec yet (empty when the form is complete)."""
        return list(self._errors)

    @property
    def warnings(self) -> list[str]:
        """The risk warnings shown for the current spec."""
        return list(self._warnings)

    def _build(self) -> TokenSpec:
        policies = [e.policy() for e in self.policies if not e.empty or len(self.policies) == 1]
        if self.owner.value == "account":
            if not self.owner_account.value:
                raise InvalidInput("an account-owned token needs its account: pick one")
            user_groups = [
                g.name for e in self.policies for g in e.selected_groups() if g.scope is Scope.USER
            ]
            if user_groups:
                raise InvalidInput(
                    "account-owned tokens cannot hold user-scoped groups "
                    f"({', '.join(user_groups)}): remove them or make the token user-owned"
                )
        return TokenSpec(
            name=self.name.value.strip(),
            policies=policies,
            allow_ips=_lines(self.allow_ips.value),
            deny_ips=_lines(self.deny_ips.value),
            not_before=self.not_before.value,
            expires_on=None if self.no_expiry.value else self.expires_on.value,
        )

    def _refresh(self) -> None:
        if self._holding:
            return
        try:
            spec = self._build()
        except InvalidInput as exc:
            self._spec, self._errors, self._warnings = None, [str(exc)], []
        else:
            self._spec, self._errors = spec, []
            self._warnings = self._risks(spec)
        self._render()

    def _risks(self, spec: TokenSpec) -> list[str]:

        warnings = list(spec.summary(self.directory).warnings)
        try:
            findings = audit_spec(
                spec,
                owner=self.owner.value,
                account_id=self.owner_account.value,
                user=self.user_tag,
                directory=self.directory,
                at=self.now,
            ).findings
        except CloudflareError as exc:  # pragma: no cover - the spec was validated
            return [*warnings, f"the audit could not run: {exc}"]
        order = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
        rows = sorted(
            zip(
                findings["severity"],
                findings["rule_id"],
                findings["title"],
                findings["evidence"],
                strict=True,
            ),
            key=lambda r: (order.get(str(r[0]), 9), str(r[1])),
        )
        for severity, rule, title, evidence in rows:
            if str(severity) == "info":
                continue
            warnings.append(f"[{severity}] {rule} {title}: {evidence}")
        return list(dict.fromkeys(warnings))

    def _render(self) -> None:
        if self._spec is not None:
            self.summary.value = self._spec.summary(self.directory)._repr_html_()
        else:
            items = "".join(f"<li>{html.escape(e)}</li>" for e in self._errors)
            self.summary.value = f"<div style='color:#a00'><b>Not ready</b><ul>{items}</ul></div>"
        if self._warnings:
            items = "".join(f"<li>{html.escape(x)}</li>" for x in self._warnings)
            self.warnings_html.value = (
                f"<div style='color:#8a4b00'><b>Risk warnings</b><ul>{items}</ul></div>"
            )
        else:
            self.warnings_html.value = "" if self._spec is None else "<i>No risk warnings.</i>"
        # After a create, the button waits for a change: a second click would make a second
        # token and replace the secret on screen before it was copied.
        done = self._spec is not None and self._spec == self._created_spec
        self.create_button.disabled = self._spec is None or self.client is None or done
        if self.client is None:
            self.create_button.tooltip = "connect a Client or Sandbox to create tokens"
        elif done:
            self.create_button.tooltip = "created: change the form to create another token"
        else:
            self.create_button.tooltip = ""

    # -- creating -------------------------------------------------------------------------------
    def create(self) -> Token:
        """Create the token (what the button does); returns it. The secret goes to the masked
        field only (``builder.secret``), never to the return value or the output. The button
        then stays disabled until the form changes, so a second click cannot make a second
        token and replace the secret before it was copied."""
        if self.client is None:
            raise InvalidInput(
                "this builder has no client: pass a Client or Sandbox to TokenBuilder to create"
            )
        spec = self.spec
        if self.owner.value == "account":
            tokens = self.client.account(self.owner_account.value).tokens
        else:
            tokens = self.client.tokens
        created: CreatedToken = tokens.create(spec)
        self.created = created.token
        self._created_spec = spec
        self._secret = created.secret
        field = SecretField(created.secret)
        previous, self.secret = self.secret, field
        self.secret_box.children = (
            self.secret_box.children[0],
            field,
            *self.secret_box.children[2:],
        )
        previous.close()  # the earlier token's field leaves the page and the comm
        self.secret_box.layout.display = None
        self.status.value = (
            f"Created token <b>{html.escape(created.token.name)}</b> "
            f"(id {html.escape(created.token.id)}). Its secret is shown once below: copy it or "
            "save it to a .env file now."
        )
        self._render()
        return created.token

    def _create_clicked(self) -> None:
        if self.create_button.disabled:  # a click that raced the button being disabled
            return
        try:
            self.create()
        except CloudflareError as exc:
            self.status.value = (
                f"<span style='color:#a00'>Not created: {html.escape(type(exc).__name__)}: "
                f"{html.escape(str(exc))}</span>"
            )

    def save_env(self) -> str:
        """Write the secret to the .env file named in the form (mode 0600); returns the
        message shown."""
        if self._secret is None:
            raise InvalidInput("no token was created yet, so there is no secret to save")
        path, warnings = save_env(self._secret, self.env_path.value, variable=self.env_var.value)
        message = (
            f"Saved {html.escape(self.env_var.value)} to {html.escape(str(path))} (mode 0600)."
        )
        if warnings:
            message += "<br>" + "<br>".join(html.escape(x) for x in warnings)
        self.status.value = message
        return message

    def _save_clicked(self) -> None:
        try:
            self.save_env()
        except (CloudflareError, OSError) as exc:
            self.status.value = (
                f"<span style='color:#a00'>Not saved: {html.escape(str(exc))}</span>"
            )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


def _resolve_source(source: Any) -> tuple[Directory, Any, str | None, datetime | None]:
    """(directory, client or None, user tag or None, clock time or None) from a source."""
    if isinstance(source, Directory):
        return source, None, None, None
    sandbox_like = all(hasattr(source, n) for n in ("client", "directory", "user_id", "clock"))
    if sandbox_like:
        user = source.user_id
        return source.directory(user), source.client(), user, source.clock.now()
    if hasattr(source, "tokens") and hasattr(source, "directory"):
        directory = source.directory()
        if not isinstance(directory, Directory):
            if hasattr(directory, "close"):
                directory.close()  # an un-awaited coroutine from an AsyncClient
            raise InvalidInput(
                "TokenBuilder needs a synchronous cftokens.Client (or a Sandbox or Directory); "
                "an AsyncClient's calls must be awaited: pass await client.directory() instead"
            )
        tag: str | None
        try:
            tag = source.user.get().id
        except (CloudflareError, AttributeError):
            tag = None
        return directory, source, tag, None
    raise InvalidInput(
        "TokenBuilder takes a cftokens.Client, a cftokens.Sandbox or a cftokens.Directory, "
        f"got {type(source).__name__}"
    )
