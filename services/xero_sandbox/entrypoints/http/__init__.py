"""Thin HTTP routers over the in-memory sandbox."""
