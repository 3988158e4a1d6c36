# Provider v4 r2 map: object write on one bucket (the key of an R2 bucket resource); from
# anywhere, so CFT-RK-02 judges the bucket (bulk data) as it judges account storage.
data "cloudflare_api_token_permission_groups" "all" {}

resource "cloudflare_api_token" "backup_writer" {
  name = "backup-writer"
  policy {
    permission_groups = [data.cloudflare_api_token_permission_groups.all.r2["Workers R2 Storage Bucket Item Write"]]
    resources = {
      "com.cloudflare.edge.r2.bucket.a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1_default_backups" = "*"
    }
  }
  expires_on = "2027-01-15T00:00:00Z"
}
