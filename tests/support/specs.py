"""Xero's official OpenAPI specs (kept with the sandbox) as validators for the tests."""

from functools import cache
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from services.xero_sandbox.adapters.spec import SPEC_DIR as XERO_SPECS


@cache
def registry() -> Registry:
    specs: Registry = Registry()
    for name in ("xero_accounting.yaml", "xero-identity.yaml"):
        spec = yaml.safe_load((XERO_SPECS / name).read_text())
        specs = specs.with_resource(name, DRAFT202012.create_resource(spec))
    return specs


def spec_errors(body: Any, schema: str, spec: str = "xero_accounting.yaml") -> list[str]:
    """What the official spec's component schema says is wrong with `body`."""
    validator = Draft202012Validator(
        {"$ref": f"{spec}#/components/schemas/{schema}"}, registry=registry()
    )
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    return [f"{list(e.path)}: {e.message}" for e in errors]
