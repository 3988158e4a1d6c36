"""TokenBuilder, driven headlessly: widget values in, spec, warnings and displayed state out."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from widget_helpers import all_widget_state

import cftokens as cft
from cftokens.widgets import TokenBuilder


@pytest.fixture(scope="module")
def sandbox(demo_company: cft.Sandbox) -> Iterator[cft.Sandbox]:
    """The demo company."""
    with demo_company.copy() as sb:
        yield sb


@pytest.fixture
def directory(sandbox: cft.Sandbox) -> cft.Directory:
    return sandbox.directory()


def zone_named(directory: cft.Directory, name: str) -> str:
    return directory.zone(name).id


def test_design_from_a_directory_with_search_and_pickers(directory: cft.Directory) -> None:
    """Typing in the search lists matching groups; adding one and picking a zone by name gives
    exactly Policy.allow(DNS Write, that zone); Create stays disabled without a client."""
    builder = TokenBuilder(directory)
    editor = builder.policies[0]
    assert builder.errors == ["policy 1 has no permission group: search and add one"]
    editor.search.value = "dns wri"
    labels = [label for label, _ in editor.results.options]
    assert "DNS Write (zone)" in labels
    editor.results.value = (dict(editor.results.options)["DNS Write (zone)"],)
    editor.add.click()
    assert editor.groups.value == ["DNS Write (zone)"]
    assert "pick the zones" in builder.errors[0]
    zone = zone_named(directory, "acme.example")
    editor.zones.value = (zone,)
    builder.name.value = "ci-dns"
    assert builder.errors == []
    spec = builder.spec
    assert spec.name == "ci-dns"
    assert spec.policies == (cft.Policy.allow(["DNS Write"], zones=[zone]),)
    assert "acme.example" in builder.summary.value
    assert builder.create_button.disabled
    editor.search.value = "qqqq"
    assert editor.results.options == ()
    assert "no group matches" in editor.hint.value


def test_risk_warnings_follow_the_choices(directory: cft.Directory) -> None:
    """Without an allowlist the audit's NW-01 and RK-01 show; an allowlist clears them; no
    expiry adds LC-01; the default expiry is 90 days from the builder's clock."""
    builder = TokenBuilder(directory)
    editor = builder.policies[0]
    editor.groups.value = ["DNS Write (zone)"]
    editor.zones.value = (zone_named(directory, "acme.example"),)
    joined = " ".join(builder.warnings)
    assert "CFT-NW-01" in joined and "CFT-RK-01" in joined
    assert "CFT-NW-01" in builder.warnings_html.value
    builder.allow_ips.value = "52.1.2.0/24\n52.1.3.0/24"
    assert not any("NW-01" in w or "RK-01" in w for w in builder.warnings)
    assert builder.spec.allow_ips == ("52.1.2.0/24", "52.1.3.0/24")
    assert builder.spec.expires_on == builder.now + timedelta(days=90)
    builder.no_expiry.value = True
    assert builder.spec.expires_on is None
    assert any("CFT-LC-01" in w for w in builder.warnings)
    builder.allow_ips.value = "not-an-ip"
    assert builder.errors and "CIDR" in builder.errors[0]
    assert "Not ready" in builder.summary.value


def test_templates_start_policies_and_deny_policies_work(directory: cft.Directory) -> None:
    """A template fills the groups (one policy per scope); an added deny policy becomes a deny
    in the spec; removing it renumbers."""
    builder = TokenBuilder(directory, template="edit zone dns")
    assert builder.template.value == "Edit zone DNS"
    assert [p.groups.value for p in builder.policies] == [["DNS Write (zone)"]]
    assert builder.name.value == "edit-zone-dns"
    account = directory.account("Acme Production").id
    builder.policies[0].zones_of.value = (account,)
    deny = builder.add_policy()
    deny.effect.value = "deny"
    deny.groups.value = ["DNS Write (zone)"]
    deny.zones.value = (zone_named(directory, "acme-shop.example"),)
    spec = builder.spec
    assert [p.effect.value for p in spec.policies] == ["allow", "deny"]
    assert spec.policies[0].resources == (cft.Resource.all_zones_of(account),)
    extra = builder.add_policy()
    builder.remove_policy(deny)
    assert [p.index for p in builder.policies] == [1, 2]
    assert builder.policies[1] is extra
    assert len(builder.spec.policies) == 1  # an untouched extra policy is left out
    extra.groups.value = ["Zone Read (zone)"]
    with pytest.raises(cft.InvalidInput, match="policy 2 names no resource"):
        builder.spec  # noqa: B018 - a half-filled policy is an error


