"""The broker unreachable during closes: every close is committed, and every event is
published once when the broker is back (the outbox)."""

from urllib.parse import urlsplit

from shared.contracts.examples import example_day_totals
from tests.support.proxy import CuttableProxy
from tests.totals.conftest import serve, totals_settings
from tests.totals.support import closed_events


async def test_closes_during_a_broker_outage_lose_nothing(database_url, amqp_url, namespace,
                                                          broker):
    parts = urlsplit(amqp_url)
    proxy = await CuttableProxy(parts.hostname or "127.0.0.1", parts.port or 5672).start()
    via_proxy = parts._replace(netloc=f"guest:guest@127.0.0.1:{proxy.port}").geturl()
    try:
        async with serve(totals_settings(database_url, via_proxy, namespace)) as totals:
            key = await totals.add_store("12")
            # From here nothing passes the proxy: no close below can reach the broker.
            proxy.cut()
            dates = [f"2026-11-{day:02d}" for day in range(1, 16)]
            for day in dates:
                response = await totals.client.post(
                    f"/v1/stores/12/days/{day}/close", json=example_day_totals(),
                    headers={"X-Api-Key": key})
                assert response.status_code == 200, response.text
            waiting = await totals.wiring.pool.fetchval(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL")
            assert waiting == len(dates)
            proxy.restore()
            events = await closed_events(broker, len(dates), totals)
            assert sorted(str(e.business_date) for e in events) == dates
    finally:
        await proxy.stop()


async def test_totals_starts_and_takes_closes_while_the_broker_is_down(
        database_url, amqp_url, namespace, broker):
    parts = urlsplit(amqp_url)
    proxy = await CuttableProxy(parts.hostname or "127.0.0.1", parts.port or 5672).start()
    proxy.cut()
    via_proxy = parts._replace(netloc=f"guest:guest@127.0.0.1:{proxy.port}").geturl()
    settings = totals_settings(database_url, via_proxy, namespace)
    settings.broker_wait_s = 0.2
    try:
        async with serve(settings) as totals:
            ready = await totals.client.get("/readyz")
            assert ready.status_code == 503 and "broker" in ready.json()["failures"]
            key = await totals.add_store("12")
            response = await totals.client.post("/v1/stores/12/days/2026-11-03/close",
                                                json=example_day_totals(),
                                                headers={"X-Api-Key": key})
            assert response.status_code == 200
            proxy.restore()
            [event] = await closed_events(broker, 1)
            assert str(event.business_date) == "2026-11-03"
            assert (await totals.client.get("/readyz")).status_code == 200
    finally:
        await proxy.stop()
