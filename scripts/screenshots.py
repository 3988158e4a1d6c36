"""Take the PNG screenshots in docs/: the audit's HTML report and the two widgets.

    npm install --prefix /tmp/cft-npm @jupyter-widgets/html-manager@^1.0.1   # once
    python scripts/screenshots.py \
        --html-manager /tmp/cft-npm/node_modules/@jupyter-widgets/html-manager/dist
    python scripts/screenshots.py --only report     # the audit report alone: no npm needed

Needs a Chromium (``apt-get install chromium``), run headless with no network use. The report
is the one notebook 04 writes (the demo company, audited with a read-only auditor token, with
usage). The widgets are the token builder of notebook 02 and the audit explorer of notebook 04,
exported with ``ipywidgets.embed`` and rendered offline by @jupyter-widgets/html-manager from a
local copy (nothing is fetched from a CDN). Everything is written under a temporary directory
except the PNGs; no secret is in any page (the builder is shown before Create).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def demo_audit() -> tuple[Any, Any]:
    """The demo company audited as in notebook 04 (auditor token, usage); and the sandbox."""
    import cftokens as cft

    sb = cft.Sandbox.demo()
    client = sb.client()
    directory = client.directory()
    advice = cft.least_privilege(
        [
            "GET /user",
            "GET /user/tokens",
            "GET /accounts",
            "GET /accounts/{account_id}/tokens",
            "GET /accounts/{account_id}/logs/audit",
            "GET /zones",
            "GET /zones/{zone_id}",
        ],
        account=[a.id for a in directory.accounts],
        zone=[z.id for z in directory.zones],
        user=client.user.get().id,
        directory=directory,
        allow_ips=["203.0.113.0/24"],
        ttl=timedelta(days=7),
        allow_broad_scope=True,
        name="auditor-readonly",
        now=sb.clock.now(),
    )
    now = sb.clock.now()
    spec = advice.spec
    auditor = client.tokens.create(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        audit = cft.run_audit(
            sb.client(token=auditor.secret, ip="203.0.113.5"),
            usage=sb.journal,
            now=now,
            progress=False,
        )
    return audit, sb


def token_builder(sb: Any) -> Any:
    """Notebook 02's builder: the status page's Cache Purge token, filled in, not created."""
    import cftokens as cft

    zone = sb.directory().zone("acme-status.example")
    builder = cft.TokenBuilder(sb, name="status-page-purge")
    policy = builder.policies[0]
    policy.search.value = "cache purge"
    policy.results.value = policy.results.options[0][1:]
    policy.add_selected()
    policy.zones.value = (zone.id,)
    builder.allow_ips.value = "34.120.177.0/28"
    assert builder.errors == [], builder.errors
    return builder


def audit_explorer(audit: Any) -> Any:
    """Notebook 04's explorer: high and above on acme.example, one token explained."""
    import cftokens as cft

    explorer = cft.AuditExplorer(audit, max_rows=6)
    explorer.severity.value = "high"
    explorer.zone.value = audit.directory.zone("acme.example").id
    tokens = audit.tokens
    explorer.token.value = tokens.loc[tokens["name"] == "cert-manager", "token_id"].item()
    return explorer


def widget_page(widget: Any, folder: Path, manager: Path, title: str) -> Path:
    """An HTML page rendering ``widget`` with a local copy of the html-manager."""
    from ipywidgets.embed import embed_minimal_html

    local = folder / "html-manager"
    if not local.exists():
        shutil.copytree(manager, local)
    page = folder / (title.replace(" ", "-") + ".html")
    embed_minimal_html(
        page,
        views=[widget.widget],
        title=title,
        requirejs=False,
        embed_url="html-manager/embed.js",
        cors=False,
    )
    text = page.read_text().replace(
        "<body>", "<body style='font-family: sans-serif; padding: 12px; background: white'>"
    )
    page.write_text(text)
    return page


def headless(
    chromium: str, page: Path, size: tuple[int, int], profile: Path, action: str
) -> list[str]:
    """The command that renders ``page`` in headless Chromium, offline, in a window of
    ``size``, then does ``action`` (``--screenshot=…`` or ``--dump-dom``)."""
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
        "--virtual-time-budget=15000",
        action,
        page.as_uri(),
    ]


def probe(chromium: str, page: Path, size: tuple[int, int], profile: Path) -> Any:
    """Render ``page`` headless and return the JSON value its own script wrote into the DOM
    between ``PROBE`` markers (``'PROBE' + JSON.stringify(…) + 'PROBE'``): what a test
    measures in the browser. RuntimeError, with Chromium's exit code and the end of its
    stderr, when the page wrote none."""
    done = subprocess.run(
        headless(chromium, page, size, profile, "--dump-dom"),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    found = re.search(r"PROBE(\{.*?\})PROBE", done.stdout)
    if not found:
        raise RuntimeError(
            f"chromium gave no measurement (exit {done.returncode}): {done.stderr[-800:]}"
        )
    return json.loads(found.group(1))


def screenshot(chromium: str, page: Path, out: Path, size: tuple[int, int], profile: Path) -> None:
    """Render ``page`` headless and write a PNG."""
    subprocess.run(
        headless(chromium, page, size, profile, f"--screenshot={out}"),
        check=True,
        capture_output=True,
    )
    print(f"wrote {out.relative_to(ROOT)} ({out.stat().st_size:,} bytes)")


SHOTS = ("report", "builder", "explorer")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--html-manager",
        type=Path,
        help="the dist/ folder of an npm install of @jupyter-widgets/html-manager (for the "
        "widget screenshots)",
    )
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument(
        "--only",
        choices=SHOTS,
        action="append",
        help="take only this screenshot (repeatable; default all); 'report' needs no npm",
    )
    args = parser.parse_args()
    shots = args.only or list(SHOTS)
    widgets = [s for s in shots if s != "report"]
    if widgets and (args.html_manager is None or not (args.html_manager / "embed.js").exists()):
        parser.error(
            f"the {' and '.join(widgets)} screenshot(s) need --html-manager: the dist/ folder of "
            "an npm install of @jupyter-widgets/html-manager (or pass --only report)"
        )
    DOCS.mkdir(exist_ok=True)
    audit, sb = demo_audit()
    with tempfile.TemporaryDirectory(prefix="cft-shots-") as tmp:
        folder = Path(tmp)
        profile = folder / "profile"
        if "report" in shots:
            report = folder / "audit-report.html"
            audit.to_html(report)
            screenshot(args.chromium, report, DOCS / "audit-report.png", (1280, 1700), profile)
        if "builder" in shots:
            builder = widget_page(token_builder(sb), folder, args.html_manager, "token builder")
            screenshot(args.chromium, builder, DOCS / "token-builder.png", (1100, 1120), profile)
        if "explorer" in shots:
            explorer = widget_page(
                audit_explorer(audit), folder, args.html_manager, "audit explorer"
            )
            screenshot(args.chromium, explorer, DOCS / "audit-explorer.png", (1280, 1500), profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
