"""GroupedWriter: what arrives while a group is written goes out as the next group, each
caller gets its own result, and a failed group fails every caller in it (none is lost)."""

import asyncio
from collections.abc import Sequence

import pytest

from shared.messaging.grouping import GroupedWriter


async def test_items_arriving_together_are_written_as_one_group() -> None:
    groups: list[list[int]] = []
    first_write_started = asyncio.Event()
    release_first = asyncio.Event()

    async def write_many(items: Sequence[int]) -> list[int]:
        groups.append(list(items))
        if len(groups) == 1:
            first_write_started.set()
            await release_first.wait()
        return [item * 10 for item in items]

    writer: GroupedWriter[int, int] = GroupedWriter(write_many)
    first = asyncio.create_task(writer.submit(1))
    await first_write_started.wait()
    rest = [asyncio.create_task(writer.submit(n)) for n in range(2, 7)]
    await asyncio.sleep(0)
    release_first.set()
    assert await first == 10
    assert [await task for task in rest] == [20, 30, 40, 50, 60]
    assert groups == [[1], [2, 3, 4, 5, 6]]
    await writer.stop()


async def test_a_failed_group_fails_each_caller_and_the_writer_goes_on() -> None:
    calls = 0

    async def write_many(items: Sequence[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database went away")
        return [item.upper() for item in items]

    writer: GroupedWriter[str, str] = GroupedWriter(write_many)
    with pytest.raises(ConnectionError, match="database went away"):
        await writer.submit("a")
    assert await writer.submit("b") == "B"
    await writer.stop()


async def test_groups_never_exceed_the_maximum() -> None:
    sizes: list[int] = []

    async def write_many(items: Sequence[int]) -> list[int]:
        sizes.append(len(items))
        await asyncio.sleep(0.01)
        return list(items)

    writer: GroupedWriter[int, int] = GroupedWriter(write_many, max_group=4)
    results = await asyncio.gather(*(writer.submit(n) for n in range(10)))
    assert results == list(range(10))
    assert max(sizes) == 4 and sum(sizes) == 10
    await writer.stop()
