# Provider v4 policy with group names where ids belong (a common first attempt).
resource "cloudflare_api_token" "names" {
  name = "names-not-ids"
  policy {
    permission_groups = ["DNS Write", "Zone Read"]
    resources = {
      "com.cloudflare.api.account.zone.b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1" = "*"
    }
  }
  condition {
    request_ip {
      in = ["34.120.1.0/24"]
    }
  }
  expires_on = "2026-12-20T00:00:00Z"
}
