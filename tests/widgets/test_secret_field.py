"""SecretField and save_env: the secret travels once, by message, and lands in a 0600 file."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from widget_helpers import all_widget_state

import cftokens as cft
from cftokens.widgets import SecretField, save_env

VALUE = "cfut_" + "Q7" * 20 + "abc"


def test_secret_field_state_holds_only_the_mask() -> None:
    """The synced state carries the prefix and fingerprint, never the value; repr too."""
    field = SecretField(cft.Secret(VALUE))
    state = field.get_state()
    assert state["masked"].startswith("cfut_…")
    assert VALUE not in all_widget_state()
    assert VALUE not in repr(field)
    with pytest.raises(cft.InvalidInput):
        field.set_secret(VALUE)  # type: ignore[arg-type]


def test_secret_is_sent_once_when_the_browser_asks() -> None:
    """Nothing is sent before the browser says it is ready; then exactly once; a new secret
    set while the browser listens is sent at once (and only once)."""
    sent: list[dict[str, Any]] = []
    field = SecretField()
    field.send = lambda content, buffers=None: sent.append(content)
    field.set_secret(cft.Secret(VALUE))
    assert sent == []
    field._handle_custom_msg({"type": "ready"}, [])
    field._handle_custom_msg({"type": "ready"}, [])
    assert sent == [{"type": "secret", "value": VALUE}]
    other = "cfut_" + "Z9" * 21 + "x"
    field.set_secret(cft.Secret(other))
    assert sent[-1] == {"type": "secret", "value": other}
    assert len(sent) == 2
    assert other not in all_widget_state()


def test_save_env_creates_a_private_file(tmp_path: Path) -> None:
    """A new file gets the variable line and mode 0600, whatever the umask."""
    old = os.umask(0o022)
    try:
        path, warnings = save_env(cft.Secret(VALUE), tmp_path / "creds.env", variable="CF_TOKEN")
    finally:
        os.umask(old)
    assert path.read_text() == f"CF_TOKEN={VALUE}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert warnings == []


def test_save_env_replaces_an_exported_line_and_warns_in_git(tmp_path: Path) -> None:
    """An existing 'export VAR=' line is replaced (once), others kept; inside a git work tree
    without a .gitignore entry a warning says to ignore the file."""
    (tmp_path / ".git").mkdir()
    env = tmp_path / ".env"
    env.write_text("A=1\nexport CLOUDFLARE_API_TOKEN=old\nCLOUDFLARE_API_TOKEN=older\nB=2\n")
    path, warnings = save_env(cft.Secret(VALUE), env)
    assert path.read_text() == f"A=1\nCLOUDFLARE_API_TOKEN={VALUE}\nB=2\n"
    assert warnings and ".gitignore" in warnings[0]
    (tmp_path / ".gitignore").write_text(".env\n")
    assert save_env(cft.Secret(VALUE), env)[1] == []


def test_save_env_refuses_bad_targets(tmp_path: Path) -> None:
    """A bad variable name, a directory, a missing folder or a plain string are refused
    without writing anything."""
    secret = cft.Secret(VALUE)
    with pytest.raises(cft.InvalidInput, match="variable name"):
        save_env(secret, tmp_path / ".env", variable="1BAD")
    with pytest.raises(cft.InvalidInput, match="is a directory"):
        save_env(secret, tmp_path)
    with pytest.raises(cft.InvalidInput, match="does not exist"):
        save_env(secret, tmp_path / "nope" / ".env")
    with pytest.raises(cft.InvalidInput, match=r"cftokens\.Secret"):
        save_env(VALUE, tmp_path / ".env")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
