"""Draining an organisation's pending postings to Xero (`drainer.py` gives the order of
a batch; each step is a module of its own)."""
