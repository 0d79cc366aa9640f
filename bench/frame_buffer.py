"""aiormq's frame buffer (`FRAME_BUFFER_SIZE` in shared/messaging/broker.py), A/B.

    .venv/bin/python -m bench.frame_buffer                     # 10 against 256, 5 rounds
    .venv/bin/python -m bench.frame_buffer --burst-ms 2 --rounds 9

Times a relay batch: N confirmed publishes issued side by side through `Broker`, into a
quorum queue, while another task keeps the event loop busy in short CPU bursts as a
service serving requests does. Each round measures every size back to back, in an order
that alternates between rounds; prints each time, the medians and their ratio.
"""

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Sequence

import aio_pika

from shared.messaging import topology as topo
from shared.messaging.broker import Broker
from shared.messaging.topology import ConsumerQueue, Topology

ROUTING_KEY = "bench-frame-buffer"
# About the size of a store-totals-closed event with its journal lines.
BODY = b"{" + b'"line": "4000 rental 1234.56", ' * 60 + b"}"


async def keep_the_loop_busy(burst_s: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        until = time.perf_counter() + burst_s
        while time.perf_counter() < until:
            pass
        await asyncio.sleep(0)


async def time_a_batch(url: str, topology: Topology, size: int, publishes: int,
                       burst_s: float) -> float:
    broker = Broker(url, topology, publish_timeout_s=120, frame_buffer_size=size)
    await broker.connect()
    stop = asyncio.Event()
    busy = asyncio.create_task(keep_the_loop_busy(burst_s, stop))
    try:
        started = time.perf_counter()
        await asyncio.gather(*(
            broker.publish_body(ROUTING_KEY, BODY, message_id=uuid.uuid4().hex)
            for _ in range(publishes)
        ))
        return time.perf_counter() - started
    finally:
        stop.set()
        await busy
        await broker.close()


async def run(url: str, sizes: Sequence[int], rounds: int, publishes: int,
              burst_s: float) -> dict[int, list[float]]:
    topology = Topology(namespace=f"bench.frames.{uuid.uuid4().hex[:8]}",
                        queues=(ConsumerQueue("sink", (ROUTING_KEY,)),))
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        await topo.declare(channel, topology)
        sink = await channel.get_queue(topology.queue_name(topology.queues[0]))
        times: dict[int, list[float]] = {size: [] for size in sizes}
        try:
            for number in range(rounds):
                order = list(sizes) if number % 2 == 0 else list(reversed(sizes))
                for size in order:
                    seconds = await time_a_batch(url, topology, size, publishes, burst_s)
                    times[size].append(seconds)
                    print(f"round {number + 1}: FRAME_BUFFER_SIZE {size:>4}: {seconds:.3f} s",
                          flush=True)
                    await sink.purge()
        finally:
            await topo.delete(channel, topology)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--sizes", default="10,256", help="frame buffer sizes, comma separated")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--publishes", type=int, default=200)
    parser.add_argument("--burst-ms", type=float, default=5.0,
                        help="each CPU burst of the busy task")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    times = asyncio.run(run(args.amqp_url, sizes, args.rounds, args.publishes,
                            args.burst_ms / 1000))
    medians = {size: statistics.median(found) for size, found in times.items()}
    print(f"{args.publishes} confirmed publishes side by side, loop busy in "
          f"{args.burst_ms:g} ms bursts, {args.rounds} rounds:")
    for size, median in medians.items():
        print(f"  FRAME_BUFFER_SIZE {size:>4}: median {median:.3f} s "
              f"(min {min(times[size]):.3f}, max {max(times[size]):.3f})")
    first, last = sizes[0], sizes[-1]
    print(f"  ratio {first} / {last}: {medians[first] / medians[last]:.2f}")


if __name__ == "__main__":
    main()
