"""A start that fails part-way closes what it had opened (pools, tasks), in reverse."""

import asyncio
import contextlib

import asyncpg
import pytest
from fastapi import FastAPI

from shared.bootstrap import lifespan_on_a_stack, open_pool, start_task


async def test_a_start_step_that_fails_closes_what_was_opened(database_url: str) -> None:
    opened: dict[str, object] = {}

    async def start(app: FastAPI, stack: contextlib.AsyncExitStack) -> None:
        opened["pool"] = await open_pool(stack, database_url, "public", 1, 1)
        opened["task"] = start_task(stack, asyncio.Event().wait(), "idle")
        raise ConnectionError("a later start step fails")

    app = FastAPI()
    with pytest.raises(ConnectionError):
        async with lifespan_on_a_stack(start)(app):
            pass
    pool, task = opened["pool"], opened["task"]
    assert isinstance(pool, asyncpg.Pool) and pool.is_closing()
    assert isinstance(task, asyncio.Task) and task.cancelled()
