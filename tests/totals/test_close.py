"""Closing a day over HTTP: authentication, validation, outbox, idempotency, revisions."""

import asyncio

from shared.contracts.examples import example_day_totals
from tests.totals.support import DAY, closed_events, no_more_closed_events

CLOSE = "/v1/stores/{store}/days/2026-11-27/close"


async def test_close_commits_the_day_and_publishes_its_event(totals, broker):
    key = await totals.add_store("12")
    response = await totals.client.post(CLOSE.format(store="12"), json=example_day_totals(),
                                        headers={"X-Api-Key": key})
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "closed"
    assert response.json()["day"]["status"] == "pending"
    [event] = await closed_events(broker, 1, totals)
    assert event.correlation_id == "12:2026-11-27"
    assert (event.store_id, event.business_date, event.revision) == ("12", DAY, 1)
    assert event.trigger == "end-of-day"
    assert event.journal.narration == "POS totals store 12 2026-11-27 rev 1 [glb:12:2026-11-27:1]"
    assert sum(line.amount for line in event.journal.lines) == 0
    day = await totals.client.get("/v1/stores/12/days/2026-11-27", headers={"X-Api-Key": key})
    assert day.status_code == 200
    assert day.json()["status"] == "pending" and day.json()["revision"] == 1


async def test_the_pos_key_is_required_and_must_be_the_stores(totals):
    key_12 = await totals.add_store("12")
    await totals.add_store("13")
    url = CLOSE.format(store="13")
    body = example_day_totals()
    assert (await totals.client.post(url, json=body)).status_code == 401
    unknown = await totals.client.post(url, json=body, headers={"X-Api-Key": "2RF:nope"})
    assert unknown.status_code == 401
    other = await totals.client.post(url, json=body, headers={"X-Api-Key": key_12})
    assert other.status_code == 403
    assert "another store" in other.json()["detail"]


async def test_invalid_totals_are_refused_naming_the_field(totals):
    key = await totals.add_store("12")
    body = example_day_totals()
    body["tenders"][1]["received"] = "twelve"
    body["revenue"][0]["category"] = "bananas"
    response = await totals.client.post(CLOSE.format(store="12"), json=body,
                                        headers={"X-Api-Key": key})
    assert response.status_code == 422
    locs = [tuple(err["loc"]) for err in response.json()["detail"]]
    assert ("body", "tenders", 1, "received") in locs
    assert ("body", "revenue", 0, "category") in locs


async def test_a_negative_tender_is_refused_saying_refunds_go_in_refunded(totals):
    key = await totals.add_store("12")
    body = example_day_totals()
    body["tenders"][0] = {"type": "cash", "received": "-20.00"}
    response = await totals.client.post(CLOSE.format(store="12"), json=body,
                                        headers={"X-Api-Key": key})
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "tenders", 0, "received"]
    assert "refunded" in problem["msg"]


async def test_unmapped_and_unbalanced_are_listed_together_in_one_422(totals, broker):
    key = await totals.add_store("12")
    body = example_day_totals()
    body["revenue"].append({"category": "labour", "item_category": "Setup", "amount": "20.00"})
    body["tenders"].append({"type": "other-tender", "received": "5.00"})
    body["tenders"].append({"type": "amex", "received": "1.00"})
    # remove two mappings by re-saving the setup without them
    record = await totals.get_setup("12")
    accounts = {k: v for k, v in record.setup.accounts.items() if k not in ("labour", "amex")}
    await totals.save_setup("12", record.setup.model_copy(
        update={"accounts": accounts}), None)
    totals.wiring.service.setups.evict("12")
    response = await totals.client.post(CLOSE.format(store="12"), json=body,
                                        headers={"X-Api-Key": key})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert {d["category"] for d in detail if d["type"] == "unmapped"} == {"labour/Setup", "amex"}
    assert [d["type"] for d in detail].count("unbalanced") == 1
    await no_more_closed_events(totals, broker)


async def test_store_999_is_refused_with_its_reason(totals):
    key = await totals.add_store("999")
    response = await totals.client.post(CLOSE.format(store="999"), json=example_day_totals(),
                                        headers={"X-Api-Key": key})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "consolidated-store"
    assert "twice" in response.json()["message"]


async def test_identical_close_changes_nothing_and_new_totals_make_a_revision(totals, broker):
    key = await totals.add_store("12")
    headers = {"X-Api-Key": key}
    url = CLOSE.format(store="12")
    first = await totals.client.post(url, json=example_day_totals(), headers=headers)
    again = await totals.client.post(url, json=example_day_totals(), headers=headers)
    assert (first.json()["outcome"], again.json()["outcome"]) == ("closed", "unchanged")
    amended = await totals.client.post(url, json=example_day_totals(2), headers=headers)
    assert amended.json()["outcome"] == "amended"
    assert amended.json()["day"]["revision"] == 2
    events = await closed_events(broker, 2, totals)
    assert [e.revision for e in events] == [1, 2]
    assert "rev 2 [glb:12:2026-11-27:2]" in events[1].journal.narration
    assert len({e.correlation_id for e in events}) == 1


async def test_nothing_to_post_is_not_an_error(totals, broker):
    key = await totals.add_store("12")
    response = await totals.client.post(
        CLOSE.format(store="12"), json={"revenue": [{"category": "rental", "amount": "0"}]},
        headers={"X-Api-Key": key})
    assert response.status_code == 200
    assert response.json()["day"]["status"] == "nothing-to-post"
    await no_more_closed_events(totals, broker)


async def test_without_auto_post_the_day_waits_for_a_manual_post(totals, broker):
    key = await totals.add_store("12", auto_post=False)
    response = await totals.client.post(CLOSE.format(store="12"), json=example_day_totals(),
                                        headers={"X-Api-Key": key})
    assert response.json()["day"]["status"] == "not-posted"
    await no_more_closed_events(totals, broker)


async def test_concurrent_identical_closes_make_one_day_and_one_event(totals, broker):
    key = await totals.add_store("12")
    responses = await asyncio.gather(*(
        totals.client.post(CLOSE.format(store="12"), json=example_day_totals(),
                           headers={"X-Api-Key": key}) for _ in range(6)))
    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert outcomes == ["closed"] + ["unchanged"] * 5
    assert len(await closed_events(broker, 1, totals)) == 1
    await no_more_closed_events(totals, broker, taken=1)


async def test_an_amendment_to_nothing_after_sending_is_refused(totals, broker):
    key = await totals.add_store("12")
    url = CLOSE.format(store="12")
    await totals.client.post(url, json=example_day_totals(), headers={"X-Api-Key": key})
    empty = await totals.client.post(url, json={}, headers={"X-Api-Key": key})
    assert empty.status_code == 422
    assert empty.json()["detail"][0]["type"] == "empty-amendment"
    assert len(await closed_events(broker, 1, totals)) == 1


async def test_a_body_that_is_not_json_is_a_422_not_a_500(totals):
    key = await totals.add_store("12")
    response = await totals.client.post(CLOSE.format(store="12"), content=b"\xff{nope",
                                        headers={"X-Api-Key": key})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]
    bad_date = await totals.client.post("/v1/stores/12/days/2026-13-45/close",
                                        json=example_day_totals(), headers={"X-Api-Key": key})
    assert bad_date.status_code == 422
    assert bad_date.json()["detail"][0]["loc"] == ["path", "business_date"]
