"""Pure rules of posting: no I/O here."""
