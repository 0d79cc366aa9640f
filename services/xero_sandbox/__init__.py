"""A Xero stand-in: identity (OAuth 2.0 + PKCE), accounting endpoints, limits, faults, a clock."""
