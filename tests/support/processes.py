"""Real service processes for tests (the same supervisor code `glbridge up` uses)."""

from glbridge.processes import ROOT, ServiceProcess, free_port

__all__ = ["ROOT", "ServiceProcess", "free_port"]
