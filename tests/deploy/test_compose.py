"""docker-compose.yml takes the operator's settings: read as Compose reads it (its
`${VAR:-default}` interpolation from the operator's environment), each service's
environment makes a configuration the services accept."""

import re
from pathlib import Path
from typing import Any

import yaml

from shared.settings import XeroSettings

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
REAL_XERO = {"XERO_ENV": "xero", "XERO_CLIENT_ID": "ABC123", "XERO_CLIENT_SECRET": "s3cret",
             "AUTH_PUBLIC_URL": "https://bridge.example.com"}


def compose_as_read(operator: dict[str, str]) -> dict[str, Any]:
    def value(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        return operator.get(name) or (default or "")

    text = re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", value, COMPOSE.read_text())
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def environment(operator: dict[str, str], service: str) -> dict[str, str]:
    env = compose_as_read(operator)["services"][service]["environment"]
    # An empty value (`${XERO_TOKEN_URL:-}`) reads as YAML null: Compose leaves it unset.
    return {name: str(setting) for name, setting in env.items() if setting is not None}


def test_real_xero_is_configured_by_the_operators_settings_alone() -> None:
    for service in ("auth", "posting"):
        env = environment(REAL_XERO, service)
        assert env["AUTH_PUBLIC_URL"] == "https://bridge.example.com"
        xero = XeroSettings(**env)  # type: ignore[arg-type]
        assert xero.token_url == "https://identity.xero.com/connect/token"
        assert xero.api_url == "https://api.xero.com/api.xro/2.0"
        assert xero.authorize_url == "https://login.xero.com/identity/connect/authorize"


def test_scopes_and_timeout_reach_the_services() -> None:
    env = environment(REAL_XERO | {"XERO_SCOPES": "offline_access accounting.transactions "
                                   "accounting.settings", "XERO_TIMEOUT_S": "7"}, "posting")
    xero = XeroSettings(**env)  # type: ignore[arg-type]
    assert xero.scope_list == ["offline_access", "accounting.transactions", "accounting.settings"]
    assert xero.timeout_s == 7


def test_nothing_waits_for_the_sandbox() -> None:
    services = compose_as_read(REAL_XERO)["services"]
    for name in ("auth", "totals", "posting"):
        assert "xero-sandbox" not in services[name].get("depends_on", {})


def test_by_default_the_sandbox_is_used_and_accepts_the_public_callback() -> None:
    compose = compose_as_read({"AUTH_PUBLIC_URL": "https://bridge.example.com"})
    xero = XeroSettings(**environment({}, "auth"))  # type: ignore[arg-type]
    assert xero.is_sandbox
    assert xero.token_url == "http://xero-sandbox:8010/connect/token"
    assert xero.authorize_url == "http://localhost:8010/identity/connect/authorize"
    sandbox = compose["services"]["xero-sandbox"]["environment"]
    assert sandbox["SANDBOX_REDIRECT_URIS"] == "https://bridge.example.com/v1/connect/callback"
