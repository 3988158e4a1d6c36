# Provider v5, as its tests write it: a list data source filtered by name and scope.
data "cloudflare_api_token_permission_groups_list" "dns_read" {
  name  = "DNS Read"
  scope = "com.cloudflare.api.account.zone"
}

resource "cloudflare_api_token" "dns_reader" {
  name   = "dns-reader"
  status = "active"
  policies = [{
    effect            = "allow"
    permission_groups = [{ id = data.cloudflare_api_token_permission_groups_list.dns_read.result[0].id }]
    resources         = { "com.cloudflare.api.account.zone.*" = "*" }
  }]
  not_before = "2026-11-01T00:00:00Z"
  expires_on = "2028-01-01T00:00:00Z"
}
