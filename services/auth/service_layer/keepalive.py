"""Refreshes connections nobody used for a while, so a seasonal store's refresh token
does not reach Xero's 60-day expiry unused."""

import asyncio
import logging
import random
from datetime import timedelta

from services.auth.domain.tokens import ReauthNeeded, XeroUnavailable
from services.auth.service_layer.vault import Vault

log = logging.getLogger(__name__)


async def keep_alive_once(vault: Vault, idle_days: float, batch: int = 100) -> int:
    """One pass; returns how many connections it refreshed."""
    before = vault.now() - timedelta(days=idle_days)
    async with vault.uow() as uow:
        due = await uow.connections.due_for_keepalive(before, batch)
    refreshed = 0
    for connection_id in due:
        try:
            refreshed += await vault.keep_alive(connection_id, before)
        except (ReauthNeeded, XeroUnavailable) as exc:
            # The vault recorded it (needs-reauth event, or a cool-down): next connection.
            log.info(
                "keep-alive skipped a connection: %s",
                type(exc).__name__,
                extra={"connection_id": str(connection_id)},
            )
    return refreshed


async def reseal_once(vault: Vault, batch: int = 100) -> int:
    """Moves connections sealed under an older key to the current one."""
    async with vault.uow() as uow:
        stale = await uow.connections.sealed_under_other_keys(vault.cipher.current_id, batch)
    return sum([await vault.reseal(connection_id) for connection_id in stale])


async def keep_alive_loop(vault: Vault, idle_days: float, interval_s: float) -> None:
    while True:
        try:
            count = await keep_alive_once(vault, idle_days)
            if count:
                log.info("keep-alive refreshed %s idle connections", count)
            async with vault.uow() as uow:
                await uow.connections.forget_old_attempts(vault.now() - timedelta(days=1))
                await uow.commit()
            resealed = await reseal_once(vault)
            if resealed:
                log.info("resealed %s connections under the current key", resealed)
        except Exception:
            log.exception("keep-alive pass failed")
        # Jitter so replicas started together do not all wake at once.
        await asyncio.sleep(interval_s * random.uniform(0.8, 1.2))
