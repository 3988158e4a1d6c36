# Group names in a local list, turned into ids with a for expression over the v4 map.
locals {
  zone_ids = ["b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1", "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"]
  groups   = ["DNS Write", "Zone Read"]
}
data "cloudflare_api_token_permission_groups" "all" {}

resource "cloudflare_api_token" "multi_zone" {
  name = "multi-zone-dns"
  policy {
    permission_groups = [for name in local.groups : data.cloudflare_api_token_permission_groups.all.zone[name]]
    resources         = { for id in local.zone_ids : "com.cloudflare.api.account.zone.${id}" => "*" }
  }
  condition {
    request_ip {
      in = ["34.120.1.0/24"]
    }
  }
  expires_on = "2026-12-20T00:00:00Z"
}