def test_account_owned_tokens_refuse_user_groups(sandbox: cft.Sandbox) -> None:
    """From a client whose token may create account tokens: owner 'account' hides the user
    picker and refuses user-scoped groups; with an account and zone groups the token is
    created under that account."""
    account = sandbox.directory().account("Acme Production").id
    admin = sandbox.create_token(
        cft.TokenSpec(
            name="account-admin",
            policies=[
                cft.Policy.allow(["Account API Tokens Write"], accounts=[account]),
                cft.Policy.allow(["Zone Read"], all_zones_of=account),
                cft.Policy.allow(["User Details Read", "API Tokens Write"], user=sandbox.user_id),
            ],
        )
    )
    client = sandbox.client(token=admin.secret)
    builder = TokenBuilder(client, template="Create Additional Tokens")
    assert builder.user_tag == sandbox.user_id
    builder.policies[0].user.value = True
    assert builder.errors == []
    builder.owner.value = "account"
    assert builder.policies[0].user.disabled
    assert builder.errors
    directory = builder.directory
    builder.owner_account.value = account
    builder.policies[0].groups.value = ["DNS Read (zone)"]
    builder.policies[0].zones.value = (zone_named(directory, "acme.example"),)
    assert builder.errors == []
    token = builder.create()
    assert token.id in {t.id for t in sandbox.tokens(owner=account)}


