"""Known vulnerabilities of the locked dependencies, from PyPI's project pages.

    .venv/bin/python scripts/audit_pypi.py requirements.lock

pip-audit asks PyPI about each exact release (`/pypi/<name>/<version>/json`) or OSV; where
neither answers (a PyPI mirror that serves only `/pypi/<name>/json`), this is
the equivalent that can run: a project's page lists the advisories (PyPI's, from OSV)
that affect its newest release, so a locked version that IS the newest release is
audited exactly. A locked version that is not the newest cannot be audited that way: it
is reported and the audit fails, as pip-audit --strict fails on what it cannot check.
Exits 0 only when every locked package was audited and none has an advisory.
"""

import asyncio
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

PYPI = "https://pypi.org/pypi"
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;#]+)")


@dataclass(frozen=True)
class Finding:
    name: str
    locked: str
    latest: str | None
    advisories: tuple[str, ...]

    @property
    def audited(self) -> bool:
        return self.latest is not None and _same(self.latest, self.locked)


def _same(a: str, b: str) -> bool:
    return a.lower().lstrip("v") == b.lower().lstrip("v")


def read_lock(path: Path) -> list[tuple[str, str]]:
    pins = []
    for line in path.read_text().splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins.append((match.group(1), match.group(2)))
    return pins


async def audit_one(client: httpx.AsyncClient, name: str, locked: str) -> Finding:
    response = await client.get(f"{PYPI}/{name}/json")
    if response.status_code != 200:
        return Finding(name, locked, None, ())
    page = response.json()
    latest = page["info"]["version"]
    advisories = tuple(
        f"{v.get('id')} (fixed in {', '.join(v.get('fixed_in') or ['?'])})"
        for v in page.get("vulnerabilities") or []
    ) if _same(latest, locked) else ()
    return Finding(name, locked, latest, advisories)


async def audit(pins: list[tuple[str, str]]) -> list[Finding]:
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=16)) as client:
        return list(await asyncio.gather(*(audit_one(client, n, v) for n, v in pins)))


def main(lock: Path) -> int:
    findings = asyncio.run(audit(read_lock(lock)))
    vulnerable = [f for f in findings if f.advisories]
    unaudited = [f for f in findings if not f.audited]
    for f in vulnerable:
        print(f"VULNERABLE {f.name}=={f.locked}: {'; '.join(f.advisories)}")
    for f in unaudited:
        why = "not on PyPI" if f.latest is None else f"newest release is {f.latest}"
        print(f"NOT AUDITED {f.name}=={f.locked}: {why}")
    audited = len(findings) - len(unaudited)
    print(f"audit: {len(findings)} locked packages, {audited} audited, "
          f"{len(vulnerable)} with advisories, {len(unaudited)} not auditable here")
    return 1 if vulnerable or unaudited else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "requirements.lock")))
