"""`glbridge doctor` against the running system and the Xero sandbox: every check passes
on a healthy installation (exit 0), and each seeded fault is a failing line with its fix
(exit 1)."""

import base64
import json
import os
import subprocess
from typing import Any

import httpx

from glbridge.connect import connect_store
from glbridge.system import System
from shared.contracts import examples
from shared.security import DEV_ENCRYPTION_KEYS
from tests.support.launcher import GLBRIDGE


def doctor(system: System, **settings: str) -> tuple[int, dict[str, Any]]:
    env = {
        **os.environ, **system.env(),
        "XERO_ENV": "sandbox", "XERO_SANDBOX_URL": system.sandbox_url,
        "POSTING_URL": system.posting_url, "AUTH_ENCRYPTION_KEYS": VAULT_KEY, **settings,
    }
    done = subprocess.run([GLBRIDGE, "doctor", "--json"], env=env, capture_output=True,
                          text=True, timeout=120)
    return done.returncode, json.loads(done.stdout)


VAULT_KEY = "k1:" + base64.b64encode(os.urandom(32)).decode()


def failing(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in report["checks"] if not c["ok"]]


async def set_up_store(system: System, store_id: str, email: str = "demo@example.com",
                       password: str = "demo-password") -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        key = await connect_store(client, system.auth_url, store_id, email, password)
        setup = await client.put(f"{system.totals_url}/v1/stores/{store_id}/setup",
                                 json=examples.example_setup(key))
        assert setup.status_code == 200, setup.text


async def test_a_healthy_installation_passes_and_each_fault_is_named(system: System) -> None:
    code, report = doctor(system)
    assert code == 0 and report["ok"], failing(report)  # no store connected yet

    await set_up_store(system, "12")
    code, report = doctor(system)
    assert code == 0, failing(report)
    names = {c["name"] for c in report["checks"]}
    assert {"PostgreSQL", "RabbitMQ", "auth ready", "token refresh", "scopes granted",
            "may post manual journals", "base currency", "lock dates",
            "store 12 Account Numbers", "redirect URI"} <= names

    async with httpx.AsyncClient(base_url=system.sandbox_url, timeout=30) as sandbox:
        orgs = (await sandbox.get("/_control/organisations")).json()
        demo = next(o for o in orgs if o["name"] == "Demo Rentals (US)")
        archived = await sandbox.patch(f"/_control/organisations/{demo['tenant_id']}",
                                       json={"accounts": [{"Code": "4000",
                                                           "Status": "ARCHIVED"}]})
        archived.raise_for_status()
    code, report = doctor(system)
    assert code == 1
    [bad] = failing(report)
    assert bad["name"] == "store 12 Account Numbers" and "4000" in bad["detail"]
    assert bad["fix"]


async def test_a_role_that_may_not_post_and_a_broken_configuration_fail(
        system: System) -> None:
    async with httpx.AsyncClient(base_url=system.sandbox_url, timeout=30) as sandbox:
        made = await sandbox.post("/_control/users", json={
            "email": "clerk@example.com", "password": "clerk-password", "role": "STANDARD"})
        made.raise_for_status()
        org = await sandbox.post("/_control/organisations", json={
            "name": "Clerk Rentals (US)", "template": "us-rental",
            "users": ["clerk@example.com"]})
        org.raise_for_status()
    await set_up_store(system, "14", email="clerk@example.com", password="clerk-password")
    code, report = doctor(system)
    assert code == 1
    [role] = failing(report)
    assert role["name"] == "may post manual journals" and "Adviser" in role["fix"]

    code, report = doctor(system, XERO_SCOPES="accounting.manualjournals "
                                               "accounting.settings.read",
                          DATABASE_URL="postgresql://postgres@127.0.0.1:1/none",
                          AUTH_ENCRYPTION_KEYS=DEV_ENCRYPTION_KEYS)
    assert code == 1
    details = " ".join(c["detail"] for c in failing(report))
    assert "offline_access" in details
    assert any(c["name"] == "PostgreSQL" for c in failing(report))
    # The vault sealed with the publicly known development key.
    assert any(c["name"] == "security defaults" and "AUTH_ENCRYPTION_KEYS" in c["detail"]
               for c in failing(report))


async def test_revoked_access_fails_the_token_line(system: System) -> None:
    await set_up_store(system, "15")
    async with httpx.AsyncClient(base_url=system.sandbox_url, timeout=30) as sandbox:
        (await sandbox.post("/_control/revoke", json={"email": "demo@example.com"})
         ).raise_for_status()
        (await sandbox.post("/_control/clock/advance", json={"seconds": 1900})
         ).raise_for_status()
    code, report = doctor(system)
    assert code == 1
    [token] = failing(report)
    assert token["name"] in ("token refresh", "connection")
    assert "connect the store" in token["fix"]
