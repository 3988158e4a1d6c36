"""The demo company: Acme, its three accounts, twelve zones, two users and 47 tokens.

``Sandbox.demo()`` (and ``cftokens sandbox serve --seed demo``) seed it. Everything is declared
in :mod:`.company` (:data:`ACCOUNTS`, :data:`ZONES`, :data:`USERS`, :data:`TOKENS`,
:data:`API_KEY_USAGE`, in the vocabulary of :mod:`.defs`); :func:`seed_demo` (:mod:`.builder`)
turns them into state. Dates are relative to the
sandbox clock (2026-11-02T09:00:00Z by default); usage is journal history over the last 60
days, so the usage rules (SC-03, SC-05, SC-06, ID-01, ID-02) and Audit Logs v2 have data.

People and accounts
-------------------
- **Dana Okafor** (``dana.okafor@acme.example``), the security engineer whose bootstrap token
  the notebooks use: Super Administrator of *Acme Production* and *Acme Staging*, Administrator
  of *Acme Web (managed by Pixel Agency)*. She has a Global API Key (``sb.global_api_key``).
- **Sam Rivera** (``sam.rivera@acme.example``), a colleague: Administrator of Acme Production,
  Super Administrator of Acme Staging. His user tokens are invisible to Dana's API view (user
  tokens are only listed to their owner); ``sb.extras["colleague_token"]`` reads them.

The bootstrap token (``sb.bootstrap_token``, "dana-audit-notebooks") can read Dana's user and
her user tokens and create tokens (User Details Read, API Tokens Write), read account-owned
tokens and audit logs of Acme Production and Acme Staging (Account API Tokens Read, Account
Settings Read), read Acme Web's audit logs (Account Settings Read) and list every zone (Zone
Read on all zones of the three accounts). **Deliberate gap: no Account API Tokens Read on Acme
Web (managed by Pixel Agency)**, so an audit through the bootstrap token cannot list that
account's tokens and must report it. The bootstrap token itself mints tokens, so it trips
PE-01/PE-03/PE-06/RK-03.

Files in scope for secret scanning: ``sb.extras["files"]`` maps paths to text. ``deploy/.env``
holds the *legacy 40-character* secret of "wp-legacy-deploy" (ID-03); ``ci/staging.env`` holds
the current prefixed secret of "staging-preview-dns" (a leaked live secret, not ID-03).

The leak scenario (``Sandbox.demo(leak=True)``, :mod:`cftokens.sandbox.leak`) adds, on top of
all this and without changing it, a repository in ``sb.extras["repository"]`` holding the live
secret of "wordpress-plugin" and that token's later use from an unknown address.

Planted problems (rule → token → why). "visible" = listed through the bootstrap token.

=========  ==============================  =================================================
rule       token (owner)                   why
=========  ==============================  =================================================
PE-01      dana-full-access-2023 (Dana)    API Tokens Write among dozens of groups
PE-01      token-vending-ci (Dana)         API Tokens Write alone, IP-bound, 14 days: PE-01
                                           but not PE-03 (the well-isolated minting token)
PE-02      terraform-cloud (Production)    Account API Tokens Write on Acme Production
PE-02      staging-token-broker (Staging)  Account API Tokens Write alone on Acme Staging
PE-03      terraform-cloud (Production)    minting plus 8 other groups, no IP list, no expiry
PE-03      dana-full-access-2023 (Dana)    minting plus everything else, no IP, no expiry
PE-03      dana-audit-notebooks (Dana)     the bootstrap: minting plus read groups, no IP
PE-04      okta-scim (Production)          SCIM Provisioning on Acme Production
PE-04      member-sync (Staging)           Account Settings Write on Acme Staging
PE-05      zero-trust-admin (Production)   Access: Apps and Policies Write and Access:
                                           Organizations, Identity Providers, and Groups Write
PE-06      staging-token-broker (Staging)  mint an account token on Acme Staging → full
                                           staging admin (path length 1)
PE-06      member-sync (Staging)           manage members → invite a Super Administrator
PE-06      token-vending-ci (Dana)         mint a user token with all of Dana's rights
SC-01      grafana-cloud (Dana)            Workers Scripts Read on com.cloudflare.api.account.*
                                           (read: medium)
SC-01      workers-deploy-all (Dana)       Workers Scripts Write on all accounts (high)
SC-02      cert-manager (Dana)             DNS Write on com.cloudflare.api.account.zone.*
SC-02      sam-grafana (Sam, not visible)  Analytics Read on all zones (read: medium)
SC-03      external-dns-prod (Production)  DNS Write on 4 named zones, 30-day usage on
                                           acme.example only (25% used)
SC-04      dana-full-access-2023 (Dana)    19 write groups across PE/HIJACK/EXFIL/EVASION
SC-05      grafana-dns-dashboard (Prod.)   DNS Write, but usage is only GET dns_records
SC-06      ci-deploy-shop (Production)     Cache Purge never used (DNS Write is)
RK-01      cert-manager (Dana)             DNS Write on all zones (critical)
RK-01      wp-legacy-deploy (Dana)         DNS Write on acme.example without IP list (high)
RK-02      log-shipper (Production)        Logs Read on Acme Production, no IP list (high)
RK-03      tunnel-operator (Production)    Cloudflare Tunnel Write (returns tunnel tokens)
RK-04      waf-tuner (Production)          Zone WAF Write on acme.example, no IP list
LC-01      wordpress-plugin (Dana)         live, no expires_on, writes (high)
LC-02      partner-reporting-2y (Dana)     read-only, lifetime 730 days (> 366)
LC-02      workers-deploy-all (Dana)       writes, lifetime 200 days (> 90)
LC-03      wp-legacy-deploy (Dana)         issued ~4 years ago, never rolled
LC-03      (not) grafana-cloud (Dana)      issued 400 days ago but rolled 20 days ago (the
                                           roll is in the journal / audit logs)
LC-04      dana-old-backup-script (Dana)   last_used_on 70 days ago
LC-05      test-token-do-not-use (Dana)    issued 30 days ago, never used (writes: medium)
NW-01      wordpress-plugin (Dana)         live, writes, no client-IP allowlist
NW-02      github-actions-dns (Dana)       in: 140.82.0.0/16 and 2606:50c0::/32
NW-03      deny-list-only (Production)     only a not_in list
NW-03      internal-monitor (Production)   in: 10.20.30.0/24 (wholly private)
NW-03      misconfigured-allowlist (Dana)  not_in 198.51.0.0/16 cancels in 198.51.100.0/24
LN-01      legacy-analytics (Dana)         group id 0f0e0d0c… not in the catalogue
LN-01      renamed-group-token (Dana)      DNS Write's id stored with the old name "DNS Edit"
LN-02      dns-on-account-key (Production) DNS Write on a bare account key (zone group)
LN-02      deleted-zone-token (Dana)       a zone id missing from the inventory
LN-02      shadowed-allow (Production)     allow DNS Write on acme-shop.example fully
                                           removed by a deny on all Production zones
LN-02      noop-deny (Dana)                deny Workers Scripts Write that overlaps no allow
LN-03      never-valid-window (Staging)    not_before (in 10 days) ≥ expires_on (in 5 days)
LN-03      contractor-2025-disabled (Dana) disabled 120 days ago, still present
LN-03      q3-campaign-expired (Prod.)     expired 60 days ago, still present
LN-04      workers-read-on-zone (Dana)     Workers Scripts Read (account) with only a zone
LN-04      unparsed-key-token (Dana)       resource key com.cloudflare.api.account.zone.
                                           acme-legacy (not an id)
ID-01      (Global API Key of Dana)        curl cron job with X-Auth-Key on acme.example
ID-02      dana-laptop-cli (Dana)          CI user agents from 14 networks
ID-02      cert-manager (Dana)             cert-manager user agent from cluster IPs
ID-03      wp-legacy-deploy (Dana)         legacy 40-character secret in deploy/.env
=========  ==============================  =================================================

Well-designed tokens (nothing above low): ci-dns-acme-status, status-page-purge,
staging-preview-dns (Production/Staging accounts), token-inventory-readonly (Dana): named
resources, an IP allowlist of public ranges, expiry within 90 days of issue, recent use of
every group they hold, issued within 90 days.

Not visible through the bootstrap token: Sam's tokens (sam-token-reader, sam-staging-cli,
sam-grafana) and Acme Web's account tokens (agency-wordpress: WordPress template on all its
zones, no expiry; agency-full-zones: Zone Write and DNS Write on all its zones, no expiry,
no IP list), which an audit finds only after the gap is closed.

Editing: each token is one :class:`TokenDef` in :data:`TOKENS` (``company.py``); resources and
groups are symbolic (see :class:`PolicyDef`), zones are named by the constants declared with
:data:`ZONES` (``ACME``, ``ACME_SHOP``, ``PRODUCTION_ZONES``, …), days are relative to now.
"""

from .builder import seed_demo
from .company import ACCOUNTS, API_KEY_USAGE, TOKENS, USERS, ZONES
from .defs import AccountDef, PolicyDef, TokenDef, Usage, UserDef, ZoneDef

__all__ = [
    "ACCOUNTS",
    "API_KEY_USAGE",
    "TOKENS",
    "USERS",
    "ZONES",
    "AccountDef",
    "PolicyDef",
    "TokenDef",
    "Usage",
    "UserDef",
    "ZoneDef",
    "seed_demo",
]
