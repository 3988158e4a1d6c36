# Provider v5 cloudflare_account_token with the account list data source.
variable "account_id" {
  default = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
}
data "cloudflare_account_api_token_permission_groups_list" "pages" {
  account_id = var.account_id
  name       = "Pages Write"
  scope      = "com.cloudflare.api.account"
}

resource "cloudflare_account_token" "pages_deploy" {
  account_id = var.account_id
  name       = "pages-deploy"
  policies = [{
    effect            = "allow"
    permission_groups = [{ id = data.cloudflare_account_api_token_permission_groups_list.pages.result[0].id }]
    resources         = jsonencode({ "com.cloudflare.api.account.${var.account_id}" = "*" })
  }]
  expires_on = "2027-02-01T00:00:00Z"
}
