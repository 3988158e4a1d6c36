# Provider v4 account map: Workers deploy token for one account.
variable "account_id" {
  default = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
}
data "cloudflare_api_token_permission_groups" "all" {}

resource "cloudflare_api_token" "workers_deploy" {
  name = "workers-deploy"
  policy {
    permission_groups = [
      data.cloudflare_api_token_permission_groups.all.account["Workers Scripts Write"],
      data.cloudflare_api_token_permission_groups.all.account["Workers KV Storage Write"],
    ]
    resources = {
      "com.cloudflare.api.account.${var.account_id}" = "*"
    }
  }
  condition {
    request_ip {
      in = ["34.120.1.0/24"]
    }
  }
  expires_on = "2027-01-15T00:00:00Z"
}
