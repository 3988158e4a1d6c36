# Provider v4, as in its docs: a DNS token on one zone, allowlisted, expiring in 30 days.
data "cloudflare_api_token_permission_groups" "all" {}

resource "cloudflare_api_token" "dns_edit" {
  name = "terraform-dns-edit"
  policy {
    permission_groups = [data.cloudflare_api_token_permission_groups.all.zone["DNS Write"]]
    resources = {
      "com.cloudflare.api.account.zone.b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1" = "*"
    }
  }
  condition {
    request_ip {
      in = ["34.120.1.0/24"]
    }
  }
  expires_on = "2026-12-27T00:00:00Z"
}
