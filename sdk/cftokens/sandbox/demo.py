"""The demo company: Acme, its three accounts, twelve zones, two users and 47 tokens.

``Sandbox.demo()`` (and ``cftokens sandbox serve --seed demo``) seed it. Everything is declared
in the lists below (:data:`ACCOUNTS`, :data:`ZONES`, :data:`USERS`, :data:`TOKENS`,
:data:`API_KEY_USAGE`); :func:`seed_demo` turns them into state. Dates are relative to the
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

Editing: each token is one :class:`TokenDef` in :data:`TOKENS`; resources and groups are
symbolic (see :class:`PolicyDef`), days are relative to now.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from attrs import field, frozen

from ..catalog import operations, permission_groups
from ..catalog.groups import PermissionGroup
from ..model.resources import Resource
from ..model.secret import Secret
from ..model.token import Token
from .admin import SandboxAdmin
from .context import Principal, PrincipalKind
from .store import JournalRow, Role, ts

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


@frozen(kw_only=True)
class AccountDef:
    """An account: a key used in the other definitions, its name, its age."""

    key: str
    name: str
    created_days_ago: int


@frozen(kw_only=True)
class ZoneDef:
    """A zone of an account (by key), with a few DNS records."""

    name: str
    account: str
    plan: str = "free"
    created_days_ago: int = 900
    records: tuple[tuple[str, str, str], ...] = ()  # (type, name, content)


@frozen(kw_only=True)
class UserDef:
    """A user and their roles (account key -> role)."""

    key: str
    email: str
    first_name: str
    last_name: str
    roles: dict[str, Role]
    created_days_ago: int = 1200


@frozen(kw_only=True)
class PolicyDef:
    """One policy, symbolically.

    ``groups``: names (``"DNS Write"``, ``"Logs Read@account"`` for a scope), or
    ``"id:<32 hex>=<name>"`` to store an exact id and name (unknown or renamed groups).
    ``resources``: ``"user"`` (the owner), ``"user:<key>"``, ``"account:<key>"``,
    ``"zones_of:<key>"``, ``"zone:<name>"``, ``"all_accounts"``, ``"all_zones"``,
    ``"missing_zone"`` (an id no zone has) or ``"raw:<key>"`` (stored verbatim).
    """

    groups: tuple[str, ...]
    resources: tuple[str, ...]
    effect: str = "allow"


def allow(groups: Sequence[str], *resources: str) -> PolicyDef:
    """An allow policy definition."""
    return PolicyDef(groups=tuple(groups), resources=resources)


def deny(groups: Sequence[str], *resources: str) -> PolicyDef:
    """A deny policy definition."""
    return PolicyDef(groups=tuple(groups), resources=resources, effect="deny")


@frozen(kw_only=True)
class Usage:
    """Journal history for a token: ``ops`` ("METHOD /path") spread over ``days`` days.

    Path placeholders: ``{zone}`` (one of ``zones``), ``{account}`` (one of ``accounts``),
    ``{record}``, ``{script}``, ``{tunnel}``, ``{token:<name>}`` (another demo token's id).
    ``per_day`` requests a day on average; ``on_days`` gives exact days ago instead.
    """

    ops: tuple[str, ...]
    zones: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    days: int = 30
    per_day: float = 2.0
    on_days: tuple[int, ...] = ()
    ips: tuple[str, ...] = ("203.0.113.10",)
    agents: tuple[str, ...] = ("curl/8.4.0",)
    status: int = 200


def _rules(value: str | Sequence[str]) -> tuple[str, ...]:
    return tuple(value.split()) if isinstance(value, str) else tuple(value)


@frozen(kw_only=True)
class TokenDef:
    """One demo token. ``owner``: ``"user:<key>"`` or ``"account:<key>"``.

    Days are relative to now: ``issued`` days ago, ``expires``/``not_before`` days ahead
    (negative: in the past), ``last_used`` days ago (default: the latest usage, or never).
    ``check=False`` stores the policies as written (unknown groups, unparsed keys, …).
    ``rules`` lists the audit rules the token trips (space-separated ids, e.g. "PE-01 LC-01"):
    the planted ones first; documentation and tests read it.
    """

    name: str
    owner: str
    policies: tuple[PolicyDef, ...]
    issued: int
    allow_ips: tuple[str, ...] = ()
    deny_ips: tuple[str, ...] = ()
    expires: int | None = None
    not_before: int | None = None
    modified: int | None = None
    rolled: int | None = None
    last_used: int | None = None
    status: str = "active"
    usage: tuple[Usage, ...] = ()
    legacy_secret: bool = False
    check: bool = True
    bootstrap: bool = False
    rules: tuple[str, ...] = field(default=(), converter=_rules)
    extra: dict[str, Any] = field(factory=dict)


P, S, W = "production", "staging", "agency"

ACCOUNTS: list[AccountDef] = [
    AccountDef(key=P, name="Acme Production", created_days_ago=2100),
    AccountDef(key=S, name="Acme Staging", created_days_ago=1500),
    AccountDef(key=W, name="Acme Web (managed by Pixel Agency)", created_days_ago=700),
]

_WEB = (("A", "@", "192.0.2.10"), ("CNAME", "www", "@"), ("TXT", "@", "v=spf1 -all"))
ZONES: list[ZoneDef] = [
    ZoneDef(
        name="acme.example",
        account=P,
        plan="enterprise",
        records=_WEB + (("MX", "@", "mx1.acme.example"),),
    ),
    ZoneDef(name="acme-shop.example", account=P, plan="business", records=_WEB),
    ZoneDef(name="acme-status.example", account=P, plan="pro", records=_WEB),
    ZoneDef(name="acme-cdn.example", account=P, plan="enterprise", records=_WEB),
    ZoneDef(name="acme-mail.example", account=P, plan="pro", records=_WEB),
    ZoneDef(name="acme-staging.example", account=S, records=_WEB),
    ZoneDef(name="acme-preview.example", account=S, records=_WEB),
    ZoneDef(name="acme-qa.example", account=S, records=_WEB),
    ZoneDef(name="acme-blog.example", account=W, records=_WEB),
    ZoneDef(name="acme-campaign.example", account=W, records=_WEB),
    ZoneDef(name="acme-events.example", account=W, records=_WEB),
    ZoneDef(name="acme-careers.example", account=W, records=_WEB),
]

USERS: list[UserDef] = [
    UserDef(
        key="dana",
        email="dana.okafor@acme.example",
        first_name="Dana",
        last_name="Okafor",
        roles={P: Role.SUPER_ADMIN, S: Role.SUPER_ADMIN, W: Role.ADMIN},
    ),
    UserDef(
        key="sam",
        email="sam.rivera@acme.example",
        first_name="Sam",
        last_name="Rivera",
        roles={P: Role.ADMIN, S: Role.SUPER_ADMIN},
        created_days_ago=800,
    ),
]

# User agents and networks seen in usage.
TERRAFORM = (
    "HashiCorp Terraform/1.9.5 (+https://www.terraform.io) Terraform-Plugin-SDK/2.33.0 "
    "terraform-provider-cloudflare/4.40.0"
)
CI_AGENTS = (
    TERRAFORM,
    "GitHub-Actions/2.319.1 (linux; x64) python-requests/2.32.3",
    "python-requests/2.32.3",
    "gitlab-runner 17.2.1 (17-2-stable; go1.22.5; linux/amd64)",
)
CI_NETWORKS = tuple(
    f"{a}.{b}.{c}.{d}"
    for a, b, c, d in [
        (140, 82, 112, 4),
        (20, 42, 73, 9),
        (4, 227, 12, 30),
        (52, 14, 200, 7),
        (34, 74, 90, 66),
        (35, 231, 145, 151),
        (13, 105, 49, 8),
        (40, 77, 5, 21),
        (3, 120, 8, 80),
        (18, 196, 3, 10),
        (54, 193, 11, 2),
        (104, 45, 16, 9),
        (98, 82, 14, 3),
        (172, 56, 9, 200),
    ]
)
OFFICE_IP = "81.2.69.142"
HOME_IP = "77.111.246.20"
DNS_RW = (
    "GET /zones/{zone}/dns_records",
    "POST /zones/{zone}/dns_records",
    "PATCH /zones/{zone}/dns_records/{record}",
)

_FULL_ACCOUNT_WRITES = (
    "Account Settings Write",
    "Workers Scripts Write",
    "Workers KV Storage Write",
    "Workers R2 Storage Write",
    "Logs Write@account",
    "Cloudflare Tunnel Write",
    "Account Rulesets Write",
    "Notifications Write",
    "Pages Write",
    "Access: Apps and Policies Write@account",
)
_FULL_ZONE_WRITES = (
    "DNS Write",
    "Zone Write",
    "Zone Settings Write",
    "SSL and Certificates Write",
    "Page Rules Write",
    "Cache Purge",
    "Firewall Services Write",
    "Workers Routes Write",
    "Zone WAF Write",
)

TOKENS: list[TokenDef] = [
    # ---------------------------------------------------------------- Dana's user tokens
    TokenDef(
        name="dana-audit-notebooks",
        owner="user:dana",
        bootstrap=True,
        issued=0,
        expires=30,
        policies=(
            allow(["API Tokens Write", "User Details Read"], "user"),
            allow(
                ["Account API Tokens Read", "Account Settings Read"], f"account:{P}", f"account:{S}"
            ),
            allow(["Account Settings Read"], f"account:{W}"),
            allow(["Zone Read"], f"zones_of:{P}", f"zones_of:{S}", f"zones_of:{W}"),
        ),
        rules="PE-01 PE-03 PE-06 RK-03",
    ),
    TokenDef(
        name="dana-full-access-2023",
        owner="user:dana",
        issued=600,
        policies=(
            allow(["API Tokens Write", "User Details Write", "Memberships Write"], "user"),
            allow(_FULL_ACCOUNT_WRITES, "all_accounts"),
            allow(_FULL_ZONE_WRITES, "all_zones"),
        ),
        usage=(
            Usage(
                ops=("GET /zones/{zone}/dns_records", "GET /zones/{zone}"),
                zones=("acme.example", "acme-shop.example"),
                days=60,
                per_day=0.3,
                ips=(HOME_IP,),
                agents=("curl/8.4.0",),
            ),
            Usage(
                ops=("PUT /user/tokens/{token:grafana-cloud}/value",),
                on_days=(20,),
                ips=(OFFICE_IP,),
                agents=("curl/8.4.0",),
            ),
        ),
        rules="PE-01 PE-03 PE-04 PE-05 SC-01 SC-02 SC-04 SC-06 RK-01 RK-02 RK-03 RK-04 LC-01 LC-03",
    ),
    TokenDef(
        name="token-vending-ci",
        owner="user:dana",
        issued=10,
        expires=14,
        allow_ips=("45.83.12.0/28",),
        policies=(allow(["API Tokens Write"], "user"),),
        usage=(
            Usage(
                ops=("POST /user/tokens", "GET /user/tokens"),
                days=10,
                per_day=3,
                ips=("45.83.12.5",),
                agents=("token-vendor/1.4 python-httpx/0.27.0",),
            ),
        ),
        rules="PE-01 PE-06 RK-03",
    ),
    TokenDef(
        name="grafana-cloud",
        owner="user:dana",
        issued=400,
        rolled=20,
        policies=(
            allow(["Workers Scripts Read"], "all_accounts"),
            allow(["Analytics Read"], f"zones_of:{P}"),
        ),
        usage=(
            Usage(
                ops=("GET /accounts/{account}/workers/scripts",),
                accounts=(P, S),
                days=30,
                per_day=4,
                ips=("34.120.177.193",),
                agents=("Grafana/11.2.0",),
            ),
            Usage(
                ops=("GET /zones/{zone}/analytics/latency",),
                zones=(
                    "acme.example",
                    "acme-shop.example",
                    "acme-status.example",
                    "acme-cdn.example",
                    "acme-mail.example",
                ),
                days=30,
                per_day=4,
                ips=("34.120.177.193",),
                agents=("Grafana/11.2.0",),
            ),
        ),
        rules="SC-01 NW-01",
    ),
    TokenDef(
        name="workers-deploy-all",
        owner="user:dana",
        issued=40,
        expires=160,
        policies=(allow(["Workers Scripts Write"], "all_accounts"),),
        usage=(
            Usage(
                ops=(
                    "PUT /accounts/{account}/workers/scripts/{script}",
                    "GET /accounts/{account}/workers/scripts",
                ),
                accounts=(P,),
                days=30,
                per_day=1.5,
                ips=CI_NETWORKS[:3],
                agents=(CI_AGENTS[1],),
            ),
        ),
        rules="SC-01 LC-02 RK-01 NW-01",
    ),
    TokenDef(
        name="cert-manager",
        owner="user:dana",
        issued=200,
        policies=(allow(["DNS Write"], "all_zones"),),
        usage=(
            Usage(
                ops=("POST /zones/{zone}/dns_records", "GET /zones/{zone}/dns_records"),
                zones=("acme.example", "acme-shop.example", "acme-status.example"),
                days=60,
                per_day=1,
                ips=("35.204.61.10", "35.204.61.11", "35.204.61.12"),
                agents=("cert-manager-challenges/v1.15.3 (linux/amd64) cert-manager/9f4a4b2",),
            ),
        ),
        rules="SC-02 RK-01 LC-01 LC-03 NW-01 ID-02",
    ),
    TokenDef(
        name="dana-laptop-cli",
        owner="user:dana",
        issued=45,
        expires=60,
        policies=(allow(["DNS Write", "Zone Read"], f"zones_of:{S}"),),
        usage=(
            Usage(
                ops=(
                    "GET /zones/{zone}/dns_records",
                    "POST /zones/{zone}/dns_records",
                    "GET /zones/{zone}",
                ),
                zones=("acme-staging.example", "acme-qa.example"),
                days=40,
                per_day=3,
                ips=CI_NETWORKS,
                agents=CI_AGENTS,
            ),
        ),
        rules="ID-02 NW-01",
    ),
    TokenDef(
        name="dana-old-backup-script",
        owner="user:dana",
        issued=500,
        last_used=70,
        policies=(allow(["DNS Read"], "zone:acme.example"),),
        rules="LC-04 LC-01 LC-03",
    ),
    TokenDef(
        name="test-token-do-not-use",
        owner="user:dana",
        issued=30,
        expires=60,
        policies=(allow(["DNS Write"], "zone:acme-staging.example"),),
        rules="LC-05",
    ),
    TokenDef(
        name="partner-reporting-2y",
        owner="user:dana",
        issued=100,
        expires=630,
        allow_ips=("81.2.69.0/24",),
        policies=(allow(["Analytics Read"], "zone:acme.example"),),
        usage=(
            Usage(
                ops=("GET /zones/{zone}/analytics/latency",),
                zones=("acme.example",),
                days=30,
                per_day=1,
                ips=("81.2.69.160",),
                agents=("partner-reports/2.0",),
            ),
        ),
        rules="LC-02 LC-03",
    ),
    TokenDef(
        name="github-actions-dns",
        owner="user:dana",
        issued=20,
        expires=45,
        allow_ips=("140.82.0.0/16", "2606:50c0::/32"),
        policies=(allow(["DNS Write"], "zone:acme-shop.example"),),
        usage=(
            Usage(
                ops=DNS_RW,
                zones=("acme-shop.example",),
                days=20,
                per_day=2,
                ips=("140.82.112.4", "140.82.113.21"),
                agents=(CI_AGENTS[1],),
            ),
        ),
        rules="NW-02 ID-02",
    ),
    TokenDef(
        name="misconfigured-allowlist",
        owner="user:dana",
        issued=3,
        expires=60,
        allow_ips=("198.51.100.0/24",),
        deny_ips=("198.51.0.0/16",),
        policies=(allow(["DNS Read"], "zone:acme.example"),),
        rules="NW-03",
    ),
    TokenDef(
        name="legacy-analytics",
        owner="user:dana",
        issued=900,
        check=False,
        policies=(
            allow(
                ["id:0f0e0d0c0b0a09080706050403020100=Analytics Read (legacy)", "DNS Read"],
                "zone:acme.example",
            ),
        ),
        usage=(
            Usage(
                ops=("GET /zones/{zone}/dns_records",),
                zones=("acme.example",),
                days=30,
                per_day=0.5,
                ips=(OFFICE_IP,),
            ),
        ),
        rules="LN-01 LC-01 LC-03",
    ),
    TokenDef(
        name="renamed-group-token",
        owner="user:dana",
        issued=15,
        expires=40,
        allow_ips=("81.2.69.0/24",),
        check=False,
        policies=(
            allow(["id:4755a26eedb94da69e1066d98aa820be=DNS Edit"], "zone:acme-status.example"),
        ),
        usage=(
            Usage(ops=DNS_RW, zones=("acme-status.example",), days=15, per_day=1, ips=(OFFICE_IP,)),
        ),
        rules="LN-01",
    ),
    TokenDef(
        name="workers-read-on-zone",
        owner="user:dana",
        issued=50,
        expires=40,
        check=False,
        policies=(allow(["Workers Scripts Read"], "zone:acme.example"),),
        rules="LN-04",
    ),
    TokenDef(
        name="deleted-zone-token",
        owner="user:dana",
        issued=300,
        check=False,
        policies=(allow(["DNS Write"], "missing_zone"),),
        rules="LN-02",
    ),
    TokenDef(
        name="noop-deny",
        owner="user:dana",
        issued=25,
        expires=50,
        allow_ips=("81.2.69.0/24",),
        policies=(
            allow(["DNS Read"], "zone:acme.example"),
            deny(["Workers Scripts Write"], f"account:{P}"),
        ),
        usage=(
            Usage(
                ops=("GET /zones/{zone}/dns_records",),
                zones=("acme.example",),
                days=25,
                per_day=1,
                ips=(OFFICE_IP,),
            ),
        ),
        rules="LN-02",
    ),
    TokenDef(
        name="unparsed-key-token",
        owner="user:dana",
        issued=700,
        check=False,
        policies=(
            allow(
                ["DNS Read"],
                "raw:com.cloudflare.api.account.zone.acme-legacy",
                "zone:acme-mail.example",
            ),
        ),
        rules="LN-04",
    ),
    TokenDef(
        name="contractor-2025-disabled",
        owner="user:dana",
        issued=300,
        modified=120,
        status="disabled",
        policies=(allow(["DNS Write", "Zone Settings Write"], f"zones_of:{S}"),),
        rules="LN-03",
    ),
    TokenDef(
        name="wordpress-plugin",
        owner="user:dana",
        issued=80,
        policies=(
            allow(
                ["Analytics Read", "Zone Read", "Zone Settings Write", "DNS Read", "Cache Purge"],
                "zone:acme-shop.example",
            ),
            allow(["Account Settings Read"], f"account:{P}"),
        ),
        usage=(
            Usage(
                ops=(
                    "GET /zones/{zone}",
                    "POST /zones/{zone}/purge_cache",
                    "GET /zones/{zone}/settings",
                    "GET /zones/{zone}/dns_records",
                    "GET /zones/{zone}/analytics/latency",
                    "GET /accounts/{account}",
                ),
                zones=("acme-shop.example",),
                accounts=(P,),
                days=30,
                per_day=3,
                ips=("185.199.108.20",),
                agents=("WordPress/6.6.2; https://shop.acme.example",),
            ),
        ),
        rules="LC-01 NW-01 RK-01",
    ),
    TokenDef(
        name="wp-legacy-deploy",
        owner="user:dana",
        issued=1450,
        legacy_secret=True,
        policies=(allow(["DNS Write"], "zone:acme.example"),),
        usage=(
            Usage(
                ops=("GET /zones/{zone}/dns_records", "PATCH /zones/{zone}/dns_records/{record}"),
                zones=("acme.example",),
                days=60,
                per_day=0.3,
                ips=("94.130.12.8",),
                agents=("python-requests/2.25.1",),
            ),
        ),
        rules="ID-03 LC-01 LC-03 RK-01 NW-01",
    ),
    TokenDef(
        name="token-inventory-readonly",
        owner="user:dana",
        issued=10,
        expires=80,
        allow_ips=("81.2.69.0/24",),
        policies=(allow(["API Tokens Read"], "user"),),
        usage=(
            Usage(
                ops=("GET /user/tokens",),
                days=10,
                per_day=2,
                ips=(OFFICE_IP,),
                agents=("token-inventory/0.3 python-httpx/0.27.0",),
            ),
        ),
        rules="",
    ),
    # ---------------------------------------------------------------- Acme Production tokens
    TokenDef(
        name="terraform-cloud",
        owner=f"account:{P}",
        issued=420,
        policies=(
            allow(
                ["Account API Tokens Write", "Workers Scripts Write", "Account Settings Read"],
                f"account:{P}",
            ),
            allow(
                [
                    "DNS Write",
                    "Zone Write",
                    "Zone Settings Write",
                    "SSL and Certificates Write",
                    "Page Rules Write",
                    "Cache Purge",
                ],
                f"zones_of:{P}",
            ),
        ),
        usage=(
            Usage(
                ops=(
                    "GET /zones/{zone}/dns_records",
                    "PUT /zones/{zone}/dns_records/{record}",
                    "GET /zones/{zone}/settings",
                    "GET /accounts/{account}/tokens",
                ),
                zones=("acme.example", "acme-shop.example", "acme-cdn.example"),
                accounts=(P,),
                days=60,
                per_day=4,
                ips=("75.2.98.97", "99.83.150.238"),
                agents=(TERRAFORM,),
            ),
        ),
        rules="PE-02 PE-03 RK-01 RK-03 LC-01 LC-03",  # 8 write groups in 2 families: no SC-04
    ),
    TokenDef(
        name="okta-scim",
        owner=f"account:{P}",
        issued=60,
        allow_ips=("3.126.19.0/24",),
        policies=(allow(["SCIM Provisioning"], f"account:{P}"),),
        usage=(
            Usage(
                ops=("GET /accounts/{account}/scim/v2/Users",),
                accounts=(P,),
                days=30,
                per_day=6,
                ips=("3.126.19.44",),
                agents=("Okta SCIM Client 1.0.0",),
            ),
        ),
        rules="PE-04 LC-01",
    ),
    TokenDef(
        name="zero-trust-admin",
        owner=f"account:{P}",
        issued=150,
        policies=(
            allow(
                [
                    "Access: Apps and Policies Write@account",
                    "Access: Organizations, Identity Providers, and Groups Write",
                ],
                f"account:{P}",
            ),
        ),
        usage=(
            Usage(
                ops=("GET /accounts/{account}/access/apps",),
                accounts=(P,),
                days=30,
                per_day=1,
                ips=(OFFICE_IP,),
            ),
        ),
        rules="PE-05 LC-01 LC-03",
    ),
    TokenDef(
        name="external-dns-prod",
        owner=f"account:{P}",
        issued=30,
        expires=60,
        allow_ips=("35.204.12.0/28",),
        policies=(
            allow(
                ["DNS Write"],
                "zone:acme.example",
                "zone:acme-shop.example",
                "zone:acme-status.example",
                "zone:acme-cdn.example",
            ),
        ),
        usage=(
            Usage(
                ops=DNS_RW,
                zones=("acme.example",),
                days=30,
                per_day=4,
                ips=("35.204.12.3",),
                agents=("ExternalDNS/v0.14.2",),
            ),
        ),
        rules="SC-03",
    ),
    TokenDef(
        name="grafana-dns-dashboard",
        owner=f"account:{P}",
        issued=25,
        expires=50,
        allow_ips=("34.120.177.0/24",),
        policies=(allow(["DNS Write"], "zone:acme.example", "zone:acme-shop.example"),),
        usage=(
            Usage(
                ops=("GET /zones/{zone}/dns_records",),
                zones=("acme.example", "acme-shop.example"),
                days=25,
                per_day=6,
                ips=("34.120.177.193",),
                agents=("Grafana/11.2.0",),
            ),
        ),
        rules="SC-05",
    ),
    TokenDef(
        name="ci-deploy-shop",
        owner=f"account:{P}",
        issued=20,
        expires=40,
        allow_ips=("45.83.12.0/28",),
        policies=(allow(["DNS Write", "Cache Purge"], "zone:acme-shop.example"),),
        usage=(
            Usage(
                ops=DNS_RW,
                zones=("acme-shop.example",),
                days=20,
                per_day=3,
                ips=("45.83.12.6",),
                agents=(CI_AGENTS[3],),
            ),
        ),
        rules="SC-06",
    ),
    TokenDef(
        name="log-shipper",
        owner=f"account:{P}",
        issued=45,
        expires=45,
        policies=(allow(["Logs Read@account"], f"account:{P}"),),
        usage=(
            Usage(
                ops=("GET /accounts/{account}/logs/explorer/datasets",),
                accounts=(P,),
                days=30,
                per_day=5,
                ips=("52.28.11.90",),
                agents=("vector/0.41.1",),
            ),
        ),
        rules="RK-02 NW-01",
    ),
    TokenDef(
        name="tunnel-operator",
        owner=f"account:{P}",
        issued=40,
        expires=50,
        allow_ips=("81.2.69.0/24",),
        policies=(allow(["Cloudflare Tunnel Write"], f"account:{P}"),),
        usage=(
            Usage(
                ops=(
                    "GET /accounts/{account}/cfd_tunnel",
                    "GET /accounts/{account}/cfd_tunnel/{tunnel}/token",
                ),
                accounts=(P,),
                days=30,
                per_day=1,
                ips=(OFFICE_IP,),
                agents=("cloudflared/2024.9.1",),
            ),
        ),
        rules="RK-03 RK-01",
    ),
    TokenDef(
        name="waf-tuner",
        owner=f"account:{P}",
        issued=20,
        expires=40,
        policies=(allow(["Zone WAF Write"], "zone:acme.example"),),
        usage=(
            Usage(
                ops=(
                    "GET /zones/{zone}/content-upload-scan/settings",
                    "PUT /zones/{zone}/content-upload-scan/settings",
                ),
                zones=("acme.example",),
                days=20,
                per_day=1,
                ips=(OFFICE_IP,),
            ),
        ),
        rules="RK-04 NW-01",
    ),
    TokenDef(
        name="deny-list-only",
        owner=f"account:{P}",
        issued=15,
        expires=60,
        deny_ips=("185.220.100.0/22",),
        policies=(allow(["Zone Read"], f"zones_of:{P}"),),
        usage=(
            Usage(
                ops=("GET /zones/{zone}",),
                zones=(
                    "acme.example",
                    "acme-shop.example",
                    "acme-status.example",
                    "acme-cdn.example",
                    "acme-mail.example",
                ),
                days=15,
                per_day=2,
                ips=("52.28.11.91",),
                agents=("uptime-checker/3.1",),
            ),
        ),
        rules="NW-03",
    ),
    TokenDef(
        name="internal-monitor",
        owner=f"account:{P}",
        issued=30,
        expires=80,
        allow_ips=("10.20.30.0/24",),
        policies=(allow(["Zone Read"], f"zones_of:{P}"),),
        usage=(
            Usage(
                ops=("GET /zones/{zone}",),
                zones=(
                    "acme.example",
                    "acme-shop.example",
                    "acme-status.example",
                    "acme-cdn.example",
                    "acme-mail.example",
                ),
                days=30,
                per_day=2,
                ips=("10.20.30.7",),
                agents=("prometheus-blackbox/0.25",),
            ),
        ),
        rules="NW-03",
    ),
    TokenDef(
        name="dns-on-account-key",
        owner=f"account:{P}",
        issued=35,
        expires=30,
        allow_ips=("81.2.69.0/24",),
        policies=(allow(["DNS Write"], f"account:{P}"),),
        rules="LN-02 LC-05",
    ),
    TokenDef(
        name="shadowed-allow",
        owner=f"account:{P}",
        issued=12,
        expires=60,
        allow_ips=("81.2.69.0/24",),
        policies=(
            allow(["DNS Write"], "zone:acme-shop.example"),
            allow(["Zone Read"], "zone:acme-shop.example"),
            deny(["DNS Write"], f"zones_of:{P}"),
        ),
        usage=(
            Usage(
                ops=("GET /zones/{zone}",),
                zones=("acme-shop.example",),
                days=12,
                per_day=1,
                ips=(OFFICE_IP,),
            ),
        ),
        rules="LN-02",
    ),
    TokenDef(
        name="q3-campaign-expired",
        owner=f"account:{P}",
        issued=150,
        expires=-60,
        policies=(allow(["DNS Write", "Page Rules Write"], "zone:acme-shop.example"),),
        last_used=65,
        rules="LN-03",
    ),
    TokenDef(
        name="ci-dns-acme-status",
        owner=f"account:{P}",
        issued=15,
        expires=60,
        allow_ips=("45.83.12.0/28",),
        policies=(allow(["DNS Write"], "zone:acme-status.example"),),
        usage=(
            Usage(
                ops=DNS_RW,
                zones=("acme-status.example",),
                days=15,
                per_day=3,
                ips=("45.83.12.5",),
                agents=(CI_AGENTS[3],),
            ),
        ),
        rules="",
    ),
    TokenDef(
        name="status-page-purge",
        owner=f"account:{P}",
        issued=10,
        expires=45,
        allow_ips=("45.83.12.0/28",),
        policies=(allow(["Cache Purge"], "zone:acme-status.example"),),
        usage=(
            Usage(
                ops=("POST /zones/{zone}/purge_cache",),
                zones=("acme-status.example",),
                days=10,
                per_day=4,
                ips=("45.83.12.7",),
                agents=("statuspage-deployer/1.2",),
            ),
        ),
        rules="",
    ),
    # ---------------------------------------------------------------- Acme Staging tokens
    TokenDef(
        name="staging-token-broker",
        owner=f"account:{S}",
        issued=8,
        expires=20,
        allow_ips=("45.83.12.0/28",),
        policies=(allow(["Account API Tokens Write"], f"account:{S}"),),
        usage=(
            Usage(
                ops=("POST /accounts/{account}/tokens", "GET /accounts/{account}/tokens"),
                accounts=(S,),
                days=8,
                per_day=2,
                ips=("45.83.12.8",),
                agents=("token-vendor/1.4 python-httpx/0.27.0",),
            ),
        ),
        rules="PE-02 PE-06 RK-03",
    ),
    TokenDef(
        name="member-sync",
        owner=f"account:{S}",
        issued=90,
        expires=120,
        allow_ips=("3.126.19.0/24",),
        policies=(allow(["Account Settings Write"], f"account:{S}"),),
        usage=(
            Usage(
                ops=("GET /accounts/{account}/members", "POST /accounts/{account}/members"),
                accounts=(S,),
                days=30,
                per_day=1,
                ips=("3.126.19.44",),
                agents=("hr-sync/2.3",),
            ),
        ),
        rules="PE-04 PE-06 LC-02",
    ),
    TokenDef(
        name="never-valid-window",
        owner=f"account:{S}",
        issued=2,
        not_before=10,
        expires=5,
        check=False,
        policies=(allow(["DNS Read"], "zone:acme-qa.example"),),
        rules="LN-03",
    ),
    TokenDef(
        name="staging-preview-dns",
        owner=f"account:{S}",
        issued=5,
        expires=30,
        allow_ips=("45.83.12.0/28",),
        policies=(allow(["DNS Write"], "zone:acme-preview.example"),),
        usage=(
            Usage(
                ops=DNS_RW,
                zones=("acme-preview.example",),
                days=5,
                per_day=4,
                ips=("45.83.12.9",),
                agents=(CI_AGENTS[3],),
            ),
        ),
        rules="",
    ),
    # ---------------------------------------------------------------- Acme Web (agency) tokens
    TokenDef(
        name="agency-wordpress",
        owner=f"account:{W}",
        issued=300,
        policies=(
            allow(
                ["Analytics Read", "Zone Read", "Zone Settings Write", "DNS Read", "Cache Purge"],
                f"zones_of:{W}",
            ),
            allow(["Account Settings Read"], f"account:{W}"),
        ),
        usage=(
            Usage(
                ops=("GET /zones/{zone}", "POST /zones/{zone}/purge_cache"),
                zones=("acme-blog.example", "acme-campaign.example"),
                days=30,
                per_day=2,
                ips=("192.0.2.80",),
                agents=("WordPress/6.6.2; https://blog.acme.example",),
            ),
        ),
        rules="LC-01 NW-01 RK-01",
    ),
    TokenDef(
        name="agency-full-zones",
        owner=f"account:{W}",
        issued=500,
        policies=(allow(["Zone Write", "DNS Write"], f"zones_of:{W}"),),
        usage=(
            Usage(
                ops=DNS_RW,
                zones=("acme-events.example", "acme-careers.example"),
                days=60,
                per_day=1,
                ips=("198.51.100.77",),
                agents=("pixel-agency-deployer/0.9",),
            ),
        ),
        rules="RK-01 LC-01 LC-03 NW-01",
    ),
    # ---------------------------------------------------------------- Sam's user tokens
    TokenDef(
        name="sam-token-reader",
        owner="user:sam",
        issued=1,
        expires=30,
        policies=(allow(["API Tokens Read"], "user"),),
        extra={"keep_secret": "colleague_token"},
        rules="",
    ),
    TokenDef(
        name="sam-staging-cli",
        owner="user:sam",
        issued=120,
        policies=(allow(["DNS Write", "Zone Read"], f"zones_of:{S}"),),
        usage=(
            Usage(
                ops=("GET /zones/{zone}/dns_records", "POST /zones/{zone}/dns_records"),
                zones=("acme-staging.example",),
                days=30,
                per_day=1,
                ips=("77.111.246.99",),
            ),
        ),
        rules="LC-01 NW-01 RK-01",
    ),
    TokenDef(
        name="sam-grafana",
        owner="user:sam",
        issued=200,
        policies=(allow(["Analytics Read"], "all_zones"),),
        usage=(
            Usage(
                ops=("GET /zones/{zone}/analytics/latency",),
                zones=("acme-staging.example", "acme-qa.example"),
                days=30,
                per_day=2,
                ips=("34.120.177.194",),
                agents=("Grafana/11.2.0",),
            ),
        ),
        rules="SC-02 LC-01 LC-03",
    ),
]

# Dana's Global API Key, used by an old cron job (ID-01).
API_KEY_USAGE: tuple[Usage, ...] = (
    Usage(
        ops=("GET /zones/{zone}/dns_records",),
        zones=("acme.example",),
        days=60,
        per_day=1,
        ips=("198.51.100.23",),
        agents=("curl/7.81.0",),
    ),
    Usage(
        ops=("POST /zones/{zone}/dns_records",),
        zones=("acme.example",),
        on_days=(41, 27, 13),
        ips=("198.51.100.23",),
        agents=("curl/7.81.0",),
    ),
)

MISSING_ZONE_ID = "9d3f5a0c1b2e4d6f8a7c9e0b1d2f3a4c"
HISTORY_DAYS = 60


def _group(spec: str) -> tuple[str, str]:
    """``(id, name)`` of a symbolic group reference."""
    if spec.startswith("id:"):
        ident, _, name = spec[3:].partition("=")
        return ident, name
    name, _, scope = spec.partition("@")
    group: PermissionGroup = permission_groups.get(name, scope=scope or None)
    return group.id, group.name


class _Builder:
    """Seeds one copy of the demo company into a sandbox."""

    def __init__(self, sb: SandboxAdmin, tag: str, validate: bool):
        self.sb = sb
        self.tag = tag
        self.validate = validate
        self.now = sb.clock.now()
        self.rng = random.Random(f"cftokens-demo/{sb.seed}/{tag}")
        self.accounts: dict[str, str] = {}
        self.zones: dict[str, str] = {}
        self.zone_account: dict[str, str] = {}
        self.records: dict[str, list[str]] = {}
        self.users: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self.secrets: dict[str, Secret] = {}

    def ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    def email(self, email: str) -> str:
        if not self.tag:
            return email
        local, _, domain = email.partition("@")
        return f"{local}+{self.tag}@{domain}"

    def build(self) -> None:
        sb = self.sb
        for user in USERS:
            row = sb.add_user(
                self.email(user.email),
                first_name=user.first_name,
                last_name=user.last_name,
                created=self.ago(user.created_days_ago),
            )
            self.users[user.key] = row.id
        for account in ACCOUNTS:
            self.accounts[account.key] = sb.add_account(
                account.name, created=self.ago(account.created_days_ago)
            ).id
        for user in USERS:
            for key, role in user.roles.items():
                sb.add_member(self.users[user.key], self.accounts[key], role)
        for zone in ZONES:
            account_id = self.accounts[zone.account]
            zone_id = sb.add_zone(
                zone.name,
                account=account_id,
                plan=zone.plan,
                created=self.ago(zone.created_days_ago),
            ).id
            self.zones[zone.name] = zone_id
            self.zone_account[zone_id] = account_id
            self.records[zone.name] = [
                sb.add_dns_record(
                    zone_id,
                    type=kind,
                    name=name,
                    content=zone.name if content == "@" else content,
                    priority=10 if kind == "MX" else None,
                    proxied=kind in ("A", "CNAME"),
                    created=self.ago(zone.created_days_ago),
                )
                for kind, name, content in zone.records
            ]
        for definition in TOKENS:
            self.token(definition)
        main = self.users[USERS[0].key]
        api_key = sb.issue_api_key(main)
        self.secrets["api_key"] = api_key
        history: list[JournalRow] = []
        for definition in TOKENS:
            for usage in definition.usage:
                history.extend(self.usage(definition, usage))
        for usage in API_KEY_USAGE:
            history.extend(self.usage(None, usage))
        history.sort(key=lambda r: r.time)
        last_used: dict[str, str] = {}
        for entry in history:
            if entry.token_id and entry.status < 400:
                last_used[entry.token_id] = entry.time
        store = sb.store
        with store.transaction():
            for entry in history:
                entry.ray_id = sb.engine.generator.ray(store.next_counter())
            store.insert_journal(history)
            for definition in TOKENS:
                token_id = self.tokens[definition.name]
                when = (
                    ts(self.ago(definition.last_used))
                    if definition.last_used is not None
                    else last_used.get(token_id)
                )
                if when is not None:
                    store.touch(token_id, when)
                if definition.rolled is not None:
                    store.conn.execute(
                        "UPDATE tokens SET secret_changed_on = ? WHERE id = ?",
                        (ts(self.ago(definition.rolled)), token_id),
                    )

    def resources(
        self, specs: Sequence[str], owner_user: str | None, owner_account: str | None = None
    ) -> dict[str, Any]:
        """The wire resources of a demo policy; an account-owned token's zones are nested
        under its account, the only form Cloudflare accepts for account-owned tokens."""
        atoms: list[Resource] = []
        raw: dict[str, Any] = {}
        for spec in specs:
            kind, _, arg = spec.partition(":")
            if kind == "user":
                atoms.append(Resource.user(self.users[arg] if arg else str(owner_user)))
            elif kind == "account":
                atoms.append(Resource.account(self.accounts[arg]))
            elif kind == "zones_of":
                atoms.append(Resource.all_zones_of(self.accounts[arg]))
            elif kind == "zone":
                atoms.append(Resource.zone(self.zones[arg], account_id=owner_account))
            elif kind == "all_accounts":
                atoms.append(Resource.all_accounts())
            elif kind == "all_zones":
                atoms.append(Resource.all_zones())
            elif kind == "missing_zone":
                atoms.append(Resource.zone(MISSING_ZONE_ID))
            elif kind == "raw":
                raw[arg] = "*"
            else:
                raise ValueError(f"demo: unknown resource spec {spec!r}")
        result = Resource.to_api(atoms)
        result.update(raw)
        return result

    def token(self, definition: TokenDef) -> None:
        sb = self.sb
        kind, _, key = definition.owner.partition(":")
        owner_user = self.users[key] if kind == "user" else None
        policies = []
        for policy in definition.policies:
            groups = [_group(g) for g in policy.groups]
            policies.append(
                {
                    "effect": policy.effect,
                    "resources": self.resources(
                        policy.resources,
                        owner_user,
                        self.accounts[key] if kind == "account" else None,
                    ),
                    "permission_groups": [{"id": i, "name": n} for i, n in groups],
                }
            )
        body: dict[str, Any] = {"name": definition.name, "policies": policies}
        if definition.allow_ips or definition.deny_ips:
            ip: dict[str, Any] = {}
            if definition.allow_ips:
                ip["in"] = list(definition.allow_ips)
            if definition.deny_ips:
                ip["not_in"] = list(definition.deny_ips)
            body["condition"] = {"request.ip": ip}
        issued = self.ago(definition.issued)
        if definition.expires is not None:
            body["expires_on"] = ts(self.now + timedelta(days=definition.expires)).replace(
                ".000000Z", "Z"
            )
        if definition.not_before is not None:
            body["not_before"] = ts(self.now + timedelta(days=definition.not_before)).replace(
                ".000000Z", "Z"
            )
        created = sb.create_token(
            body,
            user=owner_user,
            account=self.accounts[key] if kind == "account" else None,
            status=definition.status,
            issued=issued,
            modified=self.ago(definition.modified) if definition.modified is not None else None,
            legacy_secret=definition.legacy_secret,
            check=definition.check,
        )
        self.tokens[definition.name] = created.id
        self.secrets[definition.name] = created.secret
        if definition.bootstrap and not self.tag:
            sb.set_bootstrap(created)

    def _principal(self, definition: TokenDef | None) -> Principal:
        engine = self.sb.engine
        store = self.sb.store
        if definition is None:
            user = self.users[USERS[0].key]
            return Principal(
                PrincipalKind.API_KEY, model=engine.user_ceiling(user), ceiling=None, user_id=user
            )
        row = store.token(self.tokens[definition.name])
        assert row is not None
        model: Token = store.model(row)
        if row.owner_kind == "user":
            return Principal(
                PrincipalKind.USER_TOKEN,
                model=model,
                ceiling=engine.user_ceiling(row.owner_id),
                token=row,
                user_id=row.owner_id,
            )
        return Principal(
            PrincipalKind.ACCOUNT_TOKEN,
            model=model,
            ceiling=engine.account_ceiling(row.owner_id),
            token=row,
            account_id=row.owner_id,
        )

    def usage(self, definition: TokenDef | None, usage: Usage) -> list[JournalRow]:
        rng = self.rng
        days: list[int] = list(usage.on_days)
        if not days:
            first = min(usage.days, definition.issued if definition is not None else usage.days)
            for day in range(first, 0, -1):
                count = int(usage.per_day)
                if rng.random() < usage.per_day - count:
                    count += 1
                days.extend([day] * count)
        principal = self._principal(definition) if self.validate else None
        rows = []
        for day in days:
            when = self.ago(day) + timedelta(seconds=rng.randrange(6 * 3600, 18 * 3600))
            when = min(when, self.now - timedelta(minutes=5))
            op = rng.choice(usage.ops)
            method, _, template = op.partition(" ")
            zone_name = rng.choice(usage.zones) if usage.zones else None
            account_key = rng.choice(usage.accounts) if usage.accounts else None
            path = self.fill(template, zone_name, account_key, rng)
            match = operations.find(method, path)
            if match is None:
                raise ValueError(f"demo: no operation for {method} {path}")
            zone_id = match.zone_id
            account_id = self.zone_account.get(zone_id) if zone_id else match.account_id
            if principal is not None and usage.status < 400:
                allowed, reason = self.sb.engine.allowed(
                    principal,
                    method,
                    path,
                    ip=usage.ips[0],
                    at=when,
                    zone_account=account_id if zone_id else None,
                )
                if not allowed:
                    name = definition.name if definition else "the Global API Key"
                    raise AssertionError(f"demo usage of {name} would be refused: {reason}")
            user: str | None
            if definition is None:
                user = self.users[USERS[0].key]
                token_id = token_name = None
                owner_type, owner_id, auth = "user", user, "api_key"
            else:
                kind, _, key = definition.owner.partition(":")
                token_id = self.tokens[definition.name]
                token_name = definition.name
                owner_type = kind
                owner_id = self.users[key] if kind == "user" else self.accounts[key]
                user = owner_id if kind == "user" else None
                auth = "api_token"
            rows.append(
                JournalRow(
                    time=ts(when),
                    token_id=token_id,
                    token_name=token_name,
                    owner_type=owner_type,
                    owner_id=owner_id,
                    user_id=user,
                    auth=auth,
                    method=method,
                    path=path,
                    operation_id=match.operation.operation_id,
                    account_id=account_id,
                    zone_id=zone_id,
                    status=usage.status,
                    ip=rng.choice(usage.ips),
                    user_agent=rng.choice(usage.agents),
                )
            )
        return rows

    def fill(self, template: str, zone: str | None, account: str | None, rng: random.Random) -> str:
        path = template
        if "{zone}" in path:
            assert zone is not None, template
            path = path.replace("{zone}", self.zones[zone])
        if "{account}" in path:
            assert account is not None, template
            path = path.replace("{account}", self.accounts[account])
        if "{record}" in path:
            assert zone is not None
            path = path.replace("{record}", rng.choice(self.records[zone]))
        while "{token:" in path:
            start = path.index("{token:")
            end = path.index("}", start)
            path = path[:start] + self.tokens[path[start + 7 : end]] + path[end + 1 :]
        path = path.replace("{script}", rng.choice(["storefront", "image-resizer", "geo-router"]))
        path = path.replace("{tunnel}", "6ff42ae2765b4b7d8b4f1a25c3e6e0d1")
        return path


def seed_demo(sb: SandboxAdmin, *, tag: str = "", validate: bool = False) -> dict[str, Any]:
    """Seed one copy of the demo company into ``sb``.

    ``tag`` makes a separate copy for a workshop attendee (emails get ``+tag``); the untagged
    copy becomes the sandbox's main user, bootstrap token and Global API Key. ``validate``
    checks that every usage row would be allowed by the policy engine (used by the tests).
    Returns ``{"user_id", "bootstrap", "accounts", "zones", "tokens", "files"}``.
    """
    builder = _Builder(sb, tag, validate)
    builder.build()
    main_user = builder.users[USERS[0].key]
    bootstrap = builder.secrets[next(t.name for t in TOKENS if t.bootstrap)]
    files = {
        "deploy/.env": (
            "# deploy/.env: committed to the website repository in 2022\n"
            f"CLOUDFLARE_API_TOKEN={builder.secrets['wp-legacy-deploy'].reveal()}\n"
            f"CLOUDFLARE_ZONE_ID={builder.zones['acme.example']}\n"
            "SITE_URL=https://acme.example\n"
        ),
        "ci/staging.env": (
            "# ci/staging.env: preview deployments\n"
            f"CLOUDFLARE_API_TOKEN={builder.secrets['staging-preview-dns'].reveal()}\n"
            f"CLOUDFLARE_ACCOUNT_ID={builder.accounts[S]}\n"
        ),
    }
    info = {
        "user_id": main_user,
        "email": builder.email(USERS[0].email),
        "bootstrap": bootstrap,
        "api_key": builder.secrets["api_key"],
        "accounts": dict(builder.accounts),
        "zones": dict(builder.zones),
        "tokens": dict(builder.tokens),
        "files": files,
    }
    if not tag:
        sb.extras.update(
            {
                "files": files,
                "accounts": dict(builder.accounts),
                "zones": dict(builder.zones),
                "tokens": dict(builder.tokens),
                "users": dict(builder.users),
                "colleague_token": builder.secrets["sam-token-reader"],
                "gap_account": builder.accounts[W],
            }
        )
    return info
