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
    reconnect_token: str | None = typer.Option(
        None, help="A connected store whose key is lost: the one-time token the operator "
        "issued (glbridge ops reconnect-token)."),
    totals_url: str = TOTALS_URL,
    auth_url: str = AUTH_URL,
    as_json: bool = AS_JSON,
) -> None:
    """The API Key dialog: connect to Xero, paste the 2RF: key, save the setup."""
    request = {"store_id": store, "api_key": api_key_box}
    if reconnect_token:
        request["reconnect_token"] = reconnect_token
    with _client(auth_url) as auth:
        response = auth.post("/v1/setup", json=request)
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
        # The old key proves the store's own to totals, which then takes the new one.
        current = {"X-Api-Key": api_key_box.strip()} if api_key_box.strip() else {}
        saved = totals.put(f"/v1/stores/{store}/setup", json=body, headers=current)
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


# --- backfill ------------------------------------------------------------------------

DONE = ("posted", "already-posted", "nothing-to-post")


class BackfillAborted(Exception):
    """Nothing more can work (a wrong key, totals unreachable): stop, keep the progress."""


def _dates(first: str, last: str) -> list[date]:
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as exc:
        raise typer.BadParameter(f"dates are YYYY-MM-DD: {exc}") from None
    if end < start:
        raise typer.BadParameter(f"--to {end} is before --from {start}")
    return [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]


def _totals_by_day(path: Path) -> tuple[bool, dict[str, Any]]:
    """FILE holds one day's totals (used for every day) or an object keyed by date:
    (keyed by date?, the object)."""
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"--totals {path}: not a JSON file ({exc})") from None
    if not isinstance(loaded, dict) or not loaded:
        raise typer.BadParameter(f"--totals {path}: expected a JSON object")
    try:
        return True, {date.fromisoformat(k).isoformat(): v for k, v in loaded.items()}
    except ValueError:
        return False, loaded  # not keyed by date: the same totals every day


def _state_file(totals_file: Path, store: str) -> Path:
    return totals_file.with_name(f"{totals_file.name}.backfill-{store}.json")


def _load_state(path: Path, store: str) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    state = json.loads(path.read_text())
    days: dict[str, dict[str, Any]] = state.get("days", {}) if state.get("store") == store else {}
    return days


def _save_state(path: Path, store: str, days: dict[str, dict[str, Any]]) -> None:
    # Written whole and renamed: an interruption never leaves half a file.
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(json.dumps({"store": store, "days": days}, indent=2, sort_keys=True))
    scratch.replace(path)


def _reasons(body: Any) -> str:
    if not isinstance(body, dict):
        return str(body)
    if body.get("message"):
        return str(body["message"])
    return str(body.get("detail", body))


def _outcome_of(day: dict[str, Any]) -> dict[str, Any]:
    status = day.get("status")
    if status == "posted":
        return {"result": "posted", "journal_id": day.get("journal_id")}
    if status == "nothing-to-post":
        return {"result": "nothing-to-post"}
    if status == "pending":
        return {"result": "pending", "reason": "no answer from Xero yet (run again to check)"}
    errors = "; ".join(str(e.get("message")) for e in day.get("errors") or [])
    return {"result": "failed", "reason": errors or str(day.get("message") or status)}


def _backfill_day(client: httpx.Client, store: str, day: str, totals: Any,
                  headers: dict[str, str], wait: float, begun: bool) -> dict[str, Any]:
    """One day: close, post if needed, wait for the outcome. `begun`: an interrupted run
    already sent this day, so finding it posted is this backfill's doing."""
    url = f"/v1/stores/{store}/days/{day}"
    try:
        closed = client.post(f"{url}/close", json=totals, headers=headers)
        if closed.status_code in (401, 403):
            raise BackfillAborted(f"totals refused the key ({closed.status_code}): "
                                  f"{_reasons(closed.json())}")
        if closed.status_code != 200:
            return {"result": "failed", "reason": f"close refused ({closed.status_code}): "
                    f"{_reasons(_json_or_text(closed))}"}
        result = closed.json()
        current = result["day"]
        if result["outcome"] == "unchanged" and current["status"] == "posted":
            return {"result": "posted" if begun else "already-posted",
                    "journal_id": current.get("journal_id")}
        if current["status"] in ("not-posted", "failed"):
            # Automatic posting is off, or an earlier attempt failed: post it as a
            # manager would (reprint with "post to Xero").
            posted = client.post(f"{url}/reprint", json={"post_to_xero": True}, headers=headers)
            if posted.status_code != 200:
                return {"result": "failed", "reason": f"post refused ({posted.status_code}): "
                        f"{_reasons(_json_or_text(posted))}"}
            if posted.json()["post"]["outcome"] == "already-posted":
                return {"result": "already-posted", "journal_id": current.get("journal_id")}
        waited = client.get(url, params={"wait": wait}, headers=headers)
        return _outcome_of(waited.json())
    except httpx.HTTPError as exc:
        raise BackfillAborted(f"totals did not answer: {exc}") from exc


