# A read-only token valid 400 days from not_before (the limit without writes is 366).
resource "cloudflare_api_token" "analytics" {
  name = "analytics-reader"
  policies = [{
    effect            = "allow"
    permission_groups = [{ id = "9c88f9c5bce24ce7af9a958ba9c504db" }]
    resources         = { "com.cloudflare.api.account.zone.b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1" = "*" }
  }]
  condition  = { request_ip = { in = ["34.120.1.0/24"] } }
  not_before = "2026-12-01T00:00:00Z"
  expires_on = "2028-01-05T00:00:00Z"
}
