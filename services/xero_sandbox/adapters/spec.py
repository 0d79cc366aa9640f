"""Request bodies checked against Xero's official OpenAPI spec (`xero_accounting.yaml`),
as strict as the spec: a body that breaks it is refused with Xero's ValidationException.

Enabled by `SANDBOX_CHECK_REQUESTS` (the test suite turns it on), with the spec kept in
`services/xero_sandbox/spec/`. jsonschema and PyYAML are development dependencies,
imported only then.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

ACCOUNTING = "xero_accounting.yaml"
SPEC_DIR = Path(__file__).resolve().parents[1] / "spec"

# Each write the sandbox serves and the component schema of its request body (the spec's
# `requestBody` of PUT/POST /ManualJournals and POST /ManualJournals/{ManualJournalID}).
REQUEST_SCHEMAS = {"ManualJournals": "ManualJournals"}

Check = Callable[[Any], list[str]]

# Required fields the journal rules answer themselves, in Xero's own words ("Narration
# cannot be empty"), rather than in the schema's.
ANSWERED_BY_RULES = frozenset({"Narration"})


def request_checks(spec_dir: Path) -> dict[str, Check]:
    """One check per request schema: the spec's complaints about a body, each naming
    where (empty: the body is as the spec allows)."""
    import yaml
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = yaml.load((spec_dir / ACCOUNTING).read_text(), Loader=loader)  # noqa: S506
    registry: Registry = Registry().with_resource(ACCOUNTING,
                                                  DRAFT202012.create_resource(spec))
    checks: dict[str, Check] = {}
    for name, schema in REQUEST_SCHEMAS.items():
        validator = Draft202012Validator(
            {"$ref": f"{ACCOUNTING}#/components/schemas/{schema}"}, registry=registry)

        def check(body: Any, validator: Draft202012Validator = validator) -> list[str]:
            return [f"{'.'.join(str(p) for p in error.absolute_path) or 'body'}: "
                    f"{error.message}" for error in validator.iter_errors(body)
                    if not (error.validator == "required"
                            and any(f"'{name}'" in error.message
                                    for name in ANSWERED_BY_RULES))]

        checks[name] = check
    return checks
