"""The POS as an AMQP client: pos-day-closed and pos-reprint-requested, with refusals the
POS can display."""

import json
from datetime import UTC, datetime, timedelta

from shared.contracts.examples import example_day_totals
from shared.contracts.pos import PosDayClosed, PosReprintRequested, PosRequestRefused
from tests.totals.support import DAY, closed_events, no_more_closed_events, probe_queue, take


def day_closed(store: str, key: str, totals: dict) -> PosDayClosed:
    return PosDayClosed.signed(key, store_id=store, business_date=DAY, totals=totals)


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
        PosReprintRequested.signed(key, correlation_id="12:x", store_id="12",
                                   business_date=DAY, post_to_xero=True),
    ]
    for request in requests:
        await broker.publish(request)
    answers = [a for a in await take(broker, refusals, 4) if isinstance(a, PosRequestRefused)]
    assert len(answers) == 4
    by_cause = {a.causation_id: a for a in answers}
    assert set(by_cause) == {str(r.event_id) for r in requests}
    wrong_key, invalid, unbalanced_answer, never_closed = (
        by_cause[str(r.event_id)] for r in requests)
    assert wrong_key.problems[0].loc == ["signature"]
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
    await broker.publish(PosReprintRequested.signed(key, store_id="12", business_date=DAY,
                                                    post_to_xero=True))
    [event] = await closed_events(broker, 1, totals)
    assert event.trigger == "manual-reprint"


async def test_a_message_carries_no_key_and_nothing_but_the_key_signs_it(totals, broker):
    """From the side of someone who can read and write the broker's queues: the key is
    not on the wire, and no message they make or change is accepted for the store."""
    key = await totals.add_store("12")
    other_key = await totals.add_store("13")
    genuine = day_closed("12", key, example_day_totals())
    assert key not in genuine.model_dump_json()
    changed_totals = example_day_totals(2)
    other_store = json.loads(genuine.model_dump_json()) | {"store_id": "13"}
    forged = [
        day_closed("12", "2RF:" + "A" * 40, example_day_totals()),   # a guessed key
        day_closed("12", other_key, example_day_totals()),          # another store's key
        genuine.model_copy(update={"totals": changed_totals}),      # changed in transit
        PosDayClosed.model_validate(other_store),                   # moved to another store
    ]
    refusals = await probe_queue(broker, "pos-request-refused")
    for message in forged:
        await broker.publish(message)
    answers = await take(broker, refusals, len(forged))
    assert len(answers) == len(forged)
    for answer in answers:
        assert isinstance(answer, PosRequestRefused)
        assert [(p.loc, p.type) for p in answer.problems] == [(["signature"], "unauthorized")]
    await no_more_closed_events(totals, broker)
    # The store's own signed message still closes the day.
    await broker.publish(genuine)
    [event] = await closed_events(broker, 1, totals)
    assert event.store_id == "12"


async def test_a_version_1_message_with_the_key_in_it_is_answered_how_to_sign(totals, broker):
    key = await totals.add_store("12")
    refusals = await probe_queue(broker, "pos-request-refused")
    old = {"event_type": "pos-day-closed", "schema_version": 1, "correlation_id": "12:x",
           "event_id": "8f1c2b9e-0000-4000-8000-000000000001",
           "occurred_at": "2026-11-27T22:00:00Z", "store_id": "12",
           "business_date": DAY.isoformat(), "api_key": key, "totals": example_day_totals()}
    await broker.publish_body("pos-day-closed", json.dumps(old).encode(),
                              event_type="pos-day-closed")
    [answer] = await take(broker, refusals, 1)
    assert isinstance(answer, PosRequestRefused)
    [problem] = answer.problems
    assert (problem.loc, problem.type) == (["schema_version"], "retired")
    assert "signed with the key" in problem.message and key not in answer.model_dump_json()
    await no_more_closed_events(totals, broker)


async def test_a_message_published_again_is_not_handled_again(totals, broker):
    """An old close read off the broker and replayed after the store corrected the day
    must not bring the old totals back."""
    key = await totals.add_store("12")
    first = day_closed("12", key, example_day_totals())
    corrected = day_closed("12", key, example_day_totals(2))
    await broker.publish(first)
    [one] = await closed_events(broker, 1)
    await broker.publish(corrected)
    [two] = await closed_events(broker, 1)
    assert (one.revision, two.revision) == (1, 2)
    marker = day_closed("12", key, example_day_totals(3))  # handled after the replay
    await broker.publish(first)
    await broker.publish(marker)
    [three] = await closed_events(broker, 1)
    assert three.revision == 3 and three.causation_id != str(first.event_id)
    day = await totals.client.get("/v1/stores/12/days/2026-11-27", headers={"X-Api-Key": key})
    assert day.json()["revision"] == 3
    await no_more_closed_events(totals, broker, taken=3)


async def test_a_message_too_old_or_from_the_future_is_refused(totals, broker):
    key = await totals.add_store("12")
    refusals = await probe_queue(broker, "pos-request-refused")
    now = datetime.now(UTC)
    requests = [PosDayClosed.signed(key, store_id="12", business_date=DAY,
                                    totals=example_day_totals(), occurred_at=when)
                for when in (now - timedelta(days=8), now + timedelta(hours=1))]
    for request in requests:
        await broker.publish(request)
    answers = await take(broker, refusals, 2)
    assert sorted((a.problems[0].loc, a.problems[0].type) for a in answers
                  if isinstance(a, PosRequestRefused)) == [(["occurred_at"], "untimely")] * 2
    await no_more_closed_events(totals, broker)
