"""Every command in docs/deploy.md works as the page says: each is run here, except
`glbridge up` and `glbridge doctor` (run by their own tests) and `docker compose`
(no Docker engine in the suite: the services it names and the file it reads are
checked, the file by tests/deploy/test_compose.py)."""

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import yaml

from services.auth.adapters.cipher import Cipher
from shared.db import drop_database, ensure_database
from tests.support.launcher import GLBRIDGE

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deploy.md"
RUN_ELSEWHERE = {"glbridge up": "tests/deploy/test_operator_settings.py",
                 "glbridge doctor": "tests/deploy/test_doctor.py"}


def commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(), re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def run(command: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    line = re.sub(r"^python ", f"{sys.executable} ", command)
    line = re.sub(r"^glbridge ", f"{GLBRIDGE} ", line)
    return subprocess.run(["bash", "-c", line], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env})


async def test_every_command_of_the_deployment_guide(database_url: str, tmp_path: Path,
                                                     unique: str) -> None:
    restore_url = urlunsplit(urlsplit(database_url)._replace(path=f"/restore_{unique}"))
    await ensure_database(restore_url)
    ran: list[str] = []
    try:
        for command in commands():
            if command in RUN_ELSEWHERE:
                assert (ROOT / RUN_ELSEWHERE[command]).exists()
                continue
            if command.startswith("docker compose up"):
                services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
                named = [w for w in command.split()[3:] if not w.startswith("-")]
                assert set(named) <= set(services), named
                assert not any("xero-sandbox" in services[n].get("depends_on", {})
                               for n in named)
                continue
            done = run(command, tmp_path, DATABASE_URL=database_url, RESTORE_URL=restore_url)
            assert done.returncode == 0, (command, done.stderr[-2000:])
            ran.append(command.split()[0])
            if "urandom(32)" in command:
                Cipher.from_spec(done.stdout.strip())  # a key the vault accepts
            elif "token_urlsafe" in command:
                assert len(done.stdout.strip()) >= 40
        restored = await asyncpg.connect(restore_url)
        try:
            assert await restored.fetchval("SELECT to_regclass('auth.connections')::text")
        finally:
            await restored.close()
    finally:
        await drop_database(restore_url)
    assert ran == ["python", "python", "glbridge", "pg_dump", "pg_restore"]
