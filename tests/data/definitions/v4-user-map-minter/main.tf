# Provider v4 user map: the "Create Additional Tokens" shape, managed in Terraform.
data "cloudflare_api_token_permission_groups" "all" {}
data "cloudflare_user" "me" {}

resource "cloudflare_api_token" "token_minter" {
  name = "token-minter"
  policy {
    permission_groups = [data.cloudflare_api_token_permission_groups.all.user["API Tokens Write"]]
    resources = {
      "com.cloudflare.api.user.${data.cloudflare_user.me.id}" = "*"
    }
  }
}
