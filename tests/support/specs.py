"""Xero's official OpenAPI specs, kept beside the repository (`../shared/xero`) or where
`XERO_SPECS_DIR` says."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
XERO_SPECS = Path(os.environ.get("XERO_SPECS_DIR") or ROOT.parent / "shared" / "xero")
