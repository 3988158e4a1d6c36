# A local child module receives the account and builds an account-wide token.
module "ci" {
  source     = "./modules/token"
  account_id = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
  name       = "module-ci"
}
