token_name = "prod-zone-reader"
ttl = "9600h"
