"""Pure sandbox logic: the data model, Xero's journal rules, rate-limit windows. No I/O."""
