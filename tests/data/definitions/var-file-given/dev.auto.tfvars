token_name = "dev-zone-reader"
