"""The connect flow walker lives in glbridge (the demo and benchmarks use it too)."""

from glbridge.connect import ConnectFailed, connect_store, read_page

__all__ = ["ConnectFailed", "connect_store", "read_page"]
