"""The pure parts of the ops reader: the management API's answer, rates from samples,
where a dead letter is about."""

from services.totals.adapters.ops_reader import DepthSampler, rows_from_management, where_from
from shared.messaging.topology import topology


def test_management_answer_becomes_the_topology_queues_with_rates() -> None:
    topo = topology("ns")
    payload = [
        {"name": "ns.posting.store-totals-closed", "messages": 7, "consumers": 2,
         "message_stats": {"publish_details": {"rate": 3.5},
                           "deliver_get_details": {"rate": 2.0}}},
        {"name": "ns.posting.store-totals-closed.dead", "messages": 1, "consumers": 0},
        {"name": "someone-elses-queue", "messages": 99, "consumers": 1},
    ]
    rows = {r.name: r for r in rows_from_management(topo, payload, DepthSampler())}
    assert "someone-elses-queue" not in rows
    main = rows["ns.posting.store-totals-closed"]
    assert (main.kind, main.messages, main.consumers) == ("consumer", 7, 2)
    assert (main.publish_rate, main.deliver_rate) == (3.5, 2.0)
    assert rows["ns.posting.store-totals-closed.dead"].kind == "dead-letter"
    assert rows["ns.posting.store-totals-closed.retry.1000ms"].kind == "retry"
    # A queue the answer lacks (not created yet) shows as empty, not as an error.
    assert rows["ns.totals.pos-requests"].messages == 0


def test_rates_from_successive_depths() -> None:
    sampler = DepthSampler(min_interval_s=1.0)
    assert sampler.rate("q", 10, now=100.0) is None  # one sample says nothing
    assert sampler.rate("q", 40, now=102.0) == 15.0
    assert sampler.rate("q", 90, now=102.5) == 15.0  # too soon: the last rate stands
    assert sampler.rate("q", 10, now=104.0) == -15.0


def test_where_a_dead_letter_is_about() -> None:
    body = '{"store_id": "12", "business_date": "2026-11-20", "revision": 1}'
    assert where_from(body, None) == ("12", "2026-11-20")
    assert where_from("not json", "12:2026-11-21") == ("12", "2026-11-21")
    assert where_from("not json", "a:b:2026-11-21") == ("a:b", "2026-11-21")
    assert where_from("not json", "42:reauth") == (None, None)
    assert where_from("[1, 2]", None) == (None, None)
