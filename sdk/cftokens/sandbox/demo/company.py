"""Acme, the demo company, declared: its accounts, zones, users, tokens (each with the audit
rules it trips) and the usage history of its Global API Key. The package docstring
(:mod:`cftokens.sandbox.demo`) lists the planted problems; :mod:`.builder` seeds them."""

from __future__ import annotations

from ..store import Role
from .defs import AccountDef, TokenDef, Usage, UserDef, ZoneDef, allow, deny

__all__ = [
    "ACCOUNTS",
    "API_KEY_USAGE",
    "MISSING_ZONE_ID",
    "TOKENS",
    "USERS",
    "ZONES",
]

P, S, W = "production", "staging", "agency"

ACCOUNTS: list[AccountDef] = [
    AccountDef(key=P, name="Acme Production", created_days_ago=2100),
    AccountDef(key=S, name="Acme Staging", created_days_ago=1500),
    AccountDef(key=W, name="Acme Web (managed by Pixel Agency)", created_days_ago=700),
]

# The zones, by name (each declared once in ZONES below).
ACME = "acme.example"
ACME_SHOP = "acme-shop.example"
ACME_STATUS = "acme-status.example"
ACME_CDN = "acme-cdn.example"
ACME_MAIL = "acme-mail.example"
ACME_STAGING = "acme-staging.example"
ACME_PREVIEW = "acme-preview.example"
ACME_QA = "acme-qa.example"
ACME_BLOG = "acme-blog.example"
ACME_CAMPAIGN = "acme-campaign.example"
ACME_EVENTS = "acme-events.example"
ACME_CAREERS = "acme-careers.example"

_WEB = (("A", "@", "192.0.2.10"), ("CNAME", "www", "@"), ("TXT", "@", "v=spf1 -all"))
ZONES: list[ZoneDef] = [
    ZoneDef(
        name=ACME,
        account=P,
        plan="enterprise",
        records=_WEB + (("MX", "@", "mx1.acme.example"),),
    ),
    ZoneDef(name=ACME_SHOP, account=P, plan="business", records=_WEB),
    ZoneDef(name=ACME_STATUS, account=P, plan="pro", records=_WEB),
    ZoneDef(name=ACME_CDN, account=P, plan="enterprise", records=_WEB),
    ZoneDef(name=ACME_MAIL, account=P, plan="pro", records=_WEB),
    ZoneDef(name=ACME_STAGING, account=S, records=_WEB),
    ZoneDef(name=ACME_PREVIEW, account=S, records=_WEB),
    ZoneDef(name=ACME_QA, account=S, records=_WEB),
    ZoneDef(name=ACME_BLOG, account=W, records=_WEB),
    ZoneDef(name=ACME_CAMPAIGN, account=W, records=_WEB),
    ZoneDef(name=ACME_EVENTS, account=W, records=_WEB),
    ZoneDef(name=ACME_CAREERS, account=W, records=_WEB),
]

