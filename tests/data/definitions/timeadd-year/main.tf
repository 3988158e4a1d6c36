# expires_on = timeadd(timestamp(), "8760h"): a year from the audit's now, with writes.
resource "cloudflare_api_token" "yearly" {
  name = "yearly-dns"
  policies = [{
    effect            = "allow"
    permission_groups = [{ id = "4755a26eedb94da69e1066d98aa820be" }]
    resources         = { "com.cloudflare.api.account.zone.b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1" = "*" }
  }]
  condition  = { request_ip = { in = ["34.120.1.0/24"] } }
  expires_on = timeadd(timestamp(), "8760h")
}
