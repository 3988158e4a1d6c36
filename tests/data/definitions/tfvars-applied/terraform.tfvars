zone_id     = "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"
allowed_ips = ["34.120.1.0/24"]
