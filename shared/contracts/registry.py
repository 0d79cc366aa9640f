"""Turns message bodies back into events, refusing what no contract describes."""

import json
from collections import Counter
from typing import Any

from pydantic import ValidationError

from shared.contracts.events import SYSTEM_EVENTS, Event
from shared.contracts.text import NUL_REFUSED, contains_nul


class UnreadableMessage(Exception):
    """A message no consumer can ever process: it goes to the dead-letter queue."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def event_key(model: type[Event]) -> tuple[str, int]:
    fields = model.model_fields
    return fields["event_type"].default, fields["schema_version"].default


class EventRegistry:
    def __init__(self, models: tuple[type[Event], ...] = SYSTEM_EVENTS) -> None:
        self._models: dict[tuple[str, int], type[Event]] = {}
        self._single_version: dict[str, type[Event]] = {}
        for model in models:
            self.register(model)

    def register(self, model: type[Event]) -> None:
        self._models[event_key(model)] = model
        versions = Counter(name for name, _ in self._models)
        self._single_version = {name: registered for (name, _), registered
                                in self._models.items() if versions[name] == 1}

    def parse(self, body: bytes, type_hint: str | None = None) -> Event:
        """The event in `body`. `type_hint` (the message's `type` property, which our
        publishers set) lets a well-formed body be validated in one pass of pydantic's
        own JSON parser; anything else takes the checked path, which names what is wrong."""
        model = self._single_version.get(type_hint) if type_hint else None
        if model is not None and not contains_nul(body):
            try:
                return model.model_validate_json(body)
            except ValidationError:
                pass
        return self._parse_checked(body)

    def _parse_checked(self, body: bytes) -> Event:
        try:
            data: Any = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UnreadableMessage(f"body is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise UnreadableMessage("body is not a JSON object")
        if contains_nul(body):
            raise UnreadableMessage(NUL_REFUSED)
        event_type, version = data.get("event_type"), data.get("schema_version")
        if not isinstance(event_type, str) or not isinstance(version, int):
            raise UnreadableMessage("missing event_type or schema_version")
        model = self._models.get((event_type, version))
        if model is None:
            raise UnreadableMessage(f"unknown event {event_type!r} version {version}")
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise UnreadableMessage(_describe(exc)) from exc


def _describe(exc: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(part) for part in err['loc']) or 'body'}: {err['msg']}"
        for err in exc.errors()[:20]
    ]
    return "invalid event: " + "; ".join(problems)
