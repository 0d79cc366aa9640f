"""The sandbox refuses a request body that breaks Xero's official spec, with Xero's
ValidationException naming where."""

from tests.support.sandbox import RunningSandbox
from tests.xero_sandbox.helpers import API, headers, journal, token_set


async def test_a_body_the_spec_refuses_is_a_validation_exception(
        sandbox: RunningSandbox) -> None:
    tokens = await token_set(sandbox.client)
    body = journal()
    body["JournalLines"][0]["LineAmount"] = "100.00"  # the spec's LineAmount is a number
    body["LineAmountTypes"] = "Sometimes"  # not one of the spec's LineAmountTypes
    answer = await sandbox.client.put(f"{API}/ManualJournals", headers=headers(tokens),
                                      json={"ManualJournals": [body]})
    assert answer.status_code == 400
    refused = answer.json()
    assert refused["Type"] == "ValidationException" and refused["ErrorNumber"] == 10
    messages = [e["Message"] for e in refused["Elements"][0]["ValidationErrors"]]
    assert any("LineAmount" in m and "number" in m for m in messages), messages
    assert any("LineAmountTypes" in m for m in messages), messages
    assert (await sandbox.client.get("/_control/journals")).json() == []
