# A directory: providers.tf and tokens.tf; a deny policy carves one zone out.
resource "cloudflare_api_token" "all_but_prod" {
  name = "all-but-prod"
  policies = [
    {
      effect            = "allow"
      permission_groups = [{ id = "c8fed203ed3043cba015a93ad1616f1f" }]
      resources         = { "com.cloudflare.api.account.zone.*" = "*" }
    },
    {
      effect            = "deny"
      permission_groups = [{ id = "c8fed203ed3043cba015a93ad1616f1f" }]
      resources         = { "com.cloudflare.api.account.zone.b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1" = "*" }
    },
  ]
  condition  = { request_ip = { in = ["34.120.1.0/24"] } }
  expires_on = "2026-12-20T00:00:00Z"
}
