"""The POS as an AMQP client: pos-day-closed and pos-reprint-requested, with refusals the
POS can display."""

from shared.contracts.examples import example_day_totals
from shared.contracts.pos import PosDayClosed, PosReprintRequested, PosRequestRefused
from tests.totals.support import DAY, closed_events, no_more_closed_events, probe_queue, take


def day_closed(store: str, key: str, totals: dict) -> PosDayClosed:
    return PosDayClosed(correlation_id=f"{store}:{DAY}", store_id=store, business_date=DAY,
                        api_key=key, totals=totals)


async def test_a_pos_message_closes_the_day_like_http(totals, broker):
    key = await totals.add_store("12")
    await broker.publish(day_closed("12", key, example_day_totals()))
    [event] = await closed_events(broker, 1, totals)
    assert (event.store_id, event.revision, event.trigger) == ("12", 1, "end-of-day")
    day = await totals.client.get("/v1/stores/12/days/2026-11-27", headers={"X-Api-Key": key})
    assert day.json()["status"] == "pending"


async def test_refused_messages_answer_with_every_problem_named(totals, broker):
    key = await totals.add_store("12")
    refusals = await probe_queue(broker, "pos-request-refused")
    bad = example_day_totals()
    bad["tenders"][0]["received"] = "lots"
    unbalanced = example_day_totals()
    unbalanced["over_short"] = "0.00"
    unbalanced["revenue"].append({"category": "labour", "amount": "50.00"})
    requests = [
        day_closed("12", "2RF:wrong", example_day_totals()),
        day_closed("12", key, bad),
        day_closed("12", key, unbalanced),
        PosReprintRequested(correlation_id="12:x", store_id="12", business_date=DAY,
                            api_key=key, post_to_xero=True),
    ]
    for request in requests:
        await broker.publish(request)
    answers = [a for a in await take(broker, refusals, 4) if isinstance(a, PosRequestRefused)]
    assert len(answers) == 4
    by_cause = {a.causation_id: a for a in answers}
    assert set(by_cause) == {str(r.event_id) for r in requests}
    wrong_key, invalid, unbalanced_answer, never_closed = (
        by_cause[str(r.event_id)] for r in requests)
    assert wrong_key.problems[0].loc == ["api_key"]
    assert invalid.problems[0].loc == ["totals", "tenders", 0, "received"]
    assert [p.type for p in unbalanced_answer.problems] == ["unbalanced"]
    assert unbalanced_answer.problems[0].loc == ["totals"]
    assert never_closed.request_type == "pos-reprint-requested"
    await no_more_closed_events(totals, broker)


async def test_a_pos_reprint_message_posts_the_day(totals, broker):
    key = await totals.add_store("12", auto_post=False)
    await broker.publish(day_closed("12", key, example_day_totals()))
    day = await totals.client.get("/v1/stores/12/days/2026-11-27", params={"wait": 10},
                                  headers={"X-Api-Key": key})
    assert day.json()["status"] == "not-posted"
    await broker.publish(PosReprintRequested(correlation_id="12:2026-11-27", store_id="12",
                                             business_date=DAY, api_key=key,
                                             post_to_xero=True))
    [event] = await closed_events(broker, 1, totals)
    assert event.trigger == "manual-reprint"
