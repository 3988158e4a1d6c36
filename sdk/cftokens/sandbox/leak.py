"""The demo company's leak scenario: a token secret committed to a repository, then abused.

``Sandbox.demo(leak=True)`` (or ``stage_leak(sb)`` on a demo sandbox) adds, without changing
anything the plain demo has (same tokens, ids, secrets and history; new journal rows come after
the others, so no existing Ray id moves):

- ``sb.extras["repository"]``: the *acme-website* repository as ``{path: text}`` (``bytes`` for
  the one binary file). ``wp-content/plugins/acme-cache/config.php`` holds the live secret of
  **wordpress-plugin** (Dana's user token: Zone Settings Write, Cache Purge, Zone/DNS/Analytics
  Read on acme-shop.example, Account Settings Read on Acme Production; no IP allowlist, no
  expiry). The workflow file references ``${{ secrets.CLOUDFLARE_API_TOKEN }}`` (not a
  secret), ``assets/logo.png`` is binary.
- ``sb.extras["leak"]``: the facts a responder would piece together: the token's name and id,
  the file, the commit time (6 days before the sandbox clock), the attacker's address
  (``198.18.77.66``, an address no Acme system uses) and user agent.
- Journal rows, hence Audit Logs v2 records of Acme Production: from 5 days ago the attacker
  verifies nothing it cannot see (the user path is not in account logs), reads the zone, its DNS
  records and settings, the account and its members, turns the zone's security level off and
  SSL to "off", purges the cache, and is refused twice (creating a DNS record needs DNS Write;
  listing account tokens needs Account API Tokens Read). The plugin keeps calling from
  185.199.108.20 as before: what breaks if the token is rolled.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..catalog import operations
from ..errors import InvalidInput
from .admin import SandboxAdmin

__all__ = ["ATTACKER_AGENT", "ATTACKER_IP", "LEAKED_TOKEN", "stage_leak"]

LEAKED_TOKEN = "wordpress-plugin"
ATTACKER_IP = "198.18.77.66"
ATTACKER_AGENT = "python-requests/2.31.0"
REPOSITORY = "acme-website"
LEAK_FILE = "wp-content/plugins/acme-cache/config.php"
LEAK_DAYS_AGO = 6

# (days ago, hh:mm, method, path template, status): the attacker's requests, in order.
_ATTACK = (
    (5.0, "02:13", "GET", "/zones/{zone}", 200),
    (5.0, "02:14", "GET", "/zones/{zone}/dns_records", 200),
    (5.0, "02:14", "GET", "/zones/{zone}/settings", 200),
    (5.0, "02:16", "GET", "/accounts/{account}", 200),
    (5.0, "02:16", "GET", "/accounts/{account}/members", 200),
    (5.0, "02:17", "GET", "/accounts/{account}/tokens", 403),
    (5.0, "02:19", "POST", "/zones/{zone}/dns_records", 403),
    (4.0, "23:41", "PATCH", "/zones/{zone}/settings/security_level", 200),
    (4.0, "23:42", "PATCH", "/zones/{zone}/settings/ssl", 200),
    (4.0, "23:44", "POST", "/zones/{zone}/purge_cache", 200),
    (2.0, "03:05", "POST", "/zones/{zone}/purge_cache", 200),
    (1.0, "04:30", "GET", "/zones/{zone}/settings", 200),
    (1.0, "04:31", "POST", "/zones/{zone}/purge_cache", 200),
)
_REASONS = {
    "/accounts/{account}/tokens": "no permission: needs Account API Tokens Read or Write",
    "/zones/{zone}/dns_records": "no permission: needs DNS Write",
}


def _repository(secret: str, zone_id: str) -> dict[str, str | bytes]:
    return {
        "README.md": (
            "# acme-website\n\nThe WordPress site of the Acme shop (shop.acme.example).\n"
            "Deployed by GitHub Actions; see .github/workflows/deploy.yml.\n"
        ),
        ".github/workflows/deploy.yml": (
            "name: deploy\non: {push: {branches: [main]}}\njobs:\n  deploy:\n"
            "    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n"
            "      - run: ./scripts/deploy.sh\n        env:\n"
            "          CLOUDFLARE_API_TOKEN: ${{ secrets.CLOUDFLARE_API_TOKEN }}\n"
        ),
        "scripts/deploy.sh": (
            "#!/bin/sh\nset -eu\nrsync -a wp-content/ deploy@shop.acme.example:/srv/wp-content/\n"
            'curl -fsS -X POST -H "Authorization: Bearer $CLOUDFLARE_API_TOKEN" \\\n'
            f'  "https://api.cloudflare.com/client/v4/zones/{zone_id}/purge_cache" \\\n'
            "  --data '{\"purge_everything\": true}'\n"
        ),
        "wp-config.php": (
            "<?php\ndefine('DB_NAME', 'acme_shop');\ndefine('DB_USER', 'wordpress');\n"
            "define('DB_PASSWORD', getenv('DB_PASSWORD'));\n$table_prefix = 'wp_';\n"
        ),
        LEAK_FILE: (
            "<?php\n// acme-cache: purge Cloudflare when a product page changes\n"
            f"define('ACME_CACHE_ZONE_ID', '{zone_id}');\n"
            f"define('CLOUDFLARE_API_TOKEN', '{secret}');  // TODO move to env before merging\n"
            "define('ACME_CACHE_PURGE_ON_SAVE', true);\n"
        ),
        "wp-content/themes/acme/functions.php": (
            "<?php\nadd_action('save_post', 'acme_cache_purge');\n"
            "function acme_cache_purge($id) { /* calls the plugin */ }\n"
        ),
        "assets/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
    }


def stage_leak(sb: SandboxAdmin) -> dict[str, Any]:
    """Add the leak scenario to a demo sandbox (once); returns ``sb.extras["leak"]``."""
    if "leak" in sb.extras:
        return dict(sb.extras["leak"])
    tokens = sb.extras.get("tokens", {})
    if LEAKED_TOKEN not in tokens:
        raise InvalidInput("the leak scenario needs the demo company: use Sandbox.demo(leak=True)")
    token_id = tokens[LEAKED_TOKEN]
    row = sb.store.token(token_id)
    assert row is not None
    secret = next(
        (
            s
            for s in sb.issued_secrets()
            if (found := sb.store.token_by_hash(sb.store.hash(s.reveal()))) is not None
            and found.id == token_id
        ),
        None,
    )
    if secret is None:
        raise InvalidInput(
            "the leak scenario needs the sandbox to keep its issued secrets (keep_secrets=True)"
        )
    zone_name = "acme-shop.example"
    zone_id = sb.extras["zones"][zone_name]
    account_id = sb.extras["accounts"]["production"]
    now = sb.clock.now()
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = []
    for days, hhmm, method, template, status in _ATTACK:
        hours, minutes = (int(x) for x in hhmm.split(":"))
        when = day - timedelta(days=days) + timedelta(hours=hours, minutes=minutes)
        path = template.replace("{zone}", zone_id).replace("{account}", account_id)
        match = operations.find(method, path)
        assert match is not None, path
        rows.append(
            {
                "time": when,
                "token_id": token_id,
                "token_name": LEAKED_TOKEN,
                "owner_type": "user",
                "owner_id": row.owner_id,
                "user_id": row.owner_id,
                "auth": "api_token",
                "method": method,
                "path": path,
                "operation_id": match.operation.operation_id,
                "account_id": account_id,
                "zone_id": zone_id if "{zone}" in template else None,
                "status": status,
                "error_code": 10000 if status == 403 else None,
                "reason": _REASONS.get(template) if status == 403 else None,
                "ip": ATTACKER_IP,
                "user_agent": ATTACKER_AGENT,
            }
        )
    sb.add_journal(rows)
    committed: datetime = day - timedelta(days=LEAK_DAYS_AGO) + timedelta(hours=14, minutes=12)
    facts = {
        "token": LEAKED_TOKEN,
        "token_id": token_id,
        "repository": REPOSITORY,
        "file": LEAK_FILE,
        "committed": committed,
        "attacker_ip": ATTACKER_IP,
        "attacker_agent": ATTACKER_AGENT,
        "zone": zone_name,
        "account_id": account_id,
    }
    sb.extras["repository"] = _repository(secret.reveal(), zone_id)
    sb.extras["leak"] = facts
    return dict(facts)
