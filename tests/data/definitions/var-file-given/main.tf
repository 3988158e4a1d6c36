# prod.tfvars is passed explicitly (--var-file); dev.auto.tfvars is read by itself.
variable "token_name" {}
variable "ttl" {
  default = "720h"
}
resource "cloudflare_api_token" "ci" {
  name = var.token_name
  policies = [{
    effect            = "allow"
    permission_groups = [{ id = "c8fed203ed3043cba015a93ad1616f1f" }]
    resources         = { "com.cloudflare.api.account.zone.*" = "*" }
  }]
  condition  = { request_ip = { in = ["34.120.1.0/24"] } }
  expires_on = timeadd(timestamp(), var.ttl)
}
