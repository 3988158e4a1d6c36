# var.zone_id has no default and no tfvars: unknown offline, judged as one zone.
variable "zone_id" {
  type = string
}
resource "cloudflare_api_token" "purge" {
  name = "cache-purge"
  policies = [{
    effect            = "allow"
    permission_groups = [{ id = "e17beae8b8cb423a99b1730f21238bed" }]
    resources         = { "com.cloudflare.api.account.zone.${var.zone_id}" = "*" }
  }]
  condition  = { request_ip = { in = ["34.120.1.0/24"] } }
  expires_on = "2026-12-10T00:00:00Z"
}
