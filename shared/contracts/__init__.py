"""Wire contracts: the events services exchange, as versioned pydantic models."""
