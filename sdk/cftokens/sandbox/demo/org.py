"""Acme's accounts, zones and users, and the named constants its tokens' declarations share
(zone names and tuples, networks, user agents, lists of permission groups)."""

from __future__ import annotations

from ..store import Role
from .defs import AccountDef, UserDef, ZoneDef

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

FULL_ACCOUNT_WRITES = (
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
FULL_ZONE_WRITES = (
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
