"""`PUT/GET /v1/stores/{store_id}/setup`: the Account Numbers setup."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from services.totals.domain.setup import StoreSetup
from services.totals.entrypoints.http.deps import StoreId, StoreSetupDep, Wired, store_setup
from services.totals.entrypoints.http.ops import presents_ops_bearer
from services.totals.entrypoints.http.views import problems_body, setup_view
from services.totals.service_layer.days import KeyReplacementRefused, SetupRefused
from services.totals.service_layer.ports import AuthUnavailable
from shared.contracts.examples import example_setup

router = APIRouter(prefix="/v1/stores/{store_id}", tags=["setup"])


class SetupRequest(StoreSetup):
    api_key: SecretStr | None = None


@router.put("/setup", response_model=None)
async def put_setup(
    store_id: StoreId,
    body: Annotated[SetupRequest, Body(openapi_examples={"the sandbox's US rental chart": {
        "summary": "every category mapped, automatic posting on, POSTED journals",
        "value": example_setup("2RF:<connection id>.<secret from the connect page>"),
    }})],
    wired: Wired,
    request: Request,
    x_api_key: Annotated[str | None, Header()] = None,
) -> dict[str, Any] | JSONResponse:
    """Saves the setup. A new key in the body is verified with auth (and only its hash
    kept); without one, the store's current key must come in `X-Api-Key`. A new key
    replaces a store's current one only when `X-Api-Key` holds the current key, the
    operator's credential comes as `Authorization: Bearer`, or auth reconnected the store
    with proof (403 otherwise)."""
    if body.api_key is None:
        await store_setup(store_id, wired, x_api_key)
    setup = StoreSetup.model_validate(body.model_dump(exclude={"api_key"}))
    try:
        record = await wired.service.save_setup(
            store_id, setup, body.api_key, presented_key=x_api_key,
            by_operator=presents_ops_bearer(request, wired))
    except SetupRefused as exc:
        return JSONResponse(problems_body(exc.problems, "setup-refused"), status_code=422)
    except KeyReplacementRefused as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc)) from None
    except AuthUnavailable as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            detail=f"the key cannot be checked now ({exc}); try again",
                            headers={"Retry-After": "5"}) from None
    # Saved even with errors (the manager may fix Xero next), but never called ready then.
    return {**setup_view(record), "check": await wired.service.check_setup(record)}


@router.get("/setup")
async def get_setup(setup: StoreSetupDep) -> dict[str, Any]:
    return setup_view(setup)


@router.get("/setup/check")
async def check_setup(setup: StoreSetupDep, wired: Wired) -> dict[str, Any]:
    """The saved setup checked against the organisation again (as a save does)."""
    return await wired.service.check_setup(setup)
