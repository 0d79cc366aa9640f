"""The layout the docs describe (docs/architecture.md), held by the tree itself: every
service has the same parts, `shared/` imports no service, no service imports another,
the domain does no I/O, and only adapters and wiring speak to RabbitMQ directly."""

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("auth", "totals", "posting", "xero_sandbox")
PARTS_OF_EVERY_SERVICE = ("domain", "adapters", "entrypoints", "main.py", "settings.py",
                          "__main__.py")
# Packages whose use means I/O: a domain module that imports one is not pure.
IO_PACKAGES = {"asyncpg", "aio_pika", "aiormq", "aiohttp", "httpx", "fastapi", "starlette",
               "authlib", "socket", "requests", "urllib", "subprocess", "shared.db",
               "shared.messaging", "shared.outbox", "shared.bootstrap", "shared.web"}


@cache
def imports_of(path: Path) -> frozenset[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return frozenset(found)


def modules_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def touches(imported: frozenset[str], package: str) -> bool:
    return any(name == package or name.startswith(package + ".") for name in imported)


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_parts(service: str) -> None:
    folder = ROOT / "services" / service
    missing = [part for part in PARTS_OF_EVERY_SERVICE if not (folder / part).exists()]
    assert missing == []
    assert (folder / "entrypoints" / "http").is_dir()
    assert not (folder / "api").exists() and not (folder / "handlers").exists()


def test_shared_imports_no_service() -> None:
    offenders = [str(path.relative_to(ROOT)) for path in modules_under(ROOT / "shared")
                 if touches(imports_of(path), "services")]
    assert offenders == []


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_imports_another(service: str) -> None:
    others = [f"services.{other}" for other in SERVICES if other != service]
    offenders = [
        (str(path.relative_to(ROOT)), other)
        for path in modules_under(ROOT / "services" / service)
        for other in others if touches(imports_of(path), other)
    ]
    assert offenders == []


@pytest.mark.parametrize("service", SERVICES)
def test_the_domain_does_no_io(service: str) -> None:
    offenders = [
        (str(path.relative_to(ROOT)), package)
        for path in modules_under(ROOT / "services" / service / "domain")
        for package in sorted(IO_PACKAGES) if touches(imports_of(path), package)
    ]
    assert offenders == []


@pytest.mark.parametrize("service", SERVICES)
def test_entrypoints_and_the_service_layer_build_no_broker_messages(service: str) -> None:
    # Broker messages are the broker adapter's business (`Broker.publish`,
    # `Broker.dead_letter`); the service layer and the entrypoints hand it events.
    folder = ROOT / "services" / service
    offenders = [
        str(path.relative_to(ROOT))
        for part in ("entrypoints", "service_layer")
        for path in modules_under(folder / part)
        if touches(imports_of(path), "aio_pika") or touches(imports_of(path), "aiormq")
    ]
    assert offenders == []


@pytest.mark.parametrize("service", ["auth", "posting", "totals"])
def test_the_service_layer_depends_on_ports_not_adapters(service: str) -> None:
    # Use cases name what they need (service_layer/ports.py, unit_of_work.py); main.py
    # chooses the adapters. Their in-memory tests depend on it.
    folder = ROOT / "services" / service / "service_layer"
    offenders = [str(path.relative_to(ROOT)) for path in modules_under(folder)
                 if touches(imports_of(path), f"services.{service}.adapters")]
    assert offenders == []