def _json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _summary(days: list[str], state: dict[str, dict[str, Any]], resumed: int,
             as_json: bool) -> dict[str, Any]:
    outcomes = {day: state.get(day, {"result": "not-done"}) for day in days}
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        counts[outcome["result"]] = counts.get(outcome["result"], 0) + 1
    failed = {d: o.get("reason") for d, o in outcomes.items() if o["result"] not in DONE}
    summary = {"days": len(days), "resumed_skipped": resumed, "counts": counts,
               "failed": failed}
    if as_json:
        print(json.dumps({**summary, "outcomes": outcomes}, indent=2))
        return summary
    table = Table(title=f"Backfill: {len(days)} day(s)")
    table.add_column("outcome")
    table.add_column("days", justify="right")
    for label, key in (("posted", "posted"), ("already posted", "already-posted"),
                       ("nothing to post", "nothing-to-post"), ("failed", "failed"),
                       ("still pending", "pending"), ("no totals in the file", "no-totals"),
                       ("interrupted", "in-progress"), ("not done", "not-done")):
        if counts.get(key):
            table.add_row(label, str(counts[key]))
    console.print(table)
    if resumed:
        console.print(f"Resumed: {resumed} day(s) done by an earlier run were skipped.")
    if failed:
        reasons = Table(title="Not posted")
        reasons.add_column("day")
        reasons.add_column("outcome")
        reasons.add_column("reason")
        for day, reason in failed.items():
            reasons.add_row(day, outcomes[day]["result"], str(reason or ""))
        console.print(reasons)
    return summary


@pos_app.command()
def backfill(
    store: str = STORE,
    first: str = typer.Option(..., "--from", help="First business date (YYYY-MM-DD)."),
    last: str = typer.Option(..., "--to", help="Last business date (YYYY-MM-DD)."),
    totals_file: Path = typer.Option(..., "--totals", exists=True, dir_okay=False,
                                     help="JSON: one day's totals (every day), or an object "
                                     "of totals keyed by date."),
    wait: float = typer.Option(60, help="Seconds to wait for each day's outcome."),
    restart: bool = typer.Option(False, help="Forget earlier progress and start over."),
    api_key: str | None = API_KEY,
    totals_url: str = TOTALS_URL,
    as_json: bool = AS_JSON,
) -> None:
    """Posts a range of past days, one after another, with progress; run it again after
    an interruption and it carries on where it stopped (progress is kept in a file next
    to --totals)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    days = [d.isoformat() for d in _dates(first, last)]
    keyed, totals = _totals_by_day(totals_file)
    state_path = _state_file(totals_file, store)
    state = {} if restart else _load_state(state_path, store)
    todo = [d for d in days if state.get(d, {}).get("result") not in DONE]
    resumed = len(days) - len(todo)
    headers = {"X-Api-Key": _key(api_key)}
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        console=Console(stderr=True))
    aborted: str | None = None
    try:
        with progress, _client(totals_url) as client:
            task = progress.add_task(f"store {store}", total=len(days), completed=resumed)
            for day in todo:
                progress.update(task, description=f"store {store} {day}")
                if keyed and day not in totals:
                    state[day] = {"result": "no-totals", "reason": f"{totals_file} has no {day}"}
                else:
                    begun = state.get(day, {}).get("result") == "in-progress"
                    state[day] = {"result": "in-progress"}
                    _save_state(state_path, store, state)
                    state[day] = _backfill_day(client, store, day,
                                               totals[day] if keyed else totals, headers, wait,
                                               begun)
                _save_state(state_path, store, state)
                progress.advance(task)
    except BackfillAborted as exc:
        aborted = str(exc)
    except KeyboardInterrupt:
        _save_state(state_path, store, state)
        console.print(f"[yellow]Interrupted. Progress is kept in {state_path}: run the same "
                      "command again to carry on.[/yellow]")
        raise typer.Exit(130) from None
    summary = _summary(days, state, resumed, as_json)
    if aborted:
        console.print(f"[red]Stopped: {aborted}[/red]")
        raise typer.Exit(1)
    if summary["failed"]:
        raise typer.Exit(2)
