"""The registry reads an event the same way with or without the message's type hint,
and a hint never lets through what the checked path refuses."""

import json

import pytest

from shared.contracts.events import GlPostingFailed, GlPostingSucceeded
from shared.contracts.registry import EventRegistry, UnreadableMessage
from tests.shared.conftest import failed_event


def test_a_hinted_event_equals_the_checked_one() -> None:
    body = failed_event("S1").model_dump_json().encode()
    registry = EventRegistry()
    hinted = registry.parse(body, "gl-posting-failed")
    assert isinstance(hinted, GlPostingFailed)
    assert hinted == registry.parse(body)


def test_a_wrong_hint_still_reads_the_event_the_body_holds() -> None:
    body = failed_event("S1").model_dump_json().encode()
    event = EventRegistry().parse(body, GlPostingSucceeded.model_fields["event_type"].default)
    assert isinstance(event, GlPostingFailed)


@pytest.mark.parametrize(("body", "reason"), [
    (b"{not json", "not JSON"),
    (json.dumps({"event_type": "gl-posting-failed", "schema_version": 99}).encode(),
     "unknown event 'gl-posting-failed' version 99"),
    (json.dumps({**failed_event("S1").model_dump(mode="json"), "store_id": "a\x00b"}).encode(),
     "NUL"),
    (json.dumps({**failed_event("S1").model_dump(mode="json"), "errors": []}).encode(),
     "errors"),
])
def test_a_hint_refuses_what_the_checked_path_refuses(body: bytes, reason: str) -> None:
    with pytest.raises(UnreadableMessage, match=reason):
        EventRegistry().parse(body, "gl-posting-failed")
