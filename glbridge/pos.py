"""`glbridge pos`: act as a store's POS at a terminal (setup, close-day, reprint --post).

Readable tables by default, `--json` for scripts. The store's `2RF:` key comes from
`--api-key` or `GLBRIDGE_POS_API_KEY`, else the command asks for it.
"""

import json
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from services.totals.domain.examples import example_day_totals, example_setup

pos_app = typer.Typer(help="Act as a store's POS: setup, close a day, reprint and post.")
console = Console()

TOTALS_URL = typer.Option("http://127.0.0.1:8002", "--totals-url", envvar="TOTALS_URL",
                          help="Where totals answers.")
AUTH_URL = typer.Option("http://127.0.0.1:8001", "--auth-url", envvar="AUTH_PUBLIC_URL",
                        help="Where auth answers (the connect dialog).")
STORE = typer.Option(..., "--store", "-s", help="The store number.")
API_KEY = typer.Option(None, "--api-key", envvar="GLBRIDGE_POS_API_KEY",
                       help="The store's 2RF: key (asked for when missing).")
DAY = typer.Option(None, "--date", "-d", help="The business date (default: today).")
AS_JSON = typer.Option(False, "--json", help="Print JSON for scripts.")


class PosError(Exception):
    pass


def _client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url.rstrip("/"), timeout=httpx.Timeout(30, read=150))


def _key(api_key: str | None) -> str:
    if api_key:
        return api_key.strip()
    value: str = typer.prompt("API key (2RF:...)", hide_input=True)
    return value.strip()


def _fail(response: httpx.Response, as_json: bool) -> None:
    """Prints a refusal (every problem named) and exits non-zero."""
    try:
        body: Any = response.json()
    except ValueError:
        body = {"detail": response.text}
    if as_json:
        print(json.dumps({"status_code": response.status_code, **_as_dict(body)}, indent=2))
    else:
        console.print(f"[red]Refused ({response.status_code}).[/red]")
        detail = body.get("detail") if isinstance(body, dict) else body
        if isinstance(detail, list):
            _problems(detail)
        else:
            console.print(str(detail))
    raise typer.Exit(1)


def _as_dict(body: Any) -> dict[str, Any]:
    return body if isinstance(body, dict) else {"detail": body}


def _problems(problems: list[dict[str, Any]]) -> None:
    table = Table(title="Problems")
    for column in ("where", "category", "problem"):
        table.add_column(column)
    for problem in problems:
        where = ".".join(str(part) for part in problem.get("loc", []) if part != "body")
        table.add_row(where, str(problem.get("category") or ""), str(problem.get("msg", "")))
    console.print(table)


def _errors(errors: list[dict[str, Any]]) -> None:
    table = Table(title="Errors against the Account Numbers setup")
    for column in ("category", "account code", "what to do", "retry helps"):
        table.add_column(column)
    for error in errors:
        table.add_row(str(error.get("category") or ""), str(error.get("account_code") or ""),
                      str(error.get("message", "")), "yes" if error.get("retryable") else "no")
    console.print(table)


def _day(day: dict[str, Any]) -> None:
    colour = {"posted": "green", "failed": "red", "waiting-for-new-key": "yellow"}.get(
        day["status"], "white")
    console.print(f"Store {day['store_id']}, {day['business_date']} (revision "
                  f"{day['revision']}): [{colour}]{day['status']}[/{colour}]")
    console.print(day["message"])
    if day.get("errors"):
        _errors(day["errors"])


def _load_json(path: Path | None, default: dict[str, Any]) -> dict[str, Any]:
    if path is None:
        return default
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


@pos_app.command()
def setup(
    store: str = STORE,
    api_key_box: str = typer.Option("", "--api-key-box",
                                    help="What the API Key box holds now (empty, an OAuth1 "
                                    "token, or an old 2RF: key): picks the scenario."),
    accounts: Path | None = typer.Option(None, help="JSON file: account code per category "
                                         "(default: the us-rental example)."),
    auto_post: bool = typer.Option(True, help="Post automatically at end of day."),
    journal_status: str = typer.Option("POSTED", help="POSTED, or DRAFT for review."),
    currency: str = typer.Option("USD"),
    timezone: str = typer.Option("America/Chicago"),
    totals_url: str = TOTALS_URL,
    auth_url: str = AUTH_URL,
    as_json: bool = AS_JSON,
) -> None:
    """The API Key dialog: connect to Xero, paste the 2RF: key, save the setup."""
    with _client(auth_url) as auth:
        response = auth.post("/v1/setup", json={"store_id": store, "api_key": api_key_box})
    if response.status_code != 200:
        _fail(response, as_json)
    dialog = response.json()
    if not as_json:
        console.print(f"[bold]{dialog['message']}[/bold]")
    if not typer.confirm("Open Xero's login page now?", default=True):
        raise typer.Exit(1)
    console.print("Open this address in a browser, log in, allow access, then copy the key:")
    console.print(dialog["connect_url"], soft_wrap=True)
    key = typer.prompt("Paste the whole 2RF: key line").strip()
    body = example_setup(key, auto_post=auto_post)
    body.update(journal_status=journal_status, currency=currency, timezone=timezone)
    if accounts is not None:
        body["accounts"] = _load_json(accounts, {})
    with _client(totals_url) as totals:
        saved = totals.put(f"/v1/stores/{store}/setup", json=body)
    if saved.status_code != 200:
        _fail(saved, as_json)
    result = saved.json()
    if as_json:
        print(json.dumps(result, indent=2))
        return
    console.print(f"[green]Store {store} is connected to {result['api_key']['tenant_name']} "
                  "and ready to post.[/green]")
    table = Table(title="Account Numbers setup")
    table.add_column("category")
    table.add_column("account code")
    for category, code in result["accounts"].items():
        table.add_row(category, code)
    console.print(table)


