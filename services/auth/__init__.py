"""auth: owns every Xero connection (the connect flow, the `2RF:` keys, the token vault)."""
