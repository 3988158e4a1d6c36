# Workers Scripts Write (an account group) on the user: no group fits any resource named.
resource "cloudflare_api_token" "misfit" {
  name = "workers-on-user"
  policies = [{
    effect            = "allow"
    permission_groups = [{ id = "e086da7e2179491d91ee5f35b3ca210a" }]
    resources         = { "com.cloudflare.api.user.c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1" = "*" }
  }]
  condition  = { request_ip = { in = ["34.120.1.0/24"] } }
  expires_on = "2026-12-20T00:00:00Z"
}
