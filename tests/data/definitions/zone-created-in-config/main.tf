# The most common pattern: the zone and its DNS token in one configuration.
variable "account_id" {
  default = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
}
resource "cloudflare_zone" "site" {
  account = { id = var.account_id }
  name    = "example.com"
}
resource "cloudflare_api_token" "site_dns" {
  name = "site-dns"
  policies = [{
    effect            = "allow"
    permission_groups = [{ id = "4755a26eedb94da69e1066d98aa820be" }]
    resources = jsonencode({
      "com.cloudflare.api.account.zone.${cloudflare_zone.site.id}" = "*"
    })
  }]
}
