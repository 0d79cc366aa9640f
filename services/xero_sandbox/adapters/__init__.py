"""The sandbox's edges: access-token signing."""
