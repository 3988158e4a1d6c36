# Provider v5 with jsonencode: all zones of one account (the nested resource form).
variable "account_id" {
  type    = string
  default = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
}
data "cloudflare_api_token_permission_groups_list" "zone_settings" {
  name  = "Account%20Settings%20Read"
  scope = "com.cloudflare.api.account"
}

resource "cloudflare_api_token" "zones_of_account" {
  name = "zones-of-account"
  policies = [
    {
      effect            = "allow"
      permission_groups = [{ id = "4755a26eedb94da69e1066d98aa820be" }]
      resources = jsonencode({
        "com.cloudflare.api.account.${var.account_id}" = {
          "com.cloudflare.api.account.zone.*" = "*"
        }
      })
    },
    {
      effect            = "allow"
      permission_groups = [for g in data.cloudflare_api_token_permission_groups_list.zone_settings.result : { id = g.id }]
      resources         = jsonencode({ "com.cloudflare.api.account.${var.account_id}" = "*" })
    },
  ]
  condition  = { request_ip = { in = ["34.120.1.0/24"] } }
  expires_on = "2026-12-20T00:00:00Z"
}
