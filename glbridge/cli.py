"""`glbridge`: run the system, migrate it, demonstrate it, and act as a POS."""

import asyncio
import os
import signal
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import typer
from dotenv import dotenv_values
from rich.console import Console

from glbridge.ops import ops_app
from glbridge.pos import pos_app
from glbridge.system import Credentials, Ports, System
from shared.db import apply_migrations, ensure_database
from shared.settings import ServiceSettings, XeroSettings, refuse_unworkable

app = typer.Typer(help="xero-gl-bridge: store totals to Xero, as events.", no_args_is_help=True)
app.add_typer(ops_app, name="ops")
app.add_typer(pos_app, name="pos")
console = Console()

SERVICE_SCHEMAS = ("auth", "totals", "posting")
SERVICES_DIR = Path(__file__).resolve().parents[1] / "services"


def _ports() -> Ports:
    defaults = Ports()
    return Ports(
        auth=int(os.environ.get("AUTH_PORT", defaults.auth)),
        totals=int(os.environ.get("TOTALS_PORT", defaults.totals)),
        posting=int(os.environ.get("POSTING_PORT", defaults.posting)),
        sandbox=int(os.environ.get("SANDBOX_PORT", defaults.sandbox)),
    )


async def migrate_all(database_url: str) -> dict[str, list[str]]:
    await ensure_database(database_url)
    applied = {}
    for schema in SERVICE_SCHEMAS:
        migrations = SERVICES_DIR / schema / "migrations"
        applied[schema] = await apply_migrations(database_url, schema, migrations)
    return applied


@app.command()
def migrate() -> None:
    """Creates the database if needed and applies every service's migrations."""
    settings = ServiceSettings()
    for schema, names in asyncio.run(migrate_all(settings.database_url)).items():
        console.print(f"{schema}: {', '.join(names) if names else 'up to date'}")


def operator_settings() -> dict[str, str]:
    """What the operator set: `.env`, then the environment on top (as the services read)."""
    from_file = {name: value for name, value in dotenv_values(".env").items() if value is not None}
    return from_file | dict(os.environ)


def build_system(sandbox_control: bool, log_dir: Path | None) -> System:
    settings = ServiceSettings()
    xero = refuse_unworkable(XeroSettings)
    return System(
        ports=_ports(),
        database_url=settings.database_url,
        amqp_url=settings.amqp_url,
        namespace=settings.amqp_namespace,
        credentials=Credentials(
            totals=settings.totals_service_token.get_secret_value(),
            posting=settings.posting_service_token.get_secret_value(),
            ops=settings.ops_token.get_secret_value(),
        ),
        with_sandbox=xero.is_sandbox,
        sandbox_control=sandbox_control,
        log_dir=log_dir,
        operator=operator_settings(),
    )


@app.command()
def up(
    sandbox_control: bool = typer.Option(
        False, help="Enable the Xero sandbox's control API (tests, benchmarks, demos)."
    ),
    log_dir: Path | None = typer.Option(None, help="Write each service's log to a file here."),
) -> None:
    """Starts the services (and the Xero sandbox when no real Xero is configured)."""
    system = build_system(sandbox_control, log_dir)  # refuses a configuration that cannot work
    asyncio.run(migrate_all(system.database_url))
    if log_dir:
        log_dir.mkdir(parents=True, exist_ok=True)
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        system.start()
        for name, url in system.urls().items():
            console.print(f"[bold]{name:>13}[/bold]  {url}")
        console.print("Ready. Ctrl-C stops everything.")
        while not stopping:
            _restart_exited(system)
            time.sleep(0.5)
    finally:
        console.print("Stopping...")
        system.stop()


def _restart_exited(system: System) -> None:
    for name in system.names():
        process = system.service(name)
        if process.exited:
            console.print(f"[red]{name} exited; restarting[/red]")
            process.spawn()