def test_create_shows_the_secret_once_and_never_as_state(
    sandbox: cft.Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """Clicking Create makes the token in the sandbox, shows the secret box, and the secret is
    in no widget's state, not in the status and not in the cell output; the browser gets it
    once by custom message when it asks."""
    builder = TokenBuilder(sandbox)
    editor = builder.policies[0]
    editor.groups.value = ["DNS Read (zone)"]
    editor.zones.value = (zone_named(builder.directory, "acme.example"),)
    assert not builder.create_button.disabled
    builder.create_button.click()
    assert builder.created is not None
    assert "Created token" in builder.status.value
    assert builder.secret_box.layout.display is None
    secret = builder.secret.secret
    assert secret is not None
    value = secret.reveal()
    assert value not in all_widget_state()
    assert value not in builder.status.value + builder.summary.value + repr(builder)
    out = capsys.readouterr()
    assert value not in out.out + out.err
    sent: list[dict[str, Any]] = []
    builder.secret.send = lambda content, buffers=None: sent.append(content)
    builder.secret._handle_custom_msg({"type": "ready"}, [])
    builder.secret._handle_custom_msg({"type": "ready"}, [])
    assert sent == [{"type": "secret", "value": value}]
    assert builder.secret.delivered
    assert value not in all_widget_state()
    builder.secret._handle_custom_msg({"type": "copied"}, [])
    assert builder.secret.copied
    with sandbox.client(token=secret) as client:
        assert client.tokens.verify().id == builder.created.id


def test_save_to_env_writes_mode_0600(sandbox: cft.Sandbox, tmp_path: Path) -> None:
    """Save to .env replaces the variable's line, keeps the others, sets mode 0600 and shows
    no secret."""
    builder = TokenBuilder(sandbox)
    editor = builder.policies[0]
    editor.groups.value = ["Zone Read (zone)"]
    editor.zones.value = (zone_named(builder.directory, "acme.example"),)
    builder.create()
    env = tmp_path / ".env"
    env.write_text("OTHER=1\nCLOUDFLARE_API_TOKEN=old\n")
    os.chmod(env, 0o644)
    builder.env_path.value = str(env)
    builder.save_button.click()
    secret = builder.secret.secret
    assert secret is not None
    assert env.read_text() == f"OTHER=1\nCLOUDFLARE_API_TOKEN={secret.reveal()}\n"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert "mode 0600" in builder.status.value
    assert secret.reveal() not in builder.status.value
    builder.env_var.value = "bad name"
    builder.save_button.click()
    assert "Not saved" in builder.status.value


def test_create_failures_are_shown_not_raised(sandbox: cft.Sandbox) -> None:
    """A create the sandbox refuses (an account the bootstrap token cannot manage) shows the
    error in the status line."""
    builder = TokenBuilder(sandbox)
    directory = builder.directory
    managed = [a for a in directory.accounts if "Pixel" in a.name]
    if not managed:
        pytest.skip("the demo has no agency-managed account")
    builder.owner.value = "account"
    builder.owner_account.value = managed[0].id
    editor = builder.policies[0]
    editor.groups.value = ["Zone Read (zone)"]
    editor.zones.value = (directory.zones_of(managed[0].id)[0].id,)
    builder.create_button.click()
    assert "Not created" in builder.status.value
    assert builder.created is None


def test_builder_refuses_other_sources() -> None:
    """A source that is not a Client, Sandbox or Directory is refused with the three kinds."""
    with pytest.raises(
        cft.InvalidInput, match=r"Client, a cftokens\.Sandbox or a cftokens\.Directory"
    ):
        TokenBuilder(object())
    with pytest.raises(cft.InvalidInput, match="synchronous"):
        TokenBuilder(cft.AsyncClient(token="cfut_" + "a" * 43))
    builder = TokenBuilder(cft.Directory())
    with pytest.raises(cft.InvalidInput, match="no client"):
        builder.create()
    with pytest.raises(cft.InvalidInput, match="no token was created"):
        builder.save_env()


def test_create_waits_for_a_change_before_another_token(sandbox: cft.Sandbox) -> None:
    """After Create the button is disabled until the form changes (a second click would make a
    second token and replace the secret on screen); the earlier secret field is closed."""
    builder = TokenBuilder(sandbox)
    editor = builder.policies[0]
    editor.groups.value = ["Zone Read (zone)"]
    editor.zones.value = (zone_named(builder.directory, "acme.example"),)
    builder.create_button.click()
    first, field = builder.created, builder.secret
    assert first is not None
    assert builder.create_button.disabled
    assert "change the form" in builder.create_button.tooltip
    builder.create_button.click()  # a stray click on the disabled button changes nothing
    assert builder.created.id == first.id and builder.secret is field
    builder.name.value = "second"
    assert not builder.create_button.disabled
    builder.create_button.click()
    assert builder.created is not None and builder.created.id != first.id
    assert builder.secret is not field and field.comm is None


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("Zone:DNS:Edit", "DNS Write (zone)"),
        ("Account \u2013 Cloudflare Pages \u2013 Edit", "Pages Write (account)"),
        ("Account Filter Lists Edit", "Account Rule Lists Write (account)"),
    ],
)
def test_search_reads_the_names_people_write(
    directory: cft.Directory, typed: str, first: str
) -> None:
    """The builder's search box puts the group a dashboard or README spelling means first."""
    editor = TokenBuilder(directory).policies[0]
    editor.search.value = typed
    assert editor.results.options[0][0] == first


def test_close_frees_every_widget_of_the_form(directory: cft.Directory) -> None:
    """close() closes the whole form, so no state of it is kept (e.g. in a saved notebook)."""
    import ipywidgets.widgets.widget as widget_module

    builder = TokenBuilder(directory, name="closing")
    builder.policies[0].search.value = "dns"
    ids = set()
    stack: list[Any] = [builder.widget]
    while stack:
        widget = stack.pop()
        stack.extend(getattr(widget, "children", ()))
        ids.add(widget.model_id)
    assert ids <= set(widget_module._instances)
    builder.close()
    assert not ids & set(widget_module._instances)
