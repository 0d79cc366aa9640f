"""The totals service: the POS's door (Account Numbers setup, end of day, reprint, results)."""
