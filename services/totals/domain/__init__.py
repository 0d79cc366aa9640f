"""Pure domain of totals: no I/O here."""
