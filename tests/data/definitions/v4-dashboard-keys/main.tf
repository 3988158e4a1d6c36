# Data-source keys written the dashboard's way ("Edit", "Zone:Zone:Read"), as in many modules.
data "cloudflare_api_token_permission_groups" "all" {}

resource "cloudflare_api_token" "dashboard_names" {
  name = "dashboard-names"
  policy {
    permission_groups = [
      data.cloudflare_api_token_permission_groups.all.zone["DNS Edit"],
      data.cloudflare_api_token_permission_groups.all.zone["Zone:Zone:Read"],
    ]
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
