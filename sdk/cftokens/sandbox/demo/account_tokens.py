"""Acme's account-owned tokens, declared (Production's, Staging's, then the agency-managed
account's), each with the audit rules it trips."""

from __future__ import annotations

from .defs import TokenDef, Usage, allow, deny
from .org import (
    ACME,
    ACME_BLOG,
    ACME_CAMPAIGN,
    ACME_CAREERS,
    ACME_CDN,
    ACME_EVENTS,
    ACME_PREVIEW,
    ACME_QA,
    ACME_SHOP,
    ACME_STATUS,
    CI_AGENTS,
    DNS_RW,
    OFFICE_IP,
    PRODUCTION_ZONES,
    SITE_AND_SHOP,
    TERRAFORM,
    P,
    S,
    W,
)

# ---------------------------------------------------------------- Acme Production tokens
PRODUCTION_TOKENS: list[TokenDef] = [
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
]

# ---------------------------------------------------------------- Acme Staging tokens
STAGING_TOKENS: list[TokenDef] = [
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
]

# ---------------------------------------------------------------- Acme Web (agency) tokens
AGENCY_TOKENS: list[TokenDef] = [
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
]
