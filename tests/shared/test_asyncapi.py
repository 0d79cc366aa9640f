"""The committed AsyncAPI document is the one the contracts generate."""

import json

from shared.contracts.asyncapi import ALL_EVENTS, DOCUMENT, render_asyncapi
from shared.contracts.registry import event_key


def test_committed_document_matches_the_contracts() -> None:
    assert DOCUMENT.read_text() == render_asyncapi(), "run `glbridge docs` and commit the result"


def test_every_event_has_a_channel_with_its_payload_schema() -> None:
    document = json.loads(DOCUMENT.read_text())
    for model in ALL_EVENTS:
        event_type, _ = event_key(model)
        channel = document["channels"][event_type]
        assert model.__name__ in channel["messages"]
        assert model.__name__ in document["components"]["schemas"]
