# terraform.tfvars gives the zone and the allowlist; the defaults would be wider.
variable "zone_id" {
  type = string
}
variable "allowed_ips" {
  type    = list(string)
  default = ["0.0.0.0/0"]
}
resource "cloudflare_api_token" "dns" {
  name = "tfvars-dns"
  policies = [{
    effect            = "allow"
    permission_groups = [{ id = "4755a26eedb94da69e1066d98aa820be" }]
    resources         = { "com.cloudflare.api.account.zone.${var.zone_id}" = "*" }
  }]
  condition  = { request_ip = { in = var.allowed_ips } }
  expires_on = "2026-12-20T00:00:00Z"
}
