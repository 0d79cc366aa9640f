"""Secure by default: with real Xero, no service starts on a development credential."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from shared.security import DEV_ENCRYPTION_KEYS, insecure_defaults
from shared.settings import ServiceSettings

# Real Xero as an operator configures it (XERO_ENV picks Xero's endpoints).
REAL_XERO = {"XERO_ENV": "xero", "XERO_CLIENT_ID": "A" * 32, "XERO_CLIENT_SECRET": "B" * 48}
OWN = {"TOTALS_SERVICE_TOKEN": "t" * 32, "POSTING_SERVICE_TOKEN": "p" * 32,
       "OPS_TOKEN": "o" * 32}
OWN_KEY = "k1:" + "A" * 43 + "="
ROOT = Path(__file__).resolve().parents[2]


def settings(**values: str) -> ServiceSettings:
    return ServiceSettings.model_validate(values)


def test_every_development_value_is_named() -> None:
    assert insecure_defaults(settings(), SecretStr(DEV_ENCRYPTION_KEYS)) == [
        "TOTALS_SERVICE_TOKEN", "POSTING_SERVICE_TOKEN", "OPS_TOKEN", "AUTH_ENCRYPTION_KEYS"]
    assert insecure_defaults(settings(**OWN), SecretStr(OWN_KEY)) == []
    # The development key kept for opening old rows still opens every sealed token.
    assert insecure_defaults(settings(**OWN), SecretStr(f"{OWN_KEY},{DEV_ENCRYPTION_KEYS}")
                             ) == ["AUTH_ENCRYPTION_KEYS"]
    assert insecure_defaults(settings(**OWN | {"OPS_TOKEN": ""})) == ["OPS_TOKEN"]


def test_one_value_for_two_credentials_is_named() -> None:
    shared = OWN | {"OPS_TOKEN": OWN["POSTING_SERVICE_TOKEN"]}
    assert insecure_defaults(settings(**shared)) == [
        "OPS_TOKEN (same value as POSTING_SERVICE_TOKEN)"]


def _start(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("XERO_", "AUTH_", "TOTALS_", "POSTING_", "OPS_"))}
    return subprocess.run([sys.executable, "-m", module], env=clean | env, text=True,
                          capture_output=True, timeout=60, cwd=os.getcwd(), check=False)


@pytest.mark.parametrize("module", ["services.auth", "services.totals", "services.posting"])
@pytest.mark.processes
def test_services_refuse_to_start_on_development_values_with_real_xero(module: str) -> None:
    """No database or broker is needed to refuse: the process ends before it listens."""
    started = _start(module, **REAL_XERO, DATABASE_URL="postgresql://nobody@127.0.0.1:9/none")
    assert started.returncode != 0
    for name in ("TOTALS_SERVICE_TOKEN", "POSTING_SERVICE_TOKEN", "OPS_TOKEN"):
        assert name in started.stderr, started.stderr
    assert "refuses to start" in started.stderr
    if module == "services.auth":
        assert "AUTH_ENCRYPTION_KEYS" in started.stderr


@pytest.mark.processes
def test_the_sandbox_refuses_its_control_api_beside_real_xero() -> None:
    started = _start("services.xero_sandbox", **REAL_XERO, SANDBOX_CONTROL_ENABLED="true")
    assert started.returncode != 0
    assert "SANDBOX_CONTROL_ENABLED=true while real Xero is configured" in started.stderr
    # Real Xero named only in part (the sandbox has no use for the app's credentials).
    partly = _start("services.xero_sandbox", XERO_ENV="xero", SANDBOX_CONTROL_ENABLED="true")
    assert partly.returncode != 0 and "SANDBOX_CONTROL_ENABLED=true" in partly.stderr


def test_compose_publishes_on_loopback_unless_the_operator_opts_in() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    published = [(name, port) for name, service in compose["services"].items()
                 for port in service.get("ports", [])]
    assert {name for name, _ in published} >= {"postgres", "rabbitmq", "xero-sandbox",
                                                "auth", "totals", "posting"}
    for name, port in published:
        assert str(port).startswith("${BIND_ADDRESS:-127.0.0.1}:"), (name, port)
    sandbox = compose["services"]["xero-sandbox"]["environment"]
    assert sandbox["SANDBOX_CONTROL_ENABLED"] == "${SANDBOX_CONTROL_ENABLED:-false}"
    assert "XERO_ENV" in sandbox  # so the sandbox sees real Xero configured



def test_the_doctor_names_each_development_value() -> None:
    from glbridge.doctor import Places, security_defaults
    from services.auth.settings import AuthSettings

    [line] = security_defaults(Places(settings(), AuthSettings(), "", "", ""))
    assert not line.ok
    for name in ("TOTALS_SERVICE_TOKEN", "POSTING_SERVICE_TOKEN", "OPS_TOKEN"):
        assert name in line.detail
