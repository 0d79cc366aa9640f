"""Days given up on go to the posting queue's dead letters, as they arrived, for an
operator to look at (and post again)."""

import logging

from services.posting.domain.model import Posting
from services.posting.service_layer.ports import Postings
from shared.contracts.events import StoreTotalsClosed
from shared.messaging.broker import Broker
from shared.messaging.topology import POSTING_QUEUE

log = logging.getLogger(__name__)


async def dead_letter(repo: Postings, broker: Broker | None,
                      given_up: list[tuple[Posting, str]]) -> None:
    if broker is None or not given_up:
        return
    for posting, reason in given_up:
        try:
            event = StoreTotalsClosed.model_validate_json(await repo.event_body(posting.id))
            await broker.dead_letter(event, f"gave up: {reason}", POSTING_QUEUE)
        except Exception:
            log.exception("could not dead-letter posting %s", posting.id)