@app.command()
def demo(
    store_id: str = typer.Option("12", help="The store to set up and close a day for."),
    business_date: str = typer.Option("", help="The business day (YYYY-MM-DD); today if empty."),
    wait_s: float = typer.Option(60.0, help="How long to wait for the outcome, in seconds."),
) -> None:
    """Sets up a store, connects it to Xero (the sandbox), closes a day, prints the journal id.

    Uses the running system, or starts one for the demo and stops it after.
    """
    from glbridge.demo import DemoFailed, run_demo

    day = date.fromisoformat(business_date) if business_date else datetime.now(UTC).date()
    system: System | None = None
    ports = _ports()
    if not _healthy(f"http://127.0.0.1:{ports.auth}") or not _healthy(
        f"http://127.0.0.1:{ports.totals}"
    ):
        console.print("The system is not running: starting it for the demo...")
        asyncio.run(migrate_all(ServiceSettings().database_url))
        system = build_system(sandbox_control=False, log_dir=Path("artifacts/demo-logs"))
        Path("artifacts/demo-logs").mkdir(parents=True, exist_ok=True)
        system.start()
    try:
        result = asyncio.run(run_demo(
            f"http://127.0.0.1:{ports.auth}", f"http://127.0.0.1:{ports.totals}",
            store_id, day, wait_s,
        ))
    except DemoFailed as exc:
        console.print(f"[red]demo failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        if system is not None:
            system.stop()
    console.print(f"Store {store_id}'s API key (what its API Key box holds; keep it secret):")
    console.print(result.api_key, soft_wrap=True, highlight=False)
    console.print(f"Carry on with this store: GLBRIDGE_POS_API_KEY='<the key>' glbridge pos "
                  f"reprint --store {store_id} --date {day}")
    if not result.ok:
        console.print(f"[red]store {store_id}, {day}: {result.status}[/red]")
        for error in result.errors:
            console.print(f"  - {error.get('category') or ''} {error.get('account_code') or ''}:"
                          f" {error.get('message')}")
        raise typer.Exit(1)
    console.print(f"store {store_id}, {day}: posted to Xero")
    console.print(f"Xero journal id: [bold]{result.journal_id}[/bold]")


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@app.command()
def doctor(
    as_json: bool = typer.Option(False, "--json", help="The checks as JSON, for scripts."),
) -> None:
    """Checks the configuration, PostgreSQL, RabbitMQ, the services and every connected
    organisation; a fix for each failing line. Exit code 0 only when every check passes."""
    from rich.table import Table

    from glbridge.doctor import Check, Places, run
    from glbridge.doctor import as_json as render_json
    from services.auth.settings import AuthSettings

    service = ServiceSettings()
    places = Places(
        service=service, auth=AuthSettings(),
        auth_url=os.environ.get("AUTH_URL", f"http://127.0.0.1:{_ports().auth}"),
        totals_url=os.environ.get("TOTALS_URL", f"http://127.0.0.1:{_ports().totals}"),
        posting_url=os.environ.get("POSTING_URL", f"http://127.0.0.1:{_ports().posting}"),
    )

    def show(checks: list[Check]) -> None:
        if as_json:
            print(render_json(checks))
            return
        table = Table("", "check", "detail", "fix")
        for check in checks:
            mark = "[green]ok[/green]" if check.ok else "[red]FAIL[/red]"
            table.add_row(mark, f"{check.area}: {check.name}", check.detail, check.fix)
        console.print(table)

    if not run(places, show):
        raise typer.Exit(1)


@app.command()
def docs() -> None:
    """Writes docs/asyncapi.json, the AsyncAPI document of every event, from the contracts."""
    from shared.contracts.asyncapi import DOCUMENT, render_asyncapi

    DOCUMENT.write_text(render_asyncapi())
    console.print(f"wrote {DOCUMENT}")


@app.command()
def sandbox(
    control: bool = typer.Option(True, help="Enable the control API (tests and demos)."),
) -> None:
    """Runs the Xero sandbox alone, in the foreground."""
    os.environ["SANDBOX_CONTROL_ENABLED"] = "true" if control else "false"
    os.execv(sys.executable, [sys.executable, "-m", "services.xero_sandbox"])  # noqa: S606


def main() -> None:
    app()