@pos_app.command("close-day")
def close_day(
    store: str = STORE,
    business_date: str | None = DAY,
    totals_file: Path | None = typer.Option(None, "--totals",
                                            help="JSON file of the day's totals "
                                            "(default: the example day)."),
    wait: float = typer.Option(0, help="Seconds to wait for Xero's answer."),
    api_key: str | None = API_KEY,
    totals_url: str = TOTALS_URL,
    as_json: bool = AS_JSON,
) -> None:
    """End of day: send the day's totals."""
    day = business_date or date.today().isoformat()
    key = _key(api_key)
    headers = {"X-Api-Key": key}
    with _client(totals_url) as client:
        response = client.post(f"/v1/stores/{store}/days/{day}/close",
                               json=_load_json(totals_file, example_day_totals()),
                               headers=headers)
        if response.status_code != 200:
            _fail(response, as_json)
        result = response.json()
        if wait > 0:
            waited = client.get(f"/v1/stores/{store}/days/{day}", params={"wait": wait},
                                headers=headers)
            result["day"] = waited.json()
    if as_json:
        print(json.dumps(result, indent=2))
        return
    console.print({"closed": "Day closed.", "amended": "Day amended (new revision).",
                   "unchanged": "Already closed with these totals: nothing changed."}
                  .get(result["outcome"], result["outcome"]))
    _day(result["day"])


@pos_app.command()
def reprint(
    store: str = STORE,
    business_date: str | None = DAY,
    post: bool | None = typer.Option(None, "--post/--no-post",
                                     help="Post to Xero without asking (or never)."),
    wait: float = typer.Option(60, help="Seconds to wait for Xero's answer."),
    api_key: str | None = API_KEY,
    totals_url: str = TOTALS_URL,
    as_json: bool = AS_JSON,
) -> None:
    """Reprints a day's store totals, then asks "Post to Xero?"."""
    day = business_date or date.today().isoformat()
    key = _key(api_key)
    headers = {"X-Api-Key": key}
    url = f"/v1/stores/{store}/days/{day}"
    with _client(totals_url) as client:
        printed = client.post(f"{url}/reprint", json={"post_to_xero": False}, headers=headers)
        if printed.status_code != 200:
            _fail(printed, as_json)
        if not as_json:
            _print_totals(printed.json()["print"])
        if post is None:
            post = typer.confirm("Post to Xero?", default=False)
        if not post:
            if as_json:
                print(json.dumps(printed.json(), indent=2))
            return
        answer = client.post(f"{url}/reprint", json={"post_to_xero": True}, headers=headers)
        if answer.status_code != 200:
            _fail(answer, as_json)
        result = answer.json()
        if result["post"]["outcome"] == "queued" and wait > 0:
            if not as_json:
                console.print("Sent to Xero; waiting for the answer...")
            result["day"] = client.get(url, params={"wait": wait}, headers=headers).json()
    if as_json:
        print(json.dumps(result, indent=2))
        return
    if result["post"]["outcome"] != "queued":
        console.print(result["post"]["message"])
        return
    _day(result["day"])
    if result["day"]["status"] in ("failed", "waiting-for-new-key"):
        raise typer.Exit(2)


def _print_totals(printed: dict[str, Any]) -> None:
    journal = printed.get("journal")
    title = f"Store totals: store {printed['store_id']}, {printed['business_date']}, " \
        f"revision {printed['revision']}"
    if journal is None:
        console.print(f"{title}: nothing to post.")
        return
    table = Table(title=title)
    for column in ("category", "account", "description", "debit", "credit"):
        table.add_column(column, justify="right" if column in ("debit", "credit") else "left")
    for line in journal["lines"]:
        table.add_row(line["category"], line["account_code"], line["description"],
                      line["debit"] or "", line["credit"] or "")
    table.add_row("", "", "Totals", journal["total_debits"], journal["total_credits"])
    console.print(table)
