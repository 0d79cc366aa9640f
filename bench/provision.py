"""Organisations, users and connected stores for a benchmark, made through public doors:
the sandbox's control API for what Xero's own sign-up would make, and the connect flow
for each store."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from glbridge.connect import connect_store
from shared.contracts import examples


@dataclass(frozen=True)
class Store:
    store_id: str
    tenant_id: str
    api_key: str
    # The organisation's Xero user: the SDK peer signs in as the same person.
    email: str


async def provision_stores(
    client: httpx.AsyncClient,
    sandbox_url: str,
    auth_url: str,
    totals_url: str,
    run_id: str,
    organisations: int,
    stores_per_organisation: int = 1,
    concurrency: int = 16,
) -> list[Store]:
    """Stores connected to their organisation and set up for automatic posting."""
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> list[Store]:
        async with gate:
            return await _provision(client, sandbox_url, auth_url, totals_url, run_id, index,
                                    stores_per_organisation)

    groups = await asyncio.gather(*(one(i) for i in range(organisations)))
    return [store for group in groups for store in group]


async def _provision(
    client: httpx.AsyncClient, sandbox_url: str, auth_url: str, totals_url: str, run_id: str,
    index: int, stores: int,
) -> list[Store]:
    email, password = f"bench-{run_id}-{index}@example.com", "bench-password"
    organisation = await _ok(partial(client.post, f"{sandbox_url}/_control/organisations",
                                     json={"name": f"Bench Rentals {run_id} #{index}",
                                           "template": "us-rental"}))
    await _ok(partial(client.post, f"{sandbox_url}/_control/users", json={
        "email": email, "password": password, "tenant_ids": [organisation["tenant_id"]],
    }))
    made = []
    for number in range(stores):
        store_id = f"{run_id}-{index}-{number}"
        async for attempt in _again_on_a_dropped_connection():
            with attempt:
                api_key = await connect_store(client, auth_url, store_id, email, password)
        await _ok(partial(client.put, f"{totals_url}/v1/stores/{store_id}/setup",
                          json=examples.example_setup(api_key)))
        made.append(Store(store_id, str(organisation["tenant_id"]), api_key, email))
    return made


def _again_on_a_dropped_connection() -> AsyncRetrying:
    # A kept-alive connection the server closed as it was reused fails the request
    # (httpx.ReadError) before the server saw it: the request is simply sent again.
    return AsyncRetrying(retry=retry_if_exception_type(httpx.TransportError),
                         stop=stop_after_attempt(3), reraise=True)


async def _ok(send: Callable[[], Awaitable[httpx.Response]]) -> dict[str, object]:
    async for attempt in _again_on_a_dropped_connection():
        with attempt:
            response = await send()
    response.raise_for_status()
    body: dict[str, object] = response.json()
    return body
