variable "account_id" {}
variable "name" {}
resource "cloudflare_api_token" "this" {
  name = var.name
  policies = [{
    effect            = "allow"
    permission_groups = [{ id = "4755a26eedb94da69e1066d98aa820be" }]
    resources = jsonencode({
      "com.cloudflare.api.account.${var.account_id}" = { "com.cloudflare.api.account.zone.*" = "*" }
    })
  }]
}
