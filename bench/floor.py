"""The floor: raw aio-pika publishing and consuming the same messages with confirms and
acks and no work done — the broker's own limit on the machine that runs it."""

import asyncio
import time
import uuid
from dataclasses import dataclass

import aio_pika


@dataclass(frozen=True)
class FloorResult:
    messages: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds


async def measure_floor(amqp_url: str, bodies: list[bytes], prefetch: int = 50) -> FloorResult:
    """Publishes every body (persistent, confirmed) while a consumer acks them all."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        publish_channel = await connection.channel(publisher_confirms=True)
        consume_channel = await connection.channel()
        await consume_channel.set_qos(prefetch_count=prefetch)
        name = f"bench.floor.{uuid.uuid4().hex[:8]}"
        queue = await consume_channel.declare_queue(
            name, durable=True, arguments={"x-queue-type": "quorum"}
        )
        done = asyncio.Event()
        received = 0

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            received += 1
            if received == len(bodies):
                done.set()

        await queue.consume(on_message)
        started = time.perf_counter()
        await asyncio.gather(*(
            publish_channel.default_exchange.publish(
                aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=name,
            )
            for body in bodies
        ))
        await done.wait()
        elapsed = time.perf_counter() - started
        await queue.delete(if_unused=False, if_empty=False)
    return FloorResult(len(bodies), elapsed)


if __name__ == "__main__":
    result = asyncio.run(measure_floor("amqp://guest:guest@127.0.0.1:5672/", [b"{}" * 400] * 5000))
    print(f"{result.messages} messages in {result.seconds:.2f}s: {result.per_second:.0f}/s")
