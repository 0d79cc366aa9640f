"""Pure rules of the auth service: no I/O here."""
