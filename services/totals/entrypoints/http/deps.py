"""What the routers need from the running service, and the POS's key check."""

from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends, Header, HTTPException, Path, Request, status

from services.totals.adapters.auth_client import AuthClient
from services.totals.adapters.notifier import DayNotifier
from services.totals.domain.records import SetupRecord
from services.totals.service_layer.days import NotAuthenticated, TotalsService, WrongStore
from services.totals.settings import TotalsSettings
from shared.contracts.stores import STORE_ID_PATTERN, STORE_ID_RULE

STORE_ID = STORE_ID_PATTERN
StoreId = Annotated[str, Path(pattern=STORE_ID, description=STORE_ID_RULE)]


@dataclass
class Wiring:
    settings: TotalsSettings
    pool: asyncpg.Pool
    service: TotalsService
    notifier: DayNotifier
    auth: AuthClient


async def wiring(request: Request) -> Wiring:
    # async: a plain def dependency would cost a thread-pool hop on every request
    value: Wiring = request.app.state.wiring
    return value


async def store_setup(
    store_id: StoreId,
    wired: Annotated[Wiring, Depends(wiring)],
    x_api_key: Annotated[str | None, Header(description="The store's 2RF: key")] = None,
) -> SetupRecord:
    try:
        return await wired.service.authenticate(store_id, x_api_key)
    except NotAuthenticated as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=str(exc),
                            headers={"WWW-Authenticate": "X-Api-Key"}) from None
    except WrongStore as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc)) from None


Wired = Annotated[Wiring, Depends(wiring)]
StoreSetupDep = Annotated[SetupRecord, Depends(store_setup)]
