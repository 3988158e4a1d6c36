# An account-owned token naming a zone flat, not under its own account: Cloudflare refuses it.
resource "cloudflare_account_token" "dns" {
  account_id = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
  name       = "account-dns-flat"
  policies = [{
    effect            = "allow"
    permission_groups = [{ id = "4755a26eedb94da69e1066d98aa820be" }]
    resources         = jsonencode({ "com.cloudflare.api.account.zone.b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1" = "*" })
  }]
  condition  = { request_ip = { in = ["34.120.1.0/24"] } }
  expires_on = "2026-12-20T00:00:00Z"
}