# Zone tuples that several tokens' usage shares.
PRODUCTION_ZONES = tuple(z.name for z in ZONES if z.account == P)
SITE_AND_SHOP = (ACME, ACME_SHOP)
STAGING_AND_QA = (ACME_STAGING, ACME_QA)

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
                zones=SITE_AND_SHOP,
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
                zones=PRODUCTION_ZONES,
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
                zones=(ACME, ACME_SHOP, ACME_STATUS),
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
                zones=STAGING_AND_QA,
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
        policies=(allow(["DNS Read"], f"zone:{ACME}"),),
        rules="LC-04 LC-01 LC-03",
    ),
    TokenDef(
        name="test-token-do-not-use",
        owner="user:dana",
        issued=30,
        expires=60,
        policies=(allow(["DNS Write"], f"zone:{ACME_STAGING}"),),
        rules="LC-05",
    ),
    TokenDef(
        name="partner-reporting-2y",
        owner="user:dana",
        issued=100,
        expires=630,
        allow_ips=("81.2.69.0/24",),
        policies=(allow(["Analytics Read"], f"zone:{ACME}"),),
        usage=(
            Usage(
                ops=("GET /zones/{zone}/analytics/latency",),
                zones=(ACME,),
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
        policies=(allow(["DNS Write"], f"zone:{ACME_SHOP}"),),
        usage=(
            Usage(
                ops=DNS_RW,
                zones=(ACME_SHOP,),
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
        policies=(allow(["DNS Read"], f"zone:{ACME}"),),
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
                f"zone:{ACME}",
            ),
        ),
        usage=(
            Usage(
                ops=("GET /zones/{zone}/dns_records",),
                zones=(ACME,),
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
        policies=(allow(["id:4755a26eedb94da69e1066d98aa820be=DNS Edit"], f"zone:{ACME_STATUS}"),),
        usage=(Usage(ops=DNS_RW, zones=(ACME_STATUS,), days=15, per_day=1, ips=(OFFICE_IP,)),),
        rules="LN-01",
    ),
    TokenDef(
        name="workers-read-on-zone",
        owner="user:dana",
        issued=50,
        expires=40,
        check=False,
        policies=(allow(["Workers Scripts Read"], f"zone:{ACME}"),),
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
            allow(["DNS Read"], f"zone:{ACME}"),
            deny(["Workers Scripts Write"], f"account:{P}"),
        ),
        usage=(
            Usage(
                ops=("GET /zones/{zone}/dns_records",),
                zones=(ACME,),
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
                f"zone:{ACME_MAIL}",
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
                f"zone:{ACME_SHOP}",
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
                zones=(ACME_SHOP,),
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
        policies=(allow(["DNS Write"], f"zone:{ACME}"),),
        usage=(
            Usage(
                ops=("GET /zones/{zone}/dns_records", "PATCH /zones/{zone}/dns_records/{record}"),
                zones=(ACME,),
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
                zones=(ACME, ACME_SHOP, ACME_CDN),
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
                f"zone:{ACME}",
                f"zone:{ACME_SHOP}",
                f"zone:{ACME_STATUS}",
                f"zone:{ACME_CDN}",
            ),
        ),
        usage=(
            Usage(
                ops=DNS_RW,
                zones=(ACME,),
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
        policies=(allow(["DNS Write"], f"zone:{ACME}", f"zone:{ACME_SHOP}"),),
        usage=(
            Usage(
                ops=("GET /zones/{zone}/dns_records",),
                zones=SITE_AND_SHOP,
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
        policies=(allow(["DNS Write", "Cache Purge"], f"zone:{ACME_SHOP}"),),
        usage=(
            Usage(
                ops=DNS_RW,
                zones=(ACME_SHOP,),
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
        policies=(allow(["Zone WAF Write"], f"zone:{ACME}"),),
        usage=(
            Usage(
                ops=(
                    "GET /zones/{zone}/content-upload-scan/settings",
                    "PUT /zones/{zone}/content-upload-scan/settings",
                ),
                zones=(ACME,),
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
                zones=PRODUCTION_ZONES,
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
                zones=PRODUCTION_ZONES,
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
            allow(["DNS Write"], f"zone:{ACME_SHOP}"),
            allow(["Zone Read"], f"zone:{ACME_SHOP}"),
            deny(["DNS Write"], f"zones_of:{P}"),
        ),
        usage=(
            Usage(
                ops=("GET /zones/{zone}",),
                zones=(ACME_SHOP,),
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
        policies=(allow(["DNS Write", "Page Rules Write"], f"zone:{ACME_SHOP}"),),
        last_used=65,
        rules="LN-03",
    ),
    TokenDef(
        name="ci-dns-acme-status",
        owner=f"account:{P}",
        issued=15,
        expires=60,
        allow_ips=("45.83.12.0/28",),
        policies=(allow(["DNS Write"], f"zone:{ACME_STATUS}"),),
        usage=(
            Usage(
                ops=DNS_RW,
                zones=(ACME_STATUS,),
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
        policies=(allow(["Cache Purge"], f"zone:{ACME_STATUS}"),),
        usage=(
            Usage(
                ops=("POST /zones/{zone}/purge_cache",),
                zones=(ACME_STATUS,),
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
        policies=(allow(["DNS Read"], f"zone:{ACME_QA}"),),
        rules="LN-03",
    ),
    TokenDef(
        name="staging-preview-dns",
        owner=f"account:{S}",
        issued=5,
        expires=30,
        allow_ips=("45.83.12.0/28",),
        policies=(allow(["DNS Write"], f"zone:{ACME_PREVIEW}"),),
        usage=(
            Usage(
                ops=DNS_RW,
                zones=(ACME_PREVIEW,),
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
                zones=(ACME_BLOG, ACME_CAMPAIGN),
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
                zones=(ACME_EVENTS, ACME_CAREERS),
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
                zones=(ACME_STAGING,),
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
                zones=STAGING_AND_QA,
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
        zones=(ACME,),
        days=60,
        per_day=1,
        ips=("198.51.100.23",),
        agents=("curl/7.81.0",),
    ),
    Usage(
        ops=("POST /zones/{zone}/dns_records",),
        zones=(ACME,),
        on_days=(41, 27, 13),
        ips=("198.51.100.23",),
        agents=("curl/7.81.0",),
    ),
)

MISSING_ZONE_ID = "9d3f5a0c1b2e4d6f8a7c9e0b1d2f3a4c"
HISTORY_DAYS = 60
