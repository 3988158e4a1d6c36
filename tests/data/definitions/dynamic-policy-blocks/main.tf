# Provider v4 with dynamic policy blocks built from a map of policies.
variable "policies" {
  default = {
    read = {
      groups = ["c8fed203ed3043cba015a93ad1616f1f"]
      zone   = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"
    }
    purge = {
      groups = ["e17beae8b8cb423a99b1730f21238bed"]
      zone   = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"
    }
  }
}
resource "cloudflare_api_token" "dyn" {
  name = "dynamic-policies"
  dynamic "policy" {
    for_each = var.policies
    content {
      permission_groups = policy.value.groups
      resources         = { "com.cloudflare.api.account.zone.${policy.value.zone}" = "*" }
    }
  }
  expires_on = "2026-12-20T00:00:00Z"
}
