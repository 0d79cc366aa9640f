"""`XERO_ENV` picks every endpoint; a configuration that cannot work is refused, each
reason named."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from shared.settings import XeroSettings

REAL = {"XERO_ENV": "xero", "XERO_CLIENT_ID": "ABC", "XERO_CLIENT_SECRET": "s3cret"}


def refused(**env: str) -> str:
    with pytest.raises(ValidationError) as caught:
        XeroSettings(**env)  # type: ignore[arg-type]
    return str(caught.value)


def test_xero_env_sets_every_endpoint() -> None:
    xero = XeroSettings(**REAL)  # type: ignore[arg-type]
    assert (xero.authorize_url, xero.token_url, xero.revocation_url, xero.connections_url,
            xero.api_url) == (
        "https://login.xero.com/identity/connect/authorize",
        "https://identity.xero.com/connect/token",
        "https://identity.xero.com/connect/revocation",
        "https://api.xero.com/connections",
        "https://api.xero.com/api.xro/2.0",
    )
    sandbox = XeroSettings(XERO_SANDBOX_URL="http://sandbox:9")
    assert sandbox.is_sandbox and sandbox.api_url == "http://sandbox:9/api.xro/2.0"


def test_offline_access_is_required() -> None:
    assert "XERO_SCOPES lacks offline_access" in refused(
        XERO_SCOPES="accounting.manualjournals accounting.settings.read")


def test_real_xero_with_a_sandbox_url_is_refused() -> None:
    assert "XERO_TOKEN_URL" in refused(**REAL, XERO_TOKEN_URL="http://127.0.0.1:8010/connect/token")


def test_real_xero_needs_the_apps_client() -> None:
    reasons = refused(XERO_ENV="xero")
    assert "XERO_CLIENT_ID" in reasons and "XERO_CLIENT_SECRET" in reasons


def test_xero_urls_need_xero_env() -> None:
    assert "set XERO_ENV=xero" in refused(XERO_API_URL="https://api.xero.com/api.xro/2.0")


@pytest.mark.processes
def test_a_service_refuses_to_start_and_says_why() -> None:
    run = subprocess.run([sys.executable, "-m", "services.posting"], capture_output=True,
                         text=True, timeout=60, env={"XERO_ENV": "xero", "PATH": "/usr/bin"})
    assert run.returncode != 0
    assert "configuration refused" in run.stderr and "XERO_CLIENT_SECRET" in run.stderr
