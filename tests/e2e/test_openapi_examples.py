"""The POS-facing operations document their bodies with examples a reader can send."""

from typing import Any

from services.auth.main import create_app as create_auth
from services.auth.settings import AuthSettings
from services.totals.main import create_app as create_totals
from services.totals.settings import TotalsSettings


def _examples(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    body = spec["paths"][path][method]["requestBody"]["content"]["application/json"]
    examples: dict[str, Any] = body["examples"]
    return examples


def test_totals_close_and_setup_carry_examples() -> None:
    spec = create_totals(TotalsSettings()).openapi()
    close = _examples(spec, "/v1/stores/{store_id}/days/{business_date}/close", "post")
    setup = _examples(spec, "/v1/stores/{store_id}/setup", "put")
    assert next(iter(close.values()))["value"]["revenue"]
    assert next(iter(setup.values()))["value"]["accounts"]


def test_auth_setup_shows_the_three_scenarios() -> None:
    spec = create_auth(AuthSettings()).openapi()
    assert set(_examples(spec, "/v1/setup", "post")) == {"new", "oauth1", "oauth2-renew"}
