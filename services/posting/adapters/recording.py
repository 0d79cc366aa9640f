"""The recording plan (`domain/revisions.py`) as the columns its INSERT takes."""

from collections.abc import Sequence
from typing import Any

from services.posting.domain.model import State, narration_of
from shared.contracts.events import Event, StoreTotalsClosed


def plan_columns(
    inserts: Sequence[tuple[StoreTotalsClosed, State, Event | None]],
) -> list[list[Any]]:
    events = [e for e, _, _ in inserts]
    return [
        [e.store_id for e in events],
        [e.business_date for e in events],
        [e.revision for e in events],
        [e.tenant_id for e in events],
        [e.connection_id for e in events],
        [e.event_id for e in events],
        [e.correlation_id for e in events],
        [narration_of(e) for e in events],
        [e.model_dump_json() for e in events],
        [state.value for _, state, _ in inserts],
        [o.model_dump_json() if o else None for _, _, o in inserts],
    ]
