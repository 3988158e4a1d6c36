# One token per environment with for_each; staging forgot its allowlist.
variable "environments" {
  default = {
    production = { zone = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1", ips = ["34.120.1.0/24"] }
    staging    = { zone = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2", ips = [] }
  }
}
resource "cloudflare_api_token" "deploy" {
  for_each = var.environments
  name     = "deploy-${each.key}"
  policies = [{
    effect            = "allow"
    permission_groups = [{ id = "4755a26eedb94da69e1066d98aa820be" }]
    resources         = { "com.cloudflare.api.account.zone.${each.value.zone}" = "*" }
  }]
  condition  = { request_ip = { in = each.value.ips } }
  expires_on = "2026-12-20T00:00:00Z"
}
