"""Every setting the operator gives wins over what `glbridge up` would give its services:
the OAuth redirect goes to the public address the operator registered with Xero."""

import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.launcher import GLBRIDGE, glbridge_up, launcher_env

PUBLIC = "https://bridge.example.com"


def test_the_authorize_url_redirects_to_the_operators_public_url(
    database_url: str, amqp_url: str, namespace: str, tmp_path: Path
) -> None:
    ports, env = launcher_env(database_url, amqp_url, namespace, AUTH_PUBLIC_URL=PUBLIC)
    with glbridge_up(env, ports, tmp_path):
        auth = f"http://127.0.0.1:{ports.auth}"
        setup = httpx.post(f"{auth}/v1/setup", json={"store_id": "12", "api_key": ""})
        connect_url = setup.json()["connect_url"]
        assert connect_url.startswith(f"{PUBLIC}/v1/connect/start/")
        # The proxy in front of auth would forward this path to it.
        start = httpx.get(auth + urlsplit(connect_url).path)
        assert start.status_code == 302
        authorize = start.headers["location"]
        query = parse_qs(urlsplit(authorize).query)
        assert query["redirect_uri"] == [f"{PUBLIC}/v1/connect/callback"]
        # The sandbox knows that redirect URI as Xero would once it is registered there.
        login = httpx.get(authorize)
        assert login.status_code == 200, login.text


@pytest.mark.processes
def test_up_refuses_a_configuration_that_cannot_work(tmp_path: Path) -> None:
    refused = subprocess.run(
        [GLBRIDGE, "up"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "XERO_ENV": "xero",
             "XERO_SCOPES": "accounting.manualjournals"},
    )
    assert refused.returncode != 0
    for reason in ("offline_access", "accounting.settings.read", "XERO_CLIENT_ID",
                   "XERO_CLIENT_SECRET"):
        assert reason in refused.stderr, refused.stderr
