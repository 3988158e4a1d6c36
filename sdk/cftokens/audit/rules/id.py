"""The ``CFT-ID-xx`` rules: identity and credentials."""

from __future__ import annotations

from .._context import Ctx, join_names
from .._inventory import payload_values
from ..records import NAME_REDACTED_KEY
from ..severity import Severity
from ..steps import (
    CreateScopedToken,
    MoveToAccount,
)
from .base import (
    Hits,
    Rule,
    rule,
)

# ---------------------------------------------------------------------------------------------
# ID: identity and credentials
# ---------------------------------------------------------------------------------------------


@rule(
    "CFT-ID-01",
    "Global API Key in use",
    "high",
    Severity.HIGH,
    "audit-log rows with actor context api_key",
    "The Global API Key has every right of its user, cannot be scoped, IP-restricted or set to "
    "expire.",
    usage=True,
)
def id_01(ctx: Ctx, r: Rule) -> Hits:
    """The Global API Key carries every right of its user on every account, with no scope,
    allowlist or expiry; any automation still using it should move to a scoped token."""
    hits = Hits(r.id)
    if ctx.usage is None:
        return hits
    for actor, summary, body in ctx.usage.api_key_use():
        hits.add(
            -1,
            Severity.HIGH,
            f"{actor}: {summary}",
            "Requests were authenticated with the Global API Key.",
            "Create a scoped API token for these calls (the proposed spec below), switch the "
            "caller to it, then stop using the Global API Key.",
            CreateScopedToken(body=body),
        )
    return hits


_AUTOMATION = (
    "curl",
    "python",
    "httpx",
    "go-http-client",
    "terraform",
    "github",
    "gitlab",
    "jenkins",
    "wrangler",
    "cloudflare-python",
    "cloudflare-go",
    "node-fetch",
    "axios",
    "okhttp",
    "java/",
    "ansible",
    "pulumi",
    "cftokens",
    "cert-manager",
    "external-dns",
    "kube",
    "argo",
    "jenkins",
    "circleci",
    "buildkite",
)


@rule(
    "CFT-ID-02",
    "Personal token used for automation",
    "low",
    Severity.LOW,
    "a user-owned token whose usage shows CI/automation user agents or many source networks",
    "Automation on a personal token stops when the person leaves, and acts with their rights.",
    usage=True,
)
def id_02(ctx: Ctx, r: Rule) -> Hits:
    """Automation should not depend on a person: a user-owned token breaks when its user
    leaves and acts with that user's rights. Account-owned tokens exist for this."""
    hits = Hits(r.id)
    usage = ctx.usage
    if usage is None:
        return hits
    for t in range(ctx.n):
        if ctx.inv.kinds[t] != "user":
            continue
        tid = ctx.inv.ids[t]
        agents, networks = usage.clients(tid)
        auto = sorted(a for a in agents if any(m in a.lower() for m in _AUTOMATION))
        if not auto and len(networks) < ctx.th.automation_networks:
            continue
        evidence = []
        if auto:
            evidence.append(f"automation user agents {join_names(auto, 3)}")
        if len(networks) >= ctx.th.automation_networks:
            evidence.append(f"{len(networks)} source networks")
        account = usage.main_account(tid) or next(iter(ctx.dir.account_names), None)
        hits.add(
            t,
            Severity.LOW,
            "usage shows " + " and ".join(evidence),
            "A user-owned token is doing automation.",
            "Create an account-owned token with the same policies"
            + (f" on account {ctx.dir.account(account)}" if account else "")
            + ", switch the job to it, then delete this personal token.",
            MoveToAccount(account=account or "REPLACE-WITH-ACCOUNT-ID"),
        )
    return hits


@rule(
    "CFT-ID-03",
    "Legacy secret format",
    "low",
    Severity.LOW,
    "only where secret values are in scope (env files, secret stores, notebooks): a "
    "non-prefixed 40-character token; advise a roll",
    "New secrets carry a cfut_/cfat_ prefix that secret scanners recognise; legacy ones do not.",
)
def id_03(ctx: Ctx, r: Rule) -> Hits:
    """Prefixed secrets (cfut_, cfat_) are caught by secret scanners; legacy 40-character ones
    slip through. Rolling a token issues a prefixed secret. Evaluated by
    :meth:`Audit.scan_secrets` over files, never over the API inventory (which holds no
    secrets)."""
    return Hits(r.id)


@rule(
    "CFT-ID-04",
    "Credential in a token's name",
    "high",
    Severity.HIGH,
    "a token name holding something shaped like a credential (a cfut_/cfat_ secret, a Global "
    "API Key, a legacy 40-character secret, an Authorization header); shown as [redacted]",
    "Anyone who can list tokens reads their names: a secret written in one is exposed to all "
    "of them.",
)
def id_04(ctx: Ctx, r: Rule) -> Hits:
    """A secret pasted into a token's name (a note, a backup, a copy-paste slip) is read by
    everyone who can list tokens. The audit shows such a name with the credential as
    ``[redacted]`` everywhere (:func:`cftokens.audit.records.without_credentials`); whose
    secret it was is not known from the name, so the fix is to roll it and rename."""
    hits = Hits(r.id)
    if "[redacted]" not in "\n".join(ctx.inv.names):  # one scan: no name was redacted
        return hits
    marks = payload_values(ctx.inv.records, NAME_REDACTED_KEY)
    for t in [t for t, mark in enumerate(marks) if mark is True]:
        hits.add(
            t,
            Severity.HIGH,
            f"its name holds a credential (shown as {ctx.inv.names[t]!r})",
            "A credential is written in the token's name, which everyone who can list tokens "
            "reads.",
            "Roll the secret written in the name (`cftokens triage` finds whose it is and "
            "rolls it), then rename this token (a fix cftokens applies to it renames it to "
            "the name shown here).",
            None,
        )
    return hits
