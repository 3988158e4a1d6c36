"""A token secret in a notebook, shown once, never saved with the notebook.

:class:`SecretField` is a masked field with **Show** and **Copy** buttons. The secret never
becomes widget *state* (what a saved notebook keeps): the browser asks for it once with a
custom message when the field first appears, holds it in page memory only, and copies it to
the clipboard from there. Reloading the page (or the saved notebook) shows an empty field that
says the secret was shown once. Only the public prefix (``cfut_…``) and a short fingerprint are
state.

:func:`save_env` writes the secret into a ``.env`` file with mode 0600, from the kernel, so it
never passes through the browser at all.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..errors import InvalidInput
from ..model.secret import Secret

__all__ = ["SecretField", "save_env"]

_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_ESM = r"""
const secrets = new WeakMap();

function initialize({ model }) {
  model.on("msg:custom", (msg) => {
    if (msg && msg.type === "secret") {
      secrets.set(model, String(msg.value));
      model.set("received", true);
      model.save_changes();
    }
  });
  if (!model.get("delivered")) {
    model.send({ type: "ready" });
  }
}

function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "cftokens-secret";
  const input = document.createElement("input");
  input.type = "password";
  input.readOnly = true;
  input.autocomplete = "off";
  input.spellcheck = false;
  input.style.width = "32em";
  const show = document.createElement("button");
  show.textContent = "Show";
  const copy = document.createElement("button");
  copy.textContent = "Copy";
  const note = document.createElement("span");
  note.style.marginLeft = "0.5em";
  function refresh() {
    const value = secrets.get(model);
    input.value = value || "";
    input.placeholder = value ? "" : model.get("placeholder");
    show.disabled = copy.disabled = !value;
    note.textContent = model.get("masked");
  }
  show.onclick = () => {
    input.type = input.type === "password" ? "text" : "password";
    show.textContent = input.type === "password" ? "Show" : "Hide";
  };
  copy.onclick = async () => {
    const value = secrets.get(model);
    if (!value) return;
    try {
      await navigator.clipboard.writeText(value);
      copy.textContent = "Copied";
      model.send({ type: "copied" });
    } catch (err) {
      input.type = "text";
      input.select();
      copy.textContent = "Press Ctrl+C";
    }
  };
  model.on("change:received", refresh);
  model.on("change:masked", refresh);
  refresh();
  box.append(input, show, copy, note);
  el.appendChild(box);
}

export default { initialize, render };
"""


class SecretField(anywidget.AnyWidget):
    """A masked, copyable view of a :class:`~cftokens.Secret` that never stores it as state.

    Synced state: ``masked`` (``"cfut_… (fingerprint 1a2b3c4d5e6f)"``), ``placeholder``,
    ``delivered`` (the browser got the secret), ``received`` and ``copied``. The value itself
    travels once, as a custom message, when the browser asks for it.
    """

    _esm = _ESM
    masked = traitlets.Unicode("").tag(sync=True)
    placeholder = traitlets.Unicode(
        "shown once: this page no longer holds the secret (roll the token for a new one)"
    ).tag(sync=True)
    delivered = traitlets.Bool(False).tag(sync=True)
    received = traitlets.Bool(False).tag(sync=True)
    copied = traitlets.Bool(False).tag(sync=True)

    def __init__(self, secret: Secret | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._secret: Secret | None = None
        self._ready = False  # the browser said it listens for the secret
        self.on_msg(self._on_message)
        if secret is not None:
            self.set_secret(secret)

    def set_secret(self, secret: Secret) -> None:
        """Show a new secret (once); the previous one is forgotten."""
        if not isinstance(secret, Secret):
            raise InvalidInput("SecretField shows a cftokens.Secret, not a plain string")
        self._secret = secret
        self.delivered = False
        self.received = False
        self.copied = False
        self.masked = f"{secret.masked} (fingerprint {secret.fingerprint()})"
        # A browser already listening gets it now; one that appears later asks with "ready".
        if self._ready:
            self._deliver()

    @property
    def secret(self) -> Secret | None:
        """The secret (a masked :class:`~cftokens.Secret`), kept in the kernel only."""
        return self._secret

    def _deliver(self) -> None:
        """Send the secret to the browser once, as a custom message (never as state)."""
        if self._secret is None or self.delivered:
            return
        self.send({"type": "secret", "value": self._secret.reveal()})
        self.delivered = True

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "ready":
            self._ready = True
            self._deliver()
        elif kind == "copied":
            self.copied = True

    def __repr__(self) -> str:
        return f"SecretField({self.masked or 'empty'})"


def save_env(
    secret: Secret, path: str | os.PathLike[str] = ".env", *, variable: str = "CLOUDFLARE_API_TOKEN"
) -> tuple[Path, list[str]]:
    """Write ``variable=<secret>`` into a dotenv file, replacing an existing line for it.

    The file ends up with mode 0600 (owner read/write only) and is replaced atomically, so a
    failure leaves the old file as it was. Returns the absolute path and warnings (e.g. the
    file is not ignored by git). The secret is never printed.
    """
    if not isinstance(secret, Secret):
        raise InvalidInput("save_env takes a cftokens.Secret")
    if not _VAR.fullmatch(variable):
        raise InvalidInput(
            f"{variable!r} is not a valid environment variable name; use letters, digits and _"
        )
    target = Path(path).expanduser().resolve()
    if target.is_dir():
        raise InvalidInput(f"{target} is a directory; give a file path such as {target / '.env'}")
    if not target.parent.exists():
        raise InvalidInput(f"the folder {target.parent} does not exist; create it first")
    lines: list[str] = []
    if target.exists():
        lines = target.read_text(encoding="utf-8").splitlines()
    entry = f"{variable}={secret.reveal()}"
    replaced = False
    kept: list[str] = []
    for line in lines:
        if re.match(rf"\s*(export\s+)?{re.escape(variable)}\s*=", line):
            if not replaced:
                kept.append(entry)
                replaced = True
            continue
        kept.append(line)
    if not replaced:
        kept.append(entry)
    text = "\n".join(kept) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".env.", dir=target.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    os.chmod(target, 0o600)
    return target, _git_warnings(target)


def _git_warnings(target: Path) -> list[str]:
    """A warning when the file sits in a git work tree and no .gitignore mentions it."""
    folder = target.parent
    repo = None
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            repo = candidate
            break
    if repo is None:
        return []
    for candidate in (folder, *folder.parents):
        ignore = candidate / ".gitignore"
        if ignore.exists():
            patterns = [p.strip() for p in ignore.read_text(encoding="utf-8").splitlines()]
            if any(p in (target.name, f"/{target.name}", "*.env", ".env*") for p in patterns):
                return []
        if candidate == repo:
            break
    return [
        f"{target.name} is inside the git work tree {repo} and no .gitignore lists it: add "
        f"{target.name} to .gitignore so the secret is never committed"
    ]
