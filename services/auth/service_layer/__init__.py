"""Use cases: the token vault and the connect flow, over the domain and adapters."""
