"""Schemathesis against the OpenAPI schema each running service publishes: whatever it
is sent (valid or not), no answer is a 5xx and every answer matches the schema.

Authenticated the way the callers are: the service credential for auth's and posting's
internal endpoints, a connected store's `2RF:` key (and that store's id) for totals.

Each operation is driven by its own small Hypothesis run (schemathesis' pytest
integration does not run on pytest 9: `request.node._nodeid` is gone), and every
failing operation is reported together."""

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.support.shared_system import Shared, connected_store

EXAMPLES = 30
STORE = "77"
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

Call = Callable[[Any], None]


def fuzz(url: str, call: Call, exclude: str | None = None) -> list[str]:
    """Runs every operation of `url`'s schema; returns what failed, one line each."""
    schema: Any = schemathesis.openapi.from_url(f"{url}/openapi.json")
    if exclude:
        schema = schema.exclude(path_regex=exclude)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        # An operation whose schema cannot be read is a failure of its own.
        if isinstance(result, Err):
            failures.append(f"unreadable operation: {result.err()}")
            continue
        operation = result.ok()
        operations += 1
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @SETTINGS
        @given(case=strategy)
        def run(case: Any) -> None:
            call(case)

        try:
            run()
        except Exception as exc:
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:1500]}")
    assert operations > 0
    return failures


def _short_waits(case: Any) -> None:
    if isinstance(case.query, dict) and isinstance(case.query.get("wait"), int | float):
        case.query["wait"] = min(case.query["wait"], 0.2)  # keeps NaN: a case worth sending


@pytest.fixture(scope="module")
def store_key(shared: Shared) -> str:
    async def connect() -> str:
        async with httpx.AsyncClient(timeout=60) as client:
            return await connected_store(client, shared, STORE)

    return asyncio.run(connect())


def test_auth(shared: Shared) -> None:
    def call(case: Any) -> None:
        internal = case.path.startswith("/internal/")
        headers = shared.auth_internal_headers(case.path) if internal else {}
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)

    assert fuzz(shared.system.auth_url, call) == []


def test_totals(shared: Shared, store_key: str) -> None:
    def call(case: Any) -> None:
        # On the connected store, so the calls get past the key check to validation.
        if isinstance(case.path_parameters, dict) and "store_id" in case.path_parameters:
            case.path_parameters["store_id"] = STORE
        _short_waits(case)
        case.call_and_validate(headers={"X-Api-Key": store_key}, checks=CHECKS, timeout=30)

    # The SSE stream never ends: a generated call to it would hang the run.
    assert fuzz(shared.system.totals_url, call, exclude=r"/events$") == []


def test_totals_without_a_key(shared: Shared) -> None:
    """Callers without a key get a 4xx too, never a 5xx."""

    def call(case: Any) -> None:
        _short_waits(case)
        case.call_and_validate(checks=[not_a_server_error], timeout=30)

    assert fuzz(shared.system.totals_url, call, exclude=r"/events$") == []


def test_posting(shared: Shared) -> None:
    def call(case: Any) -> None:
        headers = shared.internal_headers("ops") if case.path.startswith("/internal/") else {}
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)

    assert fuzz(shared.system.posting_url, call) == []
